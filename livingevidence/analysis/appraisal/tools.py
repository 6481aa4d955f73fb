"""The risk-of-bias tools the generator knows: their domains, judgement scales and overall rules.

This is methodology, not topic: RoB 2 for randomised trials (Sterne et al. 2019, BMJ 366:l4898) and
ROBINS-I for non-randomised studies of interventions (Sterne et al. 2016, BMJ 355:i4919). A package records
domain-level judgements in its `risk_of_bias` table with the tool's id, its version, a domain id from the
lists below (or `overall`) and a judgement from the tool's scale; the checks and the pages read them here.

Display follows robvis (McGuinness & Higgins 2021, Res Synth Methods 12:55): a colour AND a symbol for each
judgement (+ low, − moderate or some concerns, × serious or high, ! critical, ? no information), so that no
judgement is told by colour alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "JUDGEMENTS",
    "OVERALL",
    "RANDOMISED_DESIGNS",
    "TOOLS",
    "Domain",
    "JudgementStyle",
    "Tool",
    "style",
    "tool_for_design",
]

#: The domain id of an overall judgement row.
OVERALL = "overall"
#: Study designs assessed with RoB 2; every other design is a non-randomised study (ROBINS-I). Quasi-randomised
#: trials are non-randomised studies for this purpose (Cochrane Handbook 24.1).
RANDOMISED_DESIGNS = frozenset({"rct"})


@dataclass(frozen=True)
class Domain:
    """One bias domain: its id in the data, its short column name (D1...) and its name in words."""

    id: str
    short: str
    name: str


@dataclass(frozen=True)
class JudgementStyle:
    """How a judgement reads and looks: words, robvis symbol, fill colour and the symbol's colour on it."""

    value: str
    label: str
    symbol: str
    fill: str
    ink: str
    severity: int  # order within its tool's scale (0 = least concern); "no information" sorts last


# robvis colours; the symbol ink on each fill has a contrast of at least 4.5:1 (WCAG AA).
JUDGEMENTS: dict[str, JudgementStyle] = {
    s.value: s
    for s in (
        JudgementStyle("low", "Low", "+", "#02C100", "#000000", 0),
        JudgementStyle("moderate", "Moderate", "−", "#E2DF07", "#000000", 1),
        JudgementStyle("some-concerns", "Some concerns", "−", "#E2DF07", "#000000", 1),
        JudgementStyle("serious", "Serious", "×", "#BF0000", "#FFFFFF", 2),
        JudgementStyle("high", "High", "×", "#BF0000", "#FFFFFF", 2),
        JudgementStyle("critical", "Critical", "!", "#820000", "#FFFFFF", 3),
        JudgementStyle("no-information", "No information", "?", "#4EA1F7", "#000000", 4),
    )
}


def style(judgement: str | None) -> JudgementStyle:
    """The look of a judgement; an unknown or missing one reads 'not assessed' (grey, an en dash)."""
    if judgement in JUDGEMENTS:
        return JUDGEMENTS[judgement]
    return JudgementStyle("not-assessed", "Not assessed", "–", "#D0D3D8", "#000000", 5)


@dataclass(frozen=True)
class Tool:
    """A risk-of-bias tool: its domains in order, its scale, its versions and the reference for each."""

    id: str
    name: str
    domains: tuple[Domain, ...]
    scale: tuple[str, ...]  # allowed judgements, least to most concern (no information last)
    versions: dict[str, str]  # version -> reference
    lower_risk: frozenset[str]  # overall judgements counted as "lower risk of bias" (sensitivity analyses)

    @property
    def domain_ids(self) -> tuple[str, ...]:
        return tuple(d.id for d in self.domains)

    def domain(self, domain_id: str) -> Domain | None:
        """The domain with this id, or None."""
        return next((d for d in self.domains if d.id == domain_id), None)

    def overall(self, judgements: Iterable[str]) -> str:
        """The overall judgement the tool's rule gives from its domain judgements (all domains given).

        ROBINS-I (Sterne et al. 2016, Table 2): critical if any domain is critical; else serious if any is
        serious; else no information if any domain lacks information; else moderate if any is moderate; else
        low. RoB 2 (Sterne et al. 2019): high if any domain is high; else some concerns if any has some
        concerns; else low (the tool also allows "high" for several domains with some concerns: see
        `allowed_overall`).
        """
        given = set(judgements)
        for worst in ("critical", "serious", "high", "no-information", "moderate", "some-concerns"):
            if worst in given and worst in self.scale:
                return worst
        return "low"

    def allowed_overall(self, judgements: Iterable[str]) -> set[str]:
        """Overall judgements the tool allows an assessor to record for these domain judgements.

        The rule's own answer, and for RoB 2 also "high" when two or more domains have some concerns ("some
        concerns for multiple domains in a way that substantially lowers confidence in the result").
        """
        listed = list(judgements)
        allowed = {self.overall(listed)}
        if self.id == "RoB-2" and listed.count("some-concerns") >= 2 and "high" not in listed:
            allowed.add("high")
        return allowed


ROB_2 = Tool(
    id="RoB-2",
    name="RoB 2",
    domains=(
        Domain("randomisation", "D1", "Bias arising from the randomisation process"),
        Domain("deviations", "D2", "Bias due to deviations from intended interventions"),
        Domain("missing-data", "D3", "Bias due to missing outcome data"),
        Domain("measurement", "D4", "Bias in measurement of the outcome"),
        Domain("reported-result", "D5", "Bias in selection of the reported result"),
    ),
    scale=("low", "some-concerns", "high"),
    versions={
        "2019": "Sterne JAC et al. RoB 2: a revised tool for assessing risk of bias in randomised trials. "
        "BMJ 2019;366:l4898."
    },
    lower_risk=frozenset({"low", "some-concerns"}),
)
ROBINS_I = Tool(
    id="ROBINS-I",
    name="ROBINS-I",
    domains=(
        Domain("confounding", "D1", "Bias due to confounding"),
        Domain("selection", "D2", "Bias in selection of participants into the study"),
        Domain("classification", "D3", "Bias in classification of interventions"),
        Domain("deviations", "D4", "Bias due to deviations from intended interventions"),
        Domain("missing-data", "D5", "Bias due to missing data"),
        Domain("measurement", "D6", "Bias in measurement of outcomes"),
        Domain("reported-result", "D7", "Bias in selection of the reported result"),
    ),
    scale=("low", "moderate", "serious", "critical", "no-information"),
    versions={
        "2016": "Sterne JAC et al. ROBINS-I: a tool for assessing risk of bias in non-randomised studies of "
        "interventions. BMJ 2016;355:i4919."
    },
    lower_risk=frozenset({"low", "moderate"}),
)
TOOLS: dict[str, Tool] = {t.id: t for t in (ROB_2, ROBINS_I)}


def tool_for_design(design: str | None) -> Tool:
    """The tool a study of this design is assessed with: RoB 2 for randomised trials, ROBINS-I otherwise."""
    return ROB_2 if design in RANDOMISED_DESIGNS else ROBINS_I
