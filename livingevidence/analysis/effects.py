"""Effect sizes for two-arm binary outcomes, log hazard ratios from printed CIs, and p-value checks.

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
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from numbers import Integral, Real
from statistics import NormalDist
from typing import Literal

__all__ = [
    "ASYMMETRY_THRESHOLD",
    "CONTINUITY_CORRECTION",
    "EffectSize",
    "LogHazardRatio",
    "PValueCheck",
    "TwoByTwoPValues",
    "log_hr_from_ci",
    "odds_ratio",
    "p_value_consistent",
    "risk_difference",
    "risk_ratio",
    "two_by_two_p_values",
]

CONTINUITY_CORRECTION = 0.5

# One arm of the CI may be up to ~22% longer than the other ((1 + 0.1) / (1 - 0.1)) before we call it
# asymmetric. A Wald CI computed on the log scale is exactly symmetric there, so anything beyond rounding
# noise hints that the interval came from another method (profile likelihood, exact, bootstrap), another
# model than the point estimate, or a transcription error; 0.1 leaves room for legitimately skewed small
# deviations while still catching e.g. an HR of 0.80 printed with the CI of a different HR.
ASYMMETRY_THRESHOLD = 0.1

Measure = Literal["RR", "OR", "RD"]


@dataclass(frozen=True)
class EffectSize:
    """One study's effect size.

    ``yi`` and ``vi`` are on the analysis scale (log scale for RR and OR, natural scale for RD), and so are
    ``ci_low``/``ci_high``, so the three can be plotted or pooled together. The natural-scale estimate and
    interval (exp-transformed for ratios) are available as ``estimate``, ``estimate_ci_low`` and
    ``estimate_ci_high``. When ``excluded`` holds a reason, every numeric field is ``None``.
    """

    measure: Measure
    yi: float | None
    vi: float | None
    ci_low: float | None
    ci_high: float | None
    corrected: bool
    excluded: str | None
    level: float = 0.95

    @property
    def is_ratio(self) -> bool:
        """Whether the measure is a ratio analysed on the log scale."""
        return self.measure in ("RR", "OR")

    @property
    def se(self) -> float | None:
        """Standard error on the analysis scale."""
        return None if self.vi is None else math.sqrt(self.vi)

    def _natural(self, value: float | None) -> float | None:
        if value is None:
            return None
        return math.exp(value) if self.is_ratio else value

    @property
    def estimate(self) -> float | None:
        """Point estimate on the natural scale (the ratio itself for RR/OR, the difference for RD)."""
        return self._natural(self.yi)

    @property
    def estimate_ci_low(self) -> float | None:
        """Lower confidence limit on the natural scale."""
        return self._natural(self.ci_low)

    @property
    def estimate_ci_high(self) -> float | None:
        """Upper confidence limit on the natural scale."""
        return self._natural(self.ci_high)


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


def _validate_counts(a: object, n1: object, c: object, n2: object) -> tuple[int, int, int, int]:
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


def _z(level: float) -> float:
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level!r}")
    return NormalDist().inv_cdf(1.0 - (1.0 - level) / 2.0)


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


def _build(measure: Measure, yi: float, vi: float, corrected: bool, level: float) -> EffectSize:
    half = _z(level) * math.sqrt(vi)
    return EffectSize(
        measure=measure,
        yi=float(yi),
        vi=float(vi),
        ci_low=float(yi - half),
        ci_high=float(yi + half),
        corrected=corrected,
        excluded=None,
        level=level,
    )


def _excluded(measure: Measure, reason: str, level: float) -> EffectSize:
    return EffectSize(measure, None, None, None, None, corrected=False, excluded=reason, level=level)


def risk_ratio(a: int, n1: int, c: int, n2: int, *, level: float = 0.95) -> EffectSize:
    """Log risk ratio of ``a/n1`` (intervention) versus ``c/n2`` (control).

    ``vi = 1/a - 1/n1 + 1/c - 1/n2`` (after the continuity correction, if one applies). Double-zero and
    double-full studies are returned with ``excluded`` set.

    Raises:
        ValueError: if a count is negative or not whole, an arm is empty, or events exceed the arm size.
    """
    a, n1, c, n2 = _validate_counts(a, n1, c, n2)
    _z(level)
    reason = _uninformative_for_ratio(a, n1, c, n2)
    if reason is not None:
        return _excluded("RR", reason, level)
    ai, bi, ci, di, corrected = _cells(a, n1, c, n2)
    n1i, n2i = ai + bi, ci + di
    yi = math.log(ai / n1i) - math.log(ci / n2i)
    vi = 1.0 / ai - 1.0 / n1i + 1.0 / ci - 1.0 / n2i
    return _build("RR", yi, vi, corrected, level)


def odds_ratio(a: int, n1: int, c: int, n2: int, *, level: float = 0.95) -> EffectSize:
    """Log odds ratio of ``a/n1`` (intervention) versus ``c/n2`` (control).

    ``vi = 1/a + 1/b + 1/c + 1/d`` (Woolf), after the continuity correction if one applies. Double-zero and
    double-full studies are returned with ``excluded`` set.

    Raises:
        ValueError: if a count is negative or not whole, an arm is empty, or events exceed the arm size.
    """
    a, n1, c, n2 = _validate_counts(a, n1, c, n2)
    _z(level)
    reason = _uninformative_for_ratio(a, n1, c, n2)
    if reason is not None:
        return _excluded("OR", reason, level)
    ai, bi, ci, di, corrected = _cells(a, n1, c, n2)
    yi = math.log(ai) + math.log(di) - math.log(bi) - math.log(ci)
    vi = 1.0 / ai + 1.0 / bi + 1.0 / ci + 1.0 / di
    return _build("OR", yi, vi, corrected, level)


def risk_difference(a: int, n1: int, c: int, n2: int, *, level: float = 0.95) -> EffectSize:
    """Risk difference ``a/n1 - c/n2`` on the natural scale.

    ``vi = p1 (1 - p1) / n1 + p2 (1 - p2) / n2`` (metafor's ``vtype="LS"``). The continuity correction is
    applied the same way as for the ratios: without it a study with a zero cell in each arm would get a
    sampling variance of 0 and hence an infinite inverse-variance weight. Double-zero studies stay in.

    Raises:
        ValueError: if a count is negative or not whole, an arm is empty, or events exceed the arm size.
    """
    a, n1, c, n2 = _validate_counts(a, n1, c, n2)
    _z(level)
    ai, bi, ci, di, corrected = _cells(a, n1, c, n2)
    n1i, n2i = ai + bi, ci + di
    p1, p2 = ai / n1i, ci / n2i
    yi = p1 - p2
    vi = p1 * (1.0 - p1) / n1i + p2 * (1.0 - p2) / n2i
    return _build("RD", yi, vi, corrected, level)


# --------------------------------------------------------------------------------------------------------
# Log hazard ratio from a printed confidence interval
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogHazardRatio:
    """A log hazard ratio recovered from a printed HR and CI.

    ``asymmetry`` is ``|(log hi - log hr) - (log hr - log lo)| / (log hi - log lo)`` computed from the
    printed numbers (0 for a perfectly symmetric log-scale interval, 1 when the HR sits on a limit).
    ``asymmetric`` is True only when the asymmetry exceeds ``threshold`` even after allowing every printed
    number to move within its rounding interval (``min_asymmetry`` is that lower bound), so an interval
    that is lopsided only because of 2- or 3-decimal rounding is not flagged. ``decimals`` holds the
    printed decimals of (hr, lo, hi) used for that allowance, or ``None`` when unknown (no allowance).
    """

    hr: float
    ci_low: float
    ci_high: float
    level: float
    yi: float
    sei: float
    vi: float
    asymmetry: float
    min_asymmetry: float
    asymmetric: bool
    threshold: float
    decimals: tuple[int, int, int] | None


def _decimals_of(value: float | str) -> int | None:
    text = value.strip() if isinstance(value, str) else repr(float(value))
    if "e" in text.lower():
        # Scientific notation from repr means the value was not a short printed decimal; give up on
        # inferring its rounding rather than guess.
        return None
    return len(text.split(".", 1)[1]) if "." in text else 0


def _to_float(value: float | str, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return number


def log_hr_from_ci(
    hr: float | str,
    lo: float | str,
    hi: float | str,
    level: float = 0.95,
    *,
    decimals: int | None = None,
    threshold: float = ASYMMETRY_THRESHOLD,
) -> LogHazardRatio:
    """Recover ``yi = log(hr)`` and ``sei = (log(hi) - log(lo)) / (2 z)`` from a printed hazard ratio and CI.

    The standard error comes from the width of the interval only, which stays sensible when the interval
    is a little lopsided; the asymmetry measure tells callers when the printed triple does not look like a
    log-scale Wald interval (see ``ASYMMETRY_THRESHOLD`` for the 0.1 cut-off).

    Values may be given as strings exactly as printed (``"0.74"``), which is the most reliable way to let
    the function know their rounding; for floats the number of decimals is read from ``repr`` (so 0.70
    counts as 0.7, which only makes the allowance more lenient) unless ``decimals`` is given for all three.
    Each number may be off by half a unit of its own last decimal.

    Raises:
        ValueError: unless ``0 < lo <= hr <= hi``, ``lo < hi`` and ``0 < level < 1``.
    """
    hr_f, lo_f, hi_f = _to_float(hr, "hr"), _to_float(lo, "lo"), _to_float(hi, "hi")
    if min(hr_f, lo_f, hi_f) <= 0:
        raise ValueError(f"hazard ratio and limits must be positive, got hr={hr_f}, lo={lo_f}, hi={hi_f}")
    if not lo_f < hi_f:
        raise ValueError(f"lower limit {lo_f} must be below upper limit {hi_f}")
    if not lo_f <= hr_f <= hi_f:
        raise ValueError(f"hazard ratio {hr_f} lies outside its interval [{lo_f}, {hi_f}]")
    z = _z(level)

    l_hr, l_lo, l_hi = math.log(hr_f), math.log(lo_f), math.log(hi_f)
    width = l_hi - l_lo
    asymmetry = abs((l_hi - l_hr) - (l_hr - l_lo)) / width

    places: tuple[int, int, int] | None
    if decimals is not None:
        places = (decimals, decimals, decimals)
    else:
        found = [_decimals_of(v) for v in (hr, lo, hi)]
        places = None if None in found else (found[0], found[1], found[2])  # type: ignore[assignment]
    if places is None:
        min_asymmetry = asymmetry
    else:
        tiny = 1e-12  # keeps a limit printed as e.g. 0.00 from producing log(0)

        def log_range(v: float, d: int) -> tuple[float, float]:
            h = 0.5 * 10.0 ** (-d)
            return math.log(max(v - h, tiny)), math.log(v + h)

        (hr_a, hr_b), (lo_a, lo_b), (hi_a, hi_b) = (
            log_range(hr_f, places[0]),
            log_range(lo_f, places[1]),
            log_range(hi_f, places[2]),
        )
        # Asymmetry numerator |L_hi + L_lo - 2 L_hr| can vanish iff the two ranges below overlap; the
        # smallest possible numerator over the widest possible denominator is a lower bound of the ratio.
        sum_lo, sum_hi = lo_a + hi_a, lo_b + hi_b
        mid_lo, mid_hi = 2.0 * hr_a, 2.0 * hr_b
        gap = max(0.0, mid_lo - sum_hi, sum_lo - mid_hi)
        min_asymmetry = gap / (hi_b - lo_a)

    return LogHazardRatio(
        hr=hr_f,
        ci_low=lo_f,
        ci_high=hi_f,
        level=float(level),
        yi=float(l_hr),
        sei=float(width / (2.0 * z)),
        vi=float((width / (2.0 * z)) ** 2),
        asymmetry=float(asymmetry),
        min_asymmetry=float(min_asymmetry),
        asymmetric=bool(min_asymmetry > threshold),
        threshold=float(threshold),
        decimals=places,
    )


# --------------------------------------------------------------------------------------------------------
# p-values of a 2x2 table, and whether a printed p-value fits them
# --------------------------------------------------------------------------------------------------------


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
    a, n1, c, n2 = _validate_counts(a, n1, c, n2)
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
