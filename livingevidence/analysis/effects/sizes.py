"""The effect size of one study, shared by every measure, and the helpers that build it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

Measure = Literal["RR", "OR", "RD", "MD", "SMD", "ROM"]
#: Measures analysed on the log scale.
RATIO_MEASURES = ("RR", "OR", "ROM", "HR")


@dataclass(frozen=True)
class EffectSize:
    """One study's effect size.

    ``yi`` and ``vi`` are on the analysis scale (log scale for RR, OR and ROM, natural scale for RD, MD and
    SMD), and so are ``ci_low``/``ci_high``, so the three can be plotted or pooled together. The
    natural-scale estimate and interval (exp-transformed for ratios) are available as ``estimate``,
    ``estimate_ci_low`` and ``estimate_ci_high``. When ``excluded`` holds a reason, every numeric field is
    ``None``.
    """

    measure: Measure
    yi: float | None
    vi: float | None
    ci_low: float | None
    ci_high: float | None
    corrected: bool
    excluded: str | None
    level: float = 0.95

    @property
    def is_ratio(self) -> bool:
        """Whether the measure is a ratio analysed on the log scale."""
        return self.measure in RATIO_MEASURES

    @property
    def se(self) -> float | None:
        """Standard error on the analysis scale."""
        return None if self.vi is None else math.sqrt(self.vi)

    def _natural(self, value: float | None) -> float | None:
        if value is None:
            return None
        return math.exp(value) if self.is_ratio else value

    @property
    def estimate(self) -> float | None:
        """Point estimate on the natural scale (the ratio itself for RR/OR/ROM, the difference otherwise)."""
        return self._natural(self.yi)

    @property
    def estimate_ci_low(self) -> float | None:
        """Lower confidence limit on the natural scale."""
        return self._natural(self.ci_low)

    @property
    def estimate_ci_high(self) -> float | None:
        """Upper confidence limit on the natural scale."""
        return self._natural(self.ci_high)


def z_value(level: float) -> float:
    """The two-sided normal critical value for ``level``; ValueError outside (0, 1)."""
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level!r}")
    return NormalDist().inv_cdf(1.0 - (1.0 - level) / 2.0)


def build(measure: Measure, yi: float, vi: float, corrected: bool, level: float) -> EffectSize:
    """An EffectSize with its Wald CI on the analysis scale."""
    half = z_value(level) * math.sqrt(vi)
    return EffectSize(
        measure=measure,
        yi=float(yi),
        vi=float(vi),
        ci_low=float(yi - half),
        ci_high=float(yi + half),
        corrected=corrected,
        excluded=None,
        level=level,
    )


def excluded(measure: Measure, reason: str, level: float) -> EffectSize:
    """An EffectSize that carries only the reason it has no numbers."""
    return EffectSize(measure, None, None, None, None, corrected=False, excluded=reason, level=level)
