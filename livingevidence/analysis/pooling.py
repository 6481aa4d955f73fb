"""Inverse-variance meta-analysis: common-effect and random-effects pooling.

The random-effects defaults follow the methods Cochrane adopted for RevMan in January 2025 (Cochrane
Statistical Methods Group recommendation; Cochrane Handbook chapter 10): REML for the between-study
variance tau^2, the Q-profile confidence interval for tau^2 (Viechtbauer 2007), the Hartung-Knapp-Sidik-
Jonkman (HKSJ) adjustment for the CI of the summary effect, I^2 computed from the estimated tau^2, and a
prediction interval. Formulas and numerical conventions match R's metafor (``rma.uni``, ``confint``,
``predict``) so that results can be checked against it; the tests reproduce metafor's BCG vaccine example.

Details, with metafor's names in parentheses:

* Weights are ``w_i = 1 / (v_i + tau^2)``; the summary estimate is ``sum(w y) / sum(w)`` with
  ``SE = sqrt(1 / sum(w))`` and a z-based CI (``test="z"``).
* HKSJ (``test="knha"``): ``SE_HK^2 = sum(w (y - mu)^2) / ((k - 1) sum(w))`` with t(k - 1) quantiles. As
  in metafor the adjustment is not truncated by default, so the HKSJ CI can be narrower than the z CI
  when the studies agree more than expected; ``hksj_truncate=True`` uses ``max(1, q)`` for the scaling
  factor (metafor's ``test="adhoc"``; Knapp & Hartung 2003, Jackson et al. 2017).
* ``I^2 = 100 tau^2 / (tau^2 + s^2)`` and ``H^2 = (tau^2 + s^2) / s^2`` with the "typical" within-study
  variance ``s^2 = (k - 1) sum(1/v) / ((sum(1/v))^2 - sum(1/v^2))`` (Higgins & Thompson 2002), so both
  reflect the tau^2 estimator in use, as Cochrane's May 2024 addendum requires. Their confidence intervals
  are the same transformation applied to the Q-profile bounds of tau^2 (metafor ``confint``).
* REML is solved by Fisher scoring (as metafor does) from the Hedges estimate, with step halving to stay
  at ``tau^2 >= 0`` and a convergence threshold of 1e-10 on the step; a bracketed root search on the REML
  score equation is the fallback. If the restricted likelihood is bimodal the global maximum is returned
  (see ``tau2_reml``).

Prediction interval — the convention chosen here is metafor's ``predict()``:

    mu_hat +/- crit * sqrt(tau^2 + SE^2)

where ``SE`` is the standard error of the summary estimate *as used for its CI* (the HKSJ SE when HKSJ is
on) and ``crit`` is the t(k - 1) quantile with HKSJ, the normal quantile without it (metafor's
predict.rma documentation, "Note"; source R/predict.rma.r: ``pi.se <- sqrt(vpred + tau2)`` with the same
``crit`` as the CI). Cochrane's public description of the 2025 RevMan methods (methods.cochrane.org,
"Random-effects meta-analysis methods for Intervention Reviews") says only that prediction intervals are
calculated "using the t-distribution or the normal distribution"; the exact RevMan formula (in particular
whether it uses k - 1 or the k - 2 degrees of freedom of Higgins, Thompson & Spiegelhalter 2009 / Riley et
al. 2011) could not be confirmed from the sources available while writing this module. metafor's rule was
chosen because (i) it is documented and testable to 4 decimals, (ii) it is internally consistent with the
HKSJ CI (the PI collapses onto the CI when tau^2 = 0, which metafor argues is the logical limit), and
(iii) with ``hksj=True`` it is a t-based interval, which is one of the two options Cochrane lists.
``pi_type="riley"`` gives the t(k - 2) variant. Prediction intervals are reported only for k >= 3: with
two studies tau^2 is barely estimable and the k - 2 variant is undefined.

Everything returned is a plain Python ``float``/``int``/``str``/``tuple`` (no NumPy scalars), and every
result dataclass has ``to_dict()`` for JSON output (non-finite floats become ``None`` there).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from functools import cache
from typing import Any, Literal

import numpy as np
from scipy import optimize, special, stats

__all__ = [
    "METAFOR_UNIROOT_TOL",
    "BriefResult",
    "CommonEffectResult",
    "PoolResult",
    "RandomEffectsResult",
    "common_effect",
    "cumulative",
    "cumulative_brief",
    "leave_one_out",
    "leave_one_out_brief",
    "pool",
    "pool_brief",
    "q_profile_ci",
    "random_effects",
    "tau2_dl",
    "tau2_reml",
]

Tau2Method = Literal["REML", "DL"]
PIType = Literal["metafor", "riley"]

REML_TOL = 1e-10
REML_MAX_ITER = 200
# R's uniroot default tolerance, .Machine$double.eps^0.25, which metafor's confint() uses for the Q-profile.
METAFOR_UNIROOT_TOL = float(np.finfo(float).eps ** 0.25)


def _to_json_value(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, tuple | list):
        return [_to_json_value(v) for v in value]
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return value


class _JSONMixin:
    def to_dict(self) -> dict[str, Any]:
        """Plain-dict view for JSON; tuples become lists and non-finite floats become ``None``."""
        return {f.name: _to_json_value(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]


@dataclass(frozen=True)
class CommonEffectResult(_JSONMixin):
    """Inverse-variance common-effect ("fixed-effect") summary."""

    k: int
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    z: float
    p_value: float
    weights: tuple[float, ...]
    q: float
    q_df: int
    q_p: float | None
    level: float


@dataclass(frozen=True)
class RandomEffectsResult(_JSONMixin):
    """Random-effects summary with heterogeneity statistics.

    ``statistic`` is a t statistic with ``df`` degrees of freedom when ``hksj`` is True, otherwise a z
    statistic (``df`` is then ``None``). ``se`` is the standard error used for the CI (the HKSJ SE when
    ``hksj``); ``se_unadjusted`` is ``sqrt(1 / sum(w))`` either way. ``prediction_low``/``high`` are
    ``None`` when k < 3.
    """

    k: int
    method: str
    hksj: bool
    hksj_truncate: bool
    estimate: float
    se: float
    se_unadjusted: float
    ci_low: float
    ci_high: float
    statistic: float
    statistic_type: Literal["t", "z"]
    df: int | None
    p_value: float
    tau2: float
    tau: float
    i2: float
    h2: float
    q: float
    q_df: int
    q_p: float
    tau2_ci_low: float
    tau2_ci_high: float
    tau_ci_low: float
    tau_ci_high: float
    i2_ci_low: float
    i2_ci_high: float
    h2_ci_low: float
    h2_ci_high: float
    prediction_low: float | None
    prediction_high: float | None
    pi_type: str
    weights: tuple[float, ...]
    level: float


@dataclass(frozen=True)
class PoolResult(_JSONMixin):
    """Everything about one meta-analysis of the given studies.

    ``random`` is the primary (random-effects) analysis and ``common`` the common-effect sensitivity
    analysis. With a single study nothing is pooled: ``pooled`` is False, both analyses are ``None``,
    ``estimate`` is ``None``, and the study itself is carried in ``labels``/``yi``/``vi`` with the reason
    in ``not_pooled_reason``.
    """

    labels: tuple[str, ...]
    yi: tuple[float, ...]
    vi: tuple[float, ...]
    pooled: bool
    not_pooled_reason: str | None
    random: RandomEffectsResult | None
    common: CommonEffectResult | None

    @property
    def k(self) -> int:
        """Number of studies."""
        return len(self.labels)

    @property
    def estimate(self) -> float | None:
        """Random-effects summary estimate, or ``None`` when nothing was pooled."""
        return None if self.random is None else self.random.estimate

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict view for JSON, including ``k`` and ``estimate``."""
        out = super().to_dict()
        out["k"] = self.k
        out["estimate"] = _to_json_value(self.estimate)
        return out


# --------------------------------------------------------------------------------------------------------
# input handling
# --------------------------------------------------------------------------------------------------------


def _arrays(yi: Sequence[float], vi: Sequence[float], *, min_k: int = 1) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(yi, dtype=float).reshape(-1)
    v = np.asarray(vi, dtype=float).reshape(-1)
    if y.shape != v.shape:
        raise ValueError(f"yi and vi must have the same length, got {y.size} and {v.size}")
    if y.size < min_k:
        if y.size == 0:
            raise ValueError("no studies given: yi and vi are empty")
        raise ValueError(f"at least {min_k} studies are needed, got {y.size}")
    if not np.all(np.isfinite(y)):
        raise ValueError("yi contains a missing or non-finite value")
    if not np.all(np.isfinite(v)) or np.any(v <= 0):
        raise ValueError("every vi must be a finite, strictly positive sampling variance")
    return y, v


def _level_crit_z(level: float) -> float:
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level!r}")
    return _norm_ppf(1.0 - (1.0 - level) / 2.0)


# Distribution helpers. The quantiles depend only on (probability, df), so they are cached; the tail
# probabilities call the same scipy.special functions scipy.stats uses for finite arguments (stdtr, ndtr,
# chdtrc), without its per-call argument checking, which was most of the time of a leave-one-out analysis.
# Results are bit-for-bit those of scipy.stats (tests/test_pooling.py checks it).


@cache
def _norm_ppf(q: float) -> float:
    return float(stats.norm.ppf(q))


@cache
def _t_ppf(q: float, df: int) -> float:
    return float(stats.t.ppf(q, df))


@cache
def _chi2_ppf(q: float, df: int) -> float:
    return float(stats.chi2.ppf(q, df))


def _norm_sf(x: float) -> float:
    return float(special.ndtr(-x))


def _t_sf(x: float, df: int) -> float:
    return float(special.stdtr(df, -x))


def _chi2_sf(x: float, df: int) -> float:
    return 1.0 if x <= 0 else float(special.chdtrc(df, x))


def _fsum(x: np.ndarray) -> float:
    # Exact summation keeps results independent of study order beyond the last ulp.
    return math.fsum(x.tolist())


def _weighted_mean(y: np.ndarray, w: np.ndarray) -> float:
    return _fsum(w * y) / _fsum(w)


def _q_stat(y: np.ndarray, v: np.ndarray, tau2: float) -> float:
    w = 1.0 / (v + tau2)
    mu = _weighted_mean(y, w)
    return _fsum(w * (y - mu) ** 2)


def _two_sided_p(statistic: float, df: int | None) -> float:
    if math.isnan(statistic):
        return math.nan
    if df is None:
        return float(2.0 * _norm_sf(abs(statistic)))
    return float(2.0 * _t_sf(abs(statistic), df))


def _ratio(num: float, den: float) -> float:
    # A zero SE only arises when the HKSJ residual sum is zero (all studies identical); metafor then
    # reports an infinite statistic, and 0/0 stays undefined.
    if den > 0:
        return num / den
    if num == 0:
        return math.nan
    return math.copysign(math.inf, num)


# --------------------------------------------------------------------------------------------------------
# common effect
# --------------------------------------------------------------------------------------------------------


def common_effect(yi: Sequence[float], vi: Sequence[float], *, level: float = 0.95) -> CommonEffectResult:
    """Inverse-variance common-effect meta-analysis.

    Returns the estimate, its SE, a z-based CI and two-sided p-value, the weights normalised to sum to 1,
    and Cochran's Q with ``k - 1`` degrees of freedom and its chi-square p-value (``None`` when k = 1).

    Raises:
        ValueError: for empty input, mismatched lengths, non-finite values or non-positive variances.
    """
    y, v = _arrays(yi, vi)
    z_crit = _level_crit_z(level)
    w = 1.0 / v
    sw = _fsum(w)
    mu = _fsum(w * y) / sw
    se = math.sqrt(1.0 / sw)
    q = _fsum(w * (y - mu) ** 2)
    df = int(y.size - 1)
    z = mu / se
    return CommonEffectResult(
        k=int(y.size),
        estimate=float(mu),
        se=float(se),
        ci_low=float(mu - z_crit * se),
        ci_high=float(mu + z_crit * se),
        z=float(z),
        p_value=_two_sided_p(z, None),
        weights=tuple(float(x) for x in w / sw),
        q=float(q),
        q_df=df,
        q_p=_chi2_sf(q, df) if df > 0 else None,
        level=float(level),
    )


# --------------------------------------------------------------------------------------------------------
# between-study variance
# --------------------------------------------------------------------------------------------------------


def tau2_dl(yi: Sequence[float], vi: Sequence[float]) -> float:
    """DerSimonian-Laird method-of-moments estimate of tau^2, truncated at 0."""
    y, v = _arrays(yi, vi, min_k=2)
    w = 1.0 / v
    sw = _fsum(w)
    q = _q_stat(y, v, 0.0)
    denom = sw - _fsum(w**2) / sw
    return float(max(0.0, (q - (y.size - 1)) / denom))


def _tau2_he(y: np.ndarray, v: np.ndarray) -> float:
    # Hedges' unweighted estimator; metafor's default starting value for iterative estimators.
    ybar = _fsum(y) / y.size
    return max(0.0, _fsum((y - ybar) ** 2) / (y.size - 1) - _fsum(v) / y.size)


def _reml_score_parts(y: np.ndarray, v: np.ndarray, tau2: float) -> tuple[float, float]:
    """Return (y'PPy - tr P, tr PP) for the intercept-only REML score and Fisher information."""
    w = 1.0 / (v + tau2)
    sw = _fsum(w)
    sw2 = _fsum(w**2)
    mu = _fsum(w * y) / sw
    py = w * (y - mu)
    ypppy = _fsum(py**2)
    tr_p = sw - sw2 / sw
    tr_pp = sw2 - 2.0 * _fsum(w**3) / sw + (sw2 / sw) ** 2
    return ypppy - tr_p, tr_pp


def _reml_loglik(y: np.ndarray, v: np.ndarray, tau2: float) -> float:
    """Restricted log-likelihood of the intercept-only model, up to a constant."""
    w = 1.0 / (v + tau2)
    sw = _fsum(w)
    mu = _fsum(w * y) / sw
    return -0.5 * (_fsum(np.log(v + tau2)) + math.log(sw) + _fsum(w * (y - mu) ** 2))


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
    y, v = _arrays(yi, vi, min_k=2)
    found = _tau2_reml_scoring(y, v, tol, max_iter)
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
    ybar = _fsum(y) / y.size
    upper = 10.0 * (_fsum((y - ybar) ** 2) / (y.size - 1) + float(np.max(v))) + 1e-12
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

    By default (``tol=None``) the roots are found to ~1e-13. metafor finds them with R's ``uniroot`` at
    its default tolerance (``.Machine$double.eps^0.25``, about 1.2e-4) over ``[0, max(100, 10 tau^2)]``;
    passing ``tol=METAFOR_UNIROOT_TOL`` and the tau^2 estimate as ``tau2_hint`` reproduces metafor's
    printed bounds digit for digit (SciPy's ``brentq`` and R's ``zeroin`` are the same Brent algorithm with
    the same stopping rule). The difference matters in the 4th decimal of the derived I^2/H^2 bounds.

    Raises:
        ValueError: for fewer than two studies or invalid input.
    """
    y, v = _arrays(yi, vi, min_k=2)
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level!r}")
    df = y.size - 1
    alpha = 1.0 - level
    target_low = _chi2_ppf(1.0 - alpha / 2.0, df)  # Q at the lower bound of tau^2
    target_high = _chi2_ppf(alpha / 2.0, df)  # Q at the upper bound of tau^2
    q0 = _q_stat(y, v, 0.0)
    xtol = 1e-13 if tol is None else float(tol)

    def solve(target: float) -> float:
        if q0 <= target:
            return 0.0
        upper = max(100.0, 10.0 * float(tau2_hint))
        while _q_stat(y, v, upper) > target:
            upper *= 2.0
        root = optimize.brentq(lambda t: _q_stat(y, v, t) - target, 0.0, upper, xtol=xtol, rtol=4 * np.finfo(float).eps)
        return float(root)

    return solve(target_low), solve(target_high)


# --------------------------------------------------------------------------------------------------------
# random effects
# --------------------------------------------------------------------------------------------------------


def _typical_within_variance(v: np.ndarray) -> float:
    w = 1.0 / v
    sw = _fsum(w)
    return (v.size - 1) * sw / (sw**2 - _fsum(w**2))


def _i2_h2(tau2: float, s2: float) -> tuple[float, float]:
    return 100.0 * tau2 / (tau2 + s2), (tau2 + s2) / s2


def random_effects(
    yi: Sequence[float],
    vi: Sequence[float],
    method: Tau2Method = "REML",
    hksj: bool = True,
    *,
    hksj_truncate: bool = False,
    pi_type: PIType = "metafor",
    qprofile_tol: float | None = None,
    level: float = 0.95,
    qprofile: bool = True,
) -> RandomEffectsResult:
    """Random-effects meta-analysis (needs k >= 2).

    ``method`` selects the tau^2 estimator (``"REML"`` or ``"DL"``); ``hksj`` switches the Hartung-Knapp-
    Sidik-Jonkman CI and t(k - 1) test on (default, as in Cochrane's 2025 methods) or off (Wald z). See the
    module docstring for I^2/H^2, the Q-profile CI and the prediction-interval convention;
    ``qprofile_tol`` is passed to ``q_profile_ci`` as ``tol``. ``qprofile=False`` skips the Q-profile CI of
    tau^2 (its bounds and the derived tau, I^2 and H^2 bounds are then NaN), for sensitivity analyses that
    report only the estimate, its CI and I^2 (leave-one-out, cumulative); nothing else changes.

    Raises:
        ValueError: for fewer than two studies, invalid input, or an unknown ``method``/``pi_type``.
    """
    y, v = _arrays(yi, vi, min_k=2)
    z_crit = _level_crit_z(level)
    if method not in ("REML", "DL"):
        raise ValueError(f"unknown tau^2 method {method!r}; use 'REML' or 'DL'")
    if pi_type not in ("metafor", "riley"):
        raise ValueError(f"unknown pi_type {pi_type!r}; use 'metafor' or 'riley'")
    k = int(y.size)
    tau2 = tau2_reml(y, v) if method == "REML" else tau2_dl(y, v)

    w = 1.0 / (v + tau2)
    sw = _fsum(w)
    mu = _fsum(w * y) / sw
    se_plain = math.sqrt(1.0 / sw)

    df: int | None
    if hksj:
        df = k - 1
        scale = _fsum(w * (y - mu) ** 2) / df
        if hksj_truncate:
            scale = max(1.0, scale)
        se = math.sqrt(scale / sw)
        crit = _t_ppf(1.0 - (1.0 - level) / 2.0, df)
    else:
        df = None
        se = se_plain
        crit = z_crit
    statistic = _ratio(mu, se)

    q = _q_stat(y, v, 0.0)
    q_df = k - 1
    s2 = _typical_within_variance(v)
    i2, h2 = _i2_h2(tau2, s2)
    if qprofile:
        t2_lo, t2_hi = q_profile_ci(y, v, level=level, tol=qprofile_tol, tau2_hint=tau2)
    else:
        t2_lo = t2_hi = math.nan
    i2_lo, h2_lo = _i2_h2(t2_lo, s2)
    i2_hi, h2_hi = _i2_h2(t2_hi, s2)

    pi_low: float | None = None
    pi_high: float | None = None
    if k >= 3:
        # Riley et al. (2011) use t(k - 2); metafor reuses the CI's critical value.
        pi_crit = _t_ppf(1.0 - (1.0 - level) / 2.0, k - 2) if pi_type == "riley" else crit
        pi_se = math.sqrt(tau2 + se**2)
        pi_low, pi_high = float(mu - pi_crit * pi_se), float(mu + pi_crit * pi_se)

    return RandomEffectsResult(
        k=k,
        method=method,
        hksj=bool(hksj),
        hksj_truncate=bool(hksj_truncate),
        estimate=float(mu),
        se=float(se),
        se_unadjusted=float(se_plain),
        ci_low=float(mu - crit * se),
        ci_high=float(mu + crit * se),
        statistic=float(statistic),
        statistic_type="t" if hksj else "z",
        df=df,
        p_value=_two_sided_p(statistic, df),
        tau2=float(tau2),
        tau=float(math.sqrt(tau2)),
        i2=float(i2),
        h2=float(h2),
        q=float(q),
        q_df=q_df,
        q_p=_chi2_sf(q, q_df),
        tau2_ci_low=float(t2_lo),
        tau2_ci_high=float(t2_hi),
        tau_ci_low=float(math.sqrt(t2_lo)),
        tau_ci_high=float(math.sqrt(t2_hi)),
        i2_ci_low=float(i2_lo),
        i2_ci_high=float(i2_hi),
        h2_ci_low=float(h2_lo),
        h2_ci_high=float(h2_hi),
        prediction_low=pi_low,
        prediction_high=pi_high,
        pi_type=pi_type,
        weights=tuple(float(x) for x in w / sw),
        level=float(level),
    )


# --------------------------------------------------------------------------------------------------------
# the public entry points used by the site builder
# --------------------------------------------------------------------------------------------------------


def _labels(labels: Sequence[str] | None, k: int) -> tuple[str, ...]:
    if labels is None:
        return tuple(f"study {i + 1}" for i in range(k))
    out = tuple(str(label) for label in labels)
    if len(out) != k:
        raise ValueError(f"got {len(out)} labels for {k} studies")
    if len(set(out)) != len(out):
        dupes = sorted({label for label in out if out.count(label) > 1})
        raise ValueError(f"study labels must be unique; repeated: {', '.join(dupes)}")
    return out


def pool(
    yi: Sequence[float],
    vi: Sequence[float],
    labels: Sequence[str] | None = None,
    *,
    method: Tau2Method = "REML",
    hksj: bool = True,
    hksj_truncate: bool = False,
    pi_type: PIType = "metafor",
    qprofile_tol: float | None = None,
    level: float = 0.95,
    qprofile: bool = True,
) -> PoolResult:
    """Meta-analyse the studies: random effects (primary) plus common effect (sensitivity).

    With k = 1 nothing is pooled: the result carries the single study, ``pooled`` is False and
    ``estimate`` is ``None`` (a one-study "summary" would just restate the study and invite reading it as
    a synthesis).

    Raises:
        ValueError: for k = 0, mismatched lengths, duplicate labels, non-finite values or non-positive
            variances.
    """
    y, v = _arrays(yi, vi)
    names = _labels(labels, int(y.size))
    ys = tuple(float(x) for x in y)
    vs = tuple(float(x) for x in v)
    if y.size == 1:
        return PoolResult(
            labels=names,
            yi=ys,
            vi=vs,
            pooled=False,
            not_pooled_reason="only one study: there is nothing to pool",
            random=None,
            common=None,
        )
    return PoolResult(
        labels=names,
        yi=ys,
        vi=vs,
        pooled=True,
        not_pooled_reason=None,
        random=random_effects(
            y,
            v,
            method,
            hksj,
            hksj_truncate=hksj_truncate,
            pi_type=pi_type,
            qprofile_tol=qprofile_tol,
            level=level,
            qprofile=qprofile,
        ),
        common=common_effect(y, v, level=level),
    )


@dataclass(frozen=True)
class BriefResult:
    """What a sensitivity analysis reports of one pool: k, and the random-effects estimate, CI and I^2.

    The numbers are exactly those of ``pool(...).random`` with the default method (REML, HKSJ); without
    the parts nobody reads in a leave-one-out or cumulative table (Q-profile CI, common effect, weights,
    p-values), which were most of the time of those analyses. ``first`` is the first study's yi (the result
    of a one-study "pool").
    """

    k: int
    pooled: bool
    first: float
    estimate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    i2: float | None = None


def pool_brief(yi: Sequence[float], vi: Sequence[float], *, level: float = 0.95) -> BriefResult:
    """REML + HKSJ pooling reduced to estimate, CI and I^2 (see BriefResult); k = 1 pools nothing."""
    y, v = _arrays(yi, vi)
    k = int(y.size)
    if k == 1:
        return BriefResult(k=1, pooled=False, first=float(y[0]))
    # The same operations, in the same order, as random_effects(method="REML", hksj=True).
    tau2 = tau2_reml(y, v)
    w = 1.0 / (v + tau2)
    sw = _fsum(w)
    mu = _fsum(w * y) / sw
    df = k - 1
    se = math.sqrt((_fsum(w * (y - mu) ** 2) / df) / sw)
    crit = _t_ppf(1.0 - (1.0 - level) / 2.0, df)
    i2, _ = _i2_h2(tau2, _typical_within_variance(v))
    return BriefResult(
        k=k,
        pooled=True,
        first=float(y[0]),
        estimate=float(mu),
        ci_low=float(mu - crit * se),
        ci_high=float(mu + crit * se),
        i2=float(i2),
    )


def leave_one_out_brief(yi: Sequence[float], vi: Sequence[float], *, level: float = 0.95) -> list[BriefResult]:
    """``leave_one_out`` reduced to BriefResult (same subsets, same numbers)."""
    y, v = _arrays(yi, vi, min_k=2)
    keep = np.ones(y.size, dtype=bool)
    out: list[BriefResult] = []
    for i in range(y.size):
        keep[:] = True
        keep[i] = False
        out.append(pool_brief(y[keep], v[keep], level=level))
    return out


def cumulative_brief(yi: Sequence[float], vi: Sequence[float], *, level: float = 0.95) -> list[BriefResult]:
    """``cumulative`` reduced to BriefResult (same subsets, same numbers)."""
    y, v = _arrays(yi, vi)
    return [pool_brief(y[: i + 1], v[: i + 1], level=level) for i in range(y.size)]


def leave_one_out(
    yi: Sequence[float],
    vi: Sequence[float],
    labels: Sequence[str] | None = None,
    **options: Any,
) -> list[PoolResult]:
    """Pool the studies k times, leaving each out once; result ``i`` omits study ``i``.

    Options are passed to ``pool``. With k = 2 each result holds a single study and pools nothing.

    Raises:
        ValueError: for fewer than two studies or invalid input.
    """
    y, v = _arrays(yi, vi, min_k=2)
    names = _labels(labels, int(y.size))
    keep = np.ones(y.size, dtype=bool)
    out: list[PoolResult] = []
    for i in range(y.size):
        keep[:] = True
        keep[i] = False
        out.append(pool(y[keep], v[keep], [n for j, n in enumerate(names) if j != i], **options))
    return out


def cumulative(
    yi: Sequence[float],
    vi: Sequence[float],
    labels: Sequence[str] | None = None,
    **options: Any,
) -> list[PoolResult]:
    """Cumulative meta-analysis in the given order; result ``i`` pools studies ``0..i``.

    Callers order the studies (normally by publication date). The first result holds one study and pools
    nothing. Options are passed to ``pool``.

    Raises:
        ValueError: for k = 0 or invalid input.
    """
    y, v = _arrays(yi, vi)
    names = _labels(labels, int(y.size))
    return [pool(y[: i + 1], v[: i + 1], names[: i + 1], **options) for i in range(y.size)]
