"""One study's effect for a forest-plot row, whatever the data: counts, means and SDs, or a reported contrast.

The synthesis asks for "the RR of these counts" or "the MD of these means" without caring how each is
computed; this module dispatches to the effect-size functions (escalc conventions, see effects.py) and
returns one shape: the analysis-scale ``yi``/``vi`` for pooling, the natural-scale estimate and interval
for display, and a note when a study was corrected or cannot be weighted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

from livingevidence.analysis import effects
from livingevidence.vocabulary import is_ratio

_Z95 = NormalDist().inv_cdf(0.975)
ZERO_CELL_NOTE = "0.5 added to every cell (a zero cell)"
ASYMMETRIC_NOTE = "the printed CI is asymmetric on the log scale; its SE is approximate"
NO_CI_NOTE = "no CI printed, so it cannot be weighted"


@dataclass(frozen=True)
class StudyEffect:
    """A study's effect: analysis scale for pooling (None when it cannot be weighted), natural scale to show."""

    yi: float | None
    vi: float | None
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    note: str = ""


_COUNT_FUNCTIONS = {"RR": effects.risk_ratio, "OR": effects.odds_ratio, "RD": effects.risk_difference}


def from_counts(measure: str, a: int, n1: int, c: int, n2: int) -> StudyEffect:
    """RR, OR or RD of a/n1 (intervention) vs c/n2 (control); double-zero studies excluded from ratios."""
    es = _COUNT_FUNCTIONS[measure](a, n1, c, n2)
    note = es.excluded or (ZERO_CELL_NOTE if es.corrected else "")
    return StudyEffect(es.yi, es.vi, es.estimate, es.estimate_ci_low, es.estimate_ci_high, note)


def from_means(measure: str, m1: float, sd1: float, n1: int, m2: float, sd2: float, n2: int) -> StudyEffect:
    """MD, SMD (Hedges' g) or ROM of two arms' means, SDs and sizes (metafor escalc, vtype "LS")."""
    if measure == "MD":
        yi, vi = m1 - m2, sd1**2 / n1 + sd2**2 / n2
    elif measure == "SMD":
        df = n1 + n2 - 2
        pooled_sd = math.sqrt(((n1 - 1) * sd1**2 + (n2 - 1) * sd2**2) / df)
        # Exact small-sample correction, as escalc("SMD") computes it (Hedges 1981).
        correction = math.exp(math.lgamma(df / 2) - 0.5 * math.log(df / 2) - math.lgamma((df - 1) / 2))
        yi = correction * (m1 - m2) / pooled_sd
        vi = 1 / n1 + 1 / n2 + yi**2 / (2 * (n1 + n2))
    elif measure == "ROM":
        if m1 <= 0 or m2 <= 0:
            return StudyEffect(None, None, None, None, None, "a ratio of means needs positive means")
        yi, vi = math.log(m1 / m2), sd1**2 / (n1 * m1**2) + sd2**2 / (n2 * m2**2)
    else:
        raise ValueError(f"not a measure of means: {measure}")
    return _with_interval(measure, yi, vi)


def from_reported(measure: str, estimate: float, ci_low: float | None, ci_high: float | None) -> StudyEffect:
    """A printed contrast with its 95% CI: the SE comes from the interval's width (log scale for ratios)."""
    if ci_low is None or ci_high is None:
        return StudyEffect(None, None, estimate, ci_low, ci_high, NO_CI_NOTE)
    if is_ratio(measure):
        lh = effects.log_hr_from_ci(estimate, ci_low, ci_high)
        return StudyEffect(lh.yi, lh.vi, estimate, ci_low, ci_high, ASYMMETRIC_NOTE if lh.asymmetric else "")
    se = (ci_high - ci_low) / (2 * _Z95)
    width = ci_high - ci_low
    lopsided = width > 0 and abs((ci_high - estimate) - (estimate - ci_low)) / width > effects.ASYMMETRY_THRESHOLD
    note = "the printed CI is asymmetric; its SE is approximate" if lopsided else ""
    return StudyEffect(estimate, se**2, estimate, ci_low, ci_high, note)


def _with_interval(measure: str, yi: float, vi: float) -> StudyEffect:
    half = _Z95 * math.sqrt(vi)
    lo, hi = yi - half, yi + half
    if is_ratio(measure):
        return StudyEffect(yi, vi, math.exp(yi), math.exp(lo), math.exp(hi))
    return StudyEffect(yi, vi, yi, lo, hi)
