"""Estimators of the between-study variance tau^2: REML (restricted maximum likelihood) and DerSimonian-Laird.

REML is solved by Fisher scoring (as metafor does) from the Hedges estimate, with step halving to stay at
``tau^2 >= 0`` and a convergence threshold of 1e-10 on the step; a bracketed root search on the REML score
equation is the fallback. If the restricted likelihood is bimodal the global maximum is returned (see
``tau2_reml``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import optimize

from livingevidence.analysis.pooling.arrays import as_arrays, fsum, q_stat

REML_TOL = 1e-10
REML_MAX_ITER = 200


def tau2_dl(yi: Sequence[float], vi: Sequence[float]) -> float:
    """DerSimonian-Laird method-of-moments estimate of tau^2, truncated at 0."""
    y, v = as_arrays(yi, vi, min_k=2)
    w = 1.0 / v
    sw = fsum(w)
    q = q_stat(y, v, 0.0)
    denom = sw - fsum(w**2) / sw
    return float(max(0.0, (q - (y.size - 1)) / denom))


def _tau2_he(y: np.ndarray, v: np.ndarray) -> float:
    # Hedges' unweighted estimator; metafor's default starting value for iterative estimators.
    ybar = fsum(y) / y.size
    return max(0.0, fsum((y - ybar) ** 2) / (y.size - 1) - fsum(v) / y.size)


def _reml_score_parts(y: np.ndarray, v: np.ndarray, tau2: float) -> tuple[float, float]:
    """Return (y'PPy - tr P, tr PP) for the intercept-only REML score and Fisher information."""
    w = 1.0 / (v + tau2)
    sw = fsum(w)
    sw2 = fsum(w**2)
    mu = fsum(w * y) / sw
    py = w * (y - mu)
    ypppy = fsum(py**2)
    tr_p = sw - sw2 / sw
    tr_pp = sw2 - 2.0 * fsum(w**3) / sw + (sw2 / sw) ** 2
    return ypppy - tr_p, tr_pp


def _reml_loglik(y: np.ndarray, v: np.ndarray, tau2: float) -> float:
    """Restricted log-likelihood of the intercept-only model, up to a constant."""
    w = 1.0 / (v + tau2)
    sw = fsum(w)
    mu = fsum(w * y) / sw
    return -0.5 * (fsum(np.log(v + tau2)) + math.log(sw) + fsum(w * (y - mu) ** 2))


def tau2_reml(
    yi: Sequence[float],
    vi: Sequence[float],
    *,
    tol: float = REML_TOL,
    max_iter: int = REML_MAX_ITER,
) -> float:
    """Restricted maximum-likelihood estimate of tau^2 (>= 0).

    Fisher scoring as in metafor, started at the Hedges estimate; a step that would make tau^2 negative is
    halved, unless the REML score at 0 is already non-positive, in which case the maximum is on the
    boundary and 0 is returned. Iteration stops when the step falls below ``tol`` (relative to tau^2 once
    tau^2 > 1). If scoring fails to converge, the REML score equation is solved by bracketing (Brent).

    The restricted likelihood can be bimodal (small k, very unequal variances). Scoring finds the mode
    nearest its start, so the result is then compared with every other stationary point and the boundary
    (found by scanning the score on a grid) and the highest restricted likelihood wins. In ordinary,
    unimodal data this changes nothing; in the bimodal case it may differ from metafor, which reports the
    mode its scoring reaches.

    Raises:
        ValueError: for fewer than two studies or invalid input.
    """
    y, v = as_arrays(yi, vi, min_k=2)
    return _reml_global(y, v, _tau2_reml_scoring(y, v, tol, max_iter), tol)


def _reml_global(y: np.ndarray, v: np.ndarray, found: float, tol: float) -> float:
    """The highest restricted likelihood among ``found``, the boundary and the other modes (see tau2_reml)."""
    best, best_ll = found, _reml_loglik(y, v, found)
    for other in _reml_other_modes(y, v, tol, found):
        other_ll = _reml_loglik(y, v, other)
        # Require a clear gain so that float noise between two descriptions of one mode cannot flip it.
        if other_ll > best_ll + 1e-9 * max(1.0, abs(best_ll)):
            best, best_ll = other, other_ll
    return float(best)


def _tau2_reml_scoring(y: np.ndarray, v: np.ndarray, tol: float, max_iter: int) -> float:
    tau2 = _tau2_he(y, v)
    score0: float | None = None
    for _ in range(max_iter):
        score, info = _reml_score_parts(y, v, tau2)
        step = score / info if info > 0 else 0.0
        if tau2 + step < 0:
            if score0 is None:
                score0 = _reml_score_parts(y, v, 0.0)[0]
            if score0 <= 0:
                return 0.0
            while tau2 + step < 0:
                step /= 2.0
        tau2 += step
        # Relative once tau^2 exceeds 1: an absolute 1e-10 is below float resolution for large tau^2.
        if abs(step) <= tol * max(1.0, tau2):
            return float(max(0.0, tau2))
    return _tau2_reml_bracketed(y, v, tol)


def _reml_other_modes(y: np.ndarray, v: np.ndarray, tol: float, found: float | None = None) -> list[float]:
    """The boundary 0 and every interior root of the REML score where it turns from + to -.

    A grid cell that contains `found` (the scoring solution) holds that same mode: it is returned as
    `found` without solving for it again (its likelihood cannot beat `found` by the margin tau2_reml asks).
    """

    def score(t: float) -> float:
        return _reml_score_parts(y, v, t)[0]

    # Beyond roughly the spread of the estimates plus the largest variance the score stays negative.
    ybar = fsum(y) / y.size
    upper = 10.0 * (fsum((y - ybar) ** 2) / (y.size - 1) + float(np.max(v))) + 1e-12
    grid = np.concatenate(([0.0], np.geomspace(upper * 1e-8, upper, 400)))
    # Vectorised over the grid (studies x grid points); only the signs matter here, the roots are then
    # refined with the exactly summed score.
    w = 1.0 / (v[:, None] + grid[None, :])
    sw = w.sum(axis=0)
    sw2 = (w**2).sum(axis=0)
    mu = (w * y[:, None]).sum(axis=0) / sw
    values = ((w * (y[:, None] - mu)) ** 2).sum(axis=0) - (sw - sw2 / sw)
    modes = [0.0]
    # Cells where the sign turns from + to - (NaN compares false, as in the scalar test it replaces).
    for i in np.flatnonzero((values[:-1] > 0) & (values[1:] <= 0)).tolist():
        t0, t1 = float(grid[i]), float(grid[i + 1])
        if found is not None and t0 <= found <= t1:
            modes.append(found)
            continue
        # Re-check with the exact score: the two summations can disagree on the sign right at a root.
        if score(t0) > 0 >= score(t1):
            modes.append(float(optimize.brentq(score, t0, t1, xtol=tol, rtol=4 * np.finfo(float).eps)))
        else:
            modes.append(t1 if abs(score(t1)) < abs(score(t0)) else t0)
    return modes


def _tau2_reml_bracketed(y: np.ndarray, v: np.ndarray, tol: float) -> float:
    def score(t: float) -> float:
        return _reml_score_parts(y, v, t)[0]

    if score(0.0) <= 0:
        return 0.0
    upper = max(1.0, 10.0 * float(np.var(y)))
    while score(upper) > 0:
        upper *= 2.0
    return float(optimize.brentq(score, 0.0, upper, xtol=tol, rtol=4 * np.finfo(float).eps, maxiter=500))
