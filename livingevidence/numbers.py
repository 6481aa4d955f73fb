"""Numbers printed so that a reader can read them: significant digits by magnitude, never "0.000".

Issue 13 found "RR 2.77 (95% CI 0.000 to 23557.02)" on a comparison page: fixed decimals hide a small
bound and drown a large one in digits that mean nothing. The rules here:

* three significant digits below 100 (``1.39``, ``0.903``, ``0.0456``, ``12.3``); trailing zeros are kept,
  so every number of an interval shows its precision (``1.00``, ``0.900``);
* whole numbers from 100 on (``124``, ``23557``; ``23,557`` from 10,000), never digits past the point;
* a non-zero number is never printed as zero: below 0.0001 in magnitude it is ``<0.0001`` (``>-0.0001``
  for a negative one), and exactly 0 is ``0``; there is no ``-0``;
* ratios (RR, OR, HR, ratio of means) are clamped for display at ``<0.01`` and ``>100``: beyond those an
  interval says only that the data cannot tell, and the digits would suggest a precision they do not have;
* p-values as ``<0.001``, three decimals below 0.01, two above, and ``>0.99``.

These functions format only; they never change a number used in a calculation. Missing values (``None``
or NaN) print as ``missing`` (default "not reported").
"""

from __future__ import annotations

import math

__all__ = [
    "NOT_REPORTED",
    "RATIO_HIGH",
    "RATIO_LOW",
    "format_effect",
    "format_estimate",
    "format_interval",
    "format_number",
    "format_p_value",
    "format_ratio",
]

NOT_REPORTED = "not reported"
RATIO_LOW = 0.01
RATIO_HIGH = 100.0
#: Below this magnitude a non-zero number prints as "<0.0001".
SMALLEST = 1e-4


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_number(value: float | None, *, digits: int = 3, missing: str = NOT_REPORTED) -> str:
    """``value`` with ``digits`` significant digits below 100 and as a whole number from 100 on.

    Raises:
        ValueError: for an infinite value or ``digits < 1``.
    """
    if digits < 1:
        raise ValueError(f"digits must be at least 1, got {digits}")
    if _missing(value):
        return missing
    x = float(value)  # type: ignore[arg-type]
    if math.isinf(x):
        raise ValueError(f"cannot print an infinite number ({x})")
    if x == 0:
        return "0"
    if abs(x) < SMALLEST:
        return "<0.0001" if x > 0 else ">-0.0001"
    if abs(x) >= 100 or abs(round(x, max(0, digits - 3))) >= 100:
        return _whole(x)
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(x))))
    text = f"{x:.{decimals}f}"
    # Rounding up can add a digit before the point (9.996 -> "10.00"): then one decimal fewer.
    if decimals > 0 and abs(float(text)) >= 10 ** (digits - decimals):
        text = f"{x:.{decimals - 1}f}"
    if abs(float(text)) >= 100:
        return _whole(x)
    return text


def _whole(x: float) -> str:
    number = round(x)
    return f"{number:,}" if abs(number) >= 10_000 else str(number)


def format_ratio(value: float | None, *, digits: int = 3, missing: str = NOT_REPORTED) -> str:
    """A ratio (or a bound of one) on its natural scale, clamped at ``<0.01`` and ``>100``.

    Raises:
        ValueError: for a ratio that is not positive and finite.
    """
    if _missing(value):
        return missing
    x = float(value)  # type: ignore[arg-type]
    if not (x > 0 and math.isfinite(x)):
        raise ValueError(f"a ratio must be positive and finite, got {x}")
    if x < RATIO_LOW:
        return "<0.01"
    if x > RATIO_HIGH:
        return ">100"
    return format_number(x, digits=digits)


def format_estimate(value: float | None, *, ratio: bool, missing: str = NOT_REPORTED) -> str:
    """An estimate or bound: ``format_ratio`` for ratios, ``format_number`` for differences."""
    return format_ratio(value, missing=missing) if ratio else format_number(value, missing=missing)


def format_interval(
    low: float | None, high: float | None, *, ratio: bool, separator: str = " to ", missing: str = NOT_REPORTED
) -> str:
    """``"0.90 to 2.16"``; ``missing`` when both bounds are missing, each missing bound named otherwise."""
    if _missing(low) and _missing(high):
        return missing
    first = format_estimate(low, ratio=ratio, missing=missing)
    return f"{first}{separator}{format_estimate(high, ratio=ratio, missing=missing)}"


def format_effect(
    measure: str,
    estimate: float | None,
    low: float | None,
    high: float | None,
    *,
    ratio: bool,
    level: float = 0.95,
    missing: str = NOT_REPORTED,
) -> str:
    """``"RR 1.39 (95% CI 0.081 to 24.1)"``; ``"RR 1.39 (CI not reported)"`` without bounds."""
    if _missing(estimate):
        return missing
    text = f"{measure} {format_estimate(estimate, ratio=ratio)}"
    if _missing(low) or _missing(high):
        return f"{text} (CI {missing})"
    percent = format_number(100 * level, digits=3).rstrip("0").rstrip(".")
    return f"{text} ({percent}% CI {format_interval(low, high, ratio=ratio)})"


def format_p_value(value: float | None, *, missing: str = NOT_REPORTED) -> str:
    """``<0.001``, ``0.004``, ``0.04``, ``0.51``, ``>0.99``.

    Raises:
        ValueError: for a value outside [0, 1].
    """
    if _missing(value):
        return missing
    p = float(value)  # type: ignore[arg-type]
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"a p-value must lie in [0, 1], got {p}")
    if p < 0.001:
        return "<0.001"
    if p > 0.99:
        return ">0.99"
    if p < 0.01:
        return f"{p:.3f}"
    return f"{p:.2f}"
