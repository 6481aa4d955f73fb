"""Per-comparison synthesis: which contrasts enter each outcome, their effect sizes, the pooled result.

Pooling rules enforced here (and stated on every comparison page):
- mRECIST and RECIST 1.1 responses are separate analyses; so are unadjusted and adjusted hazard ratios;
- overlapping populations are never pooled (see selection.py); single-arm studies never enter;
- grade 3-4 and grade >=3 adverse events form one 'grade 3 or higher' band (grade 5 events are rare and
  reported separately), any-grade events another; AE terms match after normalising case and dashes.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import re
from dataclasses import dataclass, field
from typing import Any

from livingevidence.analysis import effects, pooling
from livingevidence.analysis.selection import Contrast, Exclusion, choose_contrasts, related_single_arm_studies
from livingevidence.model import EvidencePackage

OUTCOME_NAMES = {
    "OS": "Overall survival",
    "PFS": "Progression-free survival",
    "TTP": "Time to progression",
    "ORR": "Objective response",
    "DCR": "Disease control",
}
# For these outcomes a larger ratio is better for the patient (response); for hazards, smaller is better.
HIGHER_IS_BETTER = {"ORR": True, "DCR": True, "AE": False, "OS": False, "PFS": False, "TTP": False}
AE_BANDS = {"any": "any grade", "3-4": "grade 3 or higher", ">=3": "grade 3 or higher"}


@dataclass
class StudyRow:
    """One contrast's effect on the natural scale with its analysis-scale values for pooling."""

    label: str
    study_id: str
    population_id: str
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    yi: float | None
    vi: float | None
    events: str = ""  # '21/64 vs 11/64' for count outcomes
    weight: float | None = None  # percent, random effects
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


@dataclass
class OutcomeAnalysis:
    """One forest plot: an outcome, a measure and the studies that may be pooled together."""

    key: str  # stable slug, e.g. 'orr-mrecist-rr'
    outcome: str  # OS, PFS, TTP, ORR, DCR, AE
    title: str
    phrase: str  # the outcome in running text, e.g. 'objective response (mRECIST)'
    measure: str  # HR, RR, OR, RD
    log_scale: bool
    higher_is_better: bool
    rows: list[StudyRow]
    excluded: list[StudyRow] = field(default_factory=list)  # e.g. double-zero studies
    pool: pooling.PoolResult | None = None
    leave_one_out: list[dict] = field(default_factory=list)
    cumulative: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    control_risk: float | None = None  # pooled control-arm risk for absolute effects (count outcomes)
    patients: int = 0

    @property
    def k(self) -> int:
        return len(self.rows)

    def natural(self, value: float | None) -> float | None:
        """Analysis scale -> natural scale."""
        if value is None:
            return None
        return math.exp(value) if self.log_scale else value

    def summary(self) -> dict[str, Any] | None:
        """The pooled random-effects result on the natural scale, or None when nothing was pooled."""
        if self.pool is None or not self.pool.pooled or self.pool.random is None:
            return None
        r = self.pool.random
        c = self.pool.common
        return {
            "estimate": self.natural(r.estimate),
            "ci_low": self.natural(r.ci_low),
            "ci_high": self.natural(r.ci_high),
            "p_value": r.p_value,
            "prediction_low": self.natural(r.prediction_low),
            "prediction_high": self.natural(r.prediction_high),
            "tau2": r.tau2,
            "tau2_ci": [r.tau2_ci_low, r.tau2_ci_high],
            "i2": r.i2,
            "i2_ci": [r.i2_ci_low, r.i2_ci_high],
            "q": r.q,
            "q_df": r.q_df,
            "q_p": r.q_p,
            "common_estimate": self.natural(c.estimate) if c else None,
            "common_ci_low": self.natural(c.ci_low) if c else None,
            "common_ci_high": self.natural(c.ci_high) if c else None,
            "common_p_value": c.p_value if c else None,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "outcome": self.outcome,
            "title": self.title,
            "measure": self.measure,
            "log_scale": self.log_scale,
            "k": self.k,
            "patients": self.patients,
            "studies": [r.to_dict() for r in self.rows],
            "excluded": [r.to_dict() for r in self.excluded],
            "pooled": self.summary(),
            "pool_detail": self.pool.to_dict() if self.pool else None,
            "leave_one_out": self.leave_one_out,
            "cumulative": self.cumulative,
            "control_risk": self.control_risk,
            "notes": self.notes,
        }


@dataclass
class ComparisonSynthesis:
    """Everything a comparison page and its JSON show."""

    comparison_id: str
    contributing: list[Contrast]
    exclusions: list[Exclusion]
    analyses: list[OutcomeAnalysis]
    medians: list[dict]


def _norm_term(term: str) -> str:
    return re.sub(r"[\u2010-\u2015\-]+", "-", term.strip().lower())


def _finish(a: OutcomeAnalysis) -> OutcomeAnalysis:
    """Pool the rows with an effect size and add their weights (see _add_sensitivity for the rest)."""
    usable = [r for r in a.rows if r.yi is not None and r.vi is not None]
    a.excluded += [r for r in a.rows if r.yi is None or r.vi is None]
    a.rows = usable
    if not usable:
        return a
    labels = [r.label for r in usable]
    a.pool = pooling.pool([r.yi for r in usable], [r.vi for r in usable], labels)
    if a.pool.pooled and a.pool.random is not None:
        for r, w in zip(usable, a.pool.random.weights, strict=True):
            r.weight = 100 * w
    return a


def _add_sensitivity(analyses: list[OutcomeAnalysis]) -> None:
    """Leave-one-out (k >= 3) and cumulative (k >= 2) analyses of every analysis of a comparison.

    All of them are solved as one batch (pooling.sensitivity_briefs): per analysis, numpy's per-call
    overhead would cost more than the arithmetic.
    """
    todo = [a for a in analyses if a.k >= 2]
    tables = pooling.sensitivity_briefs([([r.yi for r in a.rows], [r.vi for r in a.rows]) for a in todo])
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


def _index(package: EvidencePackage, name: str, rows: Any, key: Any) -> dict:
    """A per-package index: key(row) -> the FIRST row with that key, in file order (built once, cached).

    It answers exactly what `next(r for r in rows if key(r) == k)` answered, without a scan per question.
    """
    memo_key = ("synthesis-index", name)
    if memo_key not in package.memo:
        index: dict = {}
        for row in rows:
            index.setdefault(key(row), row)
        package.memo[memo_key] = index
    return package.memo[memo_key]


def _hr_index(package: EvidencePackage) -> dict:
    hrs = (e for e in package.rows("effects") if e.measure == "HR" and e.estimate is not None)
    return _index(
        package,
        "hr",
        hrs,
        lambda e: (e.population_id, e.outcome, e.analysis, e.intervention_arm_id, e.control_arm_id),
    )


def _hr_analyses(package: EvidencePackage, cid: str, exclusions: list[Exclusion]) -> list[OutcomeAnalysis]:
    out = []
    hrs = _hr_index(package)
    for outcome in ("OS", "PFS", "TTP"):
        for analysis in ("univariable", "multivariable"):

            def find(p, i, c, outcome=outcome, analysis=analysis):
                return hrs.get((p.population_id, outcome, analysis, i.arm_id, c.arm_id))

            contrasts, excl = choose_contrasts(package, cid, lambda p, i, c, f=find: f(p, i, c) is not None)
            if not contrasts:
                continue
            exclusions += [x for x in excl if x.population is not None]
            rows = []
            for ct in contrasts:
                e = find(ct.population, ct.intervention, ct.control)
                note = ""
                yi = vi = None
                if e.ci_low is not None and e.ci_high is not None:
                    lh = effects.log_hr_from_ci(e.estimate, e.ci_low, e.ci_high)
                    yi, vi = lh.yi, lh.vi
                    if lh.asymmetric:
                        note = "the printed CI is asymmetric on the log scale; its SE is approximate"
                else:
                    note = "no CI printed, so it cannot be weighted"
                rows.append(
                    StudyRow(
                        ct.label,
                        ct.study.study_id,
                        ct.population.population_id,
                        e.estimate,
                        e.ci_low,
                        e.ci_high,
                        yi,
                        vi,
                        note=note,
                    )
                )
            kind = "unadjusted" if analysis == "univariable" else "adjusted"
            a = OutcomeAnalysis(
                key=f"{outcome.lower()}-hr-{kind}",
                outcome=outcome,
                title=f"{OUTCOME_NAMES[outcome]}: hazard ratio ({kind})",
                phrase=OUTCOME_NAMES[outcome].lower(),
                measure="HR",
                log_scale=True,
                higher_is_better=False,
                rows=rows,
                patients=sum(c.n_intervention + c.n_control for c in contrasts),
            )
            if kind == "adjusted":
                a.notes.append(
                    "Adjusted hazard ratios come from each paper's own multivariable model; the models differ."
                )
            out.append(_finish(a))
    return out


def _count_analyses(package: EvidencePackage, cid: str, exclusions: list[Exclusion]) -> list[OutcomeAnalysis]:
    out = []
    resp = _index(package, "response", package.rows("response"), lambda r: (r.population_id, r.arm_id, r.criterion))
    for outcome in ("ORR", "DCR"):
        for criterion in ("mRECIST", "RECIST 1.1"):

            def get(p, arm, criterion=criterion):
                return resp.get((p.population_id, arm.arm_id, criterion))

            def events(r, outcome=outcome):
                return None if r is None else (r.orr_events if outcome == "ORR" else r.dcr_events)

            def reports(p, i, c, get=get, events=events):
                return events(get(p, i)) is not None and events(get(p, c)) is not None

            contrasts, excl = choose_contrasts(package, cid, reports)
            if not contrasts:
                continue
            exclusions += [x for x in excl if x.population is not None]
            slug = criterion.lower().replace(" ", "").replace(".", "")
            for measure, fn in (
                ("RR", effects.risk_ratio),
                ("OR", effects.odds_ratio),
                ("RD", effects.risk_difference),
            ):
                rows = []
                ctrl_events = ctrl_n = 0
                for ct in contrasts:
                    ri, rc = get(ct.population, ct.intervention), get(ct.population, ct.control)
                    a_, n1, c_, n2 = events(ri), ri.n_evaluable, events(rc), rc.n_evaluable
                    ctrl_events += c_
                    ctrl_n += n2
                    es = fn(a_, n1, c_, n2)
                    note = "0.5 added to every cell (a zero cell)" if es.corrected else ""
                    if es.excluded:
                        note = es.excluded
                    rows.append(
                        StudyRow(
                            ct.label,
                            ct.study.study_id,
                            ct.population.population_id,
                            es.estimate,
                            es.estimate_ci_low,
                            es.estimate_ci_high,
                            es.yi,
                            es.vi,
                            events=f"{a_}/{n1} vs {c_}/{n2}",
                            note=note,
                        )
                    )
                a = OutcomeAnalysis(
                    key=f"{outcome.lower()}-{slug}-{measure.lower()}",
                    outcome=outcome,
                    title=f"{OUTCOME_NAMES[outcome]} ({criterion}): {_measure_name(measure)}",
                    phrase=f"{OUTCOME_NAMES[outcome].lower()} ({criterion})",
                    measure=measure,
                    log_scale=measure != "RD",
                    higher_is_better=True,
                    rows=rows,
                    control_risk=ctrl_events / ctrl_n if ctrl_n else None,
                    patients=sum(c.n_intervention + c.n_control for c in contrasts),
                )
                out.append(_finish(a))
    return out


def _ae_analyses(package: EvidencePackage, cid: str) -> list[OutcomeAnalysis]:
    out = []
    # A generator: _index reads it only the first time, not once per comparison.
    aes = (a for a in package.rows("adverse_events") if a.arm_id and a.events is not None and a.grade in AE_BANDS)
    index = _index(
        package, "adverse_events", aes, lambda a: (a.population_id, a.arm_id, _norm_term(a.term), AE_BANDS[a.grade])
    )
    if ("ae-keys",) not in package.memo:
        package.memo[("ae-keys",)] = sorted({(term, band) for (_p, _a, term, band) in index})
    keys = package.memo[("ae-keys",)]
    for term, band in keys:

        def get(p, arm, term=term, band=band):
            return index.get((p.population_id, arm.arm_id, term, band))

        contrasts, _ = choose_contrasts(
            package, cid, lambda p, i, c, g=get: g(p, i) is not None and g(p, c) is not None
        )
        if not contrasts:
            continue
        rows = []
        ctrl_events = ctrl_n = 0
        printed = None
        for ct in contrasts:
            ai, ac = get(ct.population, ct.intervention), get(ct.population, ct.control)
            printed = printed or ai.term
            ctrl_events += ac.events
            ctrl_n += ac.n_at_risk
            es = effects.risk_ratio(ai.events, ai.n_at_risk, ac.events, ac.n_at_risk)
            note = es.excluded or ("0.5 added to every cell (a zero cell)" if es.corrected else "")
            rows.append(
                StudyRow(
                    ct.label,
                    ct.study.study_id,
                    ct.population.population_id,
                    es.estimate,
                    es.estimate_ci_low,
                    es.estimate_ci_high,
                    es.yi,
                    es.vi,
                    events=f"{ai.events}/{ai.n_at_risk} vs {ac.events}/{ac.n_at_risk}",
                    note=note,
                )
            )
        slug = re.sub(r"[^a-z0-9]+", "-", f"ae-{term}-{band}").strip("-")
        a = OutcomeAnalysis(
            key=slug,
            outcome="AE",
            title=f"{printed} ({band}): risk ratio",
            phrase=f"{printed.lower()} ({band})",
            measure="RR",
            log_scale=True,
            higher_is_better=False,
            rows=rows,
            control_risk=ctrl_events / ctrl_n if ctrl_n else None,
            patients=sum(c.n_intervention + c.n_control for c in contrasts),
        )
        out.append(_finish(a))
    return out


def _positions(package: EvidencePackage, table: str) -> dict[int, int]:
    """id(row) -> its position in the table (to put rows gathered from an index back in file order)."""
    key = ("positions", table)
    if key not in package.memo:
        package.memo[key] = {id(row): i for i, row in enumerate(package.rows(table))}
    return package.memo[key]


def _measure_name(measure: str) -> str:
    return {"RR": "risk ratio", "OR": "odds ratio", "RD": "risk difference", "HR": "hazard ratio"}[measure]


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


def synthesise(package: EvidencePackage, comparison_id: str) -> ComparisonSynthesis:
    """All analyses of one comparison."""
    exclusions: list[Exclusion] = list(related_single_arm_studies(package, comparison_id))
    analyses = _hr_analyses(package, comparison_id, exclusions) + _count_analyses(package, comparison_id, exclusions)
    analyses += _ae_analyses(package, comparison_id)
    _add_sensitivity(analyses)
    contributing, excl = choose_contrasts(
        package,
        comparison_id,
        lambda p, i, c: (p.population_id, i.arm_id) in package.arm_n and (p.population_id, c.arm_id) in package.arm_n,
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
