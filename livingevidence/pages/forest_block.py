"""One outcome's forest plot on a comparison page: the chart spec, its sentences and table, and the words on
heterogeneity and the sensitivity lines. Numbers are printed by livingevidence.numbers (never "0.000")."""

from __future__ import annotations

from typing import Any

from livingevidence.analysis.appraisal.tools import style
from livingevidence.analysis.synthesis import OutcomeAnalysis
from livingevidence.charts import forest
from livingevidence.numbers import format_interval, format_number, format_p_value
from livingevidence.pages.common import Table
from livingevidence.pages.findings import effect_text, num


def _row(label: str, kind: str, a: OutcomeAnalysis, est: Any, lo: Any, hi: Any, weight: Any = None) -> dict:
    return {
        "label": label,
        "kind": kind,
        "estimate": est,
        "ci_low": lo,
        "ci_high": hi,
        "weight": None if weight is None else round(weight, 1),
        "text": effect_text(a.measure, est, lo, hi).split(" ", 1)[1],
    }


def _rows(a: OutcomeAnalysis, rob: list[list[dict]] | None = None) -> list[dict[str, Any]]:
    rows = [
        {**_row(r.label, "study", a, r.estimate, r.ci_low, r.ci_high, r.weight), "study": r.study_id} for r in a.rows
    ]
    for row, cells in zip(rows, rob or (), strict=False):
        row["rob"] = cells
    s = a.summary()
    if s:
        rows.append(
            _row(f"Random effects ({s['method_short']})", "pooled", a, s["estimate"], s["ci_low"], s["ci_high"])
        )
        if s["prediction_low"] is not None:
            pi = _row(
                "95% prediction interval", "prediction", a, s["estimate"], s["prediction_low"], s["prediction_high"]
            )
            pi["text"] = format_interval(s["prediction_low"], s["prediction_high"], ratio=a.log_scale)
            rows.append(pi)
    return rows


def forest_block(
    a: OutcomeAnalysis,
    data_href: str,
    intervention_short: str = "intervention",
    control_short: str = "control",
    rob: list[list[dict]] | None = None,
) -> dict[str, Any]:
    """Forest plot spec, its text version (one sentence per row), its table and its caption's method.

    `rob`: per study row, its risk-of-bias cells ({"column", "domain", "judgement"}; pages/appraisal.py), drawn
    beside the row and added to the sentences and the table."""
    rows = _rows(a, rob)
    s = a.summary()
    spec = forest.spec(
        rows,
        title=a.title,
        measure=a.measure,
        log_scale=a.log_scale,
        lower_is_better=None if a.higher_is_better is None else not a.higher_is_better,
        intervention=intervention_short,
        control=control_short,
        unit=a.unit or "",
    )
    sentences = []
    for r, row in zip(a.rows, rows, strict=False):
        w = f", weight {r.weight:.0f}%" if r.weight is not None else ""
        ev = f" ({r.events})" if r.events else ""
        bias = f"; risk of bias {_rob_words(row['rob'])}" if row.get("rob") else ""
        sentences.append(f"{r.label}{ev}: {effect_text(a.measure, r.estimate, r.ci_low, r.ci_high)}{w}{bias}.")
    if s:
        sentences.append(
            f"Pooled (random effects): {effect_text(a.measure, s['estimate'], s['ci_low'], s['ci_high'])}."
        )
        if s["prediction_low"] is not None:
            interval = format_interval(s["prediction_low"], s["prediction_high"], ratio=a.log_scale)
            sentences.append(f"95% prediction interval {interval}.")
    with_rob = any(x.get("rob") for x in rows)
    table = Table(
        ["Row", "Estimate", "95% CI", "Weight (%)", *(["Risk of bias"] if with_rob else [])],
        [
            [
                x["label"],
                num(x["estimate"], a.measure),
                format_interval(x["ci_low"], x["ci_high"], ratio=a.log_scale),
                "" if x["weight"] is None else f"{x['weight']:.1f}",
                *([_rob_words(x["rob"]) if x.get("rob") else ""] if with_rob else []),
            ]
            for x in rows
        ],
    )
    return {
        "spec": spec,
        "description": forest.describe(rows, measure=a.measure),
        "data_href": data_href,
        "table": table,
        "sentences": sentences,
        "method": s["method"] if s else "",
        "rob_key": _rob_key(rows),
    }


def _rob_key(rows: list[dict[str, Any]]) -> str:
    """What each risk-of-bias column is: 'D1 Bias due to confounding; ...; Overall'."""
    cells = next((x["rob"] for x in rows if x.get("rob")), [])
    return "; ".join(c["column"] if c["column"] == "Overall" else f"{c['column']} {c['domain']}" for c in cells)


def _rob_words(cells: list[dict]) -> str:
    """'serious (D1 serious, D2 moderate, ...)': the overall judgement, then each domain's, in words."""
    words = {c["column"]: style(c.get("judgement")).label.lower() for c in cells}
    overall = words.pop("Overall", "not assessed")
    domains = ", ".join(f"{column} {word}" for column, word in words.items())
    return f"{overall} ({domains})" if domains else overall


def heterogeneity_text(a: OutcomeAnalysis) -> str:
    """Heterogeneity, the method notes and the common-effect sensitivity lines, in words."""
    s = a.summary()
    if not s:
        return "Nothing was pooled, so heterogeneity is not estimated."
    pi = (
        f" 95% prediction interval {format_interval(s['prediction_low'], s['prediction_high'], ratio=a.log_scale)}."
        if s["prediction_low"] is not None
        else " No prediction interval with fewer than 3 studies."
    )
    tau2_ci = format_interval(*s["tau2_ci"], ratio=False)
    i2_ci = f"{format_number(s['i2_ci'][0])}% to {format_number(s['i2_ci'][1])}%"
    text = (
        f"Heterogeneity: tau² = {format_number(s['tau2'])} (95% CI {tau2_ci}), "
        f"I² = {format_number(s['i2'])}% (95% CI {i2_ci}), Q = {format_number(s['q'])} on {s['q_df']} df, "
        f"p = {format_p_value(s['q_p'])}.{pi}"
    )
    if s["notes"]:
        text += " " + " ".join(s["notes"])
    common = [("inverse variance", s["common_estimate"], s["common_ci_low"], s["common_ci_high"], a.measure)]
    for line in s["common_counts"]:
        common.append((line["method"], line["estimate"], line["ci_low"], line["ci_high"], line["measure"]))
    parts = [f"{effect_text(measure, est, lo, hi)} ({method})" for method, est, lo, hi, measure in common]
    return text + " Common-effect sensitivity analyses: " + "; ".join(parts) + "."
