"""The typed results of the pooling functions; every one serialises with ``to_dict()`` for JSON.

Everything is a plain Python ``float``/``int``/``str``/``tuple`` (no NumPy scalars); non-finite floats become
``None`` in ``to_dict()``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, Literal


def to_json_value(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, tuple | list):
        return [to_json_value(v) for v in value]
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return value


class _JSONMixin:
    def to_dict(self) -> dict[str, Any]:
        """Plain-dict view for JSON; tuples become lists and non-finite floats become ``None``."""
        return {f.name: to_json_value(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]


@dataclass(frozen=True)
class CommonEffectResult(_JSONMixin):
    """Inverse-variance common-effect ("fixed-effect") summary."""

    k: int
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    z: float
    p_value: float
    weights: tuple[float, ...]
    q: float
    q_df: int
    q_p: float | None
    level: float


@dataclass(frozen=True)
class RandomEffectsResult(_JSONMixin):
    """Random-effects summary with heterogeneity statistics.

    ``statistic`` is a t statistic with ``df`` degrees of freedom when ``hksj`` is True, otherwise a z
    statistic (``df`` is then ``None``). ``se`` is the standard error used for the CI (the HKSJ SE when
    ``hksj``, raised to the Wald SE by the ad hoc correction when ``hksj_truncate``); ``se_unadjusted`` is
    ``sqrt(1 / sum(w))`` either way. ``prediction_low``/``high`` are ``None`` when k < 3.

    What was done, for a page to state: ``method`` is the tau^2 estimator actually used and
    ``method_requested`` the one asked for (they differ only after a fallback, explained in
    ``method_note``); ``ci_method`` is ``"hksj-adhoc"``, ``"hksj"`` or ``"wald"``; ``hksj_scale`` is the HKSJ
    factor q before truncation (``None`` for Wald) and ``adhoc_applied`` whether truncation widened the
    interval; ``tau2_unreliable`` is True with two studies. ``notes`` has a sentence for each of these
    that applies.
    """

    k: int
    method: str
    hksj: bool
    hksj_truncate: bool
    estimate: float
    se: float
    se_unadjusted: float
    ci_low: float
    ci_high: float
    statistic: float
    statistic_type: Literal["t", "z"]
    df: int | None
    p_value: float
    tau2: float
    tau: float
    i2: float
    h2: float
    q: float
    q_df: int
    q_p: float
    tau2_ci_low: float
    tau2_ci_high: float
    tau_ci_low: float
    tau_ci_high: float
    i2_ci_low: float
    i2_ci_high: float
    h2_ci_low: float
    h2_ci_high: float
    prediction_low: float | None
    prediction_high: float | None
    pi_type: str
    weights: tuple[float, ...]
    level: float
    method_requested: str = "REML"
    method_note: str | None = None
    ci_method: str = "hksj-adhoc"
    hksj_scale: float | None = None
    adhoc_applied: bool = False
    tau2_unreliable: bool = False
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class PoolResult(_JSONMixin):
    """Everything about one meta-analysis of the given studies.

    ``random`` is the primary (random-effects) analysis and ``common`` the common-effect sensitivity
    analysis. With a single study nothing is pooled: ``pooled`` is False, both analyses are ``None``,
    ``estimate`` is ``None``, and the study itself is carried in ``labels``/``yi``/``vi`` with the reason
    in ``not_pooled_reason``.
    """

    labels: tuple[str, ...]
    yi: tuple[float, ...]
    vi: tuple[float, ...]
    pooled: bool
    not_pooled_reason: str | None
    random: RandomEffectsResult | None
    common: CommonEffectResult | None

    @property
    def k(self) -> int:
        """Number of studies."""
        return len(self.labels)

    @property
    def estimate(self) -> float | None:
        """Random-effects summary estimate, or ``None`` when nothing was pooled."""
        return None if self.random is None else self.random.estimate

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict view for JSON, including ``k`` and ``estimate``."""
        out = super().to_dict()
        out["k"] = self.k
        out["estimate"] = to_json_value(self.estimate)
        return out


@dataclass(frozen=True)
class BriefResult:
    """What a sensitivity analysis reports of one pool: k, and the random-effects estimate, CI and I^2.

    The numbers are exactly those of ``pool(...).random`` with the same settings, plus its SE, tau^2 and
    the tau^2 method used; without the parts nobody reads in a leave-one-out or cumulative table
    (Q-profile CI, common effect, weights, p-values), which were most of the time of those analyses.
    ``first`` is the first study's yi (the result of a one-study "pool").
    """

    k: int
    pooled: bool
    first: float
    estimate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    i2: float | None = None
    se: float | None = None
    tau2: float | None = None
    method: str | None = None


@dataclass(frozen=True)
class BriefTable:
    """Column-wise BriefResults of one leave-one-out or cumulative analysis; row ``i`` as in the lists.

    Building 100,000 small objects costs more than the pooling they describe, so the batch returns
    columns; ``results()`` gives the BriefResult list.
    """

    k: list[int]
    pooled: list[bool]
    first: list[float]
    estimate: list[float | None]
    ci_low: list[float | None]
    ci_high: list[float | None]
    i2: list[float | None]
    se: list[float | None]
    tau2: list[float | None]
    method: list[str | None]

    @classmethod
    def empty(cls) -> BriefTable:
        """A table without rows."""
        return cls([], [], [], [], [], [], [], [], [], [])

    def results(self) -> list[BriefResult]:
        """The rows as BriefResult objects."""
        columns = (self.estimate, self.ci_low, self.ci_high, self.i2, self.se, self.tau2, self.method)
        return [
            BriefResult(k, True, f, e, lo, hi, i2, se, t2, m) if p else BriefResult(k=k, pooled=False, first=f)
            for k, p, f, e, lo, hi, i2, se, t2, m in zip(self.k, self.pooled, self.first, *columns, strict=True)
        ]
