"""The Q-profile confidence interval for tau^2 (Viechtbauer 2007)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import optimize

from livingevidence.analysis.pooling.arrays import as_arrays, q_stat
from livingevidence.analysis.pooling.distributions import chi2_ppf
from livingevidence.analysis.pooling.tau2 import tolerance_scale

# R's uniroot default tolerance, .Machine$double.eps^0.25, which metafor's confint() uses for the Q-profile.
METAFOR_UNIROOT_TOL = float(np.finfo(float).eps ** 0.25)


def q_profile_ci(
    yi: Sequence[float],
    vi: Sequence[float],
    *,
    level: float = 0.95,
    tol: float | None = None,
    tau2_hint: float = 0.0,
) -> tuple[float, float]:
    """Q-profile confidence interval for tau^2 (Viechtbauer 2007).

    The generalised Q statistic ``Q(tau^2) = sum(w (y - mu(tau^2))^2)`` with ``w = 1 / (v + tau^2)``
    decreases in tau^2; the bounds solve ``Q(tau^2) = chi2_{k-1}`` at the upper and lower tail quantiles.
    A bound is 0 when Q at tau^2 = 0 is already below its quantile (both bounds 0 means the data are more
    homogeneous than the model expects).

    By default (``tol=None``) the roots are found to ~1e-13 relative to the data's scale (the smallest
    variance) and 4 ulps relative to the root, so bounds on risk differences (~1e-4) are as exact as on log
    ratios. metafor finds them with R's ``uniroot`` at
    its default tolerance (``.Machine$double.eps^0.25``, about 1.2e-4) over ``[0, max(100, 10 tau^2)]``;
    passing ``tol=METAFOR_UNIROOT_TOL`` and the tau^2 estimate as ``tau2_hint`` reproduces metafor's
    printed bounds digit for digit (SciPy's ``brentq`` and R's ``zeroin`` are the same Brent algorithm with
    the same stopping rule). The difference matters in the 4th decimal of the derived I^2/H^2 bounds.

    Raises:
        ValueError: for fewer than two studies or invalid input.
    """
    y, v = as_arrays(yi, vi, min_k=2)
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level!r}")
    df = y.size - 1
    alpha = 1.0 - level
    target_low = chi2_ppf(1.0 - alpha / 2.0, df)  # Q at the lower bound of tau^2
    target_high = chi2_ppf(alpha / 2.0, df)  # Q at the upper bound of tau^2
    q0 = q_stat(y, v, 0.0)
    xtol = 1e-13 * tolerance_scale(v) if tol is None else float(tol)

    def solve(target: float) -> float:
        if q0 <= target:
            return 0.0
        upper = max(100.0, 10.0 * float(tau2_hint))
        while q_stat(y, v, upper) > target:
            upper *= 2.0
        root = optimize.brentq(lambda t: q_stat(y, v, t) - target, 0.0, upper, xtol=xtol, rtol=4 * np.finfo(float).eps)
        return float(root)

    return solve(target_low), solve(target_high)
