"""Effects reported as an estimate with its confidence interval: yi and vi from the printed numbers."""

from __future__ import annotations

import math
from dataclasses import dataclass

from livingevidence.analysis.effects.sizes import z_value

# One arm of the CI may be up to ~22% longer than the other ((1 + 0.1) / (1 - 0.1)) before we call it
# asymmetric. A Wald CI computed on the log scale is exactly symmetric there, so anything beyond rounding
# noise hints that the interval came from another method (profile likelihood, exact, bootstrap), another
# model than the point estimate, or a transcription error; 0.1 leaves room for legitimately skewed small
# deviations while still catching e.g. an HR of 0.80 printed with the CI of a different HR.
ASYMMETRY_THRESHOLD = 0.1


@dataclass(frozen=True)
class LogHazardRatio:
    """A log hazard ratio recovered from a printed HR and CI.

    ``asymmetry`` is ``|(log hi - log hr) - (log hr - log lo)| / (log hi - log lo)`` computed from the
    printed numbers (0 for a perfectly symmetric log-scale interval, 1 when the HR sits on a limit).
    ``asymmetric`` is True only when the asymmetry exceeds ``threshold`` even after allowing every printed
    number to move within its rounding interval (``min_asymmetry`` is that lower bound), so an interval
    that is lopsided only because of 2- or 3-decimal rounding is not flagged. ``decimals`` holds the
    printed decimals of (hr, lo, hi) used for that allowance, or ``None`` when unknown (no allowance).
    """

    hr: float
    ci_low: float
    ci_high: float
    level: float
    yi: float
    sei: float
    vi: float
    asymmetry: float
    min_asymmetry: float
    asymmetric: bool
    threshold: float
    decimals: tuple[int, int, int] | None


def _decimals_of(value: float | str) -> int | None:
    text = value.strip() if isinstance(value, str) else repr(float(value))
    if "e" in text.lower():
        # Scientific notation from repr means the value was not a short printed decimal; give up on
        # inferring its rounding rather than guess.
        return None
    return len(text.split(".", 1)[1]) if "." in text else 0


def _to_float(value: float | str, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return number


#: Reported measures analysed on the log scale, and those analysed as they are.
LOG_SCALE_MEASURES = ("HR", "OR", "RR", "ROM")
LINEAR_MEASURES = ("MD", "RD", "SMD")


@dataclass(frozen=True)
class ReportedContrast:
    """yi, sei and vi recovered from a printed estimate and CI of a ratio (log scale) or a difference.

    ``estimate``, ``ci_low`` and ``ci_high`` are the printed numbers; ``yi`` is ``log(estimate)`` for the
    measures of ``LOG_SCALE_MEASURES`` and the estimate itself for ``LINEAR_MEASURES``. ``asymmetry``,
    ``min_asymmetry``, ``asymmetric`` and ``decimals`` are as in ``LogHazardRatio``, on the analysis scale.
    """

    measure: str
    log_scale: bool
    estimate: float
    ci_low: float
    ci_high: float
    level: float
    yi: float
    sei: float
    vi: float
    asymmetry: float
    min_asymmetry: float
    asymmetric: bool
    threshold: float
    decimals: tuple[int, int, int] | None


def contrast_from_ci(
    measure: str,
    estimate: float | str,
    lo: float | str,
    hi: float | str,
    level: float = 0.95,
    *,
    decimals: int | None = None,
    threshold: float = ASYMMETRY_THRESHOLD,
) -> ReportedContrast:
    """Recover ``yi`` and ``sei = (g(hi) - g(lo)) / (2 z)`` from a printed estimate and CI.

    ``g`` is ``log`` for HR, OR, RR and ROM and the identity for MD, RD and SMD (which may be negative).
    The standard error comes from the width of the interval only, which stays sensible when the interval
    is a little lopsided; the asymmetry measure tells callers when the printed triple does not look like a
    Wald interval on the analysis scale (see ``ASYMMETRY_THRESHOLD`` for the 0.1 cut-off).

    Values may be given as strings exactly as printed (``"0.74"``), which is the most reliable way to let
    the function know their rounding; for floats the number of decimals is read from ``repr`` (so 0.70
    counts as 0.7, which only makes the allowance more lenient) unless ``decimals`` is given for all three.
    Each number may be off by half a unit of its own last decimal.

    Raises:
        ValueError: for an unknown measure, unless ``lo <= estimate <= hi`` and ``lo < hi`` (and all three
            are positive for a ratio), or unless ``0 < level < 1``.
    """
    if measure not in LOG_SCALE_MEASURES + LINEAR_MEASURES:
        known = ", ".join(LOG_SCALE_MEASURES + LINEAR_MEASURES)
        raise ValueError(f"unknown reported measure {measure!r}; use one of {known}")
    log_scale = measure in LOG_SCALE_MEASURES
    est_f, lo_f, hi_f = _to_float(estimate, "estimate"), _to_float(lo, "lo"), _to_float(hi, "hi")
    if log_scale and min(est_f, lo_f, hi_f) <= 0:
        raise ValueError(f"a {measure} and its limits must be positive, got {est_f}, {lo_f}, {hi_f}")
    if not lo_f < hi_f:
        raise ValueError(f"lower limit {lo_f} must be below upper limit {hi_f}")
    if not lo_f <= est_f <= hi_f:
        raise ValueError(f"{measure} {est_f} lies outside its interval [{lo_f}, {hi_f}]")
    z = z_value(level)
    g = math.log if log_scale else float
    g_est, g_lo, g_hi = g(est_f), g(lo_f), g(hi_f)
    width = g_hi - g_lo
    places: tuple[int, int, int] | None
    if decimals is not None:
        places = (decimals, decimals, decimals)
    else:
        found = [_decimals_of(v) for v in (estimate, lo, hi)]
        places = None if None in found else (found[0], found[1], found[2])  # type: ignore[assignment]
    asymmetry = abs((g_hi - g_est) - (g_est - g_lo)) / width
    minimum = asymmetry if places is None else _min_asymmetry((est_f, lo_f, hi_f), places, log_scale)
    sei = width / (2.0 * z)
    return ReportedContrast(
        measure=measure,
        log_scale=log_scale,
        estimate=est_f,
        ci_low=lo_f,
        ci_high=hi_f,
        level=float(level),
        yi=float(g_est),
        sei=float(sei),
        vi=float(sei**2),
        asymmetry=float(asymmetry),
        min_asymmetry=float(minimum),
        asymmetric=bool(minimum > threshold),
        threshold=float(threshold),
        decimals=places,
    )


def _min_asymmetry(values: tuple[float, float, float], places: tuple[int, int, int], log_scale: bool) -> float:
    """The smallest asymmetry any numbers within the printed rounding could have (a lower bound)."""
    tiny = 1e-12  # keeps a limit printed as e.g. 0.00 from producing log(0)

    def scaled_range(v: float, d: int) -> tuple[float, float]:
        h = 0.5 * 10.0 ** (-d)
        if log_scale:
            return math.log(max(v - h, tiny)), math.log(v + h)
        return v - h, v + h

    (est_a, est_b), (lo_a, lo_b), (hi_a, hi_b) = (scaled_range(v, d) for v, d in zip(values, places, strict=True))
    # Asymmetry numerator |G_hi + G_lo - 2 G_est| can vanish iff the two ranges below overlap; the
    # smallest possible numerator over the widest possible denominator is a lower bound of the ratio.
    sum_lo, sum_hi = lo_a + hi_a, lo_b + hi_b
    mid_lo, mid_hi = 2.0 * est_a, 2.0 * est_b
    gap = max(0.0, mid_lo - sum_hi, sum_lo - mid_hi)
    return gap / (hi_b - lo_a)


def log_hr_from_ci(
    hr: float | str,
    lo: float | str,
    hi: float | str,
    level: float = 0.95,
    *,
    decimals: int | None = None,
    threshold: float = ASYMMETRY_THRESHOLD,
) -> LogHazardRatio:
    """Recover ``yi = log(hr)`` and ``sei = (log(hi) - log(lo)) / (2 z)`` from a printed hazard ratio and CI.

    ``contrast_from_ci("HR", ...)`` as a ``LogHazardRatio``; see there for rounding and asymmetry.

    Raises:
        ValueError: unless ``0 < lo <= hr <= hi``, ``lo < hi`` and ``0 < level < 1``.
    """
    c = contrast_from_ci("HR", hr, lo, hi, level, decimals=decimals, threshold=threshold)
    return LogHazardRatio(
        hr=c.estimate,
        ci_low=c.ci_low,
        ci_high=c.ci_high,
        level=c.level,
        yi=c.yi,
        sei=c.sei,
        vi=c.vi,
        asymmetry=c.asymmetry,
        min_asymmetry=c.min_asymmetry,
        asymmetric=c.asymmetric,
        threshold=c.threshold,
        decimals=c.decimals,
    )
