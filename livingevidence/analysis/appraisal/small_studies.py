"""Small-study effects: Egger's regression test, for the publication-bias domain from 10 studies on.

Egger et al. 1997 (BMJ 315:629): a weighted least-squares regression of the effect sizes on their standard
errors, weights 1/vᵢ, with a multiplicative residual variance; the test of the slope (t on k − 2 degrees of
freedom) is the test of funnel-plot asymmetry, and the intercept is the effect a study of infinite size
would show. This is metafor's `regtest(x, model = "lm", predictor = "sei")`, and the tests check it against
metafor. Below 10 studies the test has too little power to tell asymmetry from chance (Sterne et al. 2011,
BMJ 343:d4002), so the certainty rules do not run it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from livingevidence.analysis.pooling.distributions import two_sided_p

__all__ = ["MIN_STUDIES", "EggerTest", "egger_test"]

#: Fewer studies than this: no funnel plot test (Cochrane Handbook 13.3.5.4; Sterne et al. 2011).
MIN_STUDIES = 10


@dataclass(frozen=True)
class EggerTest:
    """Egger's test: the slope on the standard error (its t, df and p) and the limit estimate (intercept)."""

    k: int
    slope: float
    slope_se: float
    t: float
    df: int
    p_value: float
    limit_estimate: float
    limit_se: float


def egger_test(yi: Sequence[float], vi: Sequence[float]) -> EggerTest:
    """Egger's regression test on the analysis scale (log ratios, differences).

    Raises:
        ValueError: with fewer than 3 studies (the residual variance needs k − 2 > 0), or when the standard
            errors are all equal (the slope is not estimable).
    """
    k = len(yi)
    if k != len(vi) or k < 3:
        raise ValueError("Egger's test needs at least 3 studies with a variance each")
    w = [1.0 / v for v in vi]
    x = [math.sqrt(v) for v in vi]
    sw = math.fsum(w)
    sx = math.fsum(wi * xi for wi, xi in zip(w, x, strict=True))
    sxx = math.fsum(wi * xi * xi for wi, xi in zip(w, x, strict=True))
    sy = math.fsum(wi * yi_ for wi, yi_ in zip(w, yi, strict=True))
    sxy = math.fsum(wi * xi * yi_ for wi, xi, yi_ in zip(w, x, yi, strict=True))
    det = sw * sxx - sx * sx
    if det <= 1e-12 * sw * sxx:
        raise ValueError("Egger's test needs standard errors that differ between studies")
    slope = (sw * sxy - sx * sy) / det
    intercept = (sy - slope * sx) / sw
    df = k - 2
    rss = math.fsum(wi * (yi_ - intercept - slope * xi) ** 2 for wi, xi, yi_ in zip(w, x, yi, strict=True))
    sigma2 = rss / df
    slope_se = math.sqrt(sigma2 * sw / det)
    limit_se = math.sqrt(sigma2 * sxx / det)
    t = slope / slope_se if slope_se > 0 else math.inf
    return EggerTest(
        k=k,
        slope=slope,
        slope_se=slope_se,
        t=t,
        df=df,
        p_value=two_sided_p(t, df),
        limit_estimate=intercept,
        limit_se=limit_se,
    )
