"""The subgroup section of a forest plot: the analysis split by the comparison's effect modifier, each level
pooled apart, with the test for subgroup differences (RevMan's Q between subgroups, and metafor's moderator
test), as a forest plot, a table and sentences."""

from __future__ import annotations

from typing import Any

from livingevidence.analysis.synthesis import OutcomeAnalysis
from livingevidence.charts import forest
from livingevidence.model import EvidencePackage
from livingevidence.numbers import format_interval, format_number, format_p_value
from livingevidence.pages.common import Table
from livingevidence.pages.findings import effect_text, num


def _level_name(package: EvidencePackage, level: str) -> str:
    return package.vocabulary.label("population_attributes", "value", level)


def subgroup_block(
    package: EvidencePackage, a: OutcomeAnalysis, intervention: str = "intervention", control: str = "control"
) -> dict[str, Any] | None:
    """The forest plot, table and test sentence of an analysis' subgroups, or None without subgroups."""
    sub = a.subgroups
    if sub is None or sub.result is None:
        return None
    voc = package.vocabulary
    attribute = voc.label("population_attributes", "attribute", sub.attribute)
    pools = {s.level: s for s in sub.result.subgroups}
    rows, table_rows = [], []
    for level in sub.levels:
        name = _level_name(package, level)
        for lvl, r in sub.rows:
            if lvl == level:
                rows.append(
                    {**_row(f"{r.label} [{name}]", "study", a, r.estimate, r.ci_low, r.ci_high), "study": r.study_id}
                )
        s = pools[level]
        est, lo, hi = a.natural(s.estimate), a.natural(s.ci_low), a.natural(s.ci_high)
        label = f"Subtotal: {name} (k = {s.k})"
        rows.append(_row(label, "pooled", a, est, lo, hi))
        table_rows.append([name, str(s.k), effect_text(a.measure, est, lo, hi)])
    spec = forest.spec(
        rows,
        title=f"{a.title}, by {attribute}",
        measure=a.measure,
        log_scale=a.log_scale,
        lower_is_better=None if a.higher_is_better is None else not a.higher_is_better,
        intervention=intervention,
        control=control,
        unit=a.unit or "",
    )
    return {
        "spec": spec,
        "description": forest.describe(rows, measure=a.measure),
        "data_href": "",
        "table": Table([attribute, "Study populations", "Pooled within the subgroup (95% CI)"], table_rows),
        "sentences": [],
        "title": f"Subgroups by {attribute}",
        "test": test_sentence(sub.result),
    }


def _row(label: str, kind: str, a: OutcomeAnalysis, est: Any, lo: Any, hi: Any) -> dict[str, Any]:
    return {
        "label": label,
        "kind": kind,
        "estimate": est,
        "ci_low": lo,
        "ci_high": hi,
        "weight": None,
        "text": f"{num(est, a.measure)} ({format_interval(lo, hi, ratio=a.log_scale)})",
    }


def test_sentence(result: Any) -> str:
    """'Test for subgroup differences: Q = 1.21 on 1 df, p = 0.27 (I² = 17%); moderator test F(1, 1) = ...'."""
    parts = []
    b = result.between
    if b is not None:
        parts.append(
            f"Test for subgroup differences (random effects within subgroups): Q = {format_number(b.q)} on {b.df} df, "
            f"p = {format_p_value(b.p_value)}, I² = {format_number(b.i2)}%."
        )
    m = result.moderator
    if m is not None:
        stat = f"F({m.df1}, {m.df2})" if m.distribution == "F" else f"QM (chi-square, {m.df1} df)"
        parts.append(
            f"Meta-regression on the subgroup (metafor rma(mods)): {stat} = {format_number(m.statistic)}, "
            f"p = {format_p_value(m.p_value)}."
        )
    elif result.moderator_note:
        parts.append(result.moderator_note)
    parts.append("Subgroups of this kind compare studies, not patients: a difference may have other causes.")
    return " ".join(parts)
