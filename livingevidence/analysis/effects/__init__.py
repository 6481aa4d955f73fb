"""Effect sizes of single studies, on the scale they are pooled on, and checks of printed p-values.

Split by concern; everything public is re-exported here (``from livingevidence.analysis import effects``):

* ``sizes``: ``EffectSize``, the one-study result every measure returns;
* ``binary``: risk ratio, odds ratio and risk difference from 2x2 counts (metafor's escalc conventions);
* ``continuous``: mean difference, standardised mean difference (Hedges' g) and ratio of means from each
  arm's mean, SD and n;
* ``reported``: yi and vi from a printed estimate and CI (HR, OR, RR, ROM on the log scale; MD, RD, SMD as
  they are), with a flag for intervals that do not look like Wald intervals;
* ``pvalues``: p-values of a 2x2 table and whether a printed p-value fits them (pure Python, no scipy).
"""

from livingevidence.analysis.effects.binary import (
    CONTINUITY_CORRECTION,
    odds_ratio,
    risk_difference,
    risk_ratio,
    validate_counts,
)
from livingevidence.analysis.effects.continuous import (
    hedges_correction,
    mean_difference,
    ratio_of_means,
    standardised_mean_difference,
)
from livingevidence.analysis.effects.pvalues import (
    PValueCheck,
    TwoByTwoPValues,
    p_value_consistent,
    two_by_two_p_values,
)
from livingevidence.analysis.effects.reported import (
    ASYMMETRY_THRESHOLD,
    LINEAR_MEASURES,
    LOG_SCALE_MEASURES,
    LogHazardRatio,
    ReportedContrast,
    contrast_from_ci,
    log_hr_from_ci,
)
from livingevidence.analysis.effects.sizes import RATIO_MEASURES, EffectSize, Measure

__all__ = [
    "ASYMMETRY_THRESHOLD",
    "CONTINUITY_CORRECTION",
    "LINEAR_MEASURES",
    "LOG_SCALE_MEASURES",
    "RATIO_MEASURES",
    "EffectSize",
    "LogHazardRatio",
    "Measure",
    "PValueCheck",
    "ReportedContrast",
    "TwoByTwoPValues",
    "contrast_from_ci",
    "hedges_correction",
    "log_hr_from_ci",
    "mean_difference",
    "odds_ratio",
    "p_value_consistent",
    "ratio_of_means",
    "risk_difference",
    "risk_ratio",
    "standardised_mean_difference",
    "two_by_two_p_values",
    "validate_counts",
]
