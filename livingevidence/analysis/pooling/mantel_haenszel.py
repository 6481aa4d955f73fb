"""Mantel-Haenszel (RR, OR, RD) and Peto (OR) common-effect models from 2x2 counts.

RevMan uses these for dichotomous data; here they are the common-effect sensitivity line for count
outcomes. Everything follows metafor's ``rma.mh`` and ``rma.peto`` with their defaults, so the numbers can
be checked against them (tests/test_metafor_reference.py):

* Tables are ``(a, n1, c, n2)``: ``a`` events of ``n1`` with the intervention, ``c`` of ``n2`` with the
  control (``b = n1 - a``, ``d = n2 - c``, ``N = n1 + n2``).
* **No continuity correction** enters the pooled estimate (metafor's ``add = c(1/2, 0)``: the second
  value, 0, is the one for the Mantel-Haenszel computation). Zero cells are no problem for these
  estimators; a table with no events (or only events) in both arms contributes nothing to the OR and RR
  and is kept, with its weight, for the RD. The estimate is not estimable when the sums it divides by are
  zero (e.g. no events in any table of one arm); the result then says so instead of raising.
* Variances: **Robins, Breslow & Greenland (1986)** for the log OR; **Greenland & Robins (1985)** for the
  log RR; **Sato, Greenland & Robins (1989)** for the RD (metafor's choice; RevMan documents Greenland &
  Robins for the RD). Peto: ``sum(O - E) / sum(V)`` with ``SE = 1 / sqrt(sum(V))``, the hypergeometric
  variance ``V = (a + c)(b + d) n1 n2 / (N^2 (N - 1))`` (Yusuf et al. 1985).
* Heterogeneity, as metafor: for Mantel-Haenszel, Cochran's Q of the study-level estimates (escalc with
  0.5 added to every cell of a table with a zero cell, tables with no events or only events in both arms
  left out: ``add = 1/2, to = "only0", drop00 = TRUE``) around the pooled estimate; for Peto,
  ``sum((O - E)^2 / V) - sum(O - E)^2 / sum(V)``. Degrees of freedom are the number of study-level
  estimates minus 1; ``I^2 = max(0, 100 (Q - df) / Q)`` and ``H^2 = Q / df``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from livingevidence.analysis.effects.binary import (
    odds_ratio,
    risk_difference,
    risk_ratio,
    validate_counts,
)
from livingevidence.analysis.pooling.distributions import chi2_sf, level_crit_z, two_sided_p
from livingevidence.analysis.pooling.results import _JSONMixin

Table = tuple[int, int, int, int]

VARIANCES = {
    "OR": "Robins-Breslow-Greenland",
    "RR": "Greenland-Robins",
    "RD": "Sato-Greenland-Robins",
    "PETO": "Peto (hypergeometric)",
}


@dataclass(frozen=True)
class MantelHaenszelResult(_JSONMixin):
    """A Mantel-Haenszel or Peto common-effect summary (log scale for OR and RR, natural for RD).

    ``k`` counts the tables, ``k_yi`` those with a study-level estimate (the Q statistic's studies). When
    ``estimable`` is False the numeric summary fields are ``None`` and ``not_estimable_reason`` says why.
    """

    method: str
    measure: str
    variance: str
    k: int
    k_yi: int
    estimable: bool
    not_estimable_reason: str | None
    estimate: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    z: float | None
    p_value: float | None
    q: float | None
    q_df: int
    q_p: float | None
    i2: float | None
    h2: float | None
    level: float

    @property
    def log_scale(self) -> bool:
        """Whether estimate and CI are on the log scale (OR, RR, Peto OR)."""
        return self.measure in ("OR", "RR")


def _checked(tables: Sequence[Sequence[int]]) -> list[tuple[float, float, float, float, float, float, float]]:
    """(a, b, c, d, n1, n2, N) of each validated table."""
    if len(tables) == 0:
        raise ValueError("no tables given")
    out = []
    for i, table in enumerate(tables):
        if len(table) != 4:
            raise ValueError(f"table {i + 1}: expected (a, n1, c, n2), got {len(table)} numbers")
        try:
            a, n1, c, n2 = validate_counts(*table)
        except ValueError as error:
            raise ValueError(f"table {i + 1}: {error}") from None
        out.append((float(a), float(n1 - a), float(c), float(n2 - c), float(n1), float(n2), float(n1 + n2)))
    return out


def _log_or(cells: list) -> tuple[float, float] | str:
    r_i = [a * d / n for a, b, c, d, _, _, n in cells]
    s_i = [b * c / n for a, b, c, d, _, _, n in cells]
    big_r, big_s = math.fsum(r_i), math.fsum(s_i)
    if big_r == 0 or big_s == 0:
        return "the Mantel-Haenszel odds ratio is 0 or infinite (a*d or b*c is 0 in every table)"
    p_i = [(a + d) / n for a, b, c, d, _, _, n in cells]
    q_i = [(b + c) / n for a, b, c, d, _, _, n in cells]
    var = 0.5 * (
        math.fsum(p * r for p, r in zip(p_i, r_i, strict=True)) / big_r**2
        + math.fsum(p * s + q * r for p, q, r, s in zip(p_i, q_i, r_i, s_i, strict=True)) / (big_r * big_s)
        + math.fsum(q * s for q, s in zip(q_i, s_i, strict=True)) / big_s**2
    )
    return math.log(big_r / big_s), math.sqrt(var)


def _log_rr(cells: list) -> tuple[float, float] | str:
    if math.fsum(x[0] for x in cells) == 0 or math.fsum(x[2] for x in cells) == 0:
        return "the Mantel-Haenszel risk ratio is 0 or infinite (no events in one arm of every table)"
    big_r = math.fsum(a * n2 / n for a, b, c, d, n1, n2, n in cells)
    big_s = math.fsum(c * n1 / n for a, b, c, d, n1, n2, n in cells)
    top = math.fsum((n1 / n) * (n2 / n) * (a + c) - (a / n) * c for a, b, c, d, n1, n2, n in cells)
    return math.log(big_r / big_s), math.sqrt(top / (big_r * big_s))


def _rd(cells: list) -> tuple[float, float] | str:
    weight = math.fsum(n1 * (n2 / n) for a, b, c, d, n1, n2, n in cells)
    beta = math.fsum(a * (n2 / n) - c * (n1 / n) for a, b, c, d, n1, n2, n in cells) / weight
    first = math.fsum(
        c * (n1 / n) ** 2 - a * (n2 / n) ** 2 + (n1 / n) * (n2 / n) * (n2 - n1) / 2 for a, b, c, d, n1, n2, n in cells
    )
    second = math.fsum(a * (n2 - c) / n + c * (n1 - a) / n for a, b, c, d, n1, n2, n in cells) / 2
    return beta, math.sqrt((beta * first + second) / weight**2)


_ESTIMATORS = {"OR": _log_or, "RR": _log_rr, "RD": _rd}
_STUDY_EFFECTS = {"OR": odds_ratio, "RR": risk_ratio, "RD": risk_difference}


def _uninformative(a: float, b: float, c: float, d: float) -> bool:
    """No events in both arms, or only events in both arms (metafor's drop00)."""
    return (a == 0 and c == 0) or (b == 0 and d == 0)


def mantel_haenszel(
    tables: Sequence[Sequence[int]], measure: str = "OR", *, level: float = 0.95
) -> MantelHaenszelResult:
    """Mantel-Haenszel common-effect estimate of ``measure`` (``"OR"``, ``"RR"`` or ``"RD"``), as rma.mh.

    Raises:
        ValueError: for an unknown measure, no tables, or invalid counts (naming the table).
    """
    if measure not in _ESTIMATORS:
        raise ValueError(f"unknown measure {measure!r} for Mantel-Haenszel; use OR, RR or RD")
    crit = level_crit_z(level)
    cells = _checked(tables)
    study = [
        _STUDY_EFFECTS[measure](int(a), int(n1), int(c), int(n2))
        for a, b, c, d, n1, n2, _ in cells
        if not _uninformative(a, b, c, d)
    ]
    found = _ESTIMATORS[measure](cells)
    base = {"method": "Mantel-Haenszel", "measure": measure, "variance": VARIANCES[measure], "level": float(level)}
    if isinstance(found, str):
        return _not_estimable(base, len(cells), len(study), found)
    beta, se = found
    q = math.fsum((e.yi - beta) ** 2 / e.vi for e in study) if len(study) > 1 else 0.0  # type: ignore[operator]
    return _result(base, len(cells), len(study), beta, se, crit, max(0.0, q))


def peto(tables: Sequence[Sequence[int]], *, level: float = 0.95) -> MantelHaenszelResult:
    """Peto's one-step log odds ratio, as metafor's rma.peto.

    Raises:
        ValueError: for no tables or invalid counts (naming the table).
    """
    crit = level_crit_z(level)
    cells = _checked(tables)
    k_yi = sum(not _uninformative(a, b, c, d) for a, b, c, d, *_ in cells)
    o_minus_e, variances = [], []
    for a, b, c, d, n1, n2, n in cells:
        o_minus_e.append(a - (a + c) * n1 / n)
        variances.append((a + c) * (b + d) * (n1 / n) * (n2 / n) / (n - 1))
    base = {"method": "Peto", "measure": "OR", "variance": VARIANCES["PETO"], "level": float(level)}
    total_v = math.fsum(variances)
    if total_v == 0:
        return _not_estimable(base, len(cells), k_yi, "no table has both outcomes: Peto's odds ratio is undefined")
    total = math.fsum(o_minus_e)
    positive = [(oe, v) for oe, v in zip(o_minus_e, variances, strict=True) if v > 0]
    q = math.fsum(oe**2 / v for oe, v in positive) - total**2 / total_v
    if len(positive) <= 1:
        q = 0.0
    return _result(base, len(cells), k_yi, total / total_v, math.sqrt(1.0 / total_v), crit, max(0.0, q))


def _result(base: dict, k: int, k_yi: int, beta: float, se: float, crit: float, q: float) -> MantelHaenszelResult:
    df = k_yi - 1
    z = beta / se if se > 0 else math.nan
    if df > 0:
        q_p, i2, h2 = chi2_sf(q, df), (max(0.0, 100.0 * (q - df) / q) if q > 0 else 0.0), q / df
    else:
        q_p, i2, h2 = 1.0, 0.0, 1.0
    return MantelHaenszelResult(
        **base,
        k=k,
        k_yi=k_yi,
        estimable=True,
        not_estimable_reason=None,
        estimate=float(beta),
        se=float(se),
        ci_low=float(beta - crit * se),
        ci_high=float(beta + crit * se),
        z=float(z),
        p_value=two_sided_p(z, None),
        q=float(q),
        q_df=max(df, 0),
        q_p=float(q_p),
        i2=float(i2),
        h2=float(h2),
    )


def _not_estimable(base: dict, k: int, k_yi: int, reason: str) -> MantelHaenszelResult:
    return MantelHaenszelResult(
        **base,
        k=k,
        k_yi=k_yi,
        estimable=False,
        not_estimable_reason=reason,
        estimate=None,
        se=None,
        ci_low=None,
        ci_high=None,
        z=None,
        p_value=None,
        q=None,
        q_df=max(k_yi - 1, 0),
        q_p=None,
        i2=None,
        h2=None,
    )
