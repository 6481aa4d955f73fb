"""Risk of bias and certainty on the pages: every study of the first topic assessed with support and location,
every summary-of-findings row rated with reasons, decisions applied as the maintainers recorded them, the
restricted sensitivity analysis, the forest-plot columns, and the charts drawn in Chromium with their text
alternatives."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from pathlib import Path

import pytest

from livingevidence.analysis.appraisal import grade_rules
from livingevidence.analysis.appraisal.evidence import lower_risk_sensitivity
from livingevidence.analysis.appraisal.risk_of_bias import assessments
from livingevidence.analysis.synthesis import synthesise
from livingevidence.load import load_package
from livingevidence.model import Certainty, EvidencePackage
from livingevidence.pages import appraisal
from livingevidence.pages.comparison import comparison_page
from livingevidence.pages.findings import main_analyses
from livingevidence.pages.render import render
from livingevidence.pages.study import study_page
from tests.browser_helpers import wait_until

PACKAGE = load_package()
CID = "add-pd1-to-regorafenib"


def _with(package: EvidencePackage, **tables: list) -> EvidencePackage:
    """A copy of the package with some tables replaced (and fresh caches)."""
    return dataclasses.replace(package, tables={**package.tables, **tables})


def test_every_study_has_a_robins_i_assessment_with_support_and_location() -> None:
    found = assessments(PACKAGE)
    assert set(found) == set(PACKAGE.studies)
    for sid, a in found.items():
        assert a.tool.id == "ROBINS-I" and a.version == "2016", sid
        assert {r.domain for r in a.rows} == {*a.tool.domain_ids, "overall"}, sid
        assert all(r.support and r.location for r in a.rows), sid
        assert a.assessed_by == "summary maintainers" and a.assessed_on == date(2026, 12, 1)
        assert all(p.overall is not None for p in a.profiles()), sid


@pytest.mark.parametrize("cid", list(PACKAGE.comparisons))
def test_every_summary_of_findings_row_has_a_rating_with_reasons(cid: str) -> None:
    syn = synthesise(PACKAGE, cid)
    page = comparison_page(PACKAGE, PACKAGE.comparisons[cid], syn)
    lines = appraisal.certainty_lines(PACKAGE, PACKAGE.comparisons[cid], syn)
    assert len(lines) == len(page.context["sof"].rows) >= 1
    for line in lines:
        assert line["rating"] in grade_rules.LEVELS and line["symbols"] == grade_rules.SYMBOLS[line["rating"]]
        assert line["status"] == "proposed"  # no maintainer has decided yet
        assert line["reasons"] and line["statement"].endswith(".")
    text = render(page.template, **page.context)
    assert "is associated with" not in text
    assert "not assessed" not in page.context["sof"].rows[0][4]


def test_two_studies_say_that_tau2_cannot_be_estimated() -> None:
    # Li et al. (RR 1.91) and Ma et al.'s PD-1-naive cohort (6.14); the PD-1-exposed cohort is a subgroup.
    syn = synthesise(PACKAGE, "add-pd1-to-regorafenib")
    cert = appraisal.comparison_certainty(PACKAGE, "add-pd1-to-regorafenib", syn)["orr-mrecist-rr"]
    inconsistency = next(d for d in cert.domains if d.key == "inconsistency")
    assert "tau² cannot be estimated reliably" in inconsistency.reason
    assert inconsistency.downgrade == 1  # Q's p = 0.09: below 0.10


def _decided(decision: str, proposed: str, rating: str) -> Certainty:
    return Certainty(
        CID, "DCR", "dcr-mrecist-rr", decision, proposed, rating, "Checked by two maintainers.", "M", date(2027, 1, 2)
    )


def test_decisions_confirm_override_or_go_stale() -> None:
    syn = synthesise(PACKAGE, CID)
    proposed = appraisal.comparison_certainty(PACKAGE, CID, syn)["dcr-mrecist-rr"].proposed
    confirmed = appraisal.comparison_certainty(
        _with(PACKAGE, certainty=[_decided("confirmed", proposed, proposed)]), CID, syn
    )["dcr-mrecist-rr"]
    assert confirmed.status == "confirmed" and confirmed.rating == proposed
    override = appraisal.comparison_certainty(
        _with(PACKAGE, certainty=[_decided("overridden", proposed, "low")]), CID, syn
    )["dcr-mrecist-rr"]
    assert override.status == "overridden" and override.rating == "low" and override.proposed == proposed
    assert any(r == "Overridden by M on 2027-01-02: Checked by two maintainers." for r in override.reasons)
    assert override.statement.startswith("Adding a PD-1 inhibitor to regorafenib-based therapy may result in")
    stale = appraisal.comparison_certainty(
        _with(PACKAGE, certainty=[_decided("confirmed", "moderate", "moderate")]), CID, syn
    )["dcr-mrecist-rr"]
    assert stale.status == "proposed" and stale.rating == proposed and "rules now propose" in stale.note
    # a decision for the outcome (no analysis named) applies to its other analyses too
    whole = dataclasses.replace(_decided("overridden", proposed, "low"), analysis=None)
    other = appraisal.comparison_certainty(_with(PACKAGE, certainty=[whole]), CID, syn)["dcr-recist11-rr"]
    assert other.status == "overridden"


def test_a_study_without_an_assessment_counts_as_serious_and_says_so() -> None:
    package = _with(PACKAGE, risk_of_bias=[r for r in PACKAGE.rows("risk_of_bias") if r.study_id != "li-trp-tr"])
    section = appraisal.study_risk_of_bias(package, package.studies["li-trp-tr"])
    assert section == {"assessed": False, "tool": "ROBINS-I"}
    page = study_page(package, package.studies["li-trp-tr"], [])
    assert "Not assessed yet (ROBINS-I is the tool for this design)" in render(page.template, **page.context)
    syn = synthesise(package, CID)
    rob = next(
        d
        for d in appraisal.comparison_certainty(package, CID, syn)["orr-mrecist-rr"].domains
        if d.key == "risk-of-bias"
    )
    assert "Li et al. not assessed (counted as serious)" in rob.reason and rob.downgrade == 2


def test_sensitivity_restricted_to_lower_risk_of_bias() -> None:
    syn = synthesise(PACKAGE, CID)
    orr = next(a for a in syn.analyses if a.key == "orr-mrecist-rr")
    assert lower_risk_sensitivity(PACKAGE, orr).text.endswith("none of the 2 study populations is.")
    # Li et al. judged at moderate risk overall: its population alone makes the restricted analysis (Ma et al.'s
    # PD-1-naive cohort stays out), shown and not pooled.
    rows = [
        dataclasses.replace(r, judgement="moderate") if r.study_id == "li-trp-tr" and r.domain == "overall" else r
        for r in PACKAGE.rows("risk_of_bias")
    ]
    restricted = lower_risk_sensitivity(_with(PACKAGE, risk_of_bias=rows), orr)
    li = [r for r in orr.rows if r.study_id == "li-trp-tr"]
    assert len(li) == 1 and restricted.kept == (li[0].label,) and not restricted.pooled
    assert "Restricted to the one study population" in restricted.text and li[0].label in restricted.text


def test_forest_rows_carry_domain_and_overall_judgements() -> None:
    syn = synthesise(PACKAGE, CID)
    orr = next(a for a in main_analyses(PACKAGE, syn) if a.key == "orr-mrecist-rr")
    cells = appraisal.forest_rob(PACKAGE, orr)
    assert [c["column"] for c in cells[0]] == [*(f"D{i}" for i in range(1, 8)), "Overall"]
    assert [row[-1]["judgement"] for row in cells] == ["serious"] * 2
    section = next(
        s for s in comparison_page(PACKAGE, PACKAGE.comparisons[CID], syn).context["sections"] if s["analysis"] is orr
    )
    spec = section["forest"]["spec"]
    drawn = [c for c in spec["datasets"]["le_rob"] if not c["_head"]]
    assert len(drawn) == 2 * 8 and {c["_symbol"] for c in drawn} >= {"×", "−", "?"}
    assert section["forest"]["table"].headers[-1] == "Risk of bias"
    assert "risk of bias serious (D1 serious" in section["forest"]["sentences"][0]


def test_comparison_json_has_the_judgements(built_site: Path) -> None:
    api = json.loads((built_site / "api" / "comparisons" / f"{CID}.json").read_text(encoding="utf-8"))
    judged = api["appraisal"]
    assert {c["analysis"] for c in judged["certainty"]} >= {"orr-mrecist-rr", "dcr-mrecist-rr", "os-hr-adjusted"}
    assert judged["risk_of_bias"]["li-trp-tr"]["overall"]["all"] == "serious"
    assert judged["lower_risk_of_bias"]["orr-mrecist-rr"]["k_lower_risk"] == 0


@pytest.mark.browser
def test_traffic_lights_and_forest_columns_render_with_text_alternatives(browser, site_url: str) -> None:
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    try:
        page.goto(site_url + "studies/han-tace-rego/", wait_until="networkidle")
        figure = page.locator("figure", has=page.locator("[aria-label^='Risk-of-bias traffic-light plot']"))
        wait_until(page, "() => document.querySelector('[aria-label^=\"Risk-of-bias traffic-light\"] svg') !== null")
        assert "!" in figure.locator("svg").text_content()  # the critical symbol is drawn, not only its colour
        assert figure.locator("details table").count() == 1
        judgements = page.locator("table", has=page.locator("caption", has_text="ROBINS-I judgements"))
        assert judgements.locator("tbody tr").count() == 13 and "Critical" in judgements.text_content()  # folded
        assert page.get_by_text("This summary's own appraisal").count() >= 1
        page.goto(site_url + f"comparisons/{CID}/", wait_until="networkidle")
        forest = page.locator("[aria-label*='risk-of-bias judgements as symbols']").first
        wait_until(page, "() => document.querySelector('[aria-label*=\"risk-of-bias judgements\"] svg') !== null")
        drawn = forest.locator("svg").text_content()
        assert "×" in drawn and "Overall" in drawn and "D7" in drawn
        assert page.locator("[aria-label^='Risk-of-bias summary plot'] svg").count() == 1
        assert page.locator(".le-sof-notes li").count() >= 3
        page.set_viewport_size({"width": 412, "height": 900})
        page.reload(wait_until="networkidle")
        wait_until(page, "() => document.querySelector('[aria-label*=\"risk-of-bias judgements\"] svg') !== null")
        assert "RoB" in page.locator("[aria-label*='risk-of-bias judgements'] svg").first.text_content()
    finally:
        page.close()


def test_from_ten_studies_egger_test_and_a_funnel_plot() -> None:
    """Twelve invented log odds ratios: the publication-bias domain runs Egger's test and the page draws the
    funnel plot; below ten the domain says it is not assessable."""
    from livingevidence.analysis.appraisal.certainty import assess
    from livingevidence.analysis.appraisal.evidence import evidence_of
    from livingevidence.analysis.appraisal.small_studies import egger_test
    from livingevidence.analysis.synthesis_model import OutcomeAnalysis, StudyRow, finish
    from tests.chart_examples import FUNNEL

    rows = [StudyRow(r["label"], "li-trp-tr", "li-after-psm", None, None, None, r["yi"], r["se"] ** 2) for r in FUNNEL]
    a = finish(
        OutcomeAnalysis(
            "orr-x-or", "ORR", "Objective response: odds ratio", "objective response", "OR", True, True, rows
        )
    )
    cert = assess(PACKAGE, evidence_of(PACKAGE, CID, a), "Drug Y", "drug X")
    bias = next(d for d in cert.domains if d.key == "publication-bias")
    expected = egger_test([r["yi"] for r in FUNNEL], [r["se"] ** 2 for r in FUNNEL])
    assert bias.assessable and bias.downgrade == 0 and "Egger's test t = " in bias.reason
    assert cert.egger["p_value"] == pytest.approx(expected.p_value, rel=1e-12)
    block = appraisal.funnel_block(a, "x.json")
    assert block is not None and len(block["table"].rows) == 12
    few = finish(OutcomeAnalysis("orr-y-or", "ORR", "t", "objective response", "OR", True, True, rows[:9]))
    assert appraisal.funnel_block(few, "x.json") is None
    few_bias = next(
        d for d in assess(PACKAGE, evidence_of(PACKAGE, CID, few), "Y", "X").domains if d.key == "publication-bias"
    )
    assert not few_bias.assessable and "fewer than 10 studies" in few_bias.reason
