"""Effect sizes for two-arm continuous outcomes from each arm's mean, standard deviation and size.

Conventions follow metafor's ``escalc()`` with its defaults, so that numbers can be cross-checked (tests
compare them with escalc's output on dat.normand1999 and dat.curtis1998):

* **Mean difference** (``"MD"``): ``yi = m1 - m2``, ``vi = sd1^2 / n1 + sd2^2 / n2`` (unequal variances;
  escalc's default ``vtype="LS"``). Natural scale, in the outcome's unit.
* **Standardised mean difference** (``"SMD"``) as Hedges' g: ``d = (m1 - m2) / s_p`` with the pooled SD
  ``s_p = sqrt(((n1 - 1) sd1^2 + (n2 - 1) sd2^2) / (n1 + n2 - 2))``, times the exact bias correction
  ``J(m) = Gamma(m / 2) / (sqrt(m / 2) Gamma((m - 1) / 2))`` with ``m = n1 + n2 - 2`` (Hedges 1981; not the
  approximation 1 - 3 / (4m - 1)). The variance is escalc's default for SMD (``vtype="LS"``):
  ``vi = 1 / n1 + 1 / n2 + g^2 / (2 (n1 + n2))``.
* **Ratio of means** (``"ROM"``): ``yi = log(m1 / m2)``, ``vi = sd1^2 / (n1 m1^2) + sd2^2 / (n2 m2^2)``
  (Hedges, Gurevitch & Curtis 1999); log scale, for outcomes on a ratio scale, so both means must be
  positive.

The first arm is the intervention, the second the control; difference measures may be negative.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

from livingevidence.analysis.effects.sizes import EffectSize, build, z_value


def _finite(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{name} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return number


def _size(value: object, name: str) -> int:
    if isinstance(value, bool) or not (
        isinstance(value, Integral) or (isinstance(value, Real) and float(value).is_integer())
    ):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    number = int(value)
    if number < 1:
        raise ValueError(f"{name} (arm size) must be at least 1, got {number}")
    return number


def validate_arms(
    m1: object, sd1: object, n1: object, m2: object, sd2: object, n2: object
) -> tuple[float, float, int, float, float, int]:
    """Both arms' (mean, SD, n) checked: finite means, SD > 0, whole n >= 1.

    Raises:
        ValueError: naming the first value that is wrong.
    """
    out = (
        _finite(m1, "m1"),
        _finite(sd1, "sd1"),
        _size(n1, "n1"),
        _finite(m2, "m2"),
        _finite(sd2, "sd2"),
        _size(n2, "n2"),
    )
    for name, sd in (("sd1", out[1]), ("sd2", out[4])):
        if sd <= 0:
            raise ValueError(f"{name} must be greater than 0, got {sd}")
    return out


def hedges_correction(m: float) -> float:
    """The exact small-sample correction J(m) of Hedges' g (metafor's .cmicalc), m = n1 + n2 - 2 > 1."""
    return math.exp(math.lgamma(m / 2.0) - math.log(math.sqrt(m / 2.0)) - math.lgamma((m - 1.0) / 2.0))


def mean_difference(
    m1: float, sd1: float, n1: int, m2: float, sd2: float, n2: int, *, level: float = 0.95
) -> EffectSize:
    """Mean difference ``m1 - m2`` with ``vi = sd1^2 / n1 + sd2^2 / n2`` (escalc "MD").

    Raises:
        ValueError: for a non-finite mean, an SD <= 0 or an arm size below 1.
    """
    m1, sd1, n1, m2, sd2, n2 = validate_arms(m1, sd1, n1, m2, sd2, n2)
    z_value(level)
    return build("MD", m1 - m2, sd1**2 / n1 + sd2**2 / n2, False, level)


def standardised_mean_difference(
    m1: float, sd1: float, n1: int, m2: float, sd2: float, n2: int, *, level: float = 0.95
) -> EffectSize:
    """Hedges' g with the exact bias correction and escalc's default (large-sample) variance (escalc "SMD").

    Raises:
        ValueError: for a non-finite mean, an SD <= 0, an arm size below 1, or fewer than 4 participants
            in all (the correction needs n1 + n2 - 2 > 1).
    """
    m1, sd1, n1, m2, sd2, n2 = validate_arms(m1, sd1, n1, m2, sd2, n2)
    z_value(level)
    m = n1 + n2 - 2
    if m <= 1:
        raise ValueError(f"a standardised mean difference needs n1 + n2 >= 4, got {n1} + {n2}")
    pooled_sd = math.sqrt(((n1 - 1) * sd1**2 + (n2 - 1) * sd2**2) / m)
    g = hedges_correction(m) * (m1 - m2) / pooled_sd
    return build("SMD", g, 1.0 / n1 + 1.0 / n2 + g**2 / (2.0 * (n1 + n2)), False, level)


def ratio_of_means(
    m1: float, sd1: float, n1: int, m2: float, sd2: float, n2: int, *, level: float = 0.95
) -> EffectSize:
    """Log ratio of means ``log(m1 / m2)`` with ``vi = sd1^2 / (n1 m1^2) + sd2^2 / (n2 m2^2)`` (escalc "ROM").

    Raises:
        ValueError: for a mean <= 0, an SD <= 0 or an arm size below 1.
    """
    m1, sd1, n1, m2, sd2, n2 = validate_arms(m1, sd1, n1, m2, sd2, n2)
    z_value(level)
    for name, mean in (("m1", m1), ("m2", m2)):
        if mean <= 0:
            raise ValueError(f"a ratio of means needs positive means; {name} is {mean}")
    vi = sd1**2 / (n1 * m1**2) + sd2**2 / (n2 * m2**2)
    return build("ROM", math.log(m1 / m2), vi, False, level)
