"""Input checks, exactly rounded sums and the small helpers every fit shares."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def as_arrays(yi: Sequence[float], vi: Sequence[float], *, min_k: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """yi and vi as float arrays, checked: same length, at least ``min_k``, finite, vi > 0.

    Raises:
        ValueError: naming what is wrong.
    """
    y = np.asarray(yi, dtype=float).reshape(-1)
    v = np.asarray(vi, dtype=float).reshape(-1)
    if y.shape != v.shape:
        raise ValueError(f"yi and vi must have the same length, got {y.size} and {v.size}")
    if y.size < min_k:
        if y.size == 0:
            raise ValueError("no studies given: yi and vi are empty")
        raise ValueError(f"at least {min_k} studies are needed, got {y.size}")
    if not np.all(np.isfinite(y)):
        raise ValueError("yi contains a missing or non-finite value")
    if not np.all(np.isfinite(v)) or np.any(v <= 0):
        raise ValueError("every vi must be a finite, strictly positive sampling variance")
    return y, v


def study_labels(labels: Sequence[str] | None, k: int) -> tuple[str, ...]:
    """The labels as a tuple ("study 1", ... when None); they must be unique and k in number."""
    if labels is None:
        return tuple(f"study {i + 1}" for i in range(k))
    out = tuple(str(label) for label in labels)
    if len(out) != k:
        raise ValueError(f"got {len(out)} labels for {k} studies")
    if len(set(out)) != len(out):
        dupes = sorted({label for label in out if out.count(label) > 1})
        raise ValueError(f"study labels must be unique; repeated: {', '.join(dupes)}")
    return out


def fsum(x: np.ndarray) -> float:
    """Exactly rounded sum: keeps results independent of study order beyond the last ulp."""
    return math.fsum(x.tolist())


def weighted_mean(y: np.ndarray, w: np.ndarray) -> float:
    """sum(w y) / sum(w), exactly summed."""
    return fsum(w * y) / fsum(w)


def q_stat(y: np.ndarray, v: np.ndarray, tau2: float) -> float:
    """Generalised Cochran's Q at tau2: sum(w (y - mu)^2) with w = 1 / (v + tau2)."""
    w = 1.0 / (v + tau2)
    mu = weighted_mean(y, w)
    return fsum(w * (y - mu) ** 2)


def safe_ratio(num: float, den: float) -> float:
    """num / den, infinite for a zero denominator and NaN for 0 / 0.

    A zero SE only arises when the HKSJ residual sum is zero (all studies identical); metafor then reports
    an infinite statistic, and 0/0 stays undefined.
    """
    if den > 0:
        return num / den
    if num == 0:
        return math.nan
    return math.copysign(math.inf, num)
