"""PoolSettings: honest intervals at small k, tau^2 on the data's scale, and the REML -> PM -> DL fallbacks.

The numbers against metafor are in tests/test_metafor_reference.py; these are the rules and properties.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livingevidence.analysis.effects import risk_difference
from livingevidence.analysis.pooling import (
    DEFAULT_SETTINGS,
    PoolSettings,
    Tau2Error,
    common_effect,
    cumulative_brief,
    leave_one_out_brief,
    pool,
    pool_brief,
    q_profile_ci,
    random_effects,
    sensitivity_briefs,
    tau2,
    tau2_pm,
    tau2_reml,
)
from livingevidence.analysis.pooling.settings import resolve
from tests.test_pooling import BCG_CNEG, BCG_CPOS, BCG_TNEG, BCG_TPOS, finite_y, positive_v, studies

WALD = PoolSettings(ci_method="wald")
KNHA = PoolSettings(ci_method="hksj")


def _bcg_rd() -> tuple[list[float], list[float]]:
    rows = [
        risk_difference(a, a + b, c, c + d) for a, b, c, d in zip(BCG_TPOS, BCG_TNEG, BCG_CPOS, BCG_CNEG, strict=True)
    ]
    return [r.yi for r in rows], [r.vi for r in rows]  # type: ignore[misc]


def test_defaults_are_reml_with_the_adhoc_correction() -> None:
    s = PoolSettings()
    assert s == DEFAULT_SETTINGS
    assert (s.tau2_method, s.tau2_chain, s.ci_method, s.metafor_test, s.level) == (
        "REML",
        ("REML", "PM", "DL"),
        "hksj-adhoc",
        "adhoc",
        0.95,
    )
    assert s.hksj and s.hksj_truncate
    assert "ad hoc" in s.describe() and "REML" in s.describe()
    assert s.to_dict()["metafor_test"] == "adhoc"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"tau2_method": "EB"}, "tau\\^2 method"),
        ({"tau2_fallbacks": ("SJ",)}, "tau\\^2 method"),
        ({"ci_method": "knha"}, "CI method"),
        ({"pi_type": "t"}, "pi_type"),
        ({"level": 1.0}, "level"),
    ],
)
def test_invalid_settings_are_refused(changes: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PoolSettings(**changes)


def test_older_keywords_keep_their_meaning() -> None:
    assert resolve() is DEFAULT_SETTINGS
    assert resolve(hksj=False).ci_method == "wald"
    assert resolve(hksj=True).ci_method == "hksj"  # hksj=True used to mean untruncated
    assert resolve(hksj=True, hksj_truncate=True).ci_method == "hksj-adhoc"
    assert resolve(WALD, hksj_truncate=True).ci_method == "wald"  # truncation without HKSJ changes nothing
    assert resolve(method="DL", level=0.9) == PoolSettings(tau2_method="DL", level=0.9)


def test_the_issue_13_pair_gets_an_honest_interval() -> None:
    # Grade >= 3 adverse events, regorafenib + PD-1 vs regorafenib (Ma et al.): 34/103 vs 14/59 and
    # 13/64 vs 9/62. Untruncated HKSJ printed RR 1.39 (1.35 to 1.44), far narrower than the common effect.
    from livingevidence.analysis.effects import risk_ratio

    rows = [risk_ratio(34, 103, 14, 59), risk_ratio(13, 64, 9, 62)]
    yi, vi = [r.yi for r in rows], [r.vi for r in rows]
    knha = pool(yi, vi, settings=KNHA).random
    default = pool(yi, vi).random
    common = common_effect(yi, vi)  # type: ignore[arg-type]
    assert knha is not None and default is not None
    assert math.exp(knha.ci_low) == pytest.approx(1.346, abs=1e-3) and math.exp(knha.ci_high) == pytest.approx(
        1.443, abs=1e-3
    )
    assert knha.ci_high - knha.ci_low < 0.1 * (common.ci_high - common.ci_low)
    assert default.adhoc_applied and default.ci_high - default.ci_low > common.ci_high - common.ci_low
    assert default.tau2_unreliable and any("two studies" in note for note in default.notes)
    assert default.hksj_scale is not None and default.hksj_scale < 1e-3


def test_three_studies_carry_no_two_study_note() -> None:
    res = random_effects([0.1, 0.5, 0.2], [0.05, 0.08, 0.04])
    assert not res.tau2_unreliable and not any("two studies" in note for note in res.notes)


# --------------------------------------------------------------------------------------------------------
# never narrower than the Wald-type interval
# --------------------------------------------------------------------------------------------------------


def _width(low: float | None, high: float | None) -> float:
    assert low is not None and high is not None
    return high - low


@settings(max_examples=200, deadline=None)
@given(studies(min_k=2, max_k=15), st.sampled_from(["REML", "PM", "DL"]))
def test_default_interval_is_never_narrower_than_wald(data: tuple[list[float], list[float]], method: str) -> None:
    yi, vi = data
    chosen = PoolSettings(tau2_method=method)  # type: ignore[arg-type]
    res = random_effects(yi, vi, settings=chosen)
    wald = random_effects(yi, vi, settings=PoolSettings(tau2_method=method, ci_method="wald"))  # type: ignore[arg-type]
    common = common_effect(yi, vi)
    slack = 1e-12 * max(1.0, abs(res.estimate))
    assert res.se >= wald.se * (1 - 1e-12)
    assert _width(res.ci_low, res.ci_high) >= _width(wald.ci_low, wald.ci_high) - slack
    assert _width(wald.ci_low, wald.ci_high) >= _width(common.ci_low, common.ci_high) - slack
    assert res.adhoc_applied == (res.hksj_scale is not None and res.hksj_scale < 1.0)


@settings(max_examples=40, deadline=None)
@given(studies(min_k=2, max_k=12))
def test_leave_one_out_and_cumulative_rows_are_never_narrower_than_wald(data: tuple[list[float], list[float]]) -> None:
    yi, vi = data
    rows = cumulative_brief(yi, vi) + leave_one_out_brief(yi, vi)
    wald = cumulative_brief(yi, vi, settings=WALD) + leave_one_out_brief(yi, vi, settings=WALD)
    for ours, z in zip(rows, wald, strict=True):
        if ours.pooled:
            assert ours.estimate is not None
            slack = 1e-9 * max(1.0, abs(ours.estimate))
            assert _width(ours.ci_low, ours.ci_high) >= _width(z.ci_low, z.ci_high) - slack


# --------------------------------------------------------------------------------------------------------
# the batch follows the settings
# --------------------------------------------------------------------------------------------------------

ALL_SETTINGS = [
    PoolSettings(),
    KNHA,
    WALD,
    PoolSettings(tau2_method="DL"),
    PoolSettings(tau2_method="PM", ci_method="hksj"),
    PoolSettings(level=0.9, pi_type="riley"),
]


@pytest.mark.parametrize("chosen", ALL_SETTINGS, ids=lambda s: f"{s.tau2_method}-{s.ci_method}-{s.level}")
def test_brief_pools_equal_full_pools_under_every_setting(chosen: PoolSettings) -> None:
    rng = np.random.default_rng(7)
    for k in (2, 3, 6, 15):
        y, v = rng.normal(0, 0.3, k), rng.uniform(0.01, 0.2, k)
        full = pool(y, v, settings=chosen).random
        brief = pool_brief(y, v, settings=chosen)
        assert full is not None
        assert (brief.estimate, brief.ci_low, brief.ci_high, brief.i2, brief.se, brief.tau2) == (
            full.estimate,
            full.ci_low,
            full.ci_high,
            full.i2,
            full.se,
            full.tau2,
        )
        assert brief.method == full.method
        ((_, cum),) = sensitivity_briefs([(y, v)], settings=chosen)
        for i, row in enumerate(cum.results()[1:], start=2):
            single = pool_brief(y[:i], v[:i], settings=chosen)
            for name in ("estimate", "ci_low", "ci_high", "se", "tau2"):
                assert math.isclose(getattr(row, name), getattr(single, name), rel_tol=1e-9, abs_tol=1e-13), name
            assert row.method == single.method


# --------------------------------------------------------------------------------------------------------
# tau^2 on the data's scale
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("factor", [1e-3, 1e-2, 0.1, 10.0, 1e3])
def test_tau2_scales_with_the_data(factor: float) -> None:
    """Regression: with an absolute 1e-10 step (relative only above tau^2 = 1) REML stopped early on
    small-scale data, e.g. risk differences in units of 1/100: tau^2 was off by 1e-5 relative (9e-4 at
    1/1000), and the Q-profile bounds by as much."""
    yi, vi = _bcg_rd()
    y, v = np.asarray(yi), np.asarray(vi)
    ys, vs = y * factor, v * factor**2
    for estimator in (tau2_reml, tau2_pm):
        assert math.isclose(estimator(ys, vs) / factor**2, estimator(y, v), rel_tol=1e-9)
    lo, hi = q_profile_ci(y, v)
    lo_s, hi_s = q_profile_ci(ys, vs)
    assert math.isclose(lo_s / factor**2, lo, rel_tol=1e-9) and math.isclose(hi_s / factor**2, hi, rel_tol=1e-9)


@settings(max_examples=100, deadline=None)
@given(studies(min_k=2, max_k=10), st.sampled_from([1e-4, 1e-2, 1e2]))
def test_reml_is_scale_equivariant(data: tuple[list[float], list[float]], factor: float) -> None:
    yi, vi = data
    y, v = np.asarray(yi), np.asarray(vi)
    base = tau2_reml(y, v)
    scaled = tau2_reml(y * factor, v * factor**2) / factor**2
    assert math.isclose(scaled, base, rel_tol=1e-7, abs_tol=1e-9 * float(v.min()))


@settings(max_examples=100, deadline=None)
@given(studies(min_k=2, max_k=10))
def test_paule_mandel_solves_its_equation(data: tuple[list[float], list[float]]) -> None:
    yi, vi = data
    y, v = np.asarray(yi), np.asarray(vi)
    t = tau2_pm(y, v)
    q = tau2.q_stat(y, v, t)
    if t == 0.0:
        assert tau2.q_stat(y, v, 0.0) <= y.size - 1
    else:
        assert math.isclose(q, y.size - 1, rel_tol=1e-9)


# --------------------------------------------------------------------------------------------------------
# fallbacks
# --------------------------------------------------------------------------------------------------------


def _fails(name: str):
    def solver(y: np.ndarray, v: np.ndarray, failed: bool) -> tuple[float, str | None]:
        raise Tau2Error(f"{name}: made to fail in this test")

    return solver


def test_reml_falls_back_to_paule_mandel_then_dersimonian_laird(monkeypatch: pytest.MonkeyPatch) -> None:
    yi, vi = [0.1, 0.5, -0.2, 0.3], [0.05, 0.08, 0.04, 0.1]
    monkeypatch.setitem(tau2._SOLVERS, "REML", _fails("REML"))
    res = random_effects(yi, vi)
    assert (res.method, res.method_requested) == ("PM", "REML")
    assert res.method_note is not None and "PM used because REML: made to fail" in res.method_note
    assert res.method_note in res.notes
    assert res.tau2 == pytest.approx(tau2_pm(yi, vi), rel=1e-15)
    brief = pool_brief(yi, vi)
    assert brief.method == "PM" and brief.tau2 == res.tau2

    monkeypatch.setitem(tau2._SOLVERS, "PM", _fails("PM"))
    res = random_effects(yi, vi)
    assert res.method == "DL" and res.method_note is not None and "REML" in res.method_note and "PM" in res.method_note
    # The batch solves REML itself; a subset whose scoring does not converge goes to the scalar chain.
    from tests.test_pooling_batch import OSCILLATING_V, OSCILLATING_Y

    ((_, cum),) = sensitivity_briefs([(OSCILLATING_Y, OSCILLATING_V)])
    assert cum.method[-1] == "DL" and cum.tau2[-1] == pytest.approx(tau2.tau2_dl(OSCILLATING_Y, OSCILLATING_V))

    monkeypatch.setitem(tau2._SOLVERS, "DL", _fails("DL"))
    with pytest.raises(Tau2Error, match="DL"):
        random_effects(yi, vi)
    # Without fallbacks a failing REML is an error, not a silent change of method.
    monkeypatch.undo()
    monkeypatch.setitem(tau2._SOLVERS, "REML", _fails("REML"))
    with pytest.raises(Tau2Error):
        random_effects(yi, vi, settings=PoolSettings(tau2_fallbacks=()))


def test_scoring_that_oscillates_is_solved_by_bracketing_and_said_so() -> None:
    from tests.test_pooling_batch import OSCILLATING_V, OSCILLATING_Y

    res = random_effects(OSCILLATING_Y, OSCILLATING_V)
    assert res.method == "REML" and res.method_note is not None and "bracketed" in res.method_note
    assert tau2._tau2_reml_scoring(np.array(OSCILLATING_Y), np.array(OSCILLATING_V), tau2.REML_TOL, 200) is None


@settings(max_examples=50, deadline=None)
@given(finite_y, positive_v)
def test_two_identical_studies_are_flagged_and_finite(y: float, v: float) -> None:
    res = random_effects([y, y], [v, v])
    assert res.tau2 == 0.0 and res.tau2_unreliable and res.adhoc_applied
    assert math.isfinite(res.ci_low) and math.isfinite(res.ci_high) and res.ci_low < res.ci_high
