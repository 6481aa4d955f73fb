"""Tests for livingevidence.analysis.effects: hand-checkable effect sizes, HR from CI, p-value checks."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livingevidence.analysis.effects import (
    ASYMMETRY_THRESHOLD,
    log_hr_from_ci,
    odds_ratio,
    p_value_consistent,
    risk_difference,
    risk_ratio,
    two_by_two_p_values,
)

Z95 = 1.959963984540054

# --------------------------------------------------------------------------------------------------------
# risk ratio, odds ratio, risk difference
# --------------------------------------------------------------------------------------------------------


def test_risk_ratio_by_hand() -> None:
    # 10/100 vs 20/100: RR = 0.5; var = 1/10 - 1/100 + 1/20 - 1/100 = 0.13
    es = risk_ratio(10, 100, 20, 100)
    assert es.measure == "RR" and es.is_ratio
    assert math.isclose(es.yi, math.log(0.5), rel_tol=1e-12)
    assert math.isclose(es.vi, 0.13, rel_tol=1e-12)
    assert math.isclose(es.estimate, 0.5, rel_tol=1e-12)
    half = Z95 * math.sqrt(0.13)
    assert math.isclose(es.ci_low, math.log(0.5) - half, rel_tol=1e-12)
    assert math.isclose(es.estimate_ci_low, 0.5 * math.exp(-half), rel_tol=1e-12)
    assert math.isclose(es.estimate_ci_high, 0.5 * math.exp(half), rel_tol=1e-12)
    assert not es.corrected and es.excluded is None


def test_odds_ratio_by_hand() -> None:
    # 10/100 vs 20/100: OR = (10*80)/(90*20) = 4/9; var = 1/10 + 1/90 + 1/20 + 1/80
    es = odds_ratio(10, 100, 20, 100)
    assert math.isclose(es.estimate, 4 / 9, rel_tol=1e-12)
    assert math.isclose(es.vi, 1 / 10 + 1 / 90 + 1 / 20 + 1 / 80, rel_tol=1e-12)


def test_risk_difference_by_hand() -> None:
    # 10/100 vs 20/100: RD = -0.1; var = .1*.9/100 + .2*.8/100 = 0.0025
    es = risk_difference(10, 100, 20, 100)
    assert es.measure == "RD" and not es.is_ratio
    assert math.isclose(es.yi, -0.1, rel_tol=1e-12)
    assert math.isclose(es.vi, 0.0025, rel_tol=1e-12)
    assert es.estimate == es.yi  # natural scale already
    assert math.isclose(es.ci_high, -0.1 + Z95 * 0.05, rel_tol=1e-12)
    assert es.estimate_ci_high == es.ci_high


def test_metafor_bcg_first_trial() -> None:
    # Aronson 1948 (tpos 4, tneg 119, cpos 11, cneg 128): escalc(measure="RR") gives yi -0.8893, vi 0.3256
    # (wviechtb/metafor README.md; docs/reference/dat.colditz1994.html).
    es = risk_ratio(4, 123, 11, 139)
    assert abs(es.yi - (-0.8893)) <= 0.5e-4
    assert abs(es.vi - 0.3256) <= 0.5e-4


def test_zero_cell_adds_half_to_every_cell_of_that_study_only() -> None:
    # 0/10 vs 5/10 -> cells 0.5, 10.5, 5.5, 5.5 (rows of 11)
    rr = risk_ratio(0, 10, 5, 10)
    assert rr.corrected
    assert math.isclose(rr.yi, math.log((0.5 / 11) / (5.5 / 11)), rel_tol=1e-12)
    assert math.isclose(rr.vi, 1 / 0.5 - 1 / 11 + 1 / 5.5 - 1 / 11, rel_tol=1e-12)
    orr = odds_ratio(0, 10, 5, 10)
    assert orr.corrected
    assert math.isclose(orr.yi, math.log(0.5 * 5.5 / (10.5 * 5.5)), rel_tol=1e-12)
    assert math.isclose(orr.vi, 1 / 0.5 + 1 / 10.5 + 1 / 5.5 + 1 / 5.5, rel_tol=1e-12)
    rd = risk_difference(0, 10, 5, 10)
    assert rd.corrected
    assert math.isclose(rd.yi, 0.5 / 11 - 5.5 / 11, rel_tol=1e-12)
    # A full arm (no non-events) is a zero cell too.
    assert risk_ratio(10, 10, 5, 10).corrected
    # No zero cell: untouched.
    assert not risk_ratio(1, 10, 5, 10).corrected


def test_double_zero_is_excluded_for_ratios_but_not_for_rd() -> None:
    for fn in (risk_ratio, odds_ratio):
        es = fn(0, 50, 0, 60)
        assert es.excluded is not None and "no events" in es.excluded
        assert es.yi is None and es.vi is None and es.estimate is None and es.se is None
        assert es.estimate_ci_low is None and es.estimate_ci_high is None
    rd = risk_difference(0, 50, 0, 60)
    assert rd.excluded is None and rd.corrected
    assert rd.vi is not None and rd.vi > 0
    # As in metafor's escalc: the corrected proportions give 0.5/51 - 0.5/61, near (not exactly) 0.
    assert rd.yi is not None and math.isclose(rd.yi, 0.5 / 51 - 0.5 / 61, rel_tol=1e-12)
    assert risk_difference(0, 50, 0, 50).yi == 0.0


def test_double_full_is_excluded_for_ratios() -> None:
    for fn in (risk_ratio, odds_ratio):
        es = fn(50, 50, 60, 60)
        assert es.excluded is not None and "both arms" in es.excluded
    assert risk_difference(50, 50, 60, 60).excluded is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((11, 10, 5, 10), "a .* exceeds n1"),
        ((1, 10, 11, 10), "c .* exceeds n2"),
        ((0, 0, 1, 10), "n1"),
        ((0, 10, 0, 0), "n2"),
        ((-1, 10, 1, 10), "negative"),
        ((1.5, 10, 1, 10), "whole number"),
        ((True, 10, 1, 10), "boolean"),
        (("3", 10, 1, 10), "whole number"),
    ],
)
def test_invalid_counts_raise(args: tuple[object, object, object, object], message: str) -> None:
    for fn in (risk_ratio, odds_ratio, risk_difference, two_by_two_p_values):
        with pytest.raises(ValueError, match=message):
            fn(*args)  # type: ignore[arg-type]


def test_integral_floats_are_accepted() -> None:
    assert risk_ratio(10.0, 100.0, 20.0, 100.0).yi == risk_ratio(10, 100, 20, 100).yi  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_ci_brackets_estimate_and_se_is_positive(data: st.DataObject) -> None:
    n1 = data.draw(st.integers(1, 500))
    n2 = data.draw(st.integers(1, 500))
    a = data.draw(st.integers(0, n1))
    c = data.draw(st.integers(0, n2))
    for fn in (risk_ratio, odds_ratio, risk_difference):
        es = fn(a, n1, c, n2)
        if es.excluded is not None:
            continue
        assert es.vi is not None and es.vi > 0
        assert es.ci_low < es.yi < es.ci_high
        assert es.estimate_ci_low < es.estimate < es.estimate_ci_high
        assert type(es.yi) is float and type(es.vi) is float


# --------------------------------------------------------------------------------------------------------
# log hazard ratio from a printed CI
# --------------------------------------------------------------------------------------------------------


def test_log_hr_from_symmetric_ci() -> None:
    # Build an exactly log-symmetric interval: HR 0.8, SE 0.1.
    lo, hi = 0.8 * math.exp(-Z95 * 0.1), 0.8 * math.exp(Z95 * 0.1)
    res = log_hr_from_ci(0.8, lo, hi)
    assert math.isclose(res.yi, math.log(0.8), rel_tol=1e-12)
    assert math.isclose(res.sei, 0.1, rel_tol=1e-9)
    assert math.isclose(res.vi, 0.01, rel_tol=1e-9)
    assert res.asymmetry < 1e-9 and not res.asymmetric


def test_log_hr_rounded_ci_is_not_flagged() -> None:
    # HR 0.80 with SE 0.1 prints as 0.80 (0.66-0.97); rounding alone makes it slightly lopsided.
    res = log_hr_from_ci("0.80", "0.66", "0.97")
    assert res.decimals == (2, 2, 2)
    assert res.asymmetry > 0.0
    assert not res.asymmetric
    assert math.isclose(res.sei, (math.log(0.97) - math.log(0.66)) / (2 * Z95), rel_tol=1e-12)


def test_log_hr_lopsided_only_through_rounding_is_not_flagged() -> None:
    # HR 0.044 with SE 0.25 has the exact CI 0.0269-0.0718; printed to 2 decimals it reads 0.04 (0.03-0.07),
    # whose raw asymmetry (0.32) is far above the threshold. Every printed number can move by 0.005, and
    # within those limits a symmetric triple exists (the true one), so the interval must not be flagged.
    res = log_hr_from_ci("0.04", "0.03", "0.07")
    assert res.asymmetry > ASYMMETRY_THRESHOLD
    assert res.min_asymmetry == 0.0
    assert not res.asymmetric


def test_log_hr_coarser_hr_rounding_is_allowed_for() -> None:
    # HR printed to 1 decimal but the CI to 2: 0.8 may be anything in [0.75, 0.85], e.g. the 0.77 that
    # would make 0.60-0.99 symmetric, so it must not be flagged although the raw asymmetry is 0.14.
    res = log_hr_from_ci("0.8", "0.60", "0.99")
    assert res.asymmetry > ASYMMETRY_THRESHOLD
    assert not res.asymmetric


def test_log_hr_flags_a_mismatched_ci() -> None:
    # An HR of 0.50 printed with an interval centred elsewhere (0.45-1.20): clearly not a log-Wald CI.
    res = log_hr_from_ci("0.50", "0.45", "1.20")
    assert res.asymmetry > ASYMMETRY_THRESHOLD
    assert res.min_asymmetry > ASYMMETRY_THRESHOLD
    assert res.asymmetric


def test_log_hr_float_inputs_infer_decimals_and_level() -> None:
    res = log_hr_from_ci(0.74, 0.61, 0.9)
    assert res.decimals == (2, 2, 1)
    assert log_hr_from_ci(0.74, 0.61, 0.9, decimals=3).decimals == (3, 3, 3)
    res90 = log_hr_from_ci(0.74, 0.61, 0.9, level=0.90)
    assert res90.sei > res.sei  # same width at a lower level means a larger SE


@pytest.mark.parametrize(
    ("hr", "lo", "hi"),
    [(0.8, 0.9, 1.2), (0.8, 0.6, 0.7), (0.8, 0.8, 0.8), (-0.8, 0.6, 1.0), (0.8, 0.0, 1.0), ("x", 0.6, 1.0)],
)
def test_log_hr_rejects_impossible_input(hr: object, lo: object, hi: object) -> None:
    with pytest.raises(ValueError):
        log_hr_from_ci(hr, lo, hi)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------------------
# p-values from 2x2 tables and the printed-p checker
# --------------------------------------------------------------------------------------------------------


def test_two_by_two_p_values_li_et_al() -> None:
    # Li et al. print ORR 21/64 vs 11/64 with p = 0.041. Pearson chi-square: N (ad - bc)^2 / (r1 r2 c1 c2)
    # = 128 * (21*53 - 43*11)^2 / (64 * 64 * 32 * 96) = 4.1667, p = 0.0412; Yates and Fisher give ~0.066.
    res = two_by_two_p_values(21, 64, 11, 64)
    assert res.chi2 is not None and math.isclose(res.chi2, 128 * (21 * 53 - 43 * 11) ** 2 / (64 * 64 * 32 * 96))
    assert res.chi2_p is not None and abs(res.chi2_p - 0.0412) < 5e-5
    assert res.chi2_yates is not None and math.isclose(res.chi2_yates, 3.375)
    assert res.chi2_yates_p is not None and abs(res.chi2_yates_p - 0.0662) < 5e-5
    assert abs(res.fisher_p - 0.0652) < 5e-5

    check = p_value_consistent("0.041", res)
    assert check.consistent and check.matching == ("chi-square",)
    assert check.relation == "=" and check.decimals == 3
    assert math.isclose(check.low, 0.0405) and math.isclose(check.high, 0.0415)


def test_checker_flags_a_p_value_the_counts_cannot_give() -> None:
    # Chi-square 0.0412, Yates 0.0662, Fisher 0.0652: none of them could be printed as these.
    res = two_by_two_p_values(21, 64, 11, 64)
    for printed in ("p<0.01", "0.01", "p = 0.004", "0.070", ">0.1"):
        check = p_value_consistent(printed, res)
        assert not check.consistent, printed
        assert check.matching == ()
    # "<0.05" is true for the chi-square p only; "0.07" (2 decimals) fits both Yates and Fisher.
    assert p_value_consistent("<0.05", res).matching == ("chi-square",)
    assert p_value_consistent("0.07", res).matching == ("chi-square (Yates)", "Fisher exact")


@pytest.mark.parametrize(
    ("printed", "p", "expected"),
    [
        ("<0.001", 0.0004, True),
        ("<0.001", 0.001, False),  # strict inequality taken literally
        ("p < .001", 0.00099, True),
        ("≤0.05", 0.05, True),
        ("<=0.05", 0.0501, False),
        (">0.05", 0.3, True),
        (">0.05", 0.05, False),
        ("≥0.05", 0.05, True),
        ("0.058", 0.0575, True),  # rounding boundary counts
        ("0.058", 0.0585, True),
        ("0.058", 0.0586, False),
        ("0.058", 0.05749, False),
        ("1", 0.62, True),  # "1" means p rounds to 1, i.e. p >= 0.5
        ("1", 0.49, False),
        ("1.00", 0.994, False),
        ("1.00", 0.996, True),
        ("0.05", 0.046, True),
        ("P-value = 0.20", 0.204, True),
        ("2e-4", 0.00024, True),
        ("2e-4", 0.00026, False),
        ("2.3 × 10^-5", 0.0000234, True),
        ("2.3x10-5", 0.0000236, False),
        ("0,041", 0.041, True),  # decimal comma
    ],
)
def test_p_value_parsing_and_rounding(printed: str, p: float, expected: bool) -> None:
    assert p_value_consistent(printed, [p]).consistent is expected


def test_p_value_candidates_forms() -> None:
    assert p_value_consistent("0.041", {"chi-square": 0.0412, "fisher": None}).matching == ("chi-square",)
    assert p_value_consistent("0.041", [0.2, 0.0412]).matching == ("candidate 1",)


@pytest.mark.parametrize("printed", ["", "ns", "p = ", "1.5", "<2", "0.05 and 0.01"])
def test_p_value_unreadable_raises(printed: str) -> None:
    with pytest.raises(ValueError):
        p_value_consistent(printed, [0.05])


def test_two_by_two_without_events_has_no_chi_square() -> None:
    res = two_by_two_p_values(0, 20, 0, 25)
    assert res.chi2 is None and res.chi2_p is None and res.chi2_yates_p is None
    assert res.fisher_p == 1.0
    assert res.candidates() == {"Fisher exact": 1.0}
    assert p_value_consistent("1", res).consistent


@settings(max_examples=300, deadline=None)
@given(
    n1=st.integers(min_value=1, max_value=300),
    n2=st.integers(min_value=1, max_value=300),
    fa=st.floats(min_value=0, max_value=1),
    fc=st.floats(min_value=0, max_value=1),
)
def test_pure_python_p_values_match_scipy(n1: int, n2: int, fa: float, fc: float) -> None:
    """The validator's scipy-free 2x2 p-values equal scipy's to 1e-12."""
    import numpy as np
    from scipy import stats

    a, c = round(fa * n1), round(fc * n2)
    got = two_by_two_p_values(a, n1, c, n2)
    table = np.array([[a, n1 - a], [c, n2 - c]])
    assert got.fisher_p == pytest.approx(min(stats.fisher_exact(table).pvalue, 1.0), abs=1e-12)
    if got.chi2_p is not None:
        assert got.chi2_p == pytest.approx(stats.chi2_contingency(table, correction=False).pvalue, abs=1e-12)
        assert got.chi2_yates_p == pytest.approx(stats.chi2_contingency(table, correction=True).pvalue, abs=1e-12)
