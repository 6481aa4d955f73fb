"""Plain-language statements of an effect in GRADE's informative wording (Santesso et al. 2020, J Clin Epidemiol
119:126): the verb follows the certainty, the words follow the size and direction of the effect.

    high       "X results in ..."
    moderate   "X likely results in ..."
    low        "X may result in ..."
    very low   "The evidence is very uncertain about the effect of X on ..."

The effect is important when its point estimate lies beyond the minimal important difference (outside the
range of equivalence); then the statement names its direction ("longer overall survival", "more patients
with ..."), otherwise it says "little to no difference". Without an MID, the null is the only threshold, and
an interval that includes it reads "little to no difference" (an effect is only named when the interval
excludes no effect).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["VERBS", "Effect", "direction_words", "in_sentence", "statement"]

VERBS = {"high": "results in", "moderate": "likely results in", "low": "may result in"}


@dataclass(frozen=True)
class Effect:
    """What a statement needs to know about an effect, on the natural scale."""

    estimate: float
    ci_low: float
    ci_high: float
    ratio: bool  # a ratio (null 1) or a difference (null 0)
    kind: str  # the outcome's kind: time-to-event, binary, continuous
    limits: tuple[float, ...]  # the range of equivalence (grade_rules.thresholds); one value: the null alone


def direction_words(kind: str, larger: bool) -> str:
    """How a larger or smaller effect reads for an outcome kind (a larger hazard ratio: a shorter time)."""
    if kind == "time-to-event":
        return "shorter" if larger else "longer"
    if kind == "continuous":
        return "a higher" if larger else "a lower"
    return "more patients with" if larger else "fewer patients with"


def in_sentence(name: str) -> str:
    """A name as it reads inside a sentence: 'The intervention' -> 'the intervention', 'Drug X' -> 'drug X';
    acronyms ('ABC + drug X') keep their capitals."""
    if len(name) > 1 and name[0].isupper() and name[1].islower():
        return name[0].lower() + name[1:]
    return name


def _important(effect: Effect) -> bool:
    null = 1.0 if effect.ratio else 0.0
    if len(effect.limits) < 2:  # no MID: an effect is named only when the interval excludes the null
        return effect.ci_low > null or effect.ci_high < null
    low, high = min(effect.limits), max(effect.limits)
    return effect.estimate <= low or effect.estimate >= high


def statement(rating: str, effect: Effect | None, intervention: str, control: str, phrase: str) -> str:
    """One sentence for a rating and an effect (None: no effect size, which only 'very uncertain' can say).

    `control` empty: the intervention names the whole comparison ('adding drug Y to drug X'), without
    'compared with'."""
    intervention = in_sentence(intervention)
    versus = f" compared with {in_sentence(control)}" if control else ""
    if rating == "very-low" or rating not in VERBS or effect is None:
        return f"The evidence is very uncertain about the effect of {intervention}{versus} on {phrase}."
    verb = VERBS[rating]
    null = 1.0 if effect.ratio else 0.0
    if _important(effect):
        what = f"{direction_words(effect.kind, effect.estimate > null)} {phrase}"
    else:
        what = f"little to no difference in {phrase}"
    return f"{intervention[:1].upper()}{intervention[1:]} {verb} {what}{versus}."
