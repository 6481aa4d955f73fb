"""Data honesty: every number in the result tables is printed somewhere in its source paper.

The seed papers live in ../shared/seeds/ beside the repository (CI clones the repository with shared/
beside it); the test skips when they are not there. Counts that the package derives from the design
(an arm's n repeated as n_at_risk or n_evaluable) are checked against population_arms instead.
"""

from __future__ import annotations

import re
from dataclasses import fields

import pytest

from livingevidence import paths
from livingevidence.load import load_package

SEEDS = paths.ROOT.parent / "shared" / "seeds"
PACKAGE = load_package()
RESULT_TABLES = (
    "baseline",
    "survival",
    "landmarks",
    "effects",
    "prognostic_factors",
    "response",
    "binary_outcomes",
    "adverse_events",
    "subgroups",
)
# Fields whose value may legitimately come from elsewhere in the package (the arm's n) or be a sum.
DERIVED = {"n_at_risk", "n_evaluable", "n", "time_months"}


def _variants(value: float | int) -> list[str]:
    if isinstance(value, int) or float(value).is_integer():
        v = int(value)
        return [str(v), f"{v}.0", f"{v}.00"]
    text = f"{value:g}"
    out = [text]
    if "." in text:
        decimals = len(text.split(".")[1])
        out += [f"{value:.{d}f}" for d in range(decimals + 1, 4)]
    if text.startswith("0."):
        out.append(text[1:])  # '.503' style
    return out


_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def _words(n: int) -> str:
    """Papers spell out small counts at the start of a sentence ('Forty-seven patients')."""
    if n < 20:
        return _ONES[n]
    tens, ones = divmod(n, 10)
    return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")


def _printed(text: str, value: float | int) -> bool:
    if float(value).is_integer() and 0 <= value < 100 and re.search(rf"\b{_words(int(value))}\b", text, re.I):
        return True
    return any(re.search(rf"(?<![\d.]){re.escape(v)}(?![\d])", text) for v in _variants(value))


def _sources() -> dict[str, str]:
    out = {}
    for sid, study in PACKAGE.studies.items():
        path = SEEDS / study.source_file
        if path.exists():
            out[sid] = path.read_text(encoding="utf-8")
    return out


@pytest.mark.skipif(not SEEDS.exists(), reason="the seed papers (../shared/seeds) are not beside the repository")
def test_every_number_is_printed_in_its_paper() -> None:
    texts = _sources()
    missing = []
    for table in RESULT_TABLES:
        for i, row in enumerate(PACKAGE.rows(table), start=2):
            sid = PACKAGE.study_of(row)
            text = texts.get(sid)
            if text is None:
                continue
            for f in fields(row):
                value = getattr(row, f.name)
                if f.name in DERIVED or isinstance(value, bool) or not isinstance(value, int | float):
                    continue
                if not _printed(text, value):
                    missing.append(f"{table}.csv:{i}: {f.name}={value} not found in {PACKAGE.studies[sid].source_file}")
    assert missing == [], "\n".join(missing)


def test_derived_counts_match_the_design() -> None:
    """n_at_risk and n_evaluable of an arm never exceed its n in the population (the validator's rule too)."""
    for r in PACKAGE.rows("response"):
        assert r.n_evaluable <= PACKAGE.arm_n[(r.population_id, r.arm_id)]
    for a in PACKAGE.rows("adverse_events"):
        if a.arm_id:
            assert a.n_at_risk <= PACKAGE.arm_n[(a.population_id, a.arm_id)]
