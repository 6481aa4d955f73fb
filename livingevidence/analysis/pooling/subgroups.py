"""Subgroup analysis: each subgroup pooled separately, and the test for subgroup differences.

Two tests are reported, because the two standard tools differ:

* **RevMan's test for subgroup differences** (Cochrane Handbook 10.11.3.1; Borenstein et al. 2009,
  ch. 19): each subgroup is pooled by random effects with its own tau^2 (the project's ``PoolSettings``),
  and ``Q_between = sum((mu_g - mu_bar)^2 / SE_g^2)`` with ``mu_bar`` the inverse-variance weighted mean of
  the subgroup estimates, chi-square with G - 1 df, and ``I^2 = max(0, (Q - df) / Q)``. ``SE_g`` is the
  random-effects SE ``1 / sqrt(sum w)`` of the subgroup (the Wald form; a subgroup of one study enters with
  its own estimate and SE). It equals metafor's idiom of a common-effect model fitted to the subgroup
  estimates (``rma(b_g, se_g^2, method = "FE")$QE``).
* **metafor's moderator test** (``moderators.py``): one random-effects meta-regression on the subgroup
  indicators with a single residual tau^2, its QM (chi-square for Wald, F for HKSJ and HKSJ-adhoc).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from livingevidence.analysis.pooling.arrays import as_arrays, study_labels
from livingevidence.analysis.pooling.core import pool
from livingevidence.analysis.pooling.distributions import chi2_sf, level_crit_z
from livingevidence.analysis.pooling.moderators import ModeratorTest, factor_moderator_test
from livingevidence.analysis.pooling.results import PoolResult, _JSONMixin
from livingevidence.analysis.pooling.settings import PoolSettings, resolve


@dataclass(frozen=True)
class Subgroup(_JSONMixin):
    """One subgroup's own pool. ``estimate``, ``ci_low`` and ``ci_high`` are the random-effects summary
    (or, for one study, the study with its Wald CI); ``se_between`` is the SE that enters Q_between."""

    level: str
    k: int
    labels: tuple[str, ...]
    estimate: float
    ci_low: float
    ci_high: float
    se_between: float
    pool: PoolResult


@dataclass(frozen=True)
class SubgroupDifference(_JSONMixin):
    """RevMan's chi-square test for subgroup differences, with its I^2 (percent)."""

    q: float
    df: int
    p_value: float
    i2: float


@dataclass(frozen=True)
class SubgroupAnalysis(_JSONMixin):
    """Subgroups in order of first appearance, both tests, and the settings used.

    ``between`` is ``None`` with fewer than two subgroups; ``moderator`` is ``None`` when the meta-
    regression cannot be fitted, with the reason in ``moderator_note``.
    """

    subgroups: tuple[Subgroup, ...]
    between: SubgroupDifference | None
    moderator: ModeratorTest | None
    moderator_note: str | None
    settings: PoolSettings


def subgroup_analysis(
    yi: Sequence[float],
    vi: Sequence[float],
    groups: Sequence[str],
    labels: Sequence[str] | None = None,
    *,
    settings: PoolSettings | None = None,
) -> SubgroupAnalysis:
    """Pool each subgroup (random effects, ``settings``) and test for subgroup differences both ways.

    Raises:
        ValueError: for invalid yi/vi/labels, or a groups list of another length.
    """
    chosen = resolve(settings)
    y, v = as_arrays(yi, vi)
    names = study_labels(labels, int(y.size))
    keys = [str(g) for g in groups]
    if len(keys) != y.size:
        raise ValueError(f"got {len(keys)} group labels for {y.size} studies")
    crit = level_crit_z(chosen.level)
    subgroups = []
    for level in dict.fromkeys(keys):
        rows = [i for i, g in enumerate(keys) if g == level]
        result = pool(y[rows], v[rows], [names[i] for i in rows], settings=chosen)
        if result.random is None:
            est, se = float(y[rows[0]]), math.sqrt(float(v[rows[0]]))
            low, high = est - crit * se, est + crit * se
        else:
            est, se = result.random.estimate, result.random.se_unadjusted
            low, high = result.random.ci_low, result.random.ci_high
        subgroups.append(Subgroup(level, len(rows), result.labels, est, low, high, se, result))
    moderator = factor_moderator_test(y, v, keys, settings=chosen) if y.size >= 2 else "only one study"
    return SubgroupAnalysis(
        subgroups=tuple(subgroups),
        between=_between(subgroups),
        moderator=moderator if isinstance(moderator, ModeratorTest) else None,
        moderator_note=moderator if isinstance(moderator, str) else None,
        settings=chosen,
    )


def _between(subgroups: list[Subgroup]) -> SubgroupDifference | None:
    if len(subgroups) < 2:
        return None
    weights = [1.0 / s.se_between**2 for s in subgroups]
    mean = math.fsum(w * s.estimate for w, s in zip(weights, subgroups, strict=True)) / math.fsum(weights)
    q = math.fsum(w * (s.estimate - mean) ** 2 for w, s in zip(weights, subgroups, strict=True))
    df = len(subgroups) - 1
    i2 = max(0.0, 100.0 * (q - df) / q) if q > 0 else 0.0
    return SubgroupDifference(q=float(q), df=df, p_value=chi2_sf(q, df), i2=float(i2))
