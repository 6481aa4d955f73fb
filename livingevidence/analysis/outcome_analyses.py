"""The forest plots of one comparison and one outcome, from whichever tables hold the outcome's data.

For each outcome of the vocabulary (outcomes.csv) and each comparison:
- reported contrasts (effects.csv: HR, OR, RR, RD, MD, SMD, ROM with their CI) give one analysis per
  definition, measure and adjustment (unadjusted and adjusted effects are never mixed);
- binary outcomes give RR, OR and RD from counts: binary_outcomes.csv, or where the vocabulary says so the
  responses of response.csv (``response:orr`` = CR+PR, ``response:dcr`` = CR+PR+SD) or the adverse events
  of adverse_events.csv (one analysis per term and grade band, in the outcome's default measure);
- continuous outcomes give MD, SMD and ROM from means, SDs and sizes (continuous_outcomes.csv).
Definitions that do not pool together (labels.csv ``pool_as``) are separate analyses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from livingevidence.analysis import pooling, study_effects
from livingevidence.analysis.selection import Contrast, Exclusion, Selection
from livingevidence.analysis.synthesis_model import OutcomeAnalysis, StudyRow, finish, settings_of
from livingevidence.model import EvidencePackage, Outcome
from livingevidence.vocabulary import MEASURE_NAMES, MEASURES_BY_KIND, NO_CRITERION, is_ratio

#: A count pool's control risk and its 2x2 tables (a, n1, c, n2), for absolute effects and Mantel-Haenszel.
CountLine = tuple[float | None, list[tuple[int, int, int, int]]]
# Order of reported measures within an outcome, and the adjustment levels.
REPORTED_MEASURES = ("HR", "RR", "OR", "RD", "MD", "SMD", "ROM")
ADJUSTMENT = (("univariable", "unadjusted"), ("multivariable", "adjusted"))


def measure_higher_is_better(outcome: Outcome) -> bool | None:
    """Is a larger effect (ratio or difference, intervention vs control) better for the patient?

    For time-to-event outcomes the effect is a hazard ratio: a larger one means a shorter time to the event.
    """
    if outcome.higher_is_better is None:
        return None
    return not outcome.higher_is_better if outcome.kind == "time-to-event" else outcome.higher_is_better


def _index(package: EvidencePackage, name: str, rows: Any, key: Callable[[Any], Any]) -> dict:
    """A per-package index: key(row) -> the FIRST row with that key, in file order (built once, cached)."""
    memo_key = ("synthesis-index", name)
    if memo_key not in package.memo:
        index: dict = {}
        for row in rows:
            index.setdefault(key(row), row)
        package.memo[memo_key] = index
    return package.memo[memo_key]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def _groups(package: EvidencePackage, table: str, values: Any) -> list[str]:
    """Distinct pooling groups of a definition column, in labels.csv order."""
    voc = package.vocabulary
    ordered = sorted(
        dict.fromkeys(v for v in values if v is not None), key=lambda v: voc.position(table, "criterion", v)
    )
    return list(dict.fromkeys(voc.pool_as(table, "criterion", v) for v in ordered))


def _study_row(ct: Contrast, effect: study_effects.StudyEffect, events: str = "") -> StudyRow:
    return StudyRow(
        ct.label,
        ct.study.study_id,
        ct.population.population_id,
        effect.estimate,
        effect.ci_low,
        effect.ci_high,
        effect.yi,
        effect.vi,
        events=events,
        note=effect.note,
    )


def _patients(contrasts: list[Contrast]) -> int:
    return sum(c.n_intervention + c.n_control for c in contrasts)


def reported_analyses(sel: Selection, outcome: Outcome, exclusions: list[Exclusion]) -> list[OutcomeAnalysis]:
    """Pools of printed contrasts (effects.csv) of one outcome: per definition, measure and adjustment."""
    package = sel.package
    voc = package.vocabulary
    rows = (e for e in package.rows("effects") if e.measure != "test" and e.estimate is not None)
    index = _index(
        package,
        "effects",
        rows,
        lambda e: (
            e.population_id,
            e.outcome,
            voc.pool_as("effects", "criterion", e.criterion),
            e.measure,
            e.analysis,
            e.intervention_arm_id,
            e.control_arm_id,
        ),
    )
    criteria = [e.criterion for e in package.rows("effects") if e.outcome == outcome.outcome_id]
    out = []
    for group in _groups(package, "effects", criteria):
        for measure in REPORTED_MEASURES:
            for analysis, adjustment in ADJUSTMENT:
                key = (outcome.outcome_id, group, measure, analysis)

                def find(p, i, c, key=key):
                    return index.get((p.population_id, *key, i.arm_id, c.arm_id))

                contrasts, excl = sel.choose(lambda p, i, c, f=find: f(p, i, c) is not None)
                if not contrasts:
                    continue
                exclusions += [x for x in excl if x.population is not None]
                found = [(ct, find(ct.population, ct.intervention, ct.control)) for ct in contrasts]
                study_rows = [
                    _study_row(ct, study_effects.from_reported(measure, e.estimate, e.ci_low, e.ci_high))
                    for ct, e in found
                ]
                out.append(_reported(outcome, group, measure, adjustment, study_rows, contrasts, settings_of(package)))
    return out


def _reported(
    outcome: Outcome,
    group: str,
    measure: str,
    adjustment: str,
    rows: list[StudyRow],
    contrasts: list[Contrast],
    settings: pooling.PoolSettings,
) -> OutcomeAnalysis:
    named = group != NO_CRITERION
    crit_key = f"{_slug(group)}-" if named else ""
    crit_text = f" ({group})" if named else ""
    a = OutcomeAnalysis(
        key=f"{outcome.outcome_id.lower()}-{crit_key}{measure.lower()}-{adjustment}",
        outcome=outcome.outcome_id,
        title=f"{outcome.label}{crit_text}: {MEASURE_NAMES[measure]} ({adjustment})",
        phrase=outcome.phrase + crit_text,
        measure=measure,
        log_scale=is_ratio(measure),
        higher_is_better=measure_higher_is_better(outcome),
        rows=rows,
        patients=_patients(contrasts),
        unit=None if is_ratio(measure) or measure == "SMD" else outcome.unit,
        source="reported",
    )
    if adjustment == "adjusted":
        a.notes.append(
            f"Adjusted {MEASURE_NAMES[measure]}s come from each paper's own multivariable model; the models differ."
        )
    return finish(a, settings)


def _measures(outcome: Outcome) -> list[str]:
    """The measures of an arm-level outcome: the default first, then the others of its kind."""
    kind = MEASURES_BY_KIND[outcome.kind]
    return [outcome.default_measure, *[m for m in kind if m != outcome.default_measure]]


def _count_pools(
    sel: Selection,
    outcome: Outcome,
    get: Callable[[Any, Any], tuple[int, int] | None],
    exclusions: list[Exclusion] | None,
) -> Iterator[tuple[str, list[Contrast], list[StudyRow], CountLine]]:
    """(measure, contrasts, rows, (control risk, 2x2 tables)) for each measure of a binary outcome's counts."""
    contrasts, excl = sel.choose(lambda p, i, c: get(p, i) is not None and get(p, c) is not None)
    if not contrasts:
        return
    if exclusions is not None:
        exclusions += [x for x in excl if x.population is not None]
    cells = [(ct, get(ct.population, ct.intervention), get(ct.population, ct.control)) for ct in contrasts]
    ctrl_events = sum(c[0] for _ct, _i, c in cells)
    ctrl_n = sum(c[1] for _ct, _i, c in cells)
    risk = ctrl_events / ctrl_n if ctrl_n else None
    tables = [(i[0], i[1], c[0], c[1]) for _ct, i, c in cells]
    measures = [outcome.default_measure] if outcome.counts_from == "adverse_events" else _measures(outcome)
    for measure in measures:
        rows = [
            _study_row(
                ct, study_effects.from_counts(measure, i[0], i[1], c[0], c[1]), f"{i[0]}/{i[1]} vs {c[0]}/{c[1]}"
            )
            for ct, i, c in cells
        ]
        yield measure, contrasts, rows, (risk, tables)


def _count_analysis(
    package: EvidencePackage,
    outcome: Outcome,
    names: tuple[str, str, str],
    measure: str,
    contrasts: list[Contrast],
    rows: list[StudyRow],
    line: CountLine,
) -> OutcomeAnalysis:
    """A pool of counts, with its Mantel-Haenszel (and Peto, for ORs) common-effect lines."""
    key, title, phrase = names
    risk, tables = line
    a = finish(
        OutcomeAnalysis(
            key=key,
            outcome=outcome.outcome_id,
            title=title,
            phrase=phrase,
            measure=measure,
            log_scale=is_ratio(measure),
            higher_is_better=measure_higher_is_better(outcome),
            rows=rows,
            control_risk=risk,
            patients=_patients(contrasts),
            source="per-term" if outcome.counts_from == "adverse_events" else "arm-level",
        ),
        settings_of(package),
    )
    if a.k >= 2:
        a.common_counts.append(pooling.mantel_haenszel(tables, measure))
        if measure == "OR":
            a.common_counts.append(pooling.peto(tables))
    return a


def response_analyses(sel: Selection, outcome: Outcome, exclusions: list[Exclusion]) -> list[OutcomeAnalysis]:
    """RR/OR/RD of objective response (CR+PR) or disease control (CR+PR+SD) per response criterion."""
    package = sel.package
    voc = package.vocabulary
    resp = _index(
        package,
        "response",
        package.rows("response"),
        lambda r: (r.population_id, r.arm_id, voc.pool_as("response", "criterion", r.criterion)),
    )
    orr = outcome.counts_from == "response:orr"
    out = []
    for group in _groups(package, "response", (r.criterion for r in package.rows("response"))):

        def get(p, arm, group=group):
            r = resp.get((p.population_id, arm.arm_id, group))
            events = None if r is None else (r.orr_events if orr else r.dcr_events)
            return None if events is None else (events, r.n_evaluable)

        for measure, contrasts, rows, line in _count_pools(sel, outcome, get, exclusions):
            names = (
                f"{outcome.outcome_id.lower()}-{_slug(group)}-{measure.lower()}",
                f"{outcome.label} ({group}): {MEASURE_NAMES[measure]}",
                f"{outcome.phrase} ({group})",
            )
            out.append(_count_analysis(package, outcome, names, measure, contrasts, rows, line))
    return out


def _norm_term(term: str) -> str:
    return re.sub(r"[\u2010-\u2015\-]+", "-", term.strip().lower())


def adverse_event_analyses(sel: Selection, outcome: Outcome) -> list[OutcomeAnalysis]:
    """One analysis per adverse-event term and grade band (terms match after normalising case and dashes)."""
    package = sel.package
    voc = package.vocabulary
    aes = (a for a in package.rows("adverse_events") if a.arm_id and a.events is not None)
    index = _index(
        package,
        "adverse_events",
        aes,
        lambda a: (a.population_id, a.arm_id, _norm_term(a.term), voc.pool_as("adverse_events", "grade", a.grade)),
    )
    if ("ae-keys",) not in package.memo:
        package.memo[("ae-keys",)] = sorted({(term, band) for (_p, _a, term, band) in index})
    out = []
    for term, band in package.memo[("ae-keys",)]:

        def get(p, arm, term=term, band=band):
            row = index.get((p.population_id, arm.arm_id, term, band))
            return None if row is None else (row.events, row.n_at_risk)

        printed = None
        for measure, contrasts, rows, line in _count_pools(sel, outcome, get, None):
            first = contrasts[0]
            printed = printed or index[(first.population.population_id, first.intervention.arm_id, term, band)].term
            slug = re.sub(r"[^a-z0-9]+", "-", f"{outcome.outcome_id.lower()}-{term}-{band}").strip("-")
            title = f"{printed} ({band}): {MEASURE_NAMES[measure]}"
            names = (slug, title, f"{printed.lower()} ({band})")
            a = _count_analysis(package, outcome, names, measure, contrasts, rows, line)
            a.term = term
            out.append(a)
    return out


def binary_table_analyses(sel: Selection, outcome: Outcome, exclusions: list[Exclusion]) -> list[OutcomeAnalysis]:
    """RR/OR/RD of a binary outcome's arm-level counts in binary_outcomes.csv."""
    package = sel.package
    rows = (b for b in package.rows("binary_outcomes") if b.events is not None and b.n)
    index = _index(package, "binary_outcomes", rows, lambda b: (b.population_id, b.arm_id, b.outcome))

    def get(p, arm):
        row = index.get((p.population_id, arm.arm_id, outcome.outcome_id))
        return None if row is None else (row.events, row.n)

    return [
        _count_analysis(
            package,
            outcome,
            (
                f"{outcome.outcome_id.lower()}-{measure.lower()}",
                f"{outcome.label}: {MEASURE_NAMES[measure]}",
                outcome.phrase,
            ),
            measure,
            contrasts,
            study_rows,
            line,
        )
        for measure, contrasts, study_rows, line in _count_pools(sel, outcome, get, exclusions)
    ]


def continuous_analyses(sel: Selection, outcome: Outcome, exclusions: list[Exclusion]) -> list[OutcomeAnalysis]:
    """MD, SMD and ROM of arm-level means, SDs and sizes (continuous_outcomes.csv), per definition."""
    package = sel.package
    voc = package.vocabulary
    usable = (r for r in package.rows("continuous_outcomes") if None not in (r.mean, r.sd, r.n) and r.sd > 0 and r.n)
    index = _index(
        package,
        "continuous_outcomes",
        usable,
        lambda r: (
            r.population_id,
            r.arm_id,
            r.outcome,
            voc.pool_as("continuous_outcomes", "criterion", r.criterion or NO_CRITERION),
        ),
    )
    criteria = [
        r.criterion or NO_CRITERION for r in package.rows("continuous_outcomes") if r.outcome == outcome.outcome_id
    ]
    out = []
    for group in _groups(package, "continuous_outcomes", criteria):

        def get(p, arm, group=group):
            return index.get((p.population_id, arm.arm_id, outcome.outcome_id, group))

        contrasts, excl = sel.choose(lambda p, i, c: get(p, i) is not None and get(p, c) is not None)
        if not contrasts:
            continue
        exclusions += [x for x in excl if x.population is not None]
        named = group != NO_CRITERION
        for measure in _measures(outcome):
            rows = []
            for ct in contrasts:
                i, c = get(ct.population, ct.intervention), get(ct.population, ct.control)
                effect = study_effects.from_means(measure, i.mean, i.sd, i.n, c.mean, c.sd, c.n)
                summary = f"{i.mean:g} ({i.sd:g}), n={i.n} vs {c.mean:g} ({c.sd:g}), n={c.n}"
                rows.append(_study_row(ct, effect, summary))
            crit_text = f" ({group})" if named else ""
            out.append(
                finish(
                    OutcomeAnalysis(
                        key=f"{outcome.outcome_id.lower()}-{_slug(group) + '-' if named else ''}{measure.lower()}",
                        outcome=outcome.outcome_id,
                        title=f"{outcome.label}{crit_text}: {MEASURE_NAMES[measure]}",
                        phrase=outcome.phrase + crit_text,
                        measure=measure,
                        log_scale=is_ratio(measure),
                        higher_is_better=measure_higher_is_better(outcome),
                        rows=rows,
                        patients=_patients(contrasts),
                        unit=outcome.unit if measure == "MD" else None,
                    ),
                    settings_of(package),
                )
            )
    return out
