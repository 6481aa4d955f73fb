"""The entry points the site builder uses: ``pool`` (random effects plus common effect), its reduced form
``pool_brief``, and the leave-one-out and cumulative analyses as lists of full pools."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from livingevidence.analysis.pooling.arrays import as_arrays, fsum, study_labels
from livingevidence.analysis.pooling.common_effect import common_effect
from livingevidence.analysis.pooling.distributions import t_ppf
from livingevidence.analysis.pooling.random_effects import (
    PIType,
    Tau2Method,
    _i2_h2,
    _typical_within_variance,
    random_effects,
)
from livingevidence.analysis.pooling.results import BriefResult, PoolResult
from livingevidence.analysis.pooling.tau2 import tau2_reml


def pool(
    yi: Sequence[float],
    vi: Sequence[float],
    labels: Sequence[str] | None = None,
    *,
    method: Tau2Method = "REML",
    hksj: bool = True,
    hksj_truncate: bool = False,
    pi_type: PIType = "metafor",
    qprofile_tol: float | None = None,
    level: float = 0.95,
    qprofile: bool = True,
) -> PoolResult:
    """Meta-analyse the studies: random effects (primary) plus common effect (sensitivity).

    With k = 1 nothing is pooled: the result carries the single study, ``pooled`` is False and
    ``estimate`` is ``None`` (a one-study "summary" would just restate the study and invite reading it as
    a synthesis).

    Raises:
        ValueError: for k = 0, mismatched lengths, duplicate labels, non-finite values or non-positive
            variances.
    """
    y, v = as_arrays(yi, vi)
    names = study_labels(labels, int(y.size))
    ys = tuple(float(x) for x in y)
    vs = tuple(float(x) for x in v)
    if y.size == 1:
        return PoolResult(
            labels=names,
            yi=ys,
            vi=vs,
            pooled=False,
            not_pooled_reason="only one study: there is nothing to pool",
            random=None,
            common=None,
        )
    return PoolResult(
        labels=names,
        yi=ys,
        vi=vs,
        pooled=True,
        not_pooled_reason=None,
        random=random_effects(
            y,
            v,
            method,
            hksj,
            hksj_truncate=hksj_truncate,
            pi_type=pi_type,
            qprofile_tol=qprofile_tol,
            level=level,
            qprofile=qprofile,
        ),
        common=common_effect(y, v, level=level),
    )


def pool_brief(yi: Sequence[float], vi: Sequence[float], *, level: float = 0.95) -> BriefResult:
    """REML + HKSJ pooling reduced to estimate, CI and I^2 (see BriefResult); k = 1 pools nothing."""
    y, v = as_arrays(yi, vi)
    k = int(y.size)
    if k == 1:
        return BriefResult(k=1, pooled=False, first=float(y[0]))
    # The same operations, in the same order, as random_effects(method="REML", hksj=True).
    tau2 = tau2_reml(y, v)
    w = 1.0 / (v + tau2)
    sw = fsum(w)
    mu = fsum(w * y) / sw
    df = k - 1
    se = math.sqrt((fsum(w * (y - mu) ** 2) / df) / sw)
    crit = t_ppf(1.0 - (1.0 - level) / 2.0, df)
    i2, _ = _i2_h2(tau2, _typical_within_variance(v))
    return BriefResult(
        k=k,
        pooled=True,
        first=float(y[0]),
        estimate=float(mu),
        ci_low=float(mu - crit * se),
        ci_high=float(mu + crit * se),
        i2=float(i2),
    )


def leave_one_out(
    yi: Sequence[float],
    vi: Sequence[float],
    labels: Sequence[str] | None = None,
    **options: Any,
) -> list[PoolResult]:
    """Pool the studies k times, leaving each out once; result ``i`` omits study ``i``.

    Options are passed to ``pool``. With k = 2 each result holds a single study and pools nothing.

    Raises:
        ValueError: for fewer than two studies or invalid input.
    """
    y, v = as_arrays(yi, vi, min_k=2)
    names = study_labels(labels, int(y.size))
    keep = np.ones(y.size, dtype=bool)
    out: list[PoolResult] = []
    for i in range(y.size):
        keep[:] = True
        keep[i] = False
        out.append(pool(y[keep], v[keep], [n for j, n in enumerate(names) if j != i], **options))
    return out


def cumulative(
    yi: Sequence[float],
    vi: Sequence[float],
    labels: Sequence[str] | None = None,
    **options: Any,
) -> list[PoolResult]:
    """Cumulative meta-analysis in the given order; result ``i`` pools studies ``0..i``.

    Callers order the studies (normally by publication date). The first result holds one study and pools
    nothing. Options are passed to ``pool``.

    Raises:
        ValueError: for k = 0 or invalid input.
    """
    y, v = as_arrays(yi, vi)
    names = study_labels(labels, int(y.size))
    return [pool(y[: i + 1], v[: i + 1], names[: i + 1], **options) for i in range(y.size)]
