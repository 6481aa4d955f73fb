"""GRADE's domains as stated rules: small pure functions, each tested against worked examples.

- Levels and symbols: high ⊕⊕⊕⊕, moderate ⊕⊕⊕◯, low ⊕⊕◯◯, very low ⊕◯◯◯ (GRADE Handbook 5).
- Risk of bias: each study's overall judgement is a number of levels (ROBINS-I, GRADE guidance 18,
  Schünemann et al. 2019, J Clin Epidemiol 111:105: low 0, moderate 1, serious 2, critical 3; RoB 2 and
  CINeMA: low 0, some concerns 1, high 2); the body of evidence is rated down by their mean weighted by the
  studies' weights, rounded half up (CINeMA's "average risk of bias", Nikolakopoulou et al. 2020, PLoS Med
  17:e1003082).
- Imprecision (CINeMA): the range of equivalence is the outcome's minimal important difference either side of
  the null (a ratio m: 1/m to m; a difference d: −d to d); rate down once per threshold the 95% CI crosses
  (0, 1 or 2). Without an MID the null is the only threshold. Binary outcomes: also rate down once when the
  patients are fewer than the optimal information size (Guyatt et al. 2011, J Clin Epidemiol 64:1283).
- Inconsistency (CINeMA's heterogeneity rule): the thresholds crossed by the CI (c) and by the 95% prediction
  interval (p) give: c=0,p=0 none; c=0,p=1 some; c=0,p=2 major; c=1,p=1 none; c=1,p=2 some; c=2,p=2 none
  (some: rate down once; major: twice).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from livingevidence.analysis.pooling.distributions import norm_ppf

__all__ = [
    "INCONSISTENCY",
    "LEVELS",
    "ROB_LEVELS",
    "SYMBOLS",
    "WORDS",
    "crossings",
    "imprecision_downgrade",
    "inconsistency_downgrade",
    "optimal_information_size",
    "rating_after",
    "risk_of_bias_downgrade",
    "thresholds",
]

#: Ratings from the lowest; a rating's level is its index + 1 (very low 1 ... high 4).
LEVELS = ("very-low", "low", "moderate", "high")
SYMBOLS = {"high": "⊕⊕⊕⊕", "moderate": "⊕⊕⊕◯", "low": "⊕⊕◯◯", "very-low": "⊕◯◯◯"}
WORDS = {"high": "High", "moderate": "Moderate", "low": "Low", "very-low": "Very low"}
#: Levels a study's overall risk-of-bias judgement rates the body of evidence down by. "No information" and a
#: study not assessed count as serious: the proposal never assumes a study is better than shown.
ROB_LEVELS = {
    "low": 0,
    "moderate": 1,
    "some-concerns": 1,
    "serious": 2,
    "high": 2,
    "critical": 3,
    "no-information": 2,
    None: 2,
}
#: CINeMA's heterogeneity table: (thresholds crossed by the CI, by the prediction interval) -> levels down.
INCONSISTENCY = {(0, 0): 0, (0, 1): 1, (0, 2): 2, (1, 1): 0, (1, 2): 1, (2, 2): 0}


def rating_after(downgrades: int, start: str = "high") -> str:
    """The rating `downgrades` levels below `start`, never below very low."""
    level = LEVELS.index(start) - max(0, downgrades)
    return LEVELS[max(0, level)]


def thresholds(mid: float | None, *, ratio: bool) -> tuple[float, ...]:
    """The range of equivalence's limits on the natural scale: (1/m, m) for a ratio MID m, (−d, d) for a
    difference d; without an MID the null alone (1 for ratios, 0 for differences)."""
    if mid is None:
        return (1.0,) if ratio else (0.0,)
    if ratio:
        return (1.0 / mid, mid)
    return (-abs(mid), abs(mid))


def crossings(low: float, high: float, limits: Iterable[float]) -> int:
    """How many of `limits` lie strictly inside the interval (a limit on a bound is not crossed)."""
    return sum(1 for t in limits if low < t < high)


def imprecision_downgrade(crossed: int, information_met: bool | None = None) -> int:
    """Levels down for imprecision: one per threshold crossed, at least one when the optimal information size
    is not met (None: not applicable), at most two."""
    levels = crossed if information_met in (None, True) else max(crossed, 1)
    return min(2, levels)


def inconsistency_downgrade(ci_crossed: int, pi_crossed: int) -> int:
    """Levels down for inconsistency by CINeMA's table (a prediction interval crosses at least what the CI does;
    with one threshold, as without an MID, p and c are 0 or 1)."""
    c = min(ci_crossed, 2)
    p = max(min(pi_crossed, 2), c)
    return INCONSISTENCY[(c, p)]


def risk_of_bias_downgrade(judgements: Sequence[str | None], weights: Sequence[float]) -> tuple[int, float]:
    """Levels down for risk of bias and the weighted mean they are rounded from (half up, at most 3)."""
    total = math.fsum(weights)
    if not judgements or total <= 0:
        raise ValueError("risk of bias needs at least one study with a positive weight")
    mean = math.fsum(ROB_LEVELS.get(j, 2) * w for j, w in zip(judgements, weights, strict=True)) / total
    return min(3, math.floor(mean + 0.5 + 1e-9)), mean


def optimal_information_size(
    control_risk: float, relative_reduction: float, *, alpha: float = 0.05, power: float = 0.8
) -> int | None:
    """Patients (both arms) a single trial needs to detect the relative risk reduction at this control risk
    (two-sided alpha, power; Guyatt et al. 2011). None when the risks are not proportions in (0, 1)."""
    p1 = control_risk
    p2 = control_risk * (1.0 - relative_reduction)
    if not (0 < p1 < 1 and 0 < p2 < 1) or p1 == p2:
        return None
    z = norm_ppf(1 - alpha / 2) + norm_ppf(power)
    per_arm = z * z * (p1 * (1 - p1) + p2 * (1 - p2)) / (p1 - p2) ** 2
    return 2 * math.ceil(per_arm)
