"""The entry points the site builder uses: ``pool`` (random effects plus common effect), its reduced form
``pool_brief``, and the leave-one-out and cumulative analyses as lists of full pools."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from livingevidence.analysis.pooling.arrays import as_arrays, fsum, study_labels
from livingevidence.analysis.pooling.common_effect import common_effect
from livingevidence.analysis.pooling.random_effects import (
    _i2_h2,
    _typical_within_variance,
    random_effects,
    summary_ci,
)
from livingevidence.analysis.pooling.results import BriefResult, PoolResult
from livingevidence.analysis.pooling.settings import PoolSettings, resolve
from livingevidence.analysis.pooling.tau2 import estimate_tau2


def pool(
    yi: Sequence[float],
    vi: Sequence[float],
    labels: Sequence[str] | None = None,
    *,
    settings: PoolSettings | None = None,
    method: str | None = None,
    hksj: bool | None = None,
    hksj_truncate: bool | None = None,
    pi_type: str | None = None,
    qprofile_tol: float | None = None,
    level: float | None = None,
    qprofile: bool = True,
) -> PoolResult:
    """Meta-analyse the studies: random effects (primary) plus common effect (sensitivity).

    ``settings`` (default ``PoolSettings()``: REML, HKSJ with the ad hoc correction, 95%) chooses the
    estimators; the other keywords are the older way and override it (see ``random_effects``). With k = 1
    nothing is pooled: the result carries the single study, ``pooled`` is False and ``estimate`` is
    ``None`` (a one-study "summary" would just restate the study and invite reading it as a synthesis).

    Raises:
        ValueError: for k = 0, mismatched lengths, duplicate labels, non-finite values, non-positive
            variances or unknown settings.
    """
    chosen = resolve(
        settings,
        method=method,
        hksj=hksj,
        hksj_truncate=hksj_truncate,
        pi_type=pi_type,
        qprofile_tol=qprofile_tol,
        level=level,
    )
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
        random=random_effects(y, v, settings=chosen, qprofile=qprofile),
        common=common_effect(y, v, level=chosen.level),
    )


def pool_brief(
    yi: Sequence[float], vi: Sequence[float], *, settings: PoolSettings | None = None, level: float | None = None
) -> BriefResult:
    """``pool(...).random`` reduced to estimate, SE, CI, tau^2 and I^2 (see BriefResult); k = 1 pools nothing.

    ``level`` overrides ``settings.level``.
    """
    chosen = resolve(settings, level=level)
    y, v = as_arrays(yi, vi)
    k = int(y.size)
    if k == 1:
        return BriefResult(k=1, pooled=False, first=float(y[0]))
    # The same operations, in the same order, as random_effects.
    fit = estimate_tau2(y, v, chosen)
    w = 1.0 / (v + fit.tau2)
    sw = fsum(w)
    mu = fsum(w * y) / sw
    ci = summary_ci(fsum(w * (y - mu) ** 2), sw, k, chosen)
    i2, _ = _i2_h2(fit.tau2, _typical_within_variance(v))
    return BriefResult(
        k=k,
        pooled=True,
        first=float(y[0]),
        estimate=float(mu),
        ci_low=float(mu - ci.crit * ci.se),
        ci_high=float(mu + ci.crit * ci.se),
        i2=float(i2),
        se=float(ci.se),
        tau2=float(fit.tau2),
        method=fit.method,
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
