"""Effect sizes for two-arm binary outcomes: risk ratio, odds ratio and risk difference from counts.

Conventions follow metafor's ``escalc()`` (Viechtbauer 2010) so that numbers can be cross-checked:

* Counts are ``a`` events out of ``n1`` in the intervention arm and ``c`` events out of ``n2`` in the control
  arm; the 2x2 table is ``[[a, n1 - a], [c, n2 - c]]``.
* Risk ratio (RR) and odds ratio (OR) are analysed on the log scale: ``yi`` and ``vi`` are the log ratio and
  its large-sample sampling variance. The risk difference (RD) is analysed on its natural scale.
* A continuity correction of 0.5 is added to all four cells of a study's table only when at least one of
  its cells is zero (metafor's ``add=1/2, to="only0"``); other studies are left untouched.
* Studies with no events in either arm (a = c = 0) or only events in both arms (a = n1 and c = n2) say
  nothing about a ratio measure, so RR and OR report them as ``excluded`` with a reason rather than
  inventing an estimate from the correction alone (metafor's ``drop00=TRUE``; Cochrane Handbook 10.4.4).
  The RD stays computable for such studies: after the correction it is close to 0 (exactly 0 when the
  arms are the same size) and has a finite variance.

All returned numbers are plain Python floats so that results serialise to JSON unchanged.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

from livingevidence.analysis.effects.sizes import EffectSize, build, excluded, z_value

CONTINUITY_CORRECTION = 0.5


def _as_count(value: object, name: str) -> int:
    # bool is an Integral in Python; a True event count is almost certainly a bug upstream.
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a whole number, got the boolean {value!r}")
    if not (isinstance(value, Integral) or (isinstance(value, Real) and float(value).is_integer())):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    number = int(value)
    if number < 0:
        raise ValueError(f"{name} must not be negative, got {number}")
    return number


def validate_counts(a: object, n1: object, c: object, n2: object) -> tuple[int, int, int, int]:
    """(a, n1, c, n2) as whole numbers: 0 <= a <= n1, 0 <= c <= n2, both arms non-empty.

    Raises:
        ValueError: naming the count that is wrong.
    """
    a_, n1_, c_, n2_ = _as_count(a, "a"), _as_count(n1, "n1"), _as_count(c, "c"), _as_count(n2, "n2")
    if n1_ == 0:
        raise ValueError("n1 (intervention arm size) must be greater than 0")
    if n2_ == 0:
        raise ValueError("n2 (control arm size) must be greater than 0")
    if a_ > n1_:
        raise ValueError(f"a (intervention events) = {a_} exceeds n1 (intervention arm size) = {n1_}")
    if c_ > n2_:
        raise ValueError(f"c (control events) = {c_} exceeds n2 (control arm size) = {n2_}")
    return a_, n1_, c_, n2_


def _cells(a: int, n1: int, c: int, n2: int) -> tuple[float, float, float, float, bool]:
    b, d = n1 - a, n2 - c
    if min(a, b, c, d) == 0:
        k = CONTINUITY_CORRECTION
        return a + k, b + k, c + k, d + k, True
    return float(a), float(b), float(c), float(d), False


def _uninformative_for_ratio(a: int, n1: int, c: int, n2: int) -> str | None:
    if a == 0 and c == 0:
        return "no events in either arm: the ratio is undefined and the study carries no information on it"
    if a == n1 and c == n2:
        return "every participant had the event in both arms: the ratio carries no information"
    return None


def risk_ratio(a: int, n1: int, c: int, n2: int, *, level: float = 0.95) -> EffectSize:
    """Log risk ratio of ``a/n1`` (intervention) versus ``c/n2`` (control).

    ``vi = 1/a - 1/n1 + 1/c - 1/n2`` (after the continuity correction, if one applies). Double-zero and
    double-full studies are returned with ``excluded`` set.

    Raises:
        ValueError: if a count is negative or not whole, an arm is empty, or events exceed the arm size.
    """
    a, n1, c, n2 = validate_counts(a, n1, c, n2)
    z_value(level)
    reason = _uninformative_for_ratio(a, n1, c, n2)
    if reason is not None:
        return excluded("RR", reason, level)
    ai, bi, ci, di, corrected = _cells(a, n1, c, n2)
    n1i, n2i = ai + bi, ci + di
    yi = math.log(ai / n1i) - math.log(ci / n2i)
    vi = 1.0 / ai - 1.0 / n1i + 1.0 / ci - 1.0 / n2i
    return build("RR", yi, vi, corrected, level)


def odds_ratio(a: int, n1: int, c: int, n2: int, *, level: float = 0.95) -> EffectSize:
    """Log odds ratio of ``a/n1`` (intervention) versus ``c/n2`` (control).

    ``vi = 1/a + 1/b + 1/c + 1/d`` (Woolf), after the continuity correction if one applies. Double-zero and
    double-full studies are returned with ``excluded`` set.

    Raises:
        ValueError: if a count is negative or not whole, an arm is empty, or events exceed the arm size.
    """
    a, n1, c, n2 = validate_counts(a, n1, c, n2)
    z_value(level)
    reason = _uninformative_for_ratio(a, n1, c, n2)
    if reason is not None:
        return excluded("OR", reason, level)
    ai, bi, ci, di, corrected = _cells(a, n1, c, n2)
    yi = math.log(ai) + math.log(di) - math.log(bi) - math.log(ci)
    vi = 1.0 / ai + 1.0 / bi + 1.0 / ci + 1.0 / di
    return build("OR", yi, vi, corrected, level)


def risk_difference(a: int, n1: int, c: int, n2: int, *, level: float = 0.95) -> EffectSize:
    """Risk difference ``a/n1 - c/n2`` on the natural scale.

    ``vi = p1 (1 - p1) / n1 + p2 (1 - p2) / n2`` (metafor's ``vtype="LS"``). The continuity correction is
    applied the same way as for the ratios: without it a study with a zero cell in each arm would get a
    sampling variance of 0 and hence an infinite inverse-variance weight. Double-zero studies stay in.

    Raises:
        ValueError: if a count is negative or not whole, an arm is empty, or events exceed the arm size.
    """
    a, n1, c, n2 = validate_counts(a, n1, c, n2)
    z_value(level)
    ai, bi, ci, di, corrected = _cells(a, n1, c, n2)
    n1i, n2i = ai + bi, ci + di
    p1, p2 = ai / n1i, ci / n2i
    yi = p1 - p2
    vi = p1 * (1.0 - p1) / n1i + p2 * (1.0 - p2) / n2i
    return build("RD", yi, vi, corrected, level)
