"""Words for one row of a data table, for the data-checks page: which study it belongs to and what it holds
("Adverse event Hand-foot skin reaction (grade 3–4), arm TRP, population After PSM"), instead of a file name, a
line number and the ids of populations and arms.

Every word comes from the package: labels of studies, arms, populations and outcomes, labels.csv for coded
values, and the row's own text.
"""

from __future__ import annotations

import re
from typing import Any

from livingevidence.model import EvidencePackage
from livingevidence.vocabulary import MEASURE_NAMES, NO_CRITERION


def row_at(package: EvidencePackage, file: str, line: int | None) -> tuple[str, Any] | None:
    """(table, row) of a CSV line of the package (line 1 is the header), or None when it is not a table row.

    Like problems_by_study, this counts one line per row: a row whose text holds a line break shifts the rows
    after it, which the checks' own line numbers then say.
    """
    table = file.rsplit("/", 1)[-1].removesuffix(".csv") if file else ""
    if line is None or table not in package.tables:
        return None
    rows = package.tables[table]
    return (table, rows[line - 2]) if 0 <= line - 2 < len(rows) else None


def study_of(package: EvidencePackage, row: Any) -> str | None:
    """The study a row belongs to, or None (a vocabulary row, or a row whose keys do not resolve)."""
    try:
        return package.study_of(row)
    except (KeyError, ValueError):
        return None


def _where(package: EvidencePackage, row: Any) -> str:
    """', arm X, population Y' for a row with an arm and a population (what it has of them)."""
    parts = []
    arm = package.arms.get(getattr(row, "arm_id", None) or "")
    if arm:
        parts.append(f"arm {arm.label}")
    population = package.populations.get(getattr(row, "population_id", None) or "")
    if population:
        parts.append(f"population {population.label}")
    return "".join(f", {p}" for p in parts)


def _effect(package: EvidencePackage, row: Any, outcome: str) -> str:
    vocab = package.vocabulary
    criterion = row.criterion if row.criterion and row.criterion != NO_CRITERION else ""
    arms = [package.arms.get(a) for a in (row.intervention_arm_id, row.control_arm_id)]
    versus = " vs ".join(a.label for a in arms if a)
    measure = MEASURE_NAMES.get(row.measure, "test of the difference" if row.measure == "test" else row.measure)
    text = f"{outcome}" + (f" ({vocab.label('effects', 'criterion', criterion)})" if criterion else "")
    text += f", {row.analysis} {measure}" if row.analysis else f", {measure}"
    population = package.populations.get(row.population_id)
    return text + (f", arms {versus}" if versus else "") + (f", population {population.label}" if population else "")


def describe_row(package: EvidencePackage, table: str, row: Any) -> str:
    """What one row holds, in words (its table's title for tables without a description here)."""
    vocab = package.vocabulary
    outcome = vocab.outcome_label(getattr(row, "outcome", "") or "")
    found = vocab.outcome(getattr(row, "outcome", "") or "")
    phrase = found.phrase if found else outcome  # the outcome inside a sentence ("median overall survival")
    where = _where(package, row)
    if table == "adverse_events":
        return f"Adverse event {row.term} ({vocab.label('adverse_events', 'grade', row.grade)}){where}"
    if table == "baseline":
        category = f": {row.category}" if row.category and row.category != "all" else ""
        return f"Baseline {vocab.label('baseline', 'characteristic', row.characteristic)}{category}{where}"
    if table in ("binary_outcomes", "continuous_outcomes"):
        return f"{outcome}{where}"
    if table == "survival":
        return f"Median {phrase}{where}"
    if table == "landmarks":
        return f"{outcome} at {row.time_months:g} months{where}"
    if table == "effects":
        return _effect(package, row, outcome)
    if table == "response":
        return f"Response by {vocab.label('response', 'criterion', row.criterion)}{where}"
    if table == "prognostic_factors":
        reference = f" vs {row.reference_level}" if row.reference_level else ""
        return f"Prognostic factor {row.factor}: {row.level}{reference}, {outcome} ({row.analysis}){where}"
    if table == "subgroups":
        return f"Subgroup {row.variable}: {row.level}, median {phrase}{where}"
    if table == "population_arms":
        return f"Number of patients{where}"
    if table == "populations":
        return f"Population {row.label}"
    if table == "arms":
        return f"Arm {row.label}"
    if table == "studies":
        return "The study's details"
    if table == "extraction_notes":
        return f"Extraction note: {row.topic}"
    return f"A row of {table}"


def with_labels(package: EvidencePackage, study_id: str | None, message: str) -> str:
    """`message` with the ids of the study's arms and populations replaced by their labels ("the n of
    lpr-overall" becomes "the n of Overall"); ids of other studies are left alone."""
    if study_id is None:
        return message
    names = {a.arm_id: a.label for a in package.arms_of(study_id)}
    names |= {p.population_id: p.label for p in package.populations_of(study_id)}
    names = {i: label for i, label in names.items() if i not in package.studies}  # a study's id stays itself
    if not names:
        return message
    ids = sorted(names, key=len, reverse=True)  # the longest first: 'li-trp' before 'li'
    pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, ids)) + r")(?![\w-])")
    return pattern.sub(lambda m: names[m.group(1)], message)
