"""Per-comparison synthesis: which contrasts enter each outcome, their effect sizes, the pooled result.

The outcomes come from the topic's vocabulary (outcomes.csv), in its order; outcome_analyses.py builds each
outcome's forest plots from whichever tables hold its data. Pooling rules enforced there and in
selection.py, and stated on every comparison page:
- definitions that do not pool together (labels.csv ``pool_as``) are separate analyses, and so are
  unadjusted and adjusted effects;
- overlapping populations are never pooled (see selection.py); single-arm studies never enter.
"""

from __future__ import annotations

import multiprocessing
import os
from typing import Any

from livingevidence.analysis import modifiers, pooling
from livingevidence.analysis import outcome_analyses as build
from livingevidence.analysis.selection import Exclusion, Selection, related_single_arm_studies
from livingevidence.analysis.synthesis_model import ComparisonSynthesis, OutcomeAnalysis, StudyRow, settings_of
from livingevidence.model import EvidencePackage, Outcome

__all__ = ["ComparisonSynthesis", "OutcomeAnalysis", "StudyRow", "synthesise", "synthesise_all"]


def _add_sensitivity(package: EvidencePackage, analyses: list[OutcomeAnalysis]) -> None:
    """Leave-one-out (k >= 3) and cumulative (k >= 2) analyses of every analysis of a comparison.

    All of them are solved as one batch (pooling.sensitivity_briefs): per analysis, numpy's per-call
    overhead would cost more than the arithmetic.
    """
    todo = [a for a in analyses if a.k >= 2]
    settings = settings_of(package)
    tables = pooling.sensitivity_briefs(
        [([r.yi for r in a.rows], [r.vi for r in a.rows]) for a in todo], settings=settings
    )
    for a, (loo, cum) in zip(todo, tables, strict=True):
        labels = [r.label for r in a.rows]
        if a.k >= 3:
            a.leave_one_out = _brief_rows(a, "omitted", labels, loo)
        a.cumulative = _brief_rows(a, "added", labels, cum)


def _brief_rows(a: OutcomeAnalysis, key: str, labels: list[str], table: pooling.BriefTable) -> list[dict[str, Any]]:
    """One dict per row of a leave-one-out or cumulative table, on the natural scale.

    Built straight from the table's columns: at a thousand studies there are ~120,000 of them.
    """
    natural = a.natural
    return [
        {
            key: label,
            "k": k,
            "estimate": natural(e),
            "ci_low": natural(lo),
            "ci_high": natural(hi),
            "i2": i2,
            "pooled": True,
        }
        if pooled
        else {key: label, "k": k, "estimate": natural(first), "ci_low": None, "ci_high": None, "pooled": False}
        for label, k, pooled, first, e, lo, hi, i2 in zip(
            labels,
            table.k,
            table.pooled,
            table.first,
            table.estimate,
            table.ci_low,
            table.ci_high,
            table.i2,
            strict=True,
        )
    ]


def _positions(package: EvidencePackage, table: str) -> dict[int, int]:
    """id(row) -> its position in the table (to put rows gathered from an index back in file order)."""
    key = ("positions", table)
    if key not in package.memo:
        package.memo[key] = {id(row): i for i, row in enumerate(package.rows(table))}
    return package.memo[key]


#: Below this many comparisons the analysis runs in this process (starting workers would cost more).
PARALLEL_MIN_COMPARISONS = 8
_WORKER_PACKAGE: EvidencePackage | None = None


def _synthesise_in_worker(comparison_id: str) -> ComparisonSynthesis:
    assert _WORKER_PACKAGE is not None
    return synthesise(_WORKER_PACKAGE, comparison_id)


def synthesise_all(package: EvidencePackage, workers: int | None = None) -> dict[str, ComparisonSynthesis]:
    """Every comparison's synthesis, in comparison order.

    Comparisons are independent, so with several CPUs and enough comparisons they are analysed in forked
    worker processes (each inherits the loaded package; results come back pickled). The results are the same
    as `synthesise` one by one. `workers=1` forces one process.
    """
    global _WORKER_PACKAGE
    ids = list(package.comparisons)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    n = min(workers or cpus, len(ids))
    if n <= 1 or len(ids) < PARALLEL_MIN_COMPARISONS or "fork" not in multiprocessing.get_all_start_methods():
        return {cid: synthesise(package, cid) for cid in ids}
    _WORKER_PACKAGE = package
    try:
        with multiprocessing.get_context("fork").Pool(n) as pool:
            # Interleaved chunks: neighbouring comparisons (a family) cost about the same.
            results = pool.map(_synthesise_in_worker, ids, chunksize=1)
    finally:
        _WORKER_PACKAGE = None
    return dict(zip(ids, results, strict=True))


def _outcome_analyses(sel: Selection, outcome: Outcome, exclusions: list[Exclusion]) -> list[OutcomeAnalysis]:
    """Every analysis of one outcome: printed contrasts first, then those computed from arm-level data."""
    out = build.reported_analyses(sel, outcome, exclusions)
    if outcome.kind == "binary":
        if outcome.counts_from in ("response:orr", "response:dcr"):
            out += build.response_analyses(sel, outcome, exclusions)
        elif outcome.counts_from == "adverse_events":
            out += build.adverse_event_analyses(sel, outcome)
        else:
            out += build.binary_table_analyses(sel, outcome, exclusions)
    elif outcome.kind == "continuous":
        out += build.continuous_analyses(sel, outcome, exclusions)
    return out


def _all_outcomes(sel: Selection, exclusions: list[Exclusion]) -> list[OutcomeAnalysis]:
    return [a for o in sel.package.vocabulary.outcomes.values() for a in _outcome_analyses(sel, o, exclusions)]


def synthesise(package: EvidencePackage, comparison_id: str) -> ComparisonSynthesis:
    """All analyses of one comparison, outcome by outcome in the vocabulary's order.

    A comparison with an effect modifier (subgroup_by, main_level) keeps the main level in its main analyses
    and gets each analysis split by level beside it (modifiers.py).
    """
    comparison = package.comparisons[comparison_id]
    sel = Selection(package, comparison_id, modifiers.main_filter(package, comparison))
    exclusions: list[Exclusion] = list(related_single_arm_studies(package, comparison_id))
    analyses = _all_outcomes(sel, exclusions)
    if comparison.subgroup_by:
        every = _all_outcomes(Selection(package, comparison_id), []) if sel.keep is not None else analyses
        modifiers.add_subgroups(package, comparison, analyses, every)
    _add_sensitivity(package, analyses)
    contributing, excl = sel.choose(
        lambda p, i, c: {(p.population_id, i.arm_id), (p.population_id, c.arm_id)} <= package.population_arms,
    )
    seen = set()
    unique_excl = []
    for x in exclusions + excl:
        key = (x.study.study_id, x.population.population_id if x.population else None)
        if key not in seen:
            seen.add(key)
            unique_excl.append(x)
    wanted = {(c.population.population_id, arm.arm_id) for c in contributing for arm in (c.intervention, c.control)}
    by_study = package.by_study("survival")
    position = _positions(package, "survival")
    candidates = [s for sid in dict.fromkeys(c.study.study_id for c in contributing) for s in by_study.get(sid, ())]
    medians = sorted(
        (s for s in candidates if (s.population_id, s.arm_id) in wanted),
        key=lambda s: position[id(s)],
    )
    return ComparisonSynthesis(comparison_id, contributing, unique_excl, analyses, medians)
