"""Random-effects meta-analysis of one set of studies.

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
from typing import Literal

import numpy as np

from livingevidence.analysis.pooling.arrays import as_arrays, fsum, q_stat, safe_ratio
from livingevidence.analysis.pooling.distributions import chi2_sf, level_crit_z, t_ppf, two_sided_p
from livingevidence.analysis.pooling.qprofile import q_profile_ci
from livingevidence.analysis.pooling.results import RandomEffectsResult
from livingevidence.analysis.pooling.tau2 import tau2_dl, tau2_reml

Tau2Method = Literal["REML", "DL"]
PIType = Literal["metafor", "riley"]


def _typical_within_variance(v: np.ndarray) -> float:
    w = 1.0 / v
    sw = fsum(w)
    return (v.size - 1) * sw / (sw**2 - fsum(w**2))


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
    y, v = as_arrays(yi, vi, min_k=2)
    z_crit = level_crit_z(level)
    if method not in ("REML", "DL"):
        raise ValueError(f"unknown tau^2 method {method!r}; use 'REML' or 'DL'")
    if pi_type not in ("metafor", "riley"):
        raise ValueError(f"unknown pi_type {pi_type!r}; use 'metafor' or 'riley'")
    k = int(y.size)
    tau2 = tau2_reml(y, v) if method == "REML" else tau2_dl(y, v)

    w = 1.0 / (v + tau2)
    sw = fsum(w)
    mu = fsum(w * y) / sw
    se_plain = math.sqrt(1.0 / sw)

    df: int | None
    if hksj:
        df = k - 1
        scale = fsum(w * (y - mu) ** 2) / df
        if hksj_truncate:
            scale = max(1.0, scale)
        se = math.sqrt(scale / sw)
        crit = t_ppf(1.0 - (1.0 - level) / 2.0, df)
    else:
        df = None
        se = se_plain
        crit = z_crit
    statistic = safe_ratio(mu, se)

    q = q_stat(y, v, 0.0)
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
        pi_crit = t_ppf(1.0 - (1.0 - level) / 2.0, k - 2) if pi_type == "riley" else crit
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
        p_value=two_sided_p(statistic, df),
        tau2=float(tau2),
        tau=float(math.sqrt(tau2)),
        i2=float(i2),
        h2=float(h2),
        q=float(q),
        q_df=q_df,
        q_p=chi2_sf(q, q_df),
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
