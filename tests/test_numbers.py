"""livingevidence.numbers: readable estimates and bounds (issue 13: never "0.000" or "23557.02")."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livingevidence.numbers import (
    format_effect,
    format_estimate,
    format_interval,
    format_number,
    format_p_value,
    format_ratio,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.39, "1.39"),
        (1.0, "1.00"),
        (0.9, "0.900"),
        (0.0456, "0.0456"),
        (0.04564, "0.0456"),
        (12.34, "12.3"),
        (9.996, "10.0"),
        (0.09996, "0.100"),
        (99.4, "99.4"),
        (99.96, "100"),
        (123.456, "123"),
        (23557.02, "23,557"),
        (-20.0, "-20.0"),
        (-0.00395, "-0.00395"),
        (0.0, "0"),
        (-0.0, "0"),
        (3.2e-7, "<0.0001"),
        (-3.2e-7, ">-0.0001"),
        (None, "not reported"),
        (float("nan"), "not reported"),
    ],
)
def test_format_number(value: float | None, text: str) -> None:
    assert format_number(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(2.77, "2.77"), (0.000012, "<0.01"), (0.0099, "<0.01"), (0.01, "0.0100"), (23557.02, ">100"), (100.0, "100")],
)
def test_format_ratio_clamps(value: float, text: str) -> None:
    assert format_ratio(value) == text


def test_the_issue_13_examples() -> None:
    assert format_effect("RR", 2.77, 0.0000123, 23557.02, ratio=True) == "RR 2.77 (95% CI <0.01 to >100)"
    assert format_effect("RR", 1.39, 0.0807, 24.09, ratio=True) == "RR 1.39 (95% CI 0.0807 to 24.1)"
    assert format_effect("MD", -20.0, -35.1, -4.9, ratio=False, level=0.9) == "MD -20.0 (90% CI -35.1 to -4.90)"
    assert format_effect("HR", 0.8, None, 1.1, ratio=True) == "HR 0.800 (CI not reported)"
    assert format_effect("HR", None, None, None, ratio=True) == "not reported"
    assert format_interval(None, None, ratio=True) == "not reported"
    assert format_interval(0.5, None, ratio=True) == "0.500 to not reported"


@pytest.mark.parametrize(
    ("p", "text"),
    [(0.0, "<0.001"), (0.0004, "<0.001"), (0.004, "0.004"), (0.0449, "0.04"), (0.51, "0.51"), (1, ">0.99")],
)
def test_format_p_value(p: float, text: str) -> None:
    assert format_p_value(p) == text


def test_invalid_values_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        format_ratio(0.0)
    with pytest.raises(ValueError, match="positive"):
        format_ratio(-1.2)
    with pytest.raises(ValueError, match="infinite"):
        format_number(math.inf)
    with pytest.raises(ValueError, match="p-value"):
        format_p_value(1.2)
    with pytest.raises(ValueError, match="digits"):
        format_number(1.0, digits=0)


# --------------------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------------------

ZERO_LOOKING = re.compile(r"^-?0(\.0*)?$")
finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12)


def _parse(text: str) -> float:
    return float(text.replace(",", ""))


@settings(max_examples=1000)
@given(finite)
def test_nothing_non_zero_prints_as_zero(x: float) -> None:
    text = format_number(x)
    assert (ZERO_LOOKING.match(text) is not None) == (x == 0), text
    assert text != "-0"


@settings(max_examples=1000)
@given(finite)
def test_three_significant_digits_below_100_whole_numbers_above(x: float) -> None:
    text = format_number(x)
    if x == 0 or abs(x) < 1e-4:
        return
    value = _parse(text)
    if abs(value) >= 100:
        assert "." not in text and abs(value - x) <= 0.5
    else:
        digits = text.lstrip("-").replace(".", "").lstrip("0")
        assert len(digits) == 3, text
        assert abs(value - x) <= 0.005 * abs(x) + 1e-15


@settings(max_examples=500)
@given(st.floats(min_value=1e-300, max_value=1e300))
def test_ratios_are_clamped_or_readable(x: float) -> None:
    text = format_ratio(x)
    if text in ("<0.01", ">100"):
        assert (x < 0.01) if text == "<0.01" else (x > 100)
        return
    value = _parse(text)
    assert (0.01 <= value <= 100 and "." not in text) or len(text.split(".")[1]) <= 4
    assert not ZERO_LOOKING.match(text)


@settings(max_examples=500)
@given(finite, finite)
def test_printing_keeps_order(a: float, b: float) -> None:
    lo, hi = sorted((a, b))
    text_lo, text_hi = format_number(lo), format_number(hi)
    if not any(mark in text_lo + text_hi for mark in "<>"):
        assert _parse(text_lo) <= _parse(text_hi)


@settings(max_examples=300)
@given(st.floats(min_value=-50, max_value=50), st.booleans())
def test_estimates_follow_their_scale(log_value: float, ratio: bool) -> None:
    value = math.exp(log_value) if ratio else log_value
    assert format_estimate(value, ratio=ratio) == (format_ratio(value) if ratio else format_number(value))
