"""The judgement rules against worked examples: the risk-of-bias tools' overall rules, GRADE's levels, CINeMA's
imprecision and heterogeneity tables, the optimal information size, GRADE's informative wording and Egger's
test (against metafor's regtest)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from livingevidence.analysis.appraisal import grade_rules as rules
from livingevidence.analysis.appraisal.small_studies import egger_test
from livingevidence.analysis.appraisal.tools import ROB_2, ROBINS_I, style, tool_for_design
from livingevidence.analysis.appraisal.wording import Effect, in_sentence, statement

REFERENCE = Path(__file__).parent / "reference" / "metafor" / "egger.json"

# --- the tools ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("domains", "overall"),
    [
        (["low"] * 7, "low"),
        (["low"] * 6 + ["moderate"], "moderate"),
        (["low", "moderate", "no-information", "low", "low", "low", "low"], "no-information"),
        (["serious", "no-information", "moderate", "low", "low", "low", "low"], "serious"),
        (["serious", "critical", "no-information", "low", "low", "low", "low"], "critical"),
        (["no-information"] * 7, "no-information"),
    ],
)
def test_robins_i_overall_rule(domains: list[str], overall: str) -> None:
    """Sterne et al. 2016, Table 2: the most severe domain; no information only without serious or critical."""
    assert ROBINS_I.overall(domains) == overall
    assert ROBINS_I.allowed_overall(domains) == {overall}


@pytest.mark.parametrize(
    ("domains", "overall", "allowed"),
    [
        (["low"] * 5, "low", {"low"}),
        (["low", "some-concerns", "low", "low", "low"], "some-concerns", {"some-concerns"}),
        (["some-concerns", "some-concerns", "low", "low", "low"], "some-concerns", {"some-concerns", "high"}),
        (["high", "some-concerns", "low", "low", "low"], "high", {"high"}),
    ],
)
def test_rob_2_overall_rule(domains: list[str], overall: str, allowed: set[str]) -> None:
    """Sterne et al. 2019: high if any domain is high; several domains with some concerns may also be high."""
    assert ROB_2.overall(domains) == overall
    assert ROB_2.allowed_overall(domains) == allowed


def test_tools_domains_designs_and_styles() -> None:
    assert len(ROBINS_I.domains) == 7 and len(ROB_2.domains) == 5
    assert [d.short for d in ROBINS_I.domains] == [f"D{i}" for i in range(1, 8)]
    assert tool_for_design("rct") is ROB_2
    assert tool_for_design("retrospective-cohort") is ROBINS_I and tool_for_design("quasi-randomised-trial") is ROBINS_I
    symbols = {j: style(j).symbol for j in ("low", "moderate", "serious", "critical", "no-information", None)}
    assert symbols == {"low": "+", "moderate": "−", "serious": "×", "critical": "!", "no-information": "?", None: "–"}


def test_judgement_colours_have_readable_symbols_and_match_the_css() -> None:
    """Every symbol's ink has 4.5:1 contrast on its fill, and site.css paints the badges in the same colours."""
    from livingevidence.charts.theme import contrast_ratio

    css = (Path(__file__).parent.parent / "livingevidence" / "static" / "site.css").read_text(encoding="utf-8")
    for value in ("low", "moderate", "some-concerns", "serious", "high", "critical", "no-information", None):
        s = style(value)
        assert contrast_ratio(s.fill, s.ink) >= 4.5, value
        rule = next(line for line in css.splitlines() if f".le-rob--{s.value}" in line)
        assert f"background: {s.fill};" in rule and f"color: {s.ink};" in rule, rule


# --- GRADE levels and risk of bias ----------------------------------------------------------------------------


def test_rating_after_levels_and_symbols() -> None:
    assert [rules.rating_after(n) for n in range(5)] == ["high", "moderate", "low", "very-low", "very-low"]
    assert rules.rating_after(1, start="low") == "very-low"
    assert rules.SYMBOLS["low"] == "⊕⊕◯◯" and rules.WORDS["very-low"] == "Very low"


@pytest.mark.parametrize(
    ("judgements", "weights", "levels", "mean"),
    [
        (["serious", "serious"], [40, 60], 2, 2.0),  # two ROBINS-I serious studies: low certainty (GRADE 18)
        (["low", "serious"], [50, 50], 1, 1.0),
        (["low", "moderate"], [70, 30], 0, 0.3),
        (["moderate", "serious"], [50, 50], 2, 1.5),  # half rounds up
        (["low", "critical"], [75, 25], 1, 0.75),
        (["critical"], [100], 3, 3.0),
        (["no-information"], [100], 2, 2.0),  # counted as serious
        ([None, "low"], [60, 40], 1, 1.2),  # not assessed: counted as serious
        (["some-concerns", "high"], [50, 50], 2, 1.5),  # RoB 2
    ],
)
def test_risk_of_bias_weighted_by_the_weights(judgements, weights, levels: int, mean: float) -> None:
    got_levels, got_mean = rules.risk_of_bias_downgrade(judgements, weights)
    assert got_levels == levels and got_mean == pytest.approx(mean)


# --- CINeMA: imprecision and inconsistency ------------------------------------------------------------------


def test_thresholds_are_the_mid_either_side_of_the_null() -> None:
    assert rules.thresholds(1.25, ratio=True) == pytest.approx((0.8, 1.25))
    assert rules.thresholds(5.0, ratio=False) == (-5.0, 5.0)
    assert rules.thresholds(None, ratio=True) == (1.0,) and rules.thresholds(None, ratio=False) == (0.0,)


@pytest.mark.parametrize(
    ("low", "high", "crossed", "down"),
    [
        (0.85, 1.10, 0, 0),  # inside the range of equivalence: precisely no important effect
        (1.30, 1.80, 0, 0),  # beyond it: precisely an important effect
        (0.55, 0.78, 0, 0),
        (0.90, 1.40, 1, 1),  # no effect and an important increase both compatible
        (0.60, 0.95, 1, 1),
        (0.50, 2.00, 2, 2),  # important decrease and increase both compatible
        (0.80, 1.25, 0, 0),  # a bound on a threshold does not cross it
    ],
)
def test_cinema_imprecision(low: float, high: float, crossed: int, down: int) -> None:
    limits = rules.thresholds(1.25, ratio=True)
    assert rules.crossings(low, high, limits) == crossed
    assert rules.imprecision_downgrade(crossed) == down


def test_imprecision_with_the_optimal_information_size() -> None:
    assert rules.imprecision_downgrade(0, information_met=False) == 1  # a narrow CI from too few patients
    assert rules.imprecision_downgrade(0, information_met=True) == 0
    assert rules.imprecision_downgrade(2, information_met=False) == 2
    assert rules.imprecision_downgrade(1, information_met=None) == 1


def test_optimal_information_size_worked_example() -> None:
    """Control risk 20%, relative risk reduction 25%, alpha 0.05, power 80%: (1.96 + 0.84)² × (0.16 + 0.1275) /
    0.05² = 902.6, so 903 per arm (Guyatt et al. 2011's example gives about 1,800 in all)."""
    assert rules.optimal_information_size(0.20, 0.25) == 1806
    assert rules.optimal_information_size(0.0, 0.25) is None and rules.optimal_information_size(0.5, 0.0) is None


@pytest.mark.parametrize(
    ("c", "p", "down"),
    [((0, 0, 0)), (0, 1, 1), (0, 2, 2), (1, 1, 0), (1, 2, 1), (2, 2, 0), (1, 0, 0), (2, 1, 0)],
)
def test_cinema_heterogeneity_table(c: int, p: int, down: int) -> None:
    """The six cells of CINeMA's table; a prediction interval narrower than the CI (rounding) counts as the CI."""
    assert rules.inconsistency_downgrade(c, p) == down


def test_inconsistency_from_intervals_with_and_without_an_mid() -> None:
    limits = rules.thresholds(1.25, ratio=True)
    # pooled CI 0.85-1.15 (c = 0) with a prediction interval 0.60-1.60 (p = 2): major, two levels
    assert rules.inconsistency_downgrade(rules.crossings(0.85, 1.15, limits), rules.crossings(0.6, 1.6, limits)) == 2
    # without an MID the null is the only threshold: CI 1.1-1.5 (c = 0), PI 0.9-1.8 (p = 1): some, one level
    null = rules.thresholds(None, ratio=True)
    assert rules.inconsistency_downgrade(rules.crossings(1.1, 1.5, null), rules.crossings(0.9, 1.8, null)) == 1


# --- wording (Santesso et al. 2020) -----------------------------------------------------------------------


def _effect(estimate: float, low: float, high: float, kind: str = "time-to-event", mid: float | None = 1.25) -> Effect:
    return Effect(estimate, low, high, True, kind, rules.thresholds(mid, ratio=True))


@pytest.mark.parametrize(
    ("rating", "effect", "sentence"),
    [
        ("high", _effect(0.6, 0.5, 0.7), "Drug Y results in longer overall survival compared with drug X."),
        ("moderate", _effect(0.6, 0.5, 0.9), "Drug Y likely results in longer overall survival compared with drug X."),
        ("low", _effect(1.6, 1.1, 2.3), "Drug Y may result in shorter overall survival compared with drug X."),
        (
            "moderate",
            _effect(0.95, 0.85, 1.05),
            "Drug Y likely results in little to no difference in overall survival compared with drug X.",
        ),
        (
            "very-low",
            _effect(0.6, 0.5, 0.7),
            "The evidence is very uncertain about the effect of drug Y compared with drug X on overall survival.",
        ),
        (
            "low",
            _effect(1.4, 1.1, 1.8, kind="binary"),
            "Drug Y may result in more patients with overall survival compared with drug X.",
        ),
        (
            "low",
            _effect(1.3, 0.9, 1.8, kind="binary", mid=None),
            "Drug Y may result in little to no difference in overall survival compared with drug X.",
        ),
        ("high", _effect(0.9, 0.85, 0.95, mid=None), "Drug Y results in longer overall survival compared with drug X."),
    ],
)
def test_statements_follow_certainty_and_effect(rating: str, effect: Effect, sentence: str) -> None:
    assert statement(rating, effect, "Drug Y", "Drug X", "overall survival") == sentence


def test_statement_without_a_control_names_the_comparison() -> None:
    text = statement("low", _effect(0.6, 0.5, 0.7), "Adding drug Y to drug X", "", "overall survival")
    assert text == "Adding drug Y to drug X may result in longer overall survival."
    assert statement("low", None, "TACE + drug X", "drug X", "death").startswith(
        "The evidence is very uncertain about the effect of TACE + drug X compared with drug X"
    )
    assert in_sentence("The intervention") == "the intervention" and in_sentence("PD-1 inhibitor") == "PD-1 inhibitor"


# --- Egger's test -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["magnesium", "bcg", "smoking"])
def test_egger_test_equals_metafor_regtest(name: str) -> None:
    ref = json.loads(REFERENCE.read_text(encoding="utf-8"))[name]
    got = egger_test(ref["yi"], ref["vi"])
    for field in ("t", "p_value", "slope", "slope_se", "limit_estimate", "limit_se"):
        assert math.isclose(getattr(got, field), ref[field], rel_tol=1e-10, abs_tol=1e-12), field
    assert got.df == ref["df"] == ref["k"] - 2


def test_egger_test_refuses_what_it_cannot_estimate() -> None:
    with pytest.raises(ValueError):
        egger_test([0.1, 0.2], [0.01, 0.02])
    with pytest.raises(ValueError):
        egger_test([0.1, 0.2, 0.3], [0.04, 0.04, 0.04])
