"""Continuous effect sizes (MD, SMD as Hedges' g, ROM) and yi/vi from reported estimates with CIs.

escalc's own numbers on public data sets are checked in tests/test_metafor_reference.py; these are
hand-checkable cases, validation and properties.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livingevidence.analysis.effects import (
    contrast_from_ci,
    hedges_correction,
    log_hr_from_ci,
    mean_difference,
    ratio_of_means,
    standardised_mean_difference,
)

Z95 = 1.959963984540054


def test_mean_difference_by_hand() -> None:
    es = mean_difference(55, 47, 155, 75, 64, 156)  # dat.normand1999, Edinburgh
    assert es.measure == "MD" and not es.is_ratio and not es.corrected
    assert es.yi == -20.0 and es.estimate == -20.0
    assert es.vi == pytest.approx(47**2 / 155 + 64**2 / 156, rel=1e-15)
    assert es.ci_low == pytest.approx(-20.0 - Z95 * math.sqrt(es.vi), rel=1e-12)


def test_hedges_correction_is_exact_not_the_approximation() -> None:
    # J(m) = Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2)); for m = 10 that is 0.922 (approximation 0.9231).
    m = 10
    exact = math.gamma(m / 2) / (math.sqrt(m / 2) * math.gamma((m - 1) / 2))
    assert hedges_correction(m) == pytest.approx(exact, rel=1e-13)
    assert abs(hedges_correction(m) - (1 - 3 / (4 * m - 1))) > 1e-4
    assert hedges_correction(10_000) == pytest.approx(1 - 3 / (4 * 10_000 - 1), rel=1e-9)


def test_standardised_mean_difference_by_hand() -> None:
    m1, sd1, n1, m2, sd2, n2 = 27.0, 7.0, 31, 29.0, 4.0, 32
    es = standardised_mean_difference(m1, sd1, n1, m2, sd2, n2)
    sp = math.sqrt(((n1 - 1) * sd1**2 + (n2 - 1) * sd2**2) / (n1 + n2 - 2))
    g = hedges_correction(n1 + n2 - 2) * (m1 - m2) / sp
    assert es.measure == "SMD" and es.yi == pytest.approx(g, rel=1e-14)
    assert es.vi == pytest.approx(1 / n1 + 1 / n2 + g**2 / (2 * (n1 + n2)), rel=1e-14)


def test_ratio_of_means_by_hand() -> None:
    es = ratio_of_means(14, 8, 8, 18, 11, 13)
    assert es.measure == "ROM" and es.is_ratio
    assert es.yi == pytest.approx(math.log(14 / 18), rel=1e-15)
    assert es.vi == pytest.approx(8**2 / (8 * 14**2) + 11**2 / (13 * 18**2), rel=1e-15)
    assert es.estimate == pytest.approx(14 / 18, rel=1e-14)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((1.0, 0.0, 10, 1.0, 1.0, 10), "sd1 must be greater than 0"),
        ((1.0, 1.0, 10, 1.0, -1.0, 10), "sd2 must be greater than 0"),
        ((1.0, 1.0, 0, 1.0, 1.0, 10), "n1"),
        ((1.0, 1.0, 2.5, 1.0, 1.0, 10), "whole number"),
        ((float("nan"), 1.0, 10, 1.0, 1.0, 10), "finite"),
        (("1", 1.0, 10, 1.0, 1.0, 10), "must be a number"),
        ((1.0, 1.0, True, 1.0, 1.0, 10), "whole number"),
    ],
)
def test_invalid_arms_raise(args: tuple, message: str) -> None:
    for function in (mean_difference, standardised_mean_difference, ratio_of_means):
        with pytest.raises(ValueError, match=message):
            function(*args)


def test_smd_needs_four_participants_and_rom_positive_means() -> None:
    with pytest.raises(ValueError, match="n1 \\+ n2 >= 4"):
        standardised_mean_difference(1.0, 1.0, 1, 2.0, 1.0, 2)
    assert standardised_mean_difference(1.0, 1.0, 2, 2.0, 1.0, 2).yi is not None
    with pytest.raises(ValueError, match="positive means"):
        ratio_of_means(-1.0, 1.0, 5, 2.0, 1.0, 5)
    assert mean_difference(-1.0, 1.0, 5, 2.0, 1.0, 5).yi == -3.0  # negative values are fine for differences


means = st.floats(min_value=0.1, max_value=1e3)
sds = st.floats(min_value=0.01, max_value=1e3)
sizes = st.integers(min_value=2, max_value=5000)


@settings(max_examples=200, deadline=None)
@given(means, sds, sizes, means, sds, sizes)
def test_swapping_arms_flips_the_sign(m1: float, sd1: float, n1: int, m2: float, sd2: float, n2: int) -> None:
    for function in (mean_difference, standardised_mean_difference, ratio_of_means):
        a, b = function(m1, sd1, n1, m2, sd2, n2), function(m2, sd2, n2, m1, sd1, n1)
        assert a.yi is not None and b.yi is not None and a.vi is not None and b.vi is not None
        assert a.yi == pytest.approx(-b.yi, rel=1e-12, abs=1e-12) and a.vi == pytest.approx(b.vi, rel=1e-12)
        assert a.vi > 0 and a.ci_low is not None and a.ci_high is not None and a.ci_low < a.yi < a.ci_high


# --------------------------------------------------------------------------------------------------------
# reported estimates with CIs
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("measure", ["HR", "OR", "RR", "ROM"])
def test_ratio_contrasts_are_log_scale_and_agree_with_log_hr(measure: str) -> None:
    c = contrast_from_ci(measure, "1.18", "0.90", "1.54")  # dat.hackshaw1998, Garfinkel 1981
    assert c.log_scale and c.measure == measure
    assert c.yi == math.log(1.18)
    assert c.sei == pytest.approx((math.log(1.54) - math.log(0.90)) / (2 * Z95), rel=1e-14)
    hr = log_hr_from_ci("1.18", "0.90", "1.54")
    assert (hr.yi, hr.sei, hr.vi, hr.min_asymmetry, hr.decimals) == (c.yi, c.sei, c.vi, c.min_asymmetry, c.decimals)


@pytest.mark.parametrize("measure", ["MD", "RD", "SMD"])
def test_difference_contrasts_are_linear_and_may_be_negative(measure: str) -> None:
    c = contrast_from_ci(measure, "-2.5", "-4.1", "-0.9")
    assert not c.log_scale and c.yi == -2.5
    assert c.sei == pytest.approx(3.2 / (2 * Z95), rel=1e-14)
    assert c.asymmetry == pytest.approx(0.0, abs=1e-12) and not c.asymmetric


def test_a_lopsided_difference_is_flagged_unless_rounding_explains_it() -> None:
    assert contrast_from_ci("MD", "1.0", "0.9", "3.0").asymmetric
    # 0.04 (0.03 to 0.07) as a risk difference: lopsided, but every number may move by 0.005.
    rounded = contrast_from_ci("RD", "0.05", "0.02", "0.09")
    assert rounded.asymmetry > 0.1 and not rounded.asymmetric


@pytest.mark.parametrize(
    ("measure", "est", "lo", "hi", "message"),
    [
        ("HR", 0.8, 0.9, 1.2, "outside"),
        ("OR", -0.8, -1.0, 0.5, "positive"),
        ("MD", 1.0, 2.0, 1.0, "below"),
        ("XX", 1.0, 0.5, 2.0, "unknown reported measure"),
        ("MD", "x", 0.5, 2.0, "must be a number"),
    ],
)
def test_impossible_contrasts_raise(measure: str, est: object, lo: object, hi: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        contrast_from_ci(measure, est, lo, hi)  # type: ignore[arg-type]
