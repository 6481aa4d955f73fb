"""Layer 1 limits, hints and small helpers shared by the structure checks: sizes, names, patterns."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from livingevidence.checks.registry import ProblemList
from livingevidence.model import REQUIRED_TABLES

DESCRIPTOR_NAME = "datapackage.json"

# The tables every summary has; a descriptor without one of them is invalid. The others (results, baseline,
# notes, ...) are optional: a topic leaves out what it does not need.
EXPECTED_RESOURCES: tuple[str, ...] = REQUIRED_TABLES

# Fields the meaning and consistency checks read. A schema without one of them is reported, and the checks
# that need it skip (they see empty values).
NEEDED_FIELDS: dict[str, tuple[str, ...]] = {
    "studies": (
        "study_id",
        "design",
        "year",
        "publication_date",
        "enrolment_start",
        "enrolment_end",
        "follow_up_end",
        "extraction_date",
    ),
    "regimens": ("regimen_id",),
    "regimen_components": ("regimen_id", "intervention_id"),
    "arms": ("arm_id", "study_id", "regimen_id"),
    "populations": ("population_id", "study_id", "primary", "disjoint_set", "parent_population_id"),
    "population_arms": ("population_id", "arm_id", "n"),
    "baseline": (
        "population_id",
        "arm_id",
        "characteristic",
        "category",
        "count",
        "percent",
        "statistic",
        "value",
        "spread_low",
        "spread_high",
        "p_value",
    ),
    "survival": ("population_id", "arm_id", "outcome", "median_months", "ci_low", "ci_high"),
    "landmarks": ("population_id", "arm_id", "rate_percent", "ci_low", "ci_high"),
    "effects": (
        "population_id",
        "outcome",
        "criterion",
        "intervention_arm_id",
        "control_arm_id",
        "measure",
        "estimate",
        "ci_low",
        "ci_high",
        "p_value",
    ),
    "prognostic_factors": ("population_id", "n", "hr", "ci_low", "ci_high"),
    "response": (
        "population_id",
        "arm_id",
        "criterion",
        "n_evaluable",
        "cr",
        "pr",
        "sd",
        "pd",
        "orr_n",
        "orr_percent",
        "dcr_n",
        "dcr_percent",
    ),
    "binary_outcomes": ("population_id", "arm_id", "outcome", "events", "n", "percent", "p_value"),
    "adverse_events": (
        "population_id",
        "arm_id",
        "category",
        "term",
        "grade",
        "events",
        "n_at_risk",
        "percent",
        "p_value",
    ),
    "subgroups": (
        "study_id",
        "population_id",
        "arm_id",
        "variable",
        "outcome",
        "median_months",
        "ci_low",
        "ci_high",
        "p_value",
    ),
    "comparisons": ("comparison_id", "parent_comparison_id"),
    "outcomes": ("outcome_id", "kind", "default_measure", "counts_from", "mid", "higher_is_better"),
    "labels": ("table", "field", "value", "label", "pool_as"),
    "continuous_outcomes": ("population_id", "arm_id", "outcome", "criterion", "n", "mean", "sd"),
    "comparison_pairs": ("comparison_id", "intervention_regimen_id", "control_regimen_id"),
    "extraction_notes": ("note_id",),
}

# A Frictionless field's cell reader: cell -> (typed value, problem notes or None).
CellReader = Callable[[Any], tuple[Any, dict[str, str] | None]]

RESOURCE_NAME = re.compile(r"^[a-z0-9._-]+$")

# The package name and version become part of file names and addresses (the zip download, snapshot paths).
PACKAGE_NAME = re.compile(r"^[a-z0-9]+([._-][a-z0-9]+)*$")

VERSION = re.compile(r"^\d{1,6}\.\d{1,6}\.\d{1,6}$")

MAX_ENCODING_PROBLEMS = 10

# Limits (documented in docs/contribute.md): beyond them the validator reports `too-large` instead of spending
# unbounded time or memory. The validator holds every row in memory: at its peak about 6 bytes per byte of CSV for
# typical tables, about 20 for tables of short cells that are all different.
MAX_DESCRIPTOR_BYTES = 4 * 1024 * 1024

MAX_TABLE_BYTES = 32 * 1024 * 1024

MAX_PACKAGE_BYTES = 96 * 1024 * 1024

MAX_CELL_CHARS = 131_072  # the csv module's field size limit

MAX_JSON_DEPTH = 64

MAX_RESOURCES = 100

# C0 controls other than tab, line feed and carriage return; DEL and the C1 controls; the two bidirectional
# overrides (U+202D, U+202E), which display the text after them reversed (embeddings and isolates are allowed).
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202d\u202e]")

SLUG_PATTERN = "^[a-z0-9]+(-[a-z0-9]+)*$"

P_VALUE_HINT = "write the p-value as printed, e.g. 0.041, <0.001, >0.05 or 1 (no 'p =', no '%')"

PATTERN_HINTS = {
    SLUG_PATTERN: "use lower-case letters, digits and single hyphens, e.g. 'li-after-psm'",
    "^10\\.\\d{4,9}/\\S+$": "write the DOI without 'https://doi.org/', e.g. 10.1186/s12876-021-01967-3",
    "^\\d{1,9}$": "write the PubMed ID as digits only",
    "^https?://\\S+$": "write an http(s) address without spaces",
    "^[A-Z]\\d{2}[A-Z]{0,2}\\d{0,2}$": "write a WHO ATC code such as L01EX05 (or leave it empty)",
    "^\\d{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12]\\d|3[01]))?$": "write YYYY-MM-DD, or YYYY-MM when only the month is printed",
}

TYPE_HINTS = {
    "integer": "write a whole number, e.g. 12 (no decimals, spaces, '%' or thousands separators)",
    "number": "write a number with '.' as the decimal point, e.g. 12.5 (no '%', units or spaces)",
    "boolean": "write true or false",
    "date": "write the date as YYYY-MM-DD, e.g. 2021-10-20",
    "yearmonth": "write the month as YYYY-MM, e.g. 2019-04",
    "year": "write a four-digit year, e.g. 2021",
    "datetime": "write the date and time as YYYY-MM-DDThh:mm:ssZ",
}

CONSTRAINT_RULES = {
    "required": "required",
    "enum": "enum",
    "pattern": "pattern",
    "minimum": "minimum",
    "maximum": "maximum",
    "exclusiveMinimum": "exclusive-minimum",
    "exclusiveMaximum": "exclusive-maximum",
    "minLength": "min-length",
    "maxLength": "max-length",
}


def _q(value: object, limit: int = 60) -> str:
    """Quote a cell for a message, shortened and with control characters made visible."""
    text = str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return repr(text) if any(ord(c) < 32 for c in text) or CONTROL_CHARACTERS.search(text) else f"'{text}'"


def _suggest(value: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for a close match, else ''."""
    pool = [str(c) for c in choices]
    lowered = {c.lower(): c for c in pool}
    if value.strip().lower() in lowered and lowered[value.strip().lower()] != value:
        return f" (did you mean '{lowered[value.strip().lower()]}'?)"
    match = difflib.get_close_matches(value, pool, n=1, cutoff=0.75)
    return f" (did you mean '{match[0]}'?)" if match else ""


def _slugify(value: str) -> str:
    return "-".join(re.findall(r"[a-z0-9]+", value.lower()))


def _line_of(text: str, needle: re.Pattern[str], start: int = 0) -> tuple[int | None, int]:
    """Line number (1-based) of the first match of ``needle`` at or after ``start``, and the match end."""
    m = needle.search(text, start)
    if m is None:
        return None, start
    return text.count("\n", 0, m.start()) + 1, m.end()


def _name_pattern(name: str) -> re.Pattern[str]:
    return re.compile(r'"name"\s*:\s*' + re.escape(json.dumps(name)))


@dataclass
class _Resource:
    """A declared resource, with what is known about it so far."""

    name: str
    descriptor: dict[str, Any]
    line: int | None
    path: str | None = None
    schema: Any = None  # frictionless.Schema
    fields: list[dict[str, Any]] = field(default_factory=list)
    readers: dict[str, CellReader] = field(default_factory=dict)
    primary_key: list[str] = field(default_factory=list)
    foreign_keys: list[dict[str, Any]] = field(default_factory=list)
    usable: bool = True


class _Collector(ProblemList):
    """Collects the problems of the structure layer, in the order found (at most MAX_PROBLEMS_PER_RULE per
    file and rule, so a huge broken file cannot exhaust memory with problems)."""
