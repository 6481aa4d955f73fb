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
    "BriefTable",
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
    "sensitivity_briefs",
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
    """``leave_one_out`` reduced to BriefResult: the same subsets, solved together (see sensitivity_briefs)."""
    y, v = _arrays(yi, vi, min_k=2)
    loo, _ = _sensitivity([(y, v)], level, loo=True, cum=False)[0]
    return loo.results()


def cumulative_brief(yi: Sequence[float], vi: Sequence[float], *, level: float = 0.95) -> list[BriefResult]:
    """``cumulative`` reduced to BriefResult: the same subsets, solved together (see sensitivity_briefs)."""
    y, v = _arrays(yi, vi)
    _, cum = _sensitivity([(y, v)], level, loo=False, cum=True)[0]
    return cum.results()


# --------------------------------------------------------------------------------------------------------
# leave-one-out and cumulative analyses as one batch
# --------------------------------------------------------------------------------------------------------
#
# A site with a thousand studies has ~1,400 analyses of ~40 studies each, so ~120,000 leave-one-out and
# cumulative pools; one scalar pool_brief each took ~0.4 ms, nearly all of the analysis stage. Here every
# subset of a group of analyses is a column of a (studies x subsets) matrix, padded with v = inf (weight 0)
# and y = 0, and REML + HKSJ run on all columns at once:
#
# * Fisher scoring takes, column by column, exactly the steps of _tau2_reml_scoring (same start, step
#   halving, boundary rule and stopping rule); only the sums differ (in study order instead of exact), so
#   the results differ from the scalar path in the last few ulps.
# * tau2_reml then searches a 400-point grid for other modes. The batch instead *proves* that the scoring
#   solution is the only maximum up to that grid's end, using that both halves of the REML score
#   U = R - T (R = y'PPy, T = tr P) decrease in tau^2 (dP/dtau^2 = -PP), as do y'P^3y, y'P^4y and tr P^3.
#   On a cell [a, b], U > 0 if R(b) > T(a) and U < 0 if R(a) < T(b). The cells lie on a lattice per
#   analysis, uniform in log(1 + tau^2 / min v), where R and T of every subset come from prefix sums over
#   the studies; each subset uses unit cells next to its root and longer ones further away. The few cells
#   next to the root that this cannot sign are covered by second-order Taylor bounds from the root (U''
#   lies between -2 tr P^3 and 6 y'P^4y). So the restricted likelihood rises to the scoring solution and
#   falls after it, and the scalar search could only have returned that solution (0 if it is 0).
# * Where scoring does not converge or the proof fails (about one subset in a thousand, e.g. a bimodal
#   likelihood), the scalar code solves for tau^2.
# * I^2's typical within-study variance loses digits to cancellation when one weight dominates; beyond
#   _S2_CONDITION it is recomputed with the scalar code's exact sums.
#
# Sums run along the study axis of row-major matrices, which numpy adds row after row, so a subset's
# numbers do not depend on which other subsets or analyses share its batch (see _columns), and nothing
# depends on thread count. Against the scalar path on a synthetic 1,000-study site the largest difference
# was ~1e-12 relative (estimate, CI) and ~1e-13 absolute (I^2).

#: Ratio of consecutive grid points in the certificate's coordinate log(1 + tau^2 / min v).
_CERT_RATIO = 1.1
#: Relative allowance for rounding in the prefix sums behind the certificate (~45,000 ulps).
_CERT_BAND = 1e-11
#: Upper bound on (studies x subsets) cells per batch, to bound memory.
_BATCH_CELLS = 1_000_000
#: Above this loss of digits (sum(w)^2 / (sum(w)^2 - sum(w^2))) I^2 uses exactly rounded sums.
_S2_CONDITION = 1000.0
#: Subsets per round of the certificate (its arrays grow with subsets x studies x lattice points).
_CERT_ROWS = 1_000
#: Away from the root the certificate's cells grow by 1 / _CERT_GROWTH of their distance to it.
_CERT_GROWTH = 3


@dataclass(frozen=True)
class BriefTable:
    """Column-wise BriefResults of one leave-one-out or cumulative analysis; row ``i`` as in the lists.

    Building 100,000 small objects costs more than the pooling they describe, so the batch returns
    columns; ``results()`` gives the BriefResult list.
    """

    k: list[int]
    pooled: list[bool]
    first: list[float]
    estimate: list[float | None]
    ci_low: list[float | None]
    ci_high: list[float | None]
    i2: list[float | None]

    def results(self) -> list[BriefResult]:
        """The rows as BriefResult objects."""
        return [
            BriefResult(k=k, pooled=p, first=f, estimate=e, ci_low=lo, ci_high=hi, i2=i2)
            if p
            else BriefResult(k=k, pooled=False, first=f)
            for k, p, f, e, lo, hi, i2 in zip(
                self.k, self.pooled, self.first, self.estimate, self.ci_low, self.ci_high, self.i2, strict=True
            )
        ]


def sensitivity_briefs(
    datasets: Sequence[tuple[Sequence[float], Sequence[float]]], *, level: float = 0.95
) -> list[tuple[BriefTable, BriefTable]]:
    """Leave-one-out and cumulative analyses (as BriefTables) of several analyses, solved as one batch.

    Entry ``j`` is ``(leave-one-out, cumulative)`` of ``datasets[j] = (yi, vi)``, with the numbers of
    ``leave_one_out_brief`` and ``cumulative_brief``; the leave-one-out table is empty for a single study.
    Batching many analyses together shares numpy's per-call overhead, which dominates for small ones.

    Raises:
        ValueError: for an empty analysis or invalid input.
    """
    arrays = [_arrays(yi, vi) for yi, vi in datasets]
    return _sensitivity(arrays, level, loo=True, cum=True)


def _sensitivity(
    arrays: list[tuple[np.ndarray, np.ndarray]], level: float, *, loo: bool, cum: bool
) -> list[tuple[BriefTable, BriefTable]]:
    """(leave-one-out, cumulative) tables of each analysis; a kind not asked for comes back empty."""
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level!r}")
    out: dict[int, tuple[BriefTable, BriefTable]] = {}
    # Group analyses of similar size so that padding to the largest wastes little.
    order = sorted(range(len(arrays)), key=lambda j: arrays[j][0].size)
    start = 0
    while start < len(order):
        smallest = arrays[order[start]][0].size
        stop = start + 1
        while stop < len(order):
            n = arrays[order[stop]][0].size
            if n > 1.25 * smallest + 2 or 2 * n * n * (stop + 1 - start) > _BATCH_CELLS:
                break
            stop += 1
        group = order[start:stop]
        for j, tables in zip(group, _solve_group([arrays[j] for j in group], level, loo, cum), strict=True):
            out[j] = tables
        start = stop
    return [out[j] for j in range(len(arrays))]


def _solve_group(
    arrays: list[tuple[np.ndarray, np.ndarray]], level: float, loo: bool, cum: bool
) -> list[tuple[BriefTable, BriefTable]]:
    """Every pooled leave-one-out/cumulative subset of these analyses in one (studies x subsets) batch."""
    sizes = np.array([y.size for y, _ in arrays])
    n_an, width = len(arrays), int(sizes.max())
    y_pad = np.zeros((n_an, width))
    v_pad = np.full((n_an, width), np.inf)
    for a, (y, v) in enumerate(arrays):
        y_pad[a, : y.size] = y
        v_pad[a, : v.size] = v

    # The pooled subsets (k >= 2): leave-one-out row i of analysis a omits study i; cumulative row i
    # holds studies 0..i.
    spec_a: list[np.ndarray] = []
    spec_i: list[np.ndarray] = []
    spec_cum: list[np.ndarray] = []
    for a, n in enumerate(sizes.tolist()):
        if loo and n >= 3:
            spec_a.append(np.full(n, a))
            spec_i.append(np.arange(n))
            spec_cum.append(np.zeros(n, bool))
        if cum and n >= 2:
            spec_a.append(np.full(n - 1, a))
            spec_i.append(np.arange(1, n))
            spec_cum.append(np.ones(n - 1, bool))
    # Results by (analysis, leave-one-out 0 / cumulative 1, row); NaN where the subset pools nothing.
    values = np.full((4, n_an, 2, width), np.nan)
    if spec_a:
        pick = _columns(np.arange(sum(x.size for x in spec_a)))
        row_a, row_i, row_cum = (np.concatenate(x)[pick] for x in (spec_a, spec_i, spec_cum))
        values[:, row_a, row_cum.astype(int), row_i] = _solve_subsets(y_pad, v_pad, sizes, row_a, row_i, row_cum, level)
    tables = []
    for a, (y, _) in enumerate(arrays):
        n = y.size
        ys = y.tolist()
        built = []
        for kind in (0, 1):
            if not (cum if kind else loo and n >= 2):
                built.append(BriefTable([], [], [], [], [], [], []))
                continue
            pooled = (np.arange(n) >= 1) if kind else np.full(n, n >= 3)
            columns = [
                [value if p else None for value, p in zip(column, pooled.tolist(), strict=True)]
                for column in values[:, a, kind, :n].tolist()
            ]
            built.append(
                BriefTable(
                    k=list(range(1, n + 1)) if kind else [n - 1] * n,
                    pooled=pooled.tolist(),
                    first=[ys[0]] * n if kind else [ys[1]] + [ys[0]] * (n - 1),
                    estimate=columns[0],
                    ci_low=columns[1],
                    ci_high=columns[2],
                    i2=columns[3],
                )
            )
        tables.append((built[0], built[1]))
    return tables


def _solve_subsets(
    y_pad: np.ndarray,
    v_pad: np.ndarray,
    sizes: np.ndarray,
    row_a: np.ndarray,
    row_i: np.ndarray,
    row_cum: np.ndarray,
    level: float,
) -> np.ndarray:
    """Estimate, HKSJ CI and I^2 of each subset (a column of the batch), as pool_brief computes them."""
    n_an, width = y_pad.shape
    # Column r holds the studies of subset r in study order, then padding (flat index n_an * width).
    slot = np.arange(width)[:, None]
    study = np.where(row_cum, slot, slot + (slot >= row_i))
    member = np.where(row_cum, slot <= row_i, study < sizes[row_a])
    flat = np.where(member, row_a * width + study, n_an * width)
    Y = np.append(y_pad.ravel(), 0.0)[flat]
    V = np.append(v_pad.ravel(), np.inf)[flat]
    k = np.where(row_cum, row_i + 1, sizes[row_a] - 1).astype(float)

    # Hedges' start, as _tau2_he.
    dev = np.where(member, Y - Y.sum(axis=0) / k, 0.0)
    spread = (dev * dev).sum(axis=0) / (k - 1)
    v_in = np.where(member, V, 0.0)
    start = np.maximum(0.0, spread - v_in.sum(axis=0) / k)

    found = _reml_scoring_batch(Y, V, start, REML_TOL, REML_MAX_ITER)
    converged = ~np.isnan(found)
    tau2 = np.where(converged, found, 0.0)
    at = _at_tau2_batch(Y, V, tau2)
    # tau2_reml's grid ends at 10 (spread + largest variance) (see _reml_other_modes).
    upper = 10.0 * (spread + v_in.max(axis=0)) + 1e-12
    proven = converged & _unimodal(y_pad, v_pad, sizes, row_a, row_i, row_cum, upper, tau2, at)

    redo = np.flatnonzero(~proven)
    if redo.size:
        for r in redo.tolist():
            ys, vs = Y[member[:, r], r], V[member[:, r], r]
            if converged[r]:
                tau2[r] = tau2_reml(ys, vs)
            else:
                # Scoring ran its 200 steps without converging, so tau2_reml would go on as here.
                tau2[r] = _reml_global(ys, vs, _tau2_reml_bracketed(ys, vs, REML_TOL), REML_TOL)
        cols = _columns(redo)
        again = _at_tau2_batch(Y.take(cols, axis=1), V.take(cols, axis=1), tau2[cols])
        for name in ("sw", "mu", "resid"):
            at[name][redo] = again[name][: redo.size]

    # HKSJ and I^2 in pool_brief's order of operations.
    df = k - 1
    q = 1.0 - (1.0 - level) / 2.0
    crit_by_df = {d: _t_ppf(q, d) for d in set(df.astype(int).tolist())}
    crit = np.array([crit_by_df[d] for d in df.astype(int).tolist()])
    mu = at["mu"]
    se = np.sqrt((at["resid"] / df) / at["sw"])
    w0 = 1.0 / V
    sw0 = w0.sum(axis=0)
    square = sw0**2
    difference = square - (w0 * w0).sum(axis=0)
    s2 = df * sw0 / difference
    # The typical within-study variance cancels badly when one study dominates the weights (variances
    # spanning many orders of magnitude), and then its value hinges on the rounding of the sums; there
    # the exactly rounded sums of _typical_within_variance give the scalar path's number.
    for r in np.flatnonzero(~(square < _S2_CONDITION * difference)).tolist():
        s2[r] = _typical_within_variance(V[member[:, r], r])
    i2 = 100.0 * tau2 / (tau2 + s2)
    return np.stack([mu, mu - crit * se, mu + crit * se, i2])


def _columns(columns: np.ndarray) -> np.ndarray:
    """Column indices to take (with ``np.take``, which keeps row-major order), a lone column twice.

    numpy adds the rows of a row-major matrix one after another, which is what makes a subset's sums
    independent of its batch; but it sums a lone column, or a column-major copy (what ``a[:, columns]``
    gives), pairwise.
    """
    return columns if columns.size != 1 else np.repeat(columns, 2)


def _reml_score_batch(Y: np.ndarray, V: np.ndarray, tau2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """_reml_score_parts for every column: (REML score, Fisher information)."""
    w = 1.0 / (V + tau2)
    sw = w.sum(axis=0)
    w2 = w * w
    sw2 = w2.sum(axis=0)
    mu = np.einsum("ij,ij->j", w, Y) / sw
    py = w * (Y - mu)
    ypppy = np.einsum("ij,ij->j", py, py)
    tr_p = sw - sw2 / sw
    tr_pp = sw2 - 2.0 * np.einsum("ij,ij->j", w2, w) / sw + (sw2 / sw) ** 2
    return ypppy - tr_p, tr_pp


def _reml_scoring_batch(Y: np.ndarray, V: np.ndarray, tau2: np.ndarray, tol: float, max_iter: int) -> np.ndarray:
    """_tau2_reml_scoring for every column, step for step; NaN where 200 steps did not converge.

    Finished columns are dropped at once: copying what is left costs less than carrying them along.
    """
    out = np.full(tau2.size, np.nan)
    ids = np.arange(tau2.size)
    score0 = np.full(tau2.size, np.nan)  # the score at 0, computed once per column when needed
    for _ in range(max_iter):
        score, info = _reml_score_batch(Y, V, tau2)
        step = np.divide(score, info, out=np.zeros_like(score), where=info > 0)
        new = tau2 + step
        neg = new < 0
        boundary = None
        if neg.any():
            # At tau^2 = 0 the score just computed is the score at 0.
            unknown = np.isnan(score0)
            score0 = np.where(unknown & (tau2 == 0.0), score, score0)
            need = np.flatnonzero(neg & np.isnan(score0))
            if need.size:
                cols = _columns(need)
                at_zero, _ = _reml_score_batch(Y.take(cols, axis=1), V.take(cols, axis=1), np.zeros(cols.size))
                score0[need] = at_zero[: need.size]
            boundary = neg & (score0 <= 0)
            halve = neg & ~boundary
            while True:
                short = halve & (tau2 + step < 0)
                if not short.any():
                    break
                step[short] /= 2.0
            new = tau2 + step
        stop = np.abs(step) <= tol * np.maximum(1.0, new)
        result = np.maximum(0.0, new)
        if boundary is not None:
            stop |= boundary
            result[boundary] = 0.0
        if stop.any():
            out[ids[stop]] = result[stop]
            if stop.all():
                break
            keep = _columns(np.flatnonzero(~stop))
            Y, V, new, ids, score0 = Y.take(keep, axis=1), V.take(keep, axis=1), new[keep], ids[keep], score0[keep]
        tau2 = new
    return out


def _at_tau2_batch(Y: np.ndarray, V: np.ndarray, tau2: np.ndarray) -> dict[str, np.ndarray]:
    """Per column at tau2: the HKSJ sums, and the score with the derivatives the certificate needs."""
    w = 1.0 / (V + tau2)
    sw = w.sum(axis=0)
    w2 = w * w
    sw2 = w2.sum(axis=0)
    mu = np.einsum("ij,ij->j", w, Y) / sw
    r = Y - mu
    py = w * r  # P y
    ppy = w * (py - np.einsum("ij,ij->j", w, py) / sw)  # P^2 y
    ratio = sw2 / sw
    trace_p = sw - ratio
    trace_pp = sw2 - 2.0 * np.einsum("ij,ij->j", w2, w) / sw + ratio**2
    r2 = np.einsum("ij,ij->j", py, py)
    r3 = np.einsum("ij,ij->j", py, ppy)
    return {
        "sw": sw,
        "mu": mu,
        "resid": np.einsum("ij,ij->j", py, r),
        "score": r2 - trace_p,
        "score_sum": r2 + trace_p,
        "slope": 2.0 * r3 - trace_pp,  # minus the derivative of the score
        "slope_sum": 2.0 * r3 + trace_pp,
        "r4": np.einsum("ij,ij->j", ppy, ppy),  # y'P^4y
    }


def _unimodal(
    y_pad: np.ndarray,
    v_pad: np.ndarray,
    sizes: np.ndarray,
    row_a: np.ndarray,
    row_i: np.ndarray,
    row_cum: np.ndarray,
    upper: np.ndarray,
    tau2: np.ndarray,
    at: dict[str, np.ndarray],
) -> np.ndarray:
    """True where it is proven that tau2 is the only maximum of the restricted likelihood up to ``upper``.

    See the notes above ``BriefTable``. Analyses are taken a few at a time so that the arrays stay small.
    """
    proven = np.zeros(row_a.size, bool)
    # By analysis, and within a part leave-one-out rows before cumulative ones.
    by_analysis = np.argsort(row_a, kind="stable")
    bounds = np.searchsorted(row_a[by_analysis], np.arange(sizes.size + 1))
    first = 0
    while first < sizes.size:
        last = first + 1
        while last < sizes.size and bounds[last + 1] - bounds[first] <= _CERT_ROWS:
            last += 1
        rows = by_analysis[bounds[first] : bounds[last]]
        rows = rows[np.argsort(row_cum[rows], kind="stable")]
        if rows.size:
            part = {name: values[rows] for name, values in at.items()}
            proven[rows] = _unimodal_part(
                y_pad[first:last],
                v_pad[first:last],
                sizes[first:last],
                row_a[rows] - first,
                row_i[rows],
                row_cum[rows],
                upper[rows],
                tau2[rows],
                part,
            )
        first = last
    return proven


def _prefix_sums(terms: np.ndarray) -> np.ndarray:
    """out[:, i] = sum of terms[:, :i] along axis 1, added in order (as np.cumsum, about twice as fast)."""
    out = np.empty((terms.shape[0], terms.shape[1] + 1, *terms.shape[2:]))
    out[:, 0] = 0.0
    for i in range(terms.shape[1]):
        np.add(out[:, i], terms[:, i], out=out[:, i + 1])
    return out


def _unimodal_part(
    y_pad: np.ndarray,
    v_pad: np.ndarray,
    sizes: np.ndarray,
    row_a: np.ndarray,
    row_i: np.ndarray,
    row_cum: np.ndarray,
    upper: np.ndarray,
    tau2: np.ndarray,
    at: dict[str, np.ndarray],
) -> np.ndarray:
    """_unimodal for the subsets of a few analyses (row_a indexes y_pad, v_pad and sizes)."""
    n_an, width = y_pad.shape
    # Each analysis has a lattice uniform in log(1 + tau^2 / min v), so that no weight changes by more
    # than _CERT_RATIO across a lattice cell; each subset's part of it reaches past the subset's `upper`.
    # Nothing here depends on the other subsets in the batch, so neither do the results.
    log_ratio = math.log(_CERT_RATIO)
    v_min = v_pad.min(axis=1)[row_a]
    # (1e-9 to spare: `upper` is summed in another order than tau2_reml's.)
    cells = np.ceil(np.log1p(upper * (1.0 + 1e-9) / v_min) / log_ratio).astype(int).clip(min=1)
    n_lattice = int(cells.max()) + 1

    # Each subset looks at the lattice cell holding tau2, unit cells next to it and cells that grow with
    # their distance from it (far from the root the score's sign is easy to prove on long cells), and at
    # least once more at each end of its lattice (the cells of zero length there are harmless).
    root_cell = np.minimum(np.floor(np.log1p(tau2 / v_min) / log_ratio), cells - 1).astype(int)
    steps = [0, 1, 2, 3]
    while steps[-1] < n_lattice:
        steps.append(steps[-1] + (steps[-1] + 1) // _CERT_GROWTH)
    steps_arr = np.array(steps)
    pick = np.concatenate([root_cell[:, None] - steps_arr[::-1], root_cell[:, None] + 1 + steps_arr], axis=1)
    pick = np.clip(pick, 0, cells[:, None])
    t = v_min[:, None] * np.expm1(pick * log_ratio)

    # Only the lattice points that some subset of an analysis looks at are evaluated for it: points[a, j]
    # is the j-th of them and lookup[a, g] the position of lattice point g in points[a].
    used = np.zeros((n_an, n_lattice), bool)
    used[row_a[:, None], pick] = True
    lookup = np.cumsum(used, axis=1) - 1
    key_a, key_g = np.nonzero(used)
    n_points = int(lookup[:, -1].max()) + 1
    points = np.zeros((n_an, n_points), int)
    points[key_a, lookup[key_a, key_g]] = key_g
    pick = lookup[row_a[:, None], pick]

    # Prefix sums over the studies at those points give every subset's sums there.
    centre = np.array([math.fsum(y_pad[a, :n].tolist()) / n for a, n in enumerate(sizes.tolist())])
    x = np.where(np.isfinite(v_pad), y_pad - centre[:, None], 0.0)
    x_max = np.abs(x).max(axis=1)
    lattice = v_pad.min(axis=1)[:, None] * np.expm1(points * log_ratio)
    w = 1.0 / (v_pad[:, :, None] + lattice[:, None, :])
    w2 = w * w
    xw2 = w2 * x[:, :, None]
    # Quantity last, so that the sums of one subset at one point are one contiguous row of 7.
    terms = np.stack([w, w2, w * x[:, :, None], xw2, xw2 * x[:, :, None], w2 * w, w2 * w2], axis=-1)
    # The sums of subset r at its j-th point are row base[r] + pick[r, j] of a prefix table: before[:, i]
    # sums studies < i; for leave-one-out add after[:, width - i] = sums over studies > i.
    before = _prefix_sums(terms).reshape(-1, 7)
    base_before = (row_a * (width + 1) + np.where(row_cum, row_i + 1, row_i)) * n_points
    after = before
    if not row_cum.all():
        after = _prefix_sums(terms[:, ::-1]).reshape(-1, 7)
    base_after = (row_a * (width + 1) + width - 1 - row_i) * n_points
    x_max = x_max[row_a]

    def verdict(rows: np.ndarray, columns: slice) -> np.ndarray:
        """The proof for these subsets (leave-one-out ones first) on these columns of `pick`."""
        points = pick[rows, columns]
        sums = np.take(before, base_before[rows, None] + points, axis=0)  # (subsets, points, 7)
        n_loo = np.count_nonzero(~row_cum[rows])
        # The sums over studies > i for leave-one-out; a slice thanks to the order (see _unimodal).
        sums[:n_loo] += np.take(after, base_after[rows[:n_loo], None] + points[:n_loo], axis=0)
        return _certify(sums, t[rows, columns], x_max[rows], tau2[rows], {k: v[rows] for k, v in at.items()})

    # Subsets with the root in the first cell would repeat point 0 down the left half of `pick`.
    proven = np.empty(row_a.size, bool)
    at_start = root_cell == 0
    for rows, columns in (
        (np.flatnonzero(at_start), slice(len(steps) - 1, None)),
        (np.flatnonzero(~at_start), slice(None)),
    ):
        if rows.size:
            proven[rows] = verdict(rows, columns)
    return proven


def _certify(
    sums: np.ndarray, t: np.ndarray, x_max: np.ndarray, tau2: np.ndarray, at: dict[str, np.ndarray]
) -> np.ndarray:
    """The certificate proper, from each subset's sums at its points t (see the notes above BriefTable)."""
    sw, sw2, swx, sw2x, sw2xx = (sums[..., q] for q in range(5))
    band = _CERT_BAND
    d = swx / sw  # weighted mean minus the centre
    r2 = sw2xx - d * (2.0 * sw2x - d * sw2)  # y'PPy
    r2_band = band * sw2 * (x_max[:, None] + np.abs(d)) ** 2
    trace_p = sw - sw2 / sw
    trace_band = 2.0 * band * sw

    # Cell c = [t_c, t_c+1]: positive if U > 0 throughout, negative if U < 0 throughout.
    positive = (r2[:, 1:] - r2_band[:, 1:]) > (trace_p[:, :-1] + trace_band[:, :-1])
    negative = (r2[:, :-1] + r2_band[:, :-1]) < (trace_p[:, 1:] - trace_band[:, 1:])
    unsigned = ~(positive | negative)
    rows = np.arange(tau2.size)
    n_cells = unsigned.shape[1]
    any_unsigned = unsigned.any(axis=1)
    low_cell = np.argmax(unsigned, axis=1)
    high_cell = n_cells - 1 - np.argmax(unsigned[:, ::-1], axis=1)
    one_run = any_unsigned & (np.count_nonzero(unsigned, axis=1) == high_cell - low_cell + 1)
    falls_after = (high_cell + 1 < n_cells) & negative[rows, np.minimum(high_cell + 1, n_cells - 1)]
    low, high = t[rows, low_cell], t[rows, high_cell + 1]
    rises_before = (low == 0.0) | positive[rows, np.maximum(low_cell - 1, 0)]

    # tr P^3 at the two ends of the run.
    ends = sums[rows[:, None], np.stack([low_cell, high_cell + 1], axis=1)]
    s1, s2, s3, s4 = (ends[..., q] for q in (0, 1, 5, 6))
    ratio = s2 / s1
    trace_ppp = s3 - 3.0 * s4 / s1 + 3.0 * s3 * ratio / s1 - ratio**3
    trace_ppp_band = band * (s3 + 3.0 * s4 / s1 + 3.0 * s3 * ratio / s1 + ratio**3)
    ppp_low = trace_ppp[:, 0] + trace_ppp_band[:, 0]
    ppp_high = np.maximum(trace_ppp[:, 1] - trace_ppp_band[:, 1], 0.0)

    # Taylor bounds from tau2 across the unsigned run [low, high] (U'' lies in [-2 tr P^3, 6 y'P^4y]):
    #   above: U(t) <= U(tau2) - slope d + (3 y'P^4y(tau2) - tr P^3(high)) d^2 for d = t - tau2,
    #   below: U(t) >= U(tau2) + slope d - tr P^3(low) d^2 for d = tau2 - t,
    # so with the quadratic term under half the linear one U changes sign only within ~|U(tau2)|/slope
    # of tau2 (the scoring tolerance), and nowhere else in the run.
    slope = at["slope"]
    descending = slope > band * at["slope_sum"]
    above = descending & ((3.0 * at["r4"] - ppp_high) * (high - tau2) < 0.5 * slope)
    below = ppp_low * (tau2 - low) < 0.5 * slope
    inside = (low <= tau2) & (tau2 <= high)
    interior = one_run & falls_after & rises_before & inside & above & below
    # At 0: U < 0 on every cell, or one unsigned run from 0 on which U falls from U(0) <= ~0.
    near_zero = at["score"] <= band * at["score_sum"]
    boundary = negative.all(axis=1) | (one_run & falls_after & (low == 0.0) & above & near_zero)
    return np.where(tau2 > 0, interior, boundary)


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
