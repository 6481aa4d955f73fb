"""The test of a categorical moderator: metafor's ``rma(yi, vi, mods = ~ factor(g), test = ...)`` QM.

A random-effects meta-regression on an intercept and one indicator per level after the first (levels in
sorted order, as R's ``factor``): the residual tau^2 is estimated from all studies together (REML by
default, with the same fallbacks as ``PoolSettings``), and QM tests that every indicator is 0, i.e. that
the subgroup means are equal. As metafor reports it:

* ``ci_method="wald"`` (``test="z"``): ``QM = b' V^-1 b`` over the indicators, chi-square with G - 1 df;
* ``"hksj"``/``"hksj-adhoc"`` (``test="knha"``/``"adhoc"``): V is scaled by ``s^2 = RSS / (k - G)`` (raised
  to 1 when below it for adhoc), and ``F = QM / (G - 1)`` is referred to an F(G - 1, k - G) distribution.

This differs from RevMan's test for subgroup differences (``subgroups.py``), which pools each subgroup with
its own tau^2 and compares the subgroup estimates; both are reported.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import optimize

from livingevidence.analysis.pooling.arrays import as_arrays
from livingevidence.analysis.pooling.distributions import chi2_sf, f_sf
from livingevidence.analysis.pooling.results import _JSONMixin
from livingevidence.analysis.pooling.settings import PoolSettings, resolve
from livingevidence.analysis.pooling.tau2 import REML_MAX_ITER, REML_TOL, Tau2Error, tolerance_scale


@dataclass(frozen=True)
class ModeratorTest(_JSONMixin):
    """QM (``distribution="chi2"``) or its F form (``"F"``, with ``df2``), its p-value, and the fit behind it.

    ``levels`` are in the design's order (sorted); ``coefficients`` are the intercept (the first level's
    mean) and each other level's difference from it, with their standard errors as used for the test.
    """

    statistic: float
    distribution: Literal["chi2", "F"]
    df1: int
    df2: int | None
    p_value: float
    tau2: float
    tau2_method: str
    ci_method: str
    k: int
    levels: tuple[str, ...]
    coefficients: tuple[float, ...]
    coefficient_se: tuple[float, ...]


def _design(groups: Sequence[str]) -> tuple[np.ndarray, tuple[str, ...]]:
    levels = tuple(sorted(set(groups)))
    x = np.zeros((len(groups), len(levels)))
    x[:, 0] = 1.0
    for j, level in enumerate(levels[1:], start=1):
        x[:, j] = [g == level for g in groups]
    return x, levels


def _wls(y: np.ndarray, v: np.ndarray, x: np.ndarray, tau2: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(beta, (X'WX)^-1, P) at tau2, with P = W - W X (X'WX)^-1 X' W."""
    w = 1.0 / (v + tau2)
    xtw = x.T * w
    inverse = np.linalg.inv(xtw @ x)
    beta = inverse @ (xtw @ y)
    p = np.diag(w) - xtw.T @ inverse @ xtw
    return beta, inverse, p


def _reml_parts(y: np.ndarray, v: np.ndarray, x: np.ndarray, tau2: float) -> tuple[float, float]:
    """(y'PPy - tr P, tr PP): the REML score and Fisher information of the meta-regression."""
    _, _, p = _wls(y, v, x, tau2)
    py = p @ y
    return float(py @ py - np.trace(p)), float(np.sum(p * p))


def _reml_loglik(y: np.ndarray, v: np.ndarray, x: np.ndarray, tau2: float) -> float:
    w = 1.0 / (v + tau2)
    beta, inverse, _ = _wls(y, v, x, tau2)
    resid = y - x @ beta
    return -0.5 * (float(np.sum(np.log(v + tau2))) - math.log(np.linalg.det(inverse)) + float(w @ resid**2))


def _tau2_reml(y: np.ndarray, v: np.ndarray, x: np.ndarray) -> float:
    """Fisher scoring from the Hedges-type start (as metafor), bracketing if it does not settle."""
    hat = np.eye(y.size) - x @ np.linalg.inv(x.T @ x) @ x.T
    start = (float(y @ hat @ y) - float(np.trace(hat * v))) / (y.size - x.shape[1])
    tau2, scale = max(0.0, start), tolerance_scale(v)
    for _ in range(REML_MAX_ITER):
        score, info = _reml_parts(y, v, x, tau2)
        step = score / info if info > 0 else 0.0
        if tau2 + step < 0:
            if _reml_parts(y, v, x, 0.0)[0] <= 0:
                tau2 = 0.0
                break
            while tau2 + step < 0:
                step /= 2.0
        tau2 += step
        if abs(step) <= REML_TOL * max(scale, tau2):
            break
    else:
        tau2 = _root(lambda t: _reml_parts(y, v, x, t)[0], y, v, "REML")
    # metafor's ll0check: the boundary wins if its restricted likelihood is higher.
    return 0.0 if _reml_loglik(y, v, x, 0.0) > _reml_loglik(y, v, x, tau2) else max(0.0, tau2)


def _root(function, y: np.ndarray, v: np.ndarray, name: str) -> float:
    """The root of a function decreasing from positive at 0 (0 if it is not positive there)."""
    if not function(0.0) > 0:
        return 0.0
    upper = 10.0 * (float(np.var(y, ddof=1)) + float(np.max(v)))
    for _ in range(200):
        if function(upper) <= 0:
            root = optimize.brentq(function, 0.0, upper, xtol=REML_TOL * tolerance_scale(v), rtol=4e-16)
            return float(root)
        upper *= 2.0
    raise Tau2Error(f"{name}: no upper bound for tau^2 found in the meta-regression")


def _tau2(y: np.ndarray, v: np.ndarray, x: np.ndarray, method: str) -> float:
    df = y.size - x.shape[1]
    if method == "REML":
        return _tau2_reml(y, v, x)
    if method == "PM":
        return _root(lambda t: float(y @ _wls(y, v, x, t)[2] @ y) - df, y, v, "PM")
    _, _, p = _wls(y, v, x, 0.0)
    return max(0.0, (float(y @ p @ y) - df) / float(np.trace(p)))


def factor_moderator_test(
    yi: Sequence[float], vi: Sequence[float], groups: Sequence[str], *, settings: PoolSettings | None = None
) -> ModeratorTest | str:
    """metafor's QM for ``mods = ~ factor(groups)``, or a sentence saying why it cannot be computed.

    It needs at least two levels and more studies than levels (a residual degree of freedom).

    Raises:
        ValueError: for invalid yi/vi or a groups list of another length.
    """
    chosen = resolve(settings)
    y, v = as_arrays(yi, vi, min_k=2)
    names = [str(g) for g in groups]
    if len(names) != y.size:
        raise ValueError(f"got {len(names)} group labels for {y.size} studies")
    x, levels = _design(names)
    k, p = y.size, len(levels)
    if p < 2:
        return "all studies are in one subgroup: there is nothing to compare"
    if k <= p:
        return f"{k} studies in {p} subgroups leave no degree of freedom for the between-study variance"
    tau2, method = _chain(y, v, x, chosen)
    beta, vb, _ = _wls(y, v, x, tau2)
    df2: int | None = None
    if chosen.hksj:
        resid = y - x @ beta
        s2w = float((1.0 / (v + tau2)) @ resid**2) / (k - p)
        s2w = 0.0 if s2w * (k - p) <= np.finfo(float).eps else s2w
        vb = vb * (max(1.0, s2w) if chosen.hksj_truncate else s2w)
        df2 = k - p
    b = beta[1:]
    qm = float(b @ np.linalg.solve(vb[1:, 1:], b))
    m = p - 1
    if df2 is None:
        statistic, p_value, distribution = qm, chi2_sf(qm, m), "chi2"
    else:
        statistic, p_value, distribution = qm / m, f_sf(qm / m, m, df2), "F"
    return ModeratorTest(
        statistic=float(statistic),
        distribution=distribution,  # type: ignore[arg-type]
        df1=m,
        df2=df2,
        p_value=float(p_value),
        tau2=float(tau2),
        tau2_method=method,
        ci_method=chosen.ci_method,
        k=int(k),
        levels=levels,
        coefficients=tuple(float(c) for c in beta),
        coefficient_se=tuple(float(s) for s in np.sqrt(np.diag(vb))),
    )


def _chain(y: np.ndarray, v: np.ndarray, x: np.ndarray, settings: PoolSettings) -> tuple[float, str]:
    failures = []
    for method in settings.tau2_chain:
        try:
            value = _tau2(y, v, x, method)
        except (Tau2Error, np.linalg.LinAlgError) as error:
            failures.append(f"{method}: {error}")
            continue
        if math.isfinite(value):
            return value, method
        failures.append(f"{method}: not finite")
    raise Tau2Error("; ".join(failures))
