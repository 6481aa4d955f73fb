"""The proof, for the batch solver, that a subset's restricted likelihood has a single maximum.

See the notes in ``batch.py``: the REML score U = R - T (R = y'PPy, T = tr P) has both halves decreasing in
tau^2, so on a lattice of cells its sign can be proven from the sums at the cell ends; the cells next to
the root are covered by second-order Taylor bounds.
"""

from __future__ import annotations

import math

import numpy as np

#: Ratio of consecutive grid points in the certificate's coordinate log(1 + tau^2 / min v).
_CERT_RATIO = 1.1
#: Relative allowance for rounding in the prefix sums behind the certificate (~45,000 ulps).
_CERT_BAND = 1e-11
#: Subsets per round of the certificate (its arrays grow with subsets x studies x lattice points).
_CERT_ROWS = 1_000
#: Away from the root the certificate's cells grow by 1 / _CERT_GROWTH of their distance to it.
_CERT_GROWTH = 3


def _unimodal(
    y_pad: np.ndarray,
    v_pad: np.ndarray,
    sizes: np.ndarray,
    row_a: np.ndarray,
    row_i: np.ndarray,
    row_cum: np.ndarray,
    upper: np.ndarray,
    tau2: np.ndarray,
    at: dict[str, np.ndarray],
) -> np.ndarray:
    """True where it is proven that tau2 is the only maximum of the restricted likelihood up to ``upper``.

    See the notes in ``batch.py``. Analyses are taken a few at a time so that the arrays stay small.
    """
    proven = np.zeros(row_a.size, bool)
    # By analysis, and within a part leave-one-out rows before cumulative ones.
    by_analysis = np.argsort(row_a, kind="stable")
    bounds = np.searchsorted(row_a[by_analysis], np.arange(sizes.size + 1))
    first = 0
    while first < sizes.size:
        last = first + 1
        while last < sizes.size and bounds[last + 1] - bounds[first] <= _CERT_ROWS:
            last += 1
        rows = by_analysis[bounds[first] : bounds[last]]
        rows = rows[np.argsort(row_cum[rows], kind="stable")]
        if rows.size:
            part = {name: values[rows] for name, values in at.items()}
            proven[rows] = _unimodal_part(
                y_pad[first:last],
                v_pad[first:last],
                sizes[first:last],
                row_a[rows] - first,
                row_i[rows],
                row_cum[rows],
                upper[rows],
                tau2[rows],
                part,
            )
        first = last
    return proven


def _prefix_sums(terms: np.ndarray) -> np.ndarray:
    """out[:, i] = sum of terms[:, :i] along axis 1, added in order (as np.cumsum, about twice as fast)."""
    out = np.empty((terms.shape[0], terms.shape[1] + 1, *terms.shape[2:]))
    out[:, 0] = 0.0
    for i in range(terms.shape[1]):
        np.add(out[:, i], terms[:, i], out=out[:, i + 1])
    return out


def _unimodal_part(
    y_pad: np.ndarray,
    v_pad: np.ndarray,
    sizes: np.ndarray,
    row_a: np.ndarray,
    row_i: np.ndarray,
    row_cum: np.ndarray,
    upper: np.ndarray,
    tau2: np.ndarray,
    at: dict[str, np.ndarray],
) -> np.ndarray:
    """_unimodal for the subsets of a few analyses (row_a indexes y_pad, v_pad and sizes)."""
    n_an, width = y_pad.shape
    # Each analysis has a lattice uniform in log(1 + tau^2 / min v), so that no weight changes by more
    # than _CERT_RATIO across a lattice cell; each subset's part of it reaches past the subset's `upper`.
    # Nothing here depends on the other subsets in the batch, so neither do the results.
    log_ratio = math.log(_CERT_RATIO)
    v_min = v_pad.min(axis=1)[row_a]
    # (1e-9 to spare: `upper` is summed in another order than tau2_reml's.)
    cells = np.ceil(np.log1p(upper * (1.0 + 1e-9) / v_min) / log_ratio).astype(int).clip(min=1)
    n_lattice = int(cells.max()) + 1

    # Each subset looks at the lattice cell holding tau2, unit cells next to it and cells that grow with
    # their distance from it (far from the root the score's sign is easy to prove on long cells), and at
    # least once more at each end of its lattice (the cells of zero length there are harmless).
    root_cell = np.minimum(np.floor(np.log1p(tau2 / v_min) / log_ratio), cells - 1).astype(int)
    steps = [0, 1, 2, 3]
    while steps[-1] < n_lattice:
        steps.append(steps[-1] + (steps[-1] + 1) // _CERT_GROWTH)
    steps_arr = np.array(steps)
    pick = np.concatenate([root_cell[:, None] - steps_arr[::-1], root_cell[:, None] + 1 + steps_arr], axis=1)
    pick = np.clip(pick, 0, cells[:, None])
    t = v_min[:, None] * np.expm1(pick * log_ratio)

    # Only the lattice points that some subset of an analysis looks at are evaluated for it: points[a, j]
    # is the j-th of them and lookup[a, g] the position of lattice point g in points[a].
    used = np.zeros((n_an, n_lattice), bool)
    used[row_a[:, None], pick] = True
    lookup = np.cumsum(used, axis=1) - 1
    key_a, key_g = np.nonzero(used)
    n_points = int(lookup[:, -1].max()) + 1
    points = np.zeros((n_an, n_points), int)
    points[key_a, lookup[key_a, key_g]] = key_g
    pick = lookup[row_a[:, None], pick]

    # Prefix sums over the studies at those points give every subset's sums there.
    centre = np.array([math.fsum(y_pad[a, :n].tolist()) / n for a, n in enumerate(sizes.tolist())])
    x = np.where(np.isfinite(v_pad), y_pad - centre[:, None], 0.0)
    x_max = np.abs(x).max(axis=1)
    lattice = v_pad.min(axis=1)[:, None] * np.expm1(points * log_ratio)
    w = 1.0 / (v_pad[:, :, None] + lattice[:, None, :])
    w2 = w * w
    xw2 = w2 * x[:, :, None]
    # Quantity last, so that the sums of one subset at one point are one contiguous row of 7.
    terms = np.stack([w, w2, w * x[:, :, None], xw2, xw2 * x[:, :, None], w2 * w, w2 * w2], axis=-1)
    # The sums of subset r at its j-th point are row base[r] + pick[r, j] of a prefix table: before[:, i]
    # sums studies < i; for leave-one-out add after[:, width - i] = sums over studies > i.
    before = _prefix_sums(terms).reshape(-1, 7)
    base_before = (row_a * (width + 1) + np.where(row_cum, row_i + 1, row_i)) * n_points
    after = before
    if not row_cum.all():
        after = _prefix_sums(terms[:, ::-1]).reshape(-1, 7)
    base_after = (row_a * (width + 1) + width - 1 - row_i) * n_points
    x_max = x_max[row_a]

    def verdict(rows: np.ndarray, columns: slice) -> np.ndarray:
        """The proof for these subsets (leave-one-out ones first) on these columns of `pick`."""
        points = pick[rows, columns]
        sums = np.take(before, base_before[rows, None] + points, axis=0)  # (subsets, points, 7)
        n_loo = np.count_nonzero(~row_cum[rows])
        # The sums over studies > i for leave-one-out; a slice thanks to the order (see _unimodal).
        sums[:n_loo] += np.take(after, base_after[rows[:n_loo], None] + points[:n_loo], axis=0)
        return _certify(sums, t[rows, columns], x_max[rows], tau2[rows], {k: v[rows] for k, v in at.items()})

    # Subsets with the root in the first cell would repeat point 0 down the left half of `pick`.
    proven = np.empty(row_a.size, bool)
    at_start = root_cell == 0
    for rows, columns in (
        (np.flatnonzero(at_start), slice(len(steps) - 1, None)),
        (np.flatnonzero(~at_start), slice(None)),
    ):
        if rows.size:
            proven[rows] = verdict(rows, columns)
    return proven


def _certify(
    sums: np.ndarray, t: np.ndarray, x_max: np.ndarray, tau2: np.ndarray, at: dict[str, np.ndarray]
) -> np.ndarray:
    """The certificate proper, from each subset's sums at its points t (see the notes in batch.py)."""
    sw, sw2, swx, sw2x, sw2xx = (sums[..., q] for q in range(5))
    band = _CERT_BAND
    d = swx / sw  # weighted mean minus the centre
    r2 = sw2xx - d * (2.0 * sw2x - d * sw2)  # y'PPy
    r2_band = band * sw2 * (x_max[:, None] + np.abs(d)) ** 2
    trace_p = sw - sw2 / sw
    trace_band = 2.0 * band * sw

    # Cell c = [t_c, t_c+1]: positive if U > 0 throughout, negative if U < 0 throughout.
    positive = (r2[:, 1:] - r2_band[:, 1:]) > (trace_p[:, :-1] + trace_band[:, :-1])
    negative = (r2[:, :-1] + r2_band[:, :-1]) < (trace_p[:, 1:] - trace_band[:, 1:])
    unsigned = ~(positive | negative)
    rows = np.arange(tau2.size)
    n_cells = unsigned.shape[1]
    any_unsigned = unsigned.any(axis=1)
    low_cell = np.argmax(unsigned, axis=1)
    high_cell = n_cells - 1 - np.argmax(unsigned[:, ::-1], axis=1)
    one_run = any_unsigned & (np.count_nonzero(unsigned, axis=1) == high_cell - low_cell + 1)
    falls_after = (high_cell + 1 < n_cells) & negative[rows, np.minimum(high_cell + 1, n_cells - 1)]
    low, high = t[rows, low_cell], t[rows, high_cell + 1]
    rises_before = (low == 0.0) | positive[rows, np.maximum(low_cell - 1, 0)]

    # tr P^3 at the two ends of the run.
    ends = sums[rows[:, None], np.stack([low_cell, high_cell + 1], axis=1)]
    s1, s2, s3, s4 = (ends[..., q] for q in (0, 1, 5, 6))
    ratio = s2 / s1
    trace_ppp = s3 - 3.0 * s4 / s1 + 3.0 * s3 * ratio / s1 - ratio**3
    trace_ppp_band = band * (s3 + 3.0 * s4 / s1 + 3.0 * s3 * ratio / s1 + ratio**3)
    ppp_low = trace_ppp[:, 0] + trace_ppp_band[:, 0]
    ppp_high = np.maximum(trace_ppp[:, 1] - trace_ppp_band[:, 1], 0.0)

    # Taylor bounds from tau2 across the unsigned run [low, high] (U'' lies in [-2 tr P^3, 6 y'P^4y]):
    #   above: U(t) <= U(tau2) - slope d + (3 y'P^4y(tau2) - tr P^3(high)) d^2 for d = t - tau2,
    #   below: U(t) >= U(tau2) + slope d - tr P^3(low) d^2 for d = tau2 - t,
    # so with the quadratic term under half the linear one U changes sign only within ~|U(tau2)|/slope
    # of tau2 (the scoring tolerance), and nowhere else in the run.
    slope = at["slope"]
    descending = slope > band * at["slope_sum"]
    above = descending & ((3.0 * at["r4"] - ppp_high) * (high - tau2) < 0.5 * slope)
    below = ppp_low * (tau2 - low) < 0.5 * slope
    inside = (low <= tau2) & (tau2 <= high)
    interior = one_run & falls_after & rises_before & inside & above & below
    # At 0: U < 0 on every cell, or one unsigned run from 0 on which U falls from U(0) <= ~0.
    near_zero = at["score"] <= band * at["score_sum"]
    boundary = negative.all(axis=1) | (one_run & falls_after & (low == 0.0) & above & near_zero)
    return np.where(tau2 > 0, interior, boundary)
