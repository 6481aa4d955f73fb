"""Random-effects meta-analysis of one set of studies.

The random-effects defaults follow the methods Cochrane adopted for RevMan in January 2025 (Cochrane
Statistical Methods Group recommendation; Cochrane Handbook chapter 10): REML for the between-study
variance tau^2, the Q-profile confidence interval for tau^2 (Viechtbauer 2007), the Hartung-Knapp-Sidik-
Jonkman (HKSJ) adjustment for the CI of the summary effect, I^2 computed from the estimated tau^2, and a
prediction interval; and, for honest intervals with few studies, the ad hoc variance correction of the
HKSJ interval (Knapp & Hartung 2003; Roever et al. 2015). The choices live in ``PoolSettings``. Formulas
and numerical conventions match R's metafor (``rma.uni``, ``confint``, ``predict``) so that results can be
checked against it; tests/test_metafor_reference.py does so on public data sets.

Details, with metafor's names in parentheses:

* Weights are ``w_i = 1 / (v_i + tau^2)``; the summary estimate is ``sum(w y) / sum(w)`` with
  ``SE = sqrt(1 / sum(w))`` and a z-based CI (``ci_method="wald"``, ``test="z"``).
* HKSJ (``"hksj"``, ``test="knha"``): ``SE_HK^2 = q / sum(w)`` with ``q = sum(w (y - mu)^2) / (k - 1)`` and
  t(k - 1) quantiles. Untruncated, the HKSJ CI is narrower than the z CI whenever the studies agree more
  than expected (q < 1). The default, ``"hksj-adhoc"`` (``test="adhoc"``), uses ``max(1, q)``, so the CI
  is never narrower than the Wald-type CI with t(k - 1) quantiles (Knapp & Hartung 2003, Jackson et al.
  2017); ``adhoc_applied`` says when the correction changed the interval.
* With k = 2 the result says (``tau2_unreliable`` and ``notes``) that tau^2 cannot be estimated reliably
  from two studies.
* ``I^2 = 100 tau^2 / (tau^2 + s^2)`` and ``H^2 = (tau^2 + s^2) / s^2`` with the "typical" within-study
  variance ``s^2 = (k - 1) sum(1/v) / ((sum(1/v))^2 - sum(1/v^2))`` (Higgins & Thompson 2002), so both
  reflect the tau^2 estimator in use, as Cochrane's May 2024 addendum requires. Their confidence intervals
  are the same transformation applied to the Q-profile bounds of tau^2 (metafor ``confint``).

Prediction interval — the convention chosen here is metafor's ``predict()``:

    mu_hat +/- crit * sqrt(tau^2 + SE^2)

where ``SE`` is the standard error of the summary estimate *as used for its CI* (the HKSJ SE when HKSJ is
on, ad hoc corrected when that is on) and ``crit`` is the t(k - 1) quantile with HKSJ, the normal
quantile without it (metafor's predict.rma documentation, "Note"; source R/predict.rma.r: ``pi.se <-
sqrt(vpred + tau2)`` with the same ``crit`` as the CI). Cochrane's public description of the 2025 RevMan
methods (methods.cochrane.org, "Random-effects meta-analysis methods for Intervention Reviews") says only
that prediction intervals are calculated "using the t-distribution or the normal distribution"; the exact
RevMan formula (in particular whether it uses k - 1 or the k - 2 degrees of freedom of Higgins, Thompson
& Spiegelhalter 2009 / Riley et al. 2011) could not be confirmed from the sources available while writing
this module. metafor's rule was chosen because (i) it is documented and testable to 4 decimals, (ii) it
is internally consistent with the HKSJ CI (the PI collapses onto the CI when tau^2 = 0, which metafor
argues is the logical limit), and (iii) with ``hksj=True`` it is a t-based interval, which is one of the
two options Cochrane lists.
``pi_type="riley"`` gives the t(k - 2) variant. Prediction intervals are reported only for k >= 3: with
two studies tau^2 is barely estimable and the k - 2 variant is undefined.

Everything returned is a plain Python ``float``/``int``/``str``/``tuple`` (no NumPy scalars), and every
result dataclass has ``to_dict()`` for JSON output (non-finite floats become ``None`` there).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from livingevidence.analysis.pooling.arrays import as_arrays, fsum, q_stat, safe_ratio
from livingevidence.analysis.pooling.distributions import chi2_sf, level_crit_t, level_crit_z, two_sided_p
from livingevidence.analysis.pooling.qprofile import q_profile_ci
from livingevidence.analysis.pooling.results import RandomEffectsResult
from livingevidence.analysis.pooling.settings import PoolSettings, resolve
from livingevidence.analysis.pooling.tau2 import estimate_tau2

TWO_STUDIES_NOTE = (
    "With two studies the between-study variance (tau²) cannot be estimated reliably, and the interval "
    "rests on a t distribution with one degree of freedom."
)
ADHOC_NOTE = (
    "The studies agree more closely than their variances imply (Q < k - 1), so the Hartung-Knapp-Sidik-"
    "Jonkman standard error was raised to the Wald-type one (ad hoc variance correction)."
)


def _typical_within_variance(v: np.ndarray) -> float:
    w = 1.0 / v
    sw = fsum(w)
    return (v.size - 1) * sw / (sw**2 - fsum(w**2))


def _i2_h2(tau2: float, s2: float) -> tuple[float, float]:
    return 100.0 * tau2 / (tau2 + s2), (tau2 + s2) / s2


@dataclass(frozen=True)
class SummaryCI:
    """The CI ingredients of a random-effects summary: SE as used, critical value, df (None for z) and the
    HKSJ scaling factor before truncation (None for Wald)."""

    se: float
    crit: float
    df: int | None
    hksj_scale: float | None


def summary_ci(resid: float, sw: float, k: int, settings: PoolSettings) -> SummaryCI:
    """SE and critical value of the summary estimate from ``resid = sum(w (y - mu)^2)`` and ``sw = sum(w)``.

    Wald: ``sqrt(1 / sw)`` with normal quantiles. HKSJ: ``sqrt(q / sw)`` with ``q = resid / (k - 1)`` and
    t(k - 1) quantiles; with the ad hoc correction ``q`` is raised to 1 when below it (metafor ``adhoc``).
    """
    if not settings.hksj:
        return SummaryCI(math.sqrt(1.0 / sw), level_crit_z(settings.level), None, None)
    df = k - 1
    scale = resid / df
    used = max(1.0, scale) if settings.hksj_truncate else scale
    return SummaryCI(math.sqrt(used / sw), level_crit_t(settings.level, df), df, float(scale))


def random_effects(
    yi: Sequence[float],
    vi: Sequence[float],
    method: str | None = None,
    hksj: bool | None = None,
    *,
    settings: PoolSettings | None = None,
    hksj_truncate: bool | None = None,
    pi_type: str | None = None,
    qprofile_tol: float | None = None,
    level: float | None = None,
    qprofile: bool = True,
) -> RandomEffectsResult:
    """Random-effects meta-analysis (needs k >= 2) with the estimators of ``settings``.

    ``settings`` defaults to ``PoolSettings()`` (REML with PM/DL fallbacks, HKSJ with the ad hoc
    correction, 95%). The other keywords are the older way of choosing and override it (see
    ``settings.resolve``): ``method`` the tau^2 estimator, ``hksj=False`` the Wald CI, ``hksj=True`` the
    untruncated HKSJ CI unless ``hksj_truncate=True``. See the module docstring for I^2/H^2, the Q-profile
    CI and the prediction-interval convention. ``qprofile=False`` skips the Q-profile CI of tau^2 (its
    bounds and the derived tau, I^2 and H^2 bounds are then NaN); nothing else changes.

    Raises:
        ValueError: for fewer than two studies, invalid input, or an unknown method, CI method or PI type.
        Tau2Error: if no tau^2 method of the chain can be solved.
    """
    y, v = as_arrays(yi, vi, min_k=2)
    chosen = resolve(
        settings,
        method=method,
        hksj=hksj,
        hksj_truncate=hksj_truncate,
        pi_type=pi_type,
        qprofile_tol=qprofile_tol,
        level=level,
    )
    k = int(y.size)
    tau2_fit = estimate_tau2(y, v, chosen)
    tau2 = tau2_fit.tau2
    w = 1.0 / (v + tau2)
    sw = fsum(w)
    mu = fsum(w * y) / sw
    ci = summary_ci(fsum(w * (y - mu) ** 2), sw, k, chosen)
    statistic = safe_ratio(mu, ci.se)
    heterogeneity = _heterogeneity(y, v, tau2, chosen, qprofile)
    pi_low, pi_high = _prediction(mu, tau2, ci, k, chosen)
    adhoc_applied = chosen.hksj_truncate and ci.hksj_scale is not None and ci.hksj_scale < 1.0
    return RandomEffectsResult(
        k=k,
        method=tau2_fit.method,
        hksj=chosen.hksj,
        hksj_truncate=chosen.hksj_truncate,
        estimate=float(mu),
        se=float(ci.se),
        se_unadjusted=float(math.sqrt(1.0 / sw)),
        ci_low=float(mu - ci.crit * ci.se),
        ci_high=float(mu + ci.crit * ci.se),
        statistic=float(statistic),
        statistic_type="t" if chosen.hksj else "z",
        df=ci.df,
        p_value=two_sided_p(statistic, ci.df),
        tau2=float(tau2),
        tau=float(math.sqrt(tau2)),
        **heterogeneity,
        prediction_low=pi_low,
        prediction_high=pi_high,
        pi_type=chosen.pi_type,
        weights=tuple(float(x) for x in w / sw),
        level=float(chosen.level),
        method_requested=tau2_fit.requested,
        method_note=tau2_fit.note,
        ci_method=chosen.ci_method,
        hksj_scale=ci.hksj_scale,
        adhoc_applied=bool(adhoc_applied),
        tau2_unreliable=k == 2,
        notes=_notes(k, tau2_fit.note, adhoc_applied),
    )


def _notes(k: int, tau2_note: str | None, adhoc_applied: bool) -> tuple[str, ...]:
    """The sentences a page should show beside the result."""
    candidates = ((TWO_STUDIES_NOTE, k == 2), (tau2_note, tau2_note is not None), (ADHOC_NOTE, adhoc_applied))
    return tuple(note for note, applies in candidates if applies and note is not None)


def _heterogeneity(y: np.ndarray, v: np.ndarray, tau2: float, settings: PoolSettings, qprofile: bool) -> dict:
    """Q, I^2, H^2 and the Q-profile CI of tau^2 with the derived tau, I^2 and H^2 bounds."""
    q = q_stat(y, v, 0.0)
    q_df = int(y.size - 1)
    s2 = _typical_within_variance(v)
    i2, h2 = _i2_h2(tau2, s2)
    if qprofile:
        t2_lo, t2_hi = q_profile_ci(y, v, level=settings.level, tol=settings.qprofile_tol, tau2_hint=tau2)
    else:
        t2_lo = t2_hi = math.nan
    i2_lo, h2_lo = _i2_h2(t2_lo, s2)
    i2_hi, h2_hi = _i2_h2(t2_hi, s2)
    return {
        "i2": float(i2),
        "h2": float(h2),
        "q": float(q),
        "q_df": q_df,
        "q_p": chi2_sf(q, q_df),
        "tau2_ci_low": float(t2_lo),
        "tau2_ci_high": float(t2_hi),
        "tau_ci_low": float(math.sqrt(t2_lo)),
        "tau_ci_high": float(math.sqrt(t2_hi)),
        "i2_ci_low": float(i2_lo),
        "i2_ci_high": float(i2_hi),
        "h2_ci_low": float(h2_lo),
        "h2_ci_high": float(h2_hi),
    }


def _prediction(mu: float, tau2: float, ci: SummaryCI, k: int, settings: PoolSettings) -> tuple:
    """The prediction interval (None, None) below three studies."""
    if k < 3:
        return None, None
    # Riley et al. (2011) use t(k - 2); metafor reuses the CI's critical value.
    crit = level_crit_t(settings.level, k - 2) if settings.pi_type == "riley" else ci.crit
    half = crit * math.sqrt(tau2 + ci.se**2)
    return float(mu - half), float(mu + half)
