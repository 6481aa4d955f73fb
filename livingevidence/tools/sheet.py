"""An extraction sheet, read and checked: one row per study x comparison x outcome.

Columns: ``study, year, design, intervention, control, outcome, measure`` and then one of
- counts: ``events_int, n_int, events_ctl, n_ctl`` (measure RR, OR or RD);
- means: ``mean_int, sd_int, n_int, mean_ctl, sd_ctl, n_ctl`` (measure MD, SMD or ROM);
- a reported contrast: ``estimate, ci_low, ci_high`` (measure HR, OR, RR, RD, MD, SMD or ROM; ``n_int`` and
  ``n_ctl`` optional);
optional: ``label``, ``source`` (where in the paper), ``notes``, ``unit``, ``higher_is_better``, ``adjusted``.

Every problem names the sheet's line and column and says how to fix it; a sheet with any problem is not
imported at all.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

from livingevidence.vocabulary import RATIO_MEASURES

MAX_SHEET_BYTES = 16 * 1024 * 1024
REQUIRED = ("study", "year", "design", "intervention", "control", "outcome", "measure")
COUNTS = ("events_int", "n_int", "events_ctl", "n_ctl")
MEANS = ("mean_int", "sd_int", "n_int", "mean_ctl", "sd_ctl", "n_ctl")
REPORTED = ("estimate", "ci_low", "ci_high")
OPTIONAL = ("label", "source", "notes", "unit", "higher_is_better", "adjusted")
KNOWN = dict.fromkeys((*REQUIRED, *COUNTS, *MEANS, *REPORTED, *OPTIONAL))
MEASURES = {"counts": ("RR", "OR", "RD"), "means": ("MD", "SMD", "ROM"), "reported": ("HR", "OR", "RR", "RD", "MD")}
MEASURES["reported"] += ("SMD", "ROM")
# Text that a spreadsheet would run as a formula (OWASP CSV injection); numbers like -2.5 are not text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
TRUE, FALSE = {"true", "yes", "1"}, {"false", "no", "0"}


@dataclass(frozen=True)
class SheetProblem:
    """One problem of a sheet: where it is and how to fix it."""

    line: int | None
    column: str | None
    message: str
    hint: str

    def text(self, sheet: str) -> str:
        where = sheet + (f":{self.line}" if self.line else "") + (f": {self.column}" if self.column else "")
        return f"{where}: {self.message} - {self.hint}"


@dataclass
class SheetRow:
    """One checked row of the sheet."""

    line: int
    study: str
    year: int | None
    design: str
    intervention: str
    control: str
    outcome: str
    measure: str
    kind: str  # counts | means | reported
    values: dict[str, float | int | None]
    label: str = ""
    source: str = ""
    notes: str = ""
    unit: str = ""
    higher_is_better: bool | None = None
    adjusted: bool = False


@dataclass
class Sheet:
    """The rows of a sheet, or its problems."""

    rows: list[SheetRow] = field(default_factory=list)
    problems: list[SheetProblem] = field(default_factory=list)


def read_sheet(path: Path, designs: list[str]) -> Sheet:
    """Read and check a sheet; ``designs`` are the design codes the project's labels know."""
    sheet = Sheet()
    text = _decode(path, sheet)
    if text is None:
        return sheet
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        sheet.problems.append(SheetProblem(None, None, f"not a readable CSV file ({exc})", "save it as CSV again"))
        return sheet
    records = [r for r in records if any(c.strip() for c in r)]
    if len(records) < 2:
        sheet.problems.append(
            SheetProblem(1, None, "the sheet is empty", "add a header row and one row per study x outcome")
        )
        return sheet
    header = [h.strip().lower() for h in records[0]]
    if not _check_header(header, sheet):
        return sheet
    seen: dict[tuple[str, ...], int] = {}
    for number, record in enumerate(records[1:], start=2):
        cells = dict(zip(header, [c.strip() for c in record], strict=False))
        if len(record) != len(header):
            sheet.problems.append(
                SheetProblem(number, None, f"{len(record)} cells for {len(header)} columns", "fix the row's commas")
            )
            continue
        row = _row(number, cells, designs, sheet)
        if row is None:
            continue
        key = (row.study.casefold(), row.intervention.casefold(), row.control.casefold(), row.outcome.casefold())
        key += (row.measure, str(row.adjusted))
        if key in seen:
            sheet.problems.append(
                SheetProblem(
                    number,
                    "study",
                    f"the same study, comparison, outcome and measure as line {seen[key]}",
                    "delete one of the two rows, or fix the outcome or measure",
                )
            )
            continue
        seen[key] = number
        sheet.rows.append(row)
    _check_studies_agree(sheet)
    return sheet


def _decode(path: Path, sheet: Sheet) -> str | None:
    try:
        if path.is_symlink() or not path.is_file():
            raise OSError("not a regular file")
        data = path.read_bytes() if path.stat().st_size <= MAX_SHEET_BYTES else None
    except OSError as exc:
        sheet.problems.append(SheetProblem(None, None, f"cannot read the sheet ({exc})", "give the path of a CSV file"))
        return None
    if data is None:
        sheet.problems.append(
            SheetProblem(None, None, f"the sheet is larger than {MAX_SHEET_BYTES // 2**20} MB", "split it")
        )
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        sheet.problems.append(
            SheetProblem(
                line, None, f"byte {exc.start} is not UTF-8", "save the sheet as 'CSV UTF-8' and import it again"
            )
        )
        return None


def _check_header(header: list[str], sheet: Sheet) -> bool:
    ok = True
    for name in header:
        if name not in KNOWN:
            close = difflib.get_close_matches(name, KNOWN, n=1)
            hint = f"did you mean '{close[0]}'?" if close else "remove the column (known: " + ", ".join(KNOWN) + ")"
            sheet.problems.append(SheetProblem(1, name or "(empty)", f"unknown column '{name}'", hint))
            ok = False
    duplicated = {n for n in header if header.count(n) > 1}
    for name in sorted(duplicated):
        sheet.problems.append(SheetProblem(1, name, "the column appears twice", "keep one of them"))
        ok = False
    for name in REQUIRED:
        if name not in header:
            sheet.problems.append(SheetProblem(1, name, f"the column '{name}' is missing", f"add the column '{name}'"))
            ok = False
    if not any(set(group) <= set(header) for group in (COUNTS, MEANS, REPORTED)):
        sheet.problems.append(
            SheetProblem(
                1,
                None,
                "no data columns",
                "add events_int, n_int, events_ctl, n_ctl; or means, SDs and ns; or estimate, ci_low, ci_high",
            )
        )
        ok = False
    return ok


def _formula(line: int, cells: dict[str, str], sheet: Sheet) -> bool:
    bad = False
    for column, value in cells.items():
        if value.startswith(FORMULA_START) and not _is_number(value):
            sheet.problems.append(
                SheetProblem(
                    line,
                    column,
                    f"'{value[:30]}' looks like a spreadsheet formula",
                    "type the value itself, not a formula (a text may not start with =, +, -, @)",
                )
            )
            bad = True
    return bad


def _is_number(value: str) -> bool:
    try:
        return math.isfinite(float(value))
    except ValueError:
        return False


def _row(line: int, cells: dict[str, str], designs: list[str], sheet: Sheet) -> SheetRow | None:
    before = len(sheet.problems)
    if _formula(line, cells, sheet):
        return None
    for name in REQUIRED:
        if name != "year" and not cells.get(name):
            sheet.problems.append(SheetProblem(line, name, f"'{name}' is empty", f"fill in the {name}"))
    kinds = [
        k
        for k, cols in (
            ("counts", ("events_int", "events_ctl")),
            ("means", ("mean_int", "mean_ctl")),
            ("reported", ("estimate",)),
        )
        if any(cells.get(c) for c in cols)
    ]
    if len(kinds) != 1:
        message = "the row has no data" if not kinds else f"the row has {' and '.join(kinds)}"
        sheet.problems.append(
            SheetProblem(
                line,
                None,
                message,
                "give counts, or means and SDs, or an estimate with its CI: one of them per row (use two rows for two)",
            )
        )
        return None
    kind = kinds[0]
    measure = cells.get("measure", "").upper()
    if measure not in MEASURES[kind]:
        sheet.problems.append(
            SheetProblem(
                line,
                "measure",
                f"'{cells.get('measure')}' is not a measure of {kind}",
                "use one of " + ", ".join(MEASURES[kind]),
            )
        )
    design = cells.get("design", "").lower()
    if design and design not in designs:
        sheet.problems.append(
            SheetProblem(line, "design", f"unknown design '{cells['design']}'", "use one of " + ", ".join(designs))
        )
    values = _numbers(line, cells, kind, sheet)
    year = _year(line, cells.get("year", ""), sheet)
    flags = {name: _flag(line, name, cells.get(name, ""), sheet) for name in ("higher_is_better", "adjusted")}
    if len(sheet.problems) > before or values is None:
        return None
    _check_values(line, kind, measure, values, sheet)
    if len(sheet.problems) > before:
        return None
    return SheetRow(
        line=line,
        study=cells["study"],
        year=year,
        design=design,
        intervention=cells["intervention"],
        control=cells["control"],
        outcome=cells["outcome"],
        measure=measure,
        kind=kind,
        values=values,
        label=cells.get("label", ""),
        source=cells.get("source", ""),
        notes=cells.get("notes", ""),
        unit=cells.get("unit", ""),
        higher_is_better=flags["higher_is_better"],
        adjusted=bool(flags["adjusted"]),
    )


def _numbers(line: int, cells: dict[str, str], kind: str, sheet: Sheet) -> dict[str, float | int | None] | None:
    columns = {"counts": COUNTS, "means": MEANS, "reported": (*REPORTED, "n_int", "n_ctl")}[kind]
    values: dict[str, float | int | None] = {}
    ok = True
    for name in columns:
        raw = cells.get(name, "")
        optional = kind == "reported" and name in ("n_int", "n_ctl")
        if raw == "":
            if not optional:
                sheet.problems.append(
                    SheetProblem(
                        line, name, f"'{name}' is empty", f"fill in {name} or use another kind of data for this row"
                    )
                )
                ok = False
            values[name] = None
            continue
        try:
            number = float(raw)
        except ValueError:
            sheet.problems.append(
                SheetProblem(
                    line,
                    name,
                    f"'{raw}' is not a number",
                    "write a plain number, e.g. 12 or 0.85 (a decimal point, no % sign)",
                )
            )
            ok = False
            continue
        if not math.isfinite(number):
            sheet.problems.append(SheetProblem(line, name, f"'{raw}' is not a finite number", "write the number"))
            ok = False
            continue
        whole = name.startswith(("events_", "n_"))
        if whole and not number.is_integer():
            sheet.problems.append(SheetProblem(line, name, f"{raw} is not a whole number", "counts are whole numbers"))
            ok = False
            continue
        values[name] = int(number) if whole else number
    return values if ok else None


def _check_values(line: int, kind: str, measure: str, v: dict, sheet: Sheet) -> None:
    def add(column: str, message: str, hint: str) -> None:
        sheet.problems.append(SheetProblem(line, column, message, hint))

    for arm in ("int", "ctl"):
        n = v.get(f"n_{arm}")
        if n is not None and n <= 0:
            add(f"n_{arm}", f"n is {n}", "an arm has at least one patient; check the number analysed")
        events = v.get(f"events_{arm}")
        if events is not None and (events < 0 or (n is not None and events > n)):
            add(f"events_{arm}", f"{events} events of {n} patients", "events are between 0 and n")
        sd = v.get(f"sd_{arm}")
        if sd is not None and sd <= 0:
            add(f"sd_{arm}", f"the SD is {sd}", "an SD is above 0; if the paper gives an SE or CI, convert it first")
    if kind == "reported":
        est, lo, hi = v["estimate"], v["ci_low"], v["ci_high"]
        if measure in RATIO_MEASURES and min(est, lo, hi) <= 0:
            add(
                "estimate",
                f"the {measure} {est:g} ({lo:g} to {hi:g}) is not above 0",
                "a ratio and its CI are above 0; check the measure (a difference is RD, MD or SMD) or the numbers",
            )
        elif not lo <= est <= hi or lo == hi:
            add(
                "estimate",
                f"the CI {lo:g} to {hi:g} does not contain the estimate {est:g}",
                "check the order of the numbers: estimate, then lower and upper limit",
            )


def _year(line: int, raw: str, sheet: Sheet) -> int | None:
    if raw == "":
        return None
    if raw.isdigit() and 1900 <= int(raw) <= 2100:
        return int(raw)
    sheet.problems.append(SheetProblem(line, "year", f"'{raw}' is not a year", "write the publication year, e.g. 2019"))
    return None


def _flag(line: int, column: str, raw: str, sheet: Sheet) -> bool | None:
    if raw == "":
        return None
    if raw.lower() in TRUE | FALSE:
        return raw.lower() in TRUE
    sheet.problems.append(SheetProblem(line, column, f"'{raw}' is not yes or no", "write true or false"))
    return None


def _check_studies_agree(sheet: Sheet) -> None:
    """A study's year and design, and an outcome's unit and direction, are the same on every line."""
    first: dict[tuple[str, str], tuple[int, object]] = {}
    for row in sheet.rows:
        for scope, name, column, value in (
            ("study", row.study.casefold(), "year", row.year),
            ("study", row.study.casefold(), "design", row.design),
            ("outcome", row.outcome.casefold(), "unit", row.unit),
            ("outcome", row.outcome.casefold(), "higher_is_better", row.higher_is_better),
        ):
            line, seen = first.setdefault((f"{scope}:{name}", column), (row.line, value))
            if seen != value:
                sheet.problems.append(
                    SheetProblem(
                        row.line,
                        column,
                        f"the {scope} '{name}' has another {column} on line {line}",
                        f"give the {scope} the same {column} on every line",
                    )
                )
