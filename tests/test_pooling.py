"""Tests for livingevidence.analysis.pooling against metafor's BCG vaccine example, plus property tests.

Reference numbers are copied from metafor's own documentation and tests (github.com/wviechtb/metafor);
each block says which file. They are printed to 4 decimals, so agreement is checked to half a unit in
the 4th decimal (``_close4``). Where metafor does not print a number (e.g. the common-effect SE) it is
derived from printed ones and the comment says so.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import fields

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from livingevidence.analysis.effects import risk_ratio
from livingevidence.analysis.pooling import (
    METAFOR_UNIROOT_TOL,
    CommonEffectResult,
    PoolResult,
    RandomEffectsResult,
    common_effect,
    cumulative,
    leave_one_out,
    pool,
    q_profile_ci,
    random_effects,
    tau2_dl,
    tau2_reml,
)

# dat.bcg (= dat.colditz1994), 13 trials: wviechtb/metafor README.md ("examine the BCG vaccine dataset")
# and docs/reference/dat.colditz1994.html (printed data frame).
BCG_TPOS = [4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27]
BCG_TNEG = [119, 300, 228, 13536, 5036, 1361, 2537, 87886, 7470, 1699, 50448, 2493, 16886]
BCG_CPOS = [11, 29, 11, 248, 47, 372, 10, 499, 45, 65, 141, 3, 29]
BCG_CNEG = [128, 274, 209, 12619, 5761, 1079, 619, 87892, 7232, 1600, 27197, 2338, 17825]
BCG_LABELS = [
    "Aronson 1948",
    "Ferguson & Simes 1949",
    "Rosenthal et al 1960",
    "Hart & Sutherland 1977",
    "Frimodt-Moller et al 1973",
    "Stein & Aronson 1953",
    "Vandiviere et al 1973",
    "TPT Madras 1980",
    "Coetzee & Berjak 1968",
    "Rosenthal et al 1961",
    "Comstock et al 1974",
    "Comstock & Webster 1969",
    "Comstock et al 1976",
]


def _bcg() -> tuple[list[float], list[float]]:
    effects = [
        risk_ratio(a, a + b, c, c + d) for a, b, c, d in zip(BCG_TPOS, BCG_TNEG, BCG_CPOS, BCG_CNEG, strict=True)
    ]
    yi = [e.yi for e in effects]
    vi = [e.vi for e in effects]
    assert all(y is not None for y in yi) and all(v is not None for v in vi)
    return yi, vi  # type: ignore[return-value]


BCG_YI, BCG_VI = _bcg()


def _close4(ours: float | None, printed: float) -> bool:
    """True when ``ours`` rounds to the 4-decimal value metafor printed."""
    return ours is not None and abs(ours - printed) <= 0.5e-4 + 1e-12


def _close(ours: float | None, printed: float, decimals: int) -> bool:
    return ours is not None and abs(ours - printed) <= 0.5 * 10.0**-decimals + 1e-12


# --------------------------------------------------------------------------------------------------------
# metafor's BCG example
# --------------------------------------------------------------------------------------------------------


def test_bcg_log_risk_ratios_match_escalc() -> None:
    # escalc(measure="RR", ...) yi / vi columns: wviechtb/metafor README.md and docs/reference/dat.colditz1994.html
    yi = [-0.8893, -1.5854, -1.3481, -1.4416, -0.2175, -0.7861, -1.6209]
    yi += [0.0120, -0.4694, -1.3713, -0.3394, 0.4459, -0.0173]
    vi = [0.3256, 0.1946, 0.4154, 0.0200, 0.0512, 0.0069, 0.2230, 0.0040, 0.0564, 0.0730, 0.0124, 0.5325, 0.0714]
    for ours, ref in zip(BCG_YI, yi, strict=True):
        assert _close4(ours, ref)
    for ours, ref in zip(BCG_VI, vi, strict=True):
        assert _close4(ours, ref)


def test_bcg_common_effect() -> None:
    # rma(yi, vi, method="FE"/"EE"): tests/testthat/test_misc_metan_vs_rma.uni_with_dat.bcg.r
    res = common_effect(BCG_YI, BCG_VI)
    assert _close4(res.estimate, -0.4303)
    assert _close4(res.ci_low, -0.5097)
    assert _close4(res.ci_high, -0.3509)
    assert _close4(res.z, -10.6247)
    assert _close4(res.q, 152.2330)
    assert res.q_df == 12
    # SE is not printed there; derived as estimate / z from the printed values (0.4303 / 10.6247 = 0.0405).
    assert _close4(res.se, 0.4303 / 10.6247)
    # predict(res, transf=exp): same file
    assert _close4(math.exp(res.estimate), 0.6503)
    assert _close4(math.exp(res.ci_low), 0.6007)
    assert _close4(math.exp(res.ci_high), 0.7040)


def test_bcg_dersimonian_laird_wald() -> None:
    # rma(yi, vi, method="DL"): tests/testthat/test_misc_metan_vs_rma.uni_with_dat.bcg.r
    res = random_effects(BCG_YI, BCG_VI, method="DL", hksj=False, qprofile_tol=METAFOR_UNIROOT_TOL)
    assert _close4(res.estimate, -0.7141)
    assert _close4(res.ci_low, -1.0644)
    assert _close4(res.ci_high, -0.3638)
    assert _close4(res.statistic, -3.9952)
    assert res.statistic_type == "z" and res.df is None
    assert _close4(res.tau2, 0.3088)
    assert _close4(res.i2, 92.1173)
    assert _close4(res.q, 152.2330)
    # SE derived as estimate / z from the printed values.
    assert _close4(res.se, 0.7141 / 3.9952)
    # predict(res, transf=exp): same file
    assert _close4(math.exp(res.estimate), 0.4896)
    assert _close4(math.exp(res.ci_low), 0.3449)
    assert _close4(math.exp(res.ci_high), 0.6950)
    # confint(res) for the DL fit: tests/testthat/test_misc_confint.r
    assert _close4(res.tau2_ci_low, 0.1197) and _close4(res.tau2_ci_high, 1.1115)
    assert _close4(res.i2_ci_low, 81.9177) and _close4(res.i2_ci_high, 97.6781)
    assert _close4(res.h2, 12.6861)
    assert _close4(res.h2_ci_low, 5.5303) and _close4(res.h2_ci_high, 43.0680)


def test_bcg_reml_wald() -> None:
    # rma(yi, vi, method="REML"): docs/reference/rma.uni.html (first example) and docs/reference/dat.colditz1994.html
    res = random_effects(BCG_YI, BCG_VI, method="REML", hksj=False)
    assert _close4(res.estimate, -0.7145)
    assert _close4(res.se, 0.1798)
    assert _close4(res.statistic, -3.9744)
    assert _close4(res.ci_low, -1.0669)
    assert _close4(res.ci_high, -0.3622)
    assert _close4(res.tau2, 0.3132)
    assert _close4(res.tau, 0.5597)
    assert _close4(res.q, 152.2330) and res.q_df == 12
    # predict(res, transf=exp): docs/reference/predict.rma.html (z-based CI and PI)
    assert _close4(math.exp(res.estimate), 0.4894)
    assert _close4(math.exp(res.ci_low), 0.3441)
    assert _close4(math.exp(res.ci_high), 0.6962)
    assert res.prediction_low is not None and res.prediction_high is not None
    assert _close4(math.exp(res.prediction_low), 0.1546)
    assert _close4(math.exp(res.prediction_high), 1.5490)


def test_bcg_reml_heterogeneity_and_q_profile() -> None:
    # confint(rma(yi, vi, method="REML")): docs/reference/confint.rma.html
    #   tau^2 0.3132 [0.1197, 1.1115]; tau 0.5597 [0.3460, 1.0543];
    #   I^2 92.2214 [81.9177, 97.6781]; H^2 12.8558 [5.5303, 43.0680]
    res = random_effects(BCG_YI, BCG_VI, method="REML", qprofile_tol=METAFOR_UNIROOT_TOL)
    assert _close4(res.tau2, 0.3132)
    assert _close4(res.tau2_ci_low, 0.1197) and _close4(res.tau2_ci_high, 1.1115)
    assert _close4(res.tau_ci_low, 0.3460) and _close4(res.tau_ci_high, 1.0543)
    assert _close4(res.i2, 92.2214)
    assert _close4(res.i2_ci_low, 81.9177) and _close4(res.i2_ci_high, 97.6781)
    assert _close4(res.h2, 12.8558)
    assert _close4(res.h2_ci_low, 5.5303) and _close4(res.h2_ci_high, 43.0680)


def test_q_profile_default_is_the_exact_root() -> None:
    # With the default (tight) tolerance the tau^2 bounds still print as metafor's, while the I^2 bound
    # moves in the 4th decimal: metafor's uniroot stops ~1e-4 short of the root.
    lo, hi = q_profile_ci(BCG_YI, BCG_VI)
    assert _close4(lo, 0.1197) and _close4(hi, 1.1115)
    res = random_effects(BCG_YI, BCG_VI)
    assert abs(res.i2_ci_low - 81.9177) < 0.01
    df = len(BCG_YI) - 1
    from scipy import stats

    w_lo = 1 / (np.asarray(BCG_VI) + lo)
    mu = float(np.sum(w_lo * BCG_YI) / np.sum(w_lo))
    assert math.isclose(float(np.sum(w_lo * (np.asarray(BCG_YI) - mu) ** 2)), stats.chi2.ppf(0.975, df), rel_tol=1e-10)


def test_bcg_reml_hksj() -> None:
    # rma(yi, vi, test="knha") (REML): wviechtb/metafor README.md, "fit random-effects model"
    #   estimate -0.7145, se 0.1808, tval -3.9522, df 12, pval 0.0019, ci -1.1084 .. -0.3206
    res = random_effects(BCG_YI, BCG_VI, method="REML", hksj=True)
    assert _close4(res.estimate, -0.7145)
    assert _close4(res.se, 0.1808)
    assert _close4(res.statistic, -3.9522)
    assert res.statistic_type == "t" and res.df == 12
    assert _close4(res.p_value, 0.0019)
    assert _close4(res.ci_low, -1.1084)
    assert _close4(res.ci_high, -0.3206)
    # predict(res, transf=exp, digits=2): same README -> 0.49 [0.33, 0.73], PI [0.14, 1.76]
    assert res.prediction_low is not None and res.prediction_high is not None
    assert _close(math.exp(res.estimate), 0.49, 2)
    assert _close(math.exp(res.ci_low), 0.33, 2) and _close(math.exp(res.ci_high), 0.73, 2)
    assert _close(math.exp(res.prediction_low), 0.14, 2) and _close(math.exp(res.prediction_high), 1.76, 2)
    # metafor prints that PI to 2 decimals only; to 4 decimals (log scale) check it against predict()'s
    # formula (R/predict.rma.r: pi.se = sqrt(vpred + tau2), crit = qt(.975, k - 1)) built from the printed
    # estimate, HKSJ SE and tau^2. The inputs carry 4-decimal rounding, hence the 5e-4 tolerance.
    t12 = 2.178812829663418  # qt(0.975, 12)
    half = t12 * math.sqrt(0.3132 + 0.1808**2)
    assert abs(res.prediction_low - (-0.7145 - half)) < 5e-4
    assert abs(res.prediction_high - (-0.7145 + half)) < 5e-4
    assert math.isclose(res.prediction_high - res.estimate, t12 * math.sqrt(res.tau2 + res.se**2), rel_tol=1e-9)


def test_bcg_pool_carries_both_lines() -> None:
    res = pool(BCG_YI, BCG_VI, BCG_LABELS)
    assert res.pooled and res.k == 13
    assert res.random is not None and res.common is not None
    assert res.random.method == "REML" and res.random.hksj
    # The default CI is HKSJ with the ad hoc correction; on BCG (Q >> k - 1) it equals untruncated HKSJ.
    assert res.random.ci_method == "hksj-adhoc" and res.random.hksj_truncate and not res.random.adhoc_applied
    assert res.estimate == res.random.estimate
    assert _close4(res.common.estimate, -0.4303)
    assert res.labels == tuple(BCG_LABELS)


def test_bcg_leave_one_out_matches_metafor() -> None:
    # leave1out(rma(yi, vi)) (REML, z): docs/reference/leave1out.html
    #   columns: estimate, se, Q, tau2, I2
    ref = [
        (-0.7071, 0.1900, 151.5826, 0.3362, 93.2259),
        (-0.6540, 0.1807, 145.3176, 0.2926, 92.2540),
        (-0.6856, 0.1857, 150.1970, 0.3207, 92.9354),
        (-0.6284, 0.1766, 96.5626, 0.2628, 90.4125),
        (-0.7642, 0.1918, 151.3200, 0.3278, 92.7634),
        (-0.7109, 0.2003, 128.1867, 0.3596, 90.9118),
        (-0.6552, 0.1805, 145.8296, 0.2930, 92.2777),
        (-0.7948, 0.1799, 67.9858, 0.2732, 87.0314),
        (-0.7412, 0.1967, 152.2051, 0.3495, 93.2133),
        (-0.6530, 0.1843, 139.8271, 0.2987, 92.2322),
        (-0.7579, 0.1958, 151.4655, 0.3405, 91.8110),
        (-0.7598, 0.1821, 150.7868, 0.3082, 92.6782),
        (-0.7775, 0.1855, 149.7884, 0.3037, 92.3444),
    ]
    results = leave_one_out(BCG_YI, BCG_VI, BCG_LABELS, hksj=False)
    assert len(results) == 13
    for i, (res, (est, se, q, tau2, i2)) in enumerate(zip(results, ref, strict=True)):
        assert BCG_LABELS[i] not in res.labels and res.k == 12
        r = res.random
        assert r is not None
        assert _close4(r.estimate, est) and _close4(r.se, se) and _close4(r.q, q)
        assert _close4(r.tau2, tau2) and _close4(r.i2, i2)


def test_cumulative_order_and_ends() -> None:
    results = cumulative(BCG_YI, BCG_VI, BCG_LABELS)
    assert [r.k for r in results] == list(range(1, 14))
    assert not results[0].pooled and results[0].estimate is None
    assert results[0].labels == (BCG_LABELS[0],)
    full = pool(BCG_YI, BCG_VI, BCG_LABELS)
    assert results[-1].to_dict() == full.to_dict()
    assert results[4].labels == tuple(BCG_LABELS[:5])


# --------------------------------------------------------------------------------------------------------
# behaviour and edge cases
# --------------------------------------------------------------------------------------------------------


def test_single_study_pools_nothing() -> None:
    res = pool([0.3], [0.04], ["Only trial"])
    assert not res.pooled
    assert res.estimate is None and res.random is None and res.common is None
    assert res.k == 1 and res.labels == ("Only trial",) and res.yi == (0.3,) and res.vi == (0.04,)
    assert res.not_pooled_reason
    as_dict = res.to_dict()
    assert as_dict["estimate"] is None and as_dict["pooled"] is False and as_dict["k"] == 1
    json.dumps(as_dict, allow_nan=False)


def test_no_studies_is_an_error() -> None:
    with pytest.raises(ValueError, match="no studies"):
        pool([], [], [])
    with pytest.raises(ValueError):
        cumulative([], [])


@pytest.mark.parametrize(
    ("yi", "vi", "labels", "message"),
    [
        ([0.1, 0.2], [0.1], None, "same length"),
        ([0.1, float("nan")], [0.1, 0.1], None, "non-finite"),
        ([0.1, 0.2], [0.1, 0.0], None, "strictly positive"),
        ([0.1, 0.2], [0.1, -1.0], None, "strictly positive"),
        ([0.1, 0.2], [0.1, 0.1], ["a"], "labels"),
        ([0.1, 0.2], [0.1, 0.1], ["a", "a"], "unique"),
    ],
)
def test_invalid_input(yi: list[float], vi: list[float], labels: list[str] | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        pool(yi, vi, labels)


def test_random_effects_needs_two_studies() -> None:
    with pytest.raises(ValueError):
        random_effects([0.1], [0.1])
    with pytest.raises(ValueError, match="method"):
        random_effects([0.1, 0.2], [0.1, 0.1], method="EB")


def test_prediction_interval_only_from_three_studies() -> None:
    two = random_effects([0.1, 0.5], [0.05, 0.08])
    assert two.prediction_low is None and two.prediction_high is None
    three = random_effects([0.1, 0.5, 0.2], [0.05, 0.08, 0.04])
    assert three.prediction_low is not None and three.prediction_high is not None


def test_riley_prediction_interval_uses_k_minus_2() -> None:
    from scipy import stats

    res = random_effects(BCG_YI, BCG_VI, pi_type="riley")
    assert res.prediction_high is not None
    half = stats.t.ppf(0.975, 11) * math.sqrt(res.tau2 + res.se**2)
    assert math.isclose(res.prediction_high, res.estimate + half, rel_tol=1e-12)


def test_homogeneous_studies_give_tau2_zero_and_hksj_can_be_truncated() -> None:
    yi = [0.20, 0.21, 0.19, 0.20]
    vi = [0.04, 0.05, 0.03, 0.06]
    assert tau2_reml(yi, vi) == 0.0 and tau2_dl(yi, vi) == 0.0
    plain = random_effects(yi, vi, hksj=True)  # hksj=True alone keeps its old meaning: untruncated
    truncated = random_effects(yi, vi, hksj=True, hksj_truncate=True)
    assert random_effects(yi, vi) == truncated  # the default is the ad hoc correction
    # Studies agree more than their variances imply, so the untruncated HKSJ SE is below the usual SE;
    # the truncated (metafor "adhoc") version never is.
    assert plain.se < plain.se_unadjusted
    assert math.isclose(truncated.se, truncated.se_unadjusted, rel_tol=1e-12)
    assert plain.tau2_ci_low == 0.0 and plain.tau2_ci_high == 0.0
    assert plain.i2 == 0.0 and plain.h2 == 1.0


def test_reml_takes_the_global_maximum_of_a_bimodal_likelihood() -> None:
    # Found by the property test below: the restricted likelihood has an interior mode near 1.38 (where
    # Fisher scoring from the Hedges start lands) and a higher one on the boundary at 0.
    yi, vi = [0.0, 0.0, 0.0, 4.0], [2.0, 0.125, 0.125, 2.0]
    assert tau2_reml(yi, vi) == 0.0
    assert _reml_loglik(yi, vi, 0.0) > _reml_loglik(yi, vi, 1.38)


def test_identical_estimates_serialise_without_nan() -> None:
    # Untruncated HKSJ gives identical estimates a zero-width interval and a 0/0 statistic.
    res = pool([0.0, 0.0, 0.0], [0.1, 0.2, 0.3], ["a", "b", "c"], hksj=True)
    assert res.random is not None and res.random.se == 0.0
    text = json.dumps(res.to_dict(), allow_nan=False)
    assert '"statistic": null' in text
    # The default (ad hoc correction) keeps the Wald-type width instead.
    default = pool([0.0, 0.0, 0.0], [0.1, 0.2, 0.3], ["a", "b", "c"]).random
    assert default is not None and default.adhoc_applied and default.se == default.se_unadjusted > 0


def _all_plain(value: object) -> bool:
    if isinstance(value, float | int | str | bool) or value is None:
        return type(value) in (float, int, str, bool) or value is None
    if isinstance(value, tuple):
        return all(_all_plain(v) for v in value)
    if isinstance(value, CommonEffectResult | RandomEffectsResult | PoolResult):
        return all(_all_plain(getattr(value, f.name)) for f in fields(value))
    return False


def test_results_are_plain_python_types_and_serialise() -> None:
    res = pool(BCG_YI, BCG_VI, BCG_LABELS)
    assert _all_plain(res)
    payload = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert payload["k"] == 13 and payload["random"]["df"] == 12
    assert isinstance(payload["random"]["weights"], list)


# --------------------------------------------------------------------------------------------------------
# property tests
# --------------------------------------------------------------------------------------------------------

finite_y = st.floats(min_value=-5.0, max_value=5.0, allow_nan=False, allow_infinity=False)
positive_v = st.floats(min_value=1e-3, max_value=10.0, allow_nan=False, allow_infinity=False)


@st.composite
def studies(draw: st.DrawFn, min_k: int = 2, max_k: int = 12) -> tuple[list[float], list[float]]:
    k = draw(st.integers(min_value=min_k, max_value=max_k))
    yi = draw(st.lists(finite_y, min_size=k, max_size=k))
    vi = draw(st.lists(positive_v, min_size=k, max_size=k))
    return yi, vi


def _reml_loglik(yi: list[float], vi: list[float], tau2: float) -> float:
    y, v = np.asarray(yi), np.asarray(vi)
    w = 1 / (v + tau2)
    mu = np.sum(w * y) / np.sum(w)
    return float(-0.5 * (np.sum(np.log(v + tau2)) + math.log(np.sum(w)) + np.sum(w * (y - mu) ** 2)))


@settings(max_examples=150, deadline=None)
@given(studies(), st.randoms(use_true_random=False))
def test_reordering_studies_changes_nothing(data: tuple[list[float], list[float]], rng: random.Random) -> None:
    yi, vi = data
    order = list(range(len(yi)))
    rng.shuffle(order)
    labels = [f"s{i}" for i in range(len(yi))]
    a = pool(yi, vi, labels)
    b = pool([yi[i] for i in order], [vi[i] for i in order], [labels[i] for i in order])
    assert a.random is not None and b.random is not None and a.common is not None and b.common is not None
    for name in ("estimate", "se", "ci_low", "ci_high", "tau2", "i2", "q", "tau2_ci_low", "tau2_ci_high"):
        x, y = getattr(a.random, name), getattr(b.random, name)
        assert math.isclose(x, y, rel_tol=1e-7, abs_tol=1e-9), name
    for name in ("estimate", "se", "q"):
        assert math.isclose(getattr(a.common, name), getattr(b.common, name), rel_tol=1e-9, abs_tol=1e-12)
    weight_a = dict(zip(a.labels, a.random.weights, strict=True))
    weight_b = dict(zip(b.labels, b.random.weights, strict=True))
    for label in labels:
        assert math.isclose(weight_a[label], weight_b[label], rel_tol=1e-7, abs_tol=1e-12)


@settings(max_examples=200, deadline=None)
@given(studies(min_k=1))
def test_common_estimate_lies_within_the_study_estimates(data: tuple[list[float], list[float]]) -> None:
    yi, vi = data
    res = common_effect(yi, vi)
    assert min(yi) - 1e-12 <= res.estimate <= max(yi) + 1e-12
    assert math.isclose(math.fsum(res.weights), 1.0, rel_tol=1e-12)


@settings(max_examples=150, deadline=None)
@given(studies(), st.sampled_from(["REML", "DL"]), st.booleans())
def test_random_effects_invariants(data: tuple[list[float], list[float]], method: str, hksj: bool) -> None:
    yi, vi = data
    res = random_effects(yi, vi, method=method, hksj=hksj)  # type: ignore[arg-type]
    assert res.tau2 >= 0.0
    assert math.isclose(math.fsum(res.weights), 1.0, rel_tol=1e-12)
    assert all(w > 0 for w in res.weights)
    assert res.ci_low <= res.estimate <= res.ci_high
    assert min(yi) - 1e-12 <= res.estimate <= max(yi) + 1e-12
    assert 0.0 <= res.tau2_ci_low <= res.tau2_ci_high
    assert 0.0 <= res.i2 < 100.0 and res.h2 >= 1.0
    assert res.i2_ci_low <= res.i2_ci_high
    if len(yi) >= 3:
        assert res.prediction_low is not None and res.prediction_high is not None
        assert res.prediction_low <= res.ci_low and res.ci_high <= res.prediction_high
    else:
        assert res.prediction_low is None
    json.dumps(res.to_dict(), allow_nan=False)


@settings(max_examples=150, deadline=None)
@given(studies())
def test_reml_maximises_the_restricted_likelihood(data: tuple[list[float], list[float]]) -> None:
    yi, vi = data
    tau2 = tau2_reml(yi, vi)
    best = _reml_loglik(yi, vi, tau2)
    scale = max(tau2, 1e-3)
    for other in (tau2 + 0.01 * scale, max(0.0, tau2 - 0.01 * scale), tau2 * 2 + 0.1, 0.0):
        assert _reml_loglik(yi, vi, other) <= best + 1e-9 * max(1.0, abs(best))


@settings(max_examples=100, deadline=None)
@given(finite_y, positive_v)
def test_one_study_pools_nothing(y: float, v: float) -> None:
    res = pool([y], [v], ["only"])
    assert not res.pooled and res.estimate is None and res.random is None and res.common is None
    assert res.yi == (y,) and res.vi == (v,)


@settings(max_examples=60, deadline=None)
@given(studies(min_k=2, max_k=8))
def test_leave_one_out_and_cumulative_agree_with_pool(data: tuple[list[float], list[float]]) -> None:
    yi, vi = data
    assume(len(set(yi)) > 1)
    labels = [f"s{i}" for i in range(len(yi))]
    loo = leave_one_out(yi, vi, labels)
    for i, res in enumerate(loo):
        direct = pool(yi[:i] + yi[i + 1 :], vi[:i] + vi[i + 1 :], labels[:i] + labels[i + 1 :])
        assert res.to_dict() == direct.to_dict()
    cum = cumulative(yi, vi, labels)
    assert [r.k for r in cum] == list(range(1, len(yi) + 1))
