"""Cell rules the generator enforces whatever the package's schema says (a pull request can change the schema).

- ``id-syntax``: every field ending in ``_id`` holds a slug of at most :data:`MAX_ID_LENGTH` characters. Ids
  become file names and addresses (``studies/<study_id>/``, ``api/comparisons/<comparison_id>.json``,
  ``downloads/studies/<study_id>.zip``, ``regimens/<regimen_id>/``): without this rule, a study renamed
  ``../../../../tmp/x/config`` in a package whose schema lost its ``pattern`` would be written outside the site.
- ``required``: a required text made of spaces only is as empty as an empty cell.
- ``invalid-date``: a date field (typed ``string`` with a pattern, or named as one of the study dates) holds a day
  or month of the calendar: ``2025-02-30`` passes a pattern but is no date.
- ``spreadsheet-formula`` (warning): a text cell that a spreadsheet would run as a formula (see
  :mod:`livingevidence.downloads`, which neutralises such cells in the download zips).

Each column is judged once per distinct text (a column holds few of them), then the rows of the bad texts are
reported in file order.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from datetime import date
from typing import Any

from livingevidence.checks.context import Check, Context, check
from livingevidence.checks.data import Table
from livingevidence.checks.registry import problem
from livingevidence.downloads import is_formula
from livingevidence.model import ROW_TYPES
from livingevidence.report import Problem

__all__ = ["CHECKS", "MAX_ID_LENGTH", "SLUG"]

CHECKS: list[Check] = []

MAX_ID_LENGTH = 80
SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
# Outcome ids keep the topic's abbreviations ('OS', 'HbA1c'); they never become a path as they are (analysis
# keys and anchors are built from them in lower case).
OUTCOME_ID = re.compile(r"[A-Za-z0-9]+([-_.][A-Za-z0-9]+)*")
ID_PATTERNS = {"outcome_id": OUTCOME_ID}
#: Date fields whose values the build reads as dates, whatever their type in the schema.
DATE_FIELDS = frozenset(
    {"publication_date", "enrolment_start", "enrolment_end", "follow_up_end", "extraction_date", "assessed_on"}
)
_DATE = re.compile(r"(\d{4})-(\d{2})(?:-(\d{2}))?")
_YEAR = re.compile(r"\d{4}")


def _column(table: Table, name: str) -> list[tuple[int, Any]]:
    """(line, typed value) of one field in every row (bad and empty cells read as None)."""
    i = table.index.get(name)
    if i is None:
        return []
    return [(rec.line, rec.values[i]) for rec in table.records]


def _by_text(column: list[tuple[int, Any]]) -> dict[str, list[int]]:
    """Lines of each distinct string value of a column."""
    out: dict[str, list[int]] = {}
    for line, value in column:
        if isinstance(value, str):
            out.setdefault(value, []).append(line)
    return out


def _fields(table: Table) -> dict[str, dict[str, Any]]:
    return {str(f.get("name")): f for f in table.fields if isinstance(f, dict)}


def _constraints(desc: dict[str, Any]) -> dict[str, Any]:
    c = desc.get("constraints")
    return c if isinstance(c, dict) else {}


def _id_problem(value: Any, pattern: re.Pattern[str] = SLUG) -> str | None:
    text = value if isinstance(value, str) else str(value)
    if len(text) > MAX_ID_LENGTH:
        return f"the id is {len(text)} characters long, more than {MAX_ID_LENGTH}"
    if pattern.fullmatch(text) is None:
        shown = repr(text[:60]) if any(not c.isprintable() for c in text) else f"'{text[:60]}'"
        return f"{shown} is not an id the site can use in file names and addresses"
    return None


@check(CHECKS, "id-syntax")
def ids_are_slugs(ctx: Context) -> Iterator[Problem]:
    """Every *_id cell is a slug of at most MAX_ID_LENGTH characters."""
    for table in ctx.loaded.tables.values():
        for field in (f for f in table.index if f.endswith("_id")):
            verdicts: dict[Any, str | None] = {}
            for line, value in _column(table, field):
                if value is None or value == "":
                    continue
                if value not in verdicts:
                    verdicts[value] = _id_problem(value, ID_PATTERNS.get(field, SLUG))
                if verdicts[value] is not None:
                    yield problem("id-syntax", table.file, line, field, str(verdicts[value]))


def _needed_by_the_generator(table: str) -> set[str]:
    """Columns the model types as never empty (a field without ``| None``): the build reads them as values,
    so they are required whatever the package's schema says."""
    row_type = ROW_TYPES.get(table)
    if row_type is None:
        return set()
    return {f.name.rstrip("_") for f in dataclasses.fields(row_type) if "None" not in str(f.type)}


@check(CHECKS, "required")
def required_text_is_not_blank(ctx: Context) -> Iterator[Problem]:
    """A required string cell of spaces only is empty; a cell the generator needs is required even when the
    package's schema no longer says so (a pull request may relax the schema)."""
    for name, table in ctx.loaded.tables.items():
        needed = _needed_by_the_generator(name)
        for field, desc in _fields(table).items():
            if field in needed and not _constraints(desc).get("required"):
                for line, value in _column(table, field):
                    if value is None or (isinstance(value, str) and not value.strip()):
                        yield problem(
                            "required",
                            table.file,
                            line,
                            field,
                            "the cell is empty, but the site needs it (whatever the schema says)",
                            "fill in the value",
                        )
                continue
            if desc.get("type", "string") != "string" or not _constraints(desc).get("required"):
                continue
            for text, lines in _by_text(_column(table, field)).items():
                if text and not text.strip():
                    for line in lines:
                        yield problem(
                            "required",
                            table.file,
                            line,
                            field,
                            "the cell holds only white space but is required",
                            "fill in the value",
                        )


def _date_problem(text: str) -> str | None:
    """Why a date field's text is not a date (None when it is YYYY, a real YYYY-MM or a real YYYY-MM-DD)."""
    value = text.strip()
    if _YEAR.fullmatch(value):
        return None
    m = _DATE.fullmatch(value)
    if m is None:
        return f"'{value[:40]}' is not a date (YYYY-MM-DD), a month (YYYY-MM) or a year"
    year, month, day = m.groups()
    if not 1 <= int(month) <= 12:
        return f"'{value}' has no month {month}"
    if day is not None:
        try:
            date(int(year), int(month), int(day))
        except ValueError:
            return f"'{value}' is not a day of the calendar"
    return None


def _is_date_pattern(pattern: Any) -> bool:
    return isinstance(pattern, str) and pattern.startswith("^\\d{4}-")


@check(CHECKS, "invalid-date")
def dates_are_dates(ctx: Context) -> Iterator[Problem]:
    """Date fields typed as strings (pattern-checked, or named as study dates) hold days or months that exist."""
    for table in ctx.loaded.tables.values():
        for field, desc in _fields(table).items():
            if desc.get("type", "string") != "string":
                continue  # typed date, yearmonth and year fields are checked as such by their type
            if field not in DATE_FIELDS and not _is_date_pattern(_constraints(desc).get("pattern")):
                continue
            for text, lines in _by_text(_column(table, field)).items():
                why = _date_problem(text) if text.strip() else None
                if why is not None:
                    for line in lines:
                        yield problem("invalid-date", table.file, line, field, why)


@check(CHECKS, "spreadsheet-formula")
def formula_cells(ctx: Context) -> Iterator[Problem]:
    """Text cells that start like a spreadsheet formula (warning; the downloads neutralise them)."""
    for table in ctx.loaded.tables.values():
        for field, desc in _fields(table).items():
            if desc.get("type", "string") != "string":
                continue
            for text, lines in _by_text(_column(table, field)).items():
                if is_formula(text):
                    shown = repr(text[:40]) if not text[:40].isprintable() else f"'{text[:40]}'"
                    for line in lines:
                        yield problem(
                            "spreadsheet-formula",
                            table.file,
                            line,
                            field,
                            f"{shown} starts like a spreadsheet formula; the download zips show it with a "
                            "leading apostrophe",
                        )
