"""p-values of a 2x2 table, and whether a printed p-value fits them.

Pure Python on purpose: the validator recomputes printed p-values, and importing scipy would cost it a
second per run.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

from livingevidence.analysis.effects.binary import validate_counts


@dataclass(frozen=True)
class TwoByTwoPValues:
    """Two-sided p-values recomputed from a 2x2 table.

    Chi-square statistics and p-values are ``None`` when a row or column total is zero (an expected count
    is then zero and the statistic is undefined); Fisher's exact p is always defined.
    """

    chi2: float | None
    chi2_p: float | None
    chi2_yates: float | None
    chi2_yates_p: float | None
    fisher_p: float

    def candidates(self) -> dict[str, float]:
        """The recomputed p-values by test name, leaving out undefined ones."""
        named = {
            "chi-square": self.chi2_p,
            "chi-square (Yates)": self.chi2_yates_p,
            "Fisher exact": self.fisher_p,
        }
        return {name: p for name, p in named.items() if p is not None}


def two_by_two_p_values(a: int, n1: int, c: int, n2: int) -> TwoByTwoPValues:
    """Pearson chi-square (without and with Yates' correction) and Fisher's exact two-sided p-values.

    Meant for checking a paper's printed p-value against its own counts: papers use any of the three, so
    all are returned. Yates' correction follows R's ``chisq.test`` and SciPy (the 0.5 adjustment is capped
    at ``|observed - expected|``).

    Raises:
        ValueError: if a count is negative or not whole, an arm is empty, or events exceed the arm size.
    """
    a, n1, c, n2 = validate_counts(a, n1, c, n2)
    fisher = _fisher_two_sided(a, n1, c, n2)
    if (a + c) == 0 or (a + c) == (n1 + n2):
        return TwoByTwoPValues(None, None, None, None, min(fisher, 1.0))
    chi2, chi2_yates = _chi_square(a, n1, c, n2)
    return TwoByTwoPValues(
        chi2=chi2,
        chi2_p=_chi2_1df_p(chi2),
        chi2_yates=chi2_yates,
        chi2_yates_p=_chi2_1df_p(chi2_yates),
        fisher_p=min(fisher, 1.0),
    )


# Pure Python on purpose: the validator recomputes printed p-values, and importing scipy would cost it a
# second per run. These agree with scipy.stats.fisher_exact / chi2_contingency (tested).
_FISHER_RTOL = 10**7  # scipy's relative tolerance 1e-7 for "as or more extreme", as an integer ratio


def _fisher_two_sided(a: int, n1: int, c: int, n2: int) -> float:
    """Two-sided Fisher exact p: the probability of tables no more likely than the observed one."""
    events, total = a + c, n1 + n2
    lo, hi = max(0, events - n2), min(events, n1)
    weights = [math.comb(n1, x) * math.comb(n2, events - x) for x in range(lo, hi + 1)]
    observed = weights[a - lo]
    extreme = sum(w for w in weights if w * _FISHER_RTOL <= observed * (_FISHER_RTOL + 1))
    return extreme / math.comb(total, events)


def _chi_square(a: int, n1: int, c: int, n2: int) -> tuple[float, float]:
    """Pearson chi-square of the 2x2 table, plain and with Yates' correction (capped as in R and scipy)."""
    b, d = n1 - a, n2 - c
    total = n1 + n2
    margins = n1 * n2 * (a + c) * (b + d)
    diff = abs(a * d - b * c)
    plain = total * diff**2 / margins
    yates = total * max(0.0, diff - total / 2) ** 2 / margins
    return float(plain), float(yates)


def _chi2_1df_p(statistic: float) -> float:
    """Upper tail of the chi-square distribution with one degree of freedom."""
    return math.erfc(math.sqrt(statistic / 2.0))


@dataclass(frozen=True)
class PValueCheck:
    """Outcome of comparing a printed p-value with recomputed ones.

    ``low``/``high`` bound the p-values that could have been printed as ``printed`` (for ``=``, the
    rounding interval; for inequalities, one side is open: ``low_inclusive``/``high_inclusive`` say whether
    the bound itself counts). ``matching`` names the candidates that fit.
    """

    printed: str
    relation: Literal["=", "<", "<=", ">", ">="]
    value: float
    decimals: int
    low: float
    high: float
    low_inclusive: bool
    high_inclusive: bool
    consistent: bool
    matching: tuple[str, ...]


_RELATIONS = {"<": "<", "≤": "<=", "<=": "<=", "=<": "<=", ">": ">", "≥": ">=", ">=": ">=", "=>": ">=", "=": "="}
_PRINTED = re.compile(
    r"""^\s*(?:p\s*(?:-?\s*value)?\s*)?      # optional 'p' or 'p-value'
        (?P<rel><=|=<|>=|=>|[<>≤≥=])?\s*     # optional relation
        (?P<num>\d*\.?\d+)                   # mantissa: 0.041, .041, 1
        (?:\s*(?:[eE]|[x×·*]\s*10\s*\^?)\s*(?P<exp>[-−–+]?\s*\d+))?   # optional exponent: e-4, x10^-4
        \s*$""",
    re.VERBOSE | re.IGNORECASE,
)


def _parse_printed(printed: str) -> tuple[str, Decimal, int]:
    text = printed.strip().replace(",", ".").replace("\u2009", " ")
    match = _PRINTED.match(text)
    if match is None:
        raise ValueError(f"cannot read a p-value from {printed!r}; expected forms like '0.041', '<0.001', '=.05'")
    relation = _RELATIONS[match["rel"]] if match["rel"] else "="
    mantissa = match["num"]
    try:
        value = Decimal(mantissa)
    except InvalidOperation:  # pragma: no cover - the regex only lets digits through
        raise ValueError(f"cannot read a number from {printed!r}") from None
    decimals = len(mantissa.split(".", 1)[1]) if "." in mantissa else 0
    if match["exp"] is not None:
        exponent = int(re.sub(r"[\s−–]", lambda m: "-" if m.group() in "−–" else "", match["exp"]))
        value = value.scaleb(exponent)
        decimals -= exponent
    if not Decimal(0) <= value <= Decimal(1):
        raise ValueError(f"a p-value must lie in [0, 1], got {printed!r}")
    return relation, value, decimals


def p_value_consistent(
    printed: str,
    candidates: Mapping[str, float | None] | Iterable[float] | TwoByTwoPValues,
    *,
    tolerance: float = 1e-12,
) -> PValueCheck:
    """Whether any recomputed p-value could have been printed as ``printed``.

    Reading of the printed value:

    * ``"0.058"`` or ``"=0.058"``: a rounded value; a candidate fits if it rounds to it at the printed
      number of decimals, i.e. lies in ``[0.0575, 0.0585]`` (both ends allowed, since half-up, half-even
      and float noise disagree exactly at the boundary). ``"1"`` therefore means ``p >= 0.5`` and
      ``"1.00"`` means ``p >= 0.995``. Scientific forms (``"2e-4"``, ``"2.3x10^-5"``) use the mantissa's
      digits for the rounding.
    * ``"<0.001"``, ``"<=0.05"``, ``">0.05"``, ``">=0.05"``: the inequality is taken literally (a candidate
      of exactly 0.001 does not fit ``"<0.001"``); a leading ``p``/``p-value`` and ``≤``/``≥`` are accepted.

    ``candidates`` may be a ``TwoByTwoPValues``, a mapping of test name to p-value (``None`` entries are
    skipped), or a plain iterable of p-values (named by position). ``tolerance`` absorbs floating-point
    noise at the interval edges.

    Raises:
        ValueError: if ``printed`` cannot be read as a p-value.
    """
    relation, value, decimals = _parse_printed(printed)
    if isinstance(candidates, TwoByTwoPValues):
        named = candidates.candidates()
    elif isinstance(candidates, Mapping):
        named = {str(k): float(v) for k, v in candidates.items() if v is not None}
    else:
        named = {f"candidate {i}": float(v) for i, v in enumerate(candidates)}

    v = float(value)
    if relation == "=":
        half = 0.5 * 10.0 ** (-decimals)
        low, high, low_inc, high_inc = max(0.0, v - half), min(1.0, v + half), True, True
    elif relation in ("<", "<="):
        low, high, low_inc, high_inc = 0.0, v, True, relation == "<="
    else:
        low, high, low_inc, high_inc = v, 1.0, relation == ">=", True

    def fits(p: float) -> bool:
        above = p >= low - tolerance if low_inc else p > low
        below = p <= high + tolerance if high_inc else p < high
        return above and below

    matching = tuple(name for name, p in named.items() if fits(p))
    return PValueCheck(
        printed=printed,
        relation=relation,  # type: ignore[arg-type]
        value=v,
        decimals=decimals,
        low=float(low),
        high=float(high),
        low_inclusive=low_inc,
        high_inclusive=high_inc,
        consistent=bool(matching),
        matching=matching,
    )
