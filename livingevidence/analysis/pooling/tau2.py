"""Estimators of the between-study variance tau^2: REML, Paule-Mandel and DerSimonian-Laird, and the chain
of fallbacks that ``PoolSettings`` asks for.

* **REML** (restricted maximum likelihood) is solved by Fisher scoring, as metafor does, from the Hedges
  estimate, with step halving to stay at ``tau^2 >= 0``. Iteration stops when a step is below ``1e-10``
  *relative to the data's scale*: ``|step| <= 1e-10 * max(tau^2, min v)``. (An absolute threshold, or one
  relative only above tau^2 = 1, left tau^2 off by up to ~1e-5 relative on risk differences, where
  variances are ~1e-4; metafor's own default, an absolute 1e-5, leaves ~1e-4.) If scoring does not settle
  within 200 steps (it can oscillate slowly; metafor then stops with an error after 100), the REML
  equation is solved by a bracketed root search (Brent), which gives the value metafor reaches with
  ``maxiter = 1000``; the result says so. If the restricted likelihood is bimodal the global maximum is
  returned (see ``tau2_reml``).
* **Paule-Mandel** solves ``Q(tau^2) = k - 1`` for the generalised Q statistic (metafor ``method="PM"``).
* **DerSimonian-Laird** is the method-of-moments estimate, truncated at 0 (``method="DL"``).

``estimate_tau2`` tries the methods of ``PoolSettings.tau2_chain`` in order (by default REML, then PM, then
DL, as metafor's ``method = c("REML", "PM", "DL")``) and records the one used and why.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from livingevidence.analysis.pooling.arrays import as_arrays, fsum, q_stat
from livingevidence.analysis.pooling.settings import DEFAULT_SETTINGS, PoolSettings

REML_TOL = 1e-10
REML_MAX_ITER = 200
#: Bracket doublings before a root search gives up (the bracket then exceeds 2^200 times the data's scale).
_MAX_DOUBLINGS = 200
_RTOL = 4 * float(np.finfo(float).eps)


class Tau2Error(ArithmeticError):
    """An estimator of tau^2 could not be solved for these data."""


@dataclass(frozen=True)
class Tau2Estimate:
    """tau^2 with the method actually used (``method``), the one asked for and, when they differ or the
    solver needed its fallback, the reason in ``note``."""

    tau2: float
    method: str
    requested: str
    note: str | None = None


def tolerance_scale(v: np.ndarray) -> float:
    """The data's scale for convergence tests: the smallest sampling variance (padding v = inf is ignored)."""
    return float(np.min(v))


def tau2_dl(yi: Sequence[float], vi: Sequence[float]) -> float:
    """DerSimonian-Laird method-of-moments estimate of tau^2, truncated at 0."""
    y, v = as_arrays(yi, vi, min_k=2)
    w = 1.0 / v
    sw = fsum(w)
    q = q_stat(y, v, 0.0)
    denom = sw - fsum(w**2) / sw
    return float(max(0.0, (q - (y.size - 1)) / denom))


def tau2_pm(yi: Sequence[float], vi: Sequence[float], *, tol: float = REML_TOL) -> float:
    """Paule-Mandel estimate of tau^2: the root of ``Q(tau^2) = k - 1``, or 0 when ``Q(0) <= k - 1``.

    The root is found by Brent's method to ``tol`` relative to the data's scale (metafor uses uniroot with
    an absolute tolerance of ~1.2e-4 by default).

    Raises:
        ValueError: for fewer than two studies or invalid input.
        Tau2Error: if no bracket for the root can be found.
    """
    y, v = as_arrays(yi, vi, min_k=2)
    target = float(y.size - 1)
    if q_stat(y, v, 0.0) <= target:
        return 0.0
    upper = _bracket(lambda t: q_stat(y, v, t) > target, y, v, "Paule-Mandel")
    root = optimize.brentq(lambda t: q_stat(y, v, t) - target, 0.0, upper, xtol=tol * tolerance_scale(v), rtol=_RTOL)
    return float(root)


def _bracket(still_below: Callable[[float], bool], y: np.ndarray, v: np.ndarray, name: str) -> float:
    """An upper end where ``still_below`` turns False, doubling from 10 x (spread + largest variance)."""
    ybar = fsum(y) / y.size
    upper = 10.0 * (fsum((y - ybar) ** 2) / (y.size - 1) + float(np.max(v)))
    for _ in range(_MAX_DOUBLINGS):
        if not still_below(upper):
            return upper
        upper *= 2.0
    raise Tau2Error(f"{name}: no upper bound for tau^2 found (the equation did not change sign)")


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
    boundary and 0 is returned. Iteration stops when ``|step| <= tol * max(tau^2, min v)`` (see the module
    docstring). If scoring does not converge in ``max_iter`` steps, the REML score equation is solved by
    bracketing (Brent).

    The restricted likelihood can be bimodal (small k, very unequal variances). Scoring finds the mode
    nearest its start, so the result is then compared with every other stationary point and the boundary
    (found by scanning the score on a grid) and the highest restricted likelihood wins. In ordinary,
    unimodal data this changes nothing; in the bimodal case it may differ from metafor, which reports the
    mode its scoring reaches.

    Raises:
        ValueError: for fewer than two studies or invalid input.
        Tau2Error: if neither scoring nor the bracketed search can solve the REML equation.
    """
    y, v = as_arrays(yi, vi, min_k=2)
    return _reml_solve(y, v, tol, max_iter)[0]


def _reml_solve(
    y: np.ndarray, v: np.ndarray, tol: float, max_iter: int, *, scoring_failed: bool = False
) -> tuple[float, str | None]:
    """tau2_reml on checked arrays, with a note when scoring did not converge (or is known not to)."""
    found = None if scoring_failed else _tau2_reml_scoring(y, v, tol, max_iter)
    note = None
    if found is None:
        found = _tau2_reml_bracketed(y, v, tol)
        note = (
            f"Fisher scoring did not settle within {max_iter} steps; the REML equation was solved by a "
            "bracketed root search (Brent's method)"
        )
    return _reml_global(y, v, found, tol), note


def _reml_global(y: np.ndarray, v: np.ndarray, found: float, tol: float) -> float:
    """The highest restricted likelihood among ``found``, the boundary and the other modes (see tau2_reml)."""
    best, best_ll = found, _reml_loglik(y, v, found)
    for other in _reml_other_modes(y, v, tol, found):
        other_ll = _reml_loglik(y, v, other)
        # Require a clear gain so that float noise between two descriptions of one mode cannot flip it.
        if other_ll > best_ll + 1e-9 * max(1.0, abs(best_ll)):
            best, best_ll = other, other_ll
    return float(best)


def _tau2_reml_scoring(y: np.ndarray, v: np.ndarray, tol: float, max_iter: int) -> float | None:
    """Fisher scoring from the Hedges estimate; None when it does not converge in ``max_iter`` steps."""
    tau2 = _tau2_he(y, v)
    scale = tolerance_scale(v)
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
        if abs(step) <= tol * max(scale, tau2):
            return float(max(0.0, tau2))
    return None


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
    xtol = tol * tolerance_scale(v)
    # Cells where the sign turns from + to - (NaN compares false, as in the scalar test it replaces).
    for i in np.flatnonzero((values[:-1] > 0) & (values[1:] <= 0)).tolist():
        t0, t1 = float(grid[i]), float(grid[i + 1])
        if found is not None and t0 <= found <= t1:
            modes.append(found)
            continue
        # Re-check with the exact score: the two summations can disagree on the sign right at a root.
        if score(t0) > 0 >= score(t1):
            modes.append(float(optimize.brentq(score, t0, t1, xtol=xtol, rtol=_RTOL)))
        else:
            modes.append(t1 if abs(score(t1)) < abs(score(t0)) else t0)
    return modes


def _tau2_reml_bracketed(y: np.ndarray, v: np.ndarray, tol: float) -> float:
    """The root of the REML score by Brent's method (0 when the score at 0 is not positive)."""

    def score(t: float) -> float:
        return _reml_score_parts(y, v, t)[0]

    at_zero = score(0.0)
    if not math.isfinite(at_zero):
        raise Tau2Error("REML: the restricted likelihood cannot be evaluated for these data")
    if at_zero <= 0:
        return 0.0
    upper = _bracket(lambda t: score(t) > 0, y, v, "REML")
    try:
        root = optimize.brentq(score, 0.0, upper, xtol=tol * tolerance_scale(v), rtol=_RTOL, maxiter=500)
    except (RuntimeError, ValueError) as error:
        raise Tau2Error(f"REML: the bracketed root search failed ({error})") from None
    return float(root)


_SOLVERS: dict[str, Callable[[np.ndarray, np.ndarray, bool], tuple[float, str | None]]] = {
    "REML": lambda y, v, failed: _reml_solve(y, v, REML_TOL, REML_MAX_ITER, scoring_failed=failed),
    "PM": lambda y, v, _: (tau2_pm(y, v), None),
    "DL": lambda y, v, _: (tau2_dl(y, v), None),
}


def estimate_tau2(
    y: np.ndarray, v: np.ndarray, settings: PoolSettings = DEFAULT_SETTINGS, *, scoring_failed: bool = False
) -> Tau2Estimate:
    """tau^2 by the first method of ``settings.tau2_chain`` that can be solved for these (checked) data.

    ``scoring_failed=True`` tells REML that Fisher scoring is already known not to converge (the batch
    solver ran the same steps), so it goes straight to the bracketed search.

    Raises:
        Tau2Error: if none of them can (DerSimonian-Laird, a closed form, fails only on non-finite sums).
    """
    failures: list[str] = []
    for method in settings.tau2_chain:
        try:
            value, note = _SOLVERS[method](y, v, scoring_failed)
        except Tau2Error as error:
            failures.append(str(error))
            continue
        if not math.isfinite(value):
            failures.append(f"{method}: the estimate is not a finite number")
            continue
        if failures:
            note = f"{method} used because {'; '.join(failures)}"
        return Tau2Estimate(tau2=float(value), method=method, requested=settings.tau2_method, note=note)
    raise Tau2Error("; ".join(failures))
