"""Quantiles and tail probabilities of the normal, t, chi-square and F distributions.

The quantiles depend only on (probability, df), so they are cached; the tail probabilities call the same
scipy.special functions scipy.stats uses for finite arguments (stdtr, ndtr, chdtrc, fdtrc), without its
per-call argument checking, which was most of the time of a leave-one-out analysis. Results are bit-for-bit
those of scipy.stats (tests/test_pooling.py checks it).
"""

from __future__ import annotations

import math
from functools import cache

from scipy import special, stats


def check_level(level: float) -> None:
    """Raise ValueError unless 0 < level < 1."""
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level!r}")


def level_crit_z(level: float) -> float:
    """The two-sided normal critical value for a confidence level (1.959964 for 0.95)."""
    check_level(level)
    return norm_ppf(1.0 - (1.0 - level) / 2.0)


def level_crit_t(level: float, df: int) -> float:
    """The two-sided t critical value with ``df`` degrees of freedom."""
    return t_ppf(1.0 - (1.0 - level) / 2.0, df)


@cache
def norm_ppf(q: float) -> float:
    """Normal quantile."""
    return float(stats.norm.ppf(q))


@cache
def t_ppf(q: float, df: int) -> float:
    """t quantile."""
    return float(stats.t.ppf(q, df))


@cache
def chi2_ppf(q: float, df: int) -> float:
    """Chi-square quantile."""
    return float(stats.chi2.ppf(q, df))


def norm_sf(x: float) -> float:
    """Upper tail of the standard normal."""
    return float(special.ndtr(-x))


def t_sf(x: float, df: int) -> float:
    """Upper tail of the t distribution."""
    return float(special.stdtr(df, -x))


def chi2_sf(x: float, df: int) -> float:
    """Upper tail of the chi-square distribution (1 at and below 0)."""
    return 1.0 if x <= 0 else float(special.chdtrc(df, x))


def f_sf(x: float, df1: int, df2: int) -> float:
    """Upper tail of the F distribution (1 at and below 0)."""
    return 1.0 if x <= 0 else float(special.fdtrc(df1, df2, x))


def two_sided_p(statistic: float, df: int | None) -> float:
    """Two-sided p-value of a z (``df`` None) or t statistic; NaN stays NaN."""
    if math.isnan(statistic):
        return math.nan
    if df is None:
        return float(2.0 * norm_sf(abs(statistic)))
    return float(2.0 * t_sf(abs(statistic), df))
