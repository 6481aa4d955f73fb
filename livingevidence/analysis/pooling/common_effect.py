"""Inverse-variance common-effect ("fixed-effect") meta-analysis."""

from __future__ import annotations

import math
from collections.abc import Sequence

from livingevidence.analysis.pooling.arrays import as_arrays, fsum
from livingevidence.analysis.pooling.distributions import chi2_sf, level_crit_z, two_sided_p
from livingevidence.analysis.pooling.results import CommonEffectResult


def common_effect(yi: Sequence[float], vi: Sequence[float], *, level: float = 0.95) -> CommonEffectResult:
    """Inverse-variance common-effect meta-analysis.

    Returns the estimate, its SE, a z-based CI and two-sided p-value, the weights normalised to sum to 1,
    and Cochran's Q with ``k - 1`` degrees of freedom and its chi-square p-value (``None`` when k = 1).

    Raises:
        ValueError: for empty input, mismatched lengths, non-finite values or non-positive variances.
    """
    y, v = as_arrays(yi, vi)
    z_crit = level_crit_z(level)
    w = 1.0 / v
    sw = fsum(w)
    mu = fsum(w * y) / sw
    se = math.sqrt(1.0 / sw)
    q = fsum(w * (y - mu) ** 2)
    df = int(y.size - 1)
    z = mu / se
    return CommonEffectResult(
        k=int(y.size),
        estimate=float(mu),
        se=float(se),
        ci_low=float(mu - z_crit * se),
        ci_high=float(mu + z_crit * se),
        z=float(z),
        p_value=two_sided_p(z, None),
        weights=tuple(float(x) for x in w / sw),
        q=float(q),
        q_df=df,
        q_p=chi2_sf(q, df) if df > 0 else None,
        level=float(level),
    )
