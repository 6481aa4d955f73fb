"""One study's effect for a forest-plot row, whatever the data: counts, means and SDs, or a reported contrast.

The synthesis asks for "the RR of these counts" or "the MD of these means" without caring how each is
computed; this module dispatches to the effect-size functions (escalc conventions, see effects.py) and
returns one shape: the analysis-scale ``yi``/``vi`` for pooling, the natural-scale estimate and interval
for display, and a note when a study was corrected or cannot be weighted.
"""

from __future__ import annotations

from dataclasses import dataclass

from livingevidence.analysis import effects

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


_MEAN_FUNCTIONS = {
    "MD": effects.mean_difference,
    "SMD": effects.standardised_mean_difference,
    "ROM": effects.ratio_of_means,
}


def from_means(measure: str, m1: float, sd1: float, n1: int, m2: float, sd2: float, n2: int) -> StudyEffect:
    """MD, SMD (Hedges' g) or ROM of two arms' means, SDs and sizes (metafor escalc, vtype "LS").

    A study the measure cannot use (a ratio of means with a mean <= 0, an SMD of fewer than 4 patients) is
    shown with the reason and not weighted.
    """
    try:
        es = _MEAN_FUNCTIONS[measure](m1, sd1, n1, m2, sd2, n2)
    except ValueError as exc:
        return StudyEffect(None, None, None, None, None, str(exc))
    return StudyEffect(es.yi, es.vi, es.estimate, es.estimate_ci_low, es.estimate_ci_high)


def from_reported(measure: str, estimate: float, ci_low: float | None, ci_high: float | None) -> StudyEffect:
    """A printed contrast with its 95% CI: the SE comes from the interval's width (log scale for ratios)."""
    if ci_low is None or ci_high is None:
        return StudyEffect(None, None, estimate, ci_low, ci_high, NO_CI_NOTE)
    try:
        c = effects.contrast_from_ci(measure, estimate, ci_low, ci_high)
    except ValueError as exc:  # validation refuses these; belt and braces for callers that skip it
        return StudyEffect(None, None, estimate, ci_low, ci_high, str(exc))
    note = ""
    if c.asymmetric:
        note = ASYMMETRIC_NOTE if c.log_scale else "the printed CI is asymmetric; its SE is approximate"
    return StudyEffect(c.yi, c.vi, estimate, ci_low, ci_high, note)
