"""The structure layer's fast paths give exactly what a cell-by-cell reading through Frictionless gives.

The validator types a column at a time and asks Frictionless's cell reader once per distinct cell text (the
answers are looked up after that), keeps rows as tuples, and splits a CSV file into lines itself. These tests
hold those shortcuts to the plain reading they replace:

* for every field type, format and constraint of datapackage/datapackage.json, the cached cell reading agrees
  with a fresh ``Field.create_cell_reader()`` on random text: same value, same type, same printed form, same
  problem keys;
* the rows of a table filled with random cells hold the values, texts and bad cells of a cell-by-cell reading;
* line splitting and CSV parsing agree with ``csv.reader(io.StringIO(text, newline=""))``, errors included;
* problems of one rule are reported in file order (the per-rule limit keeps the first ones), and the garbage
  collector's state is restored after a run.
"""

from __future__ import annotations

import csv
import gc
import io
import json
import math
import re
import shutil
import sys
import tempfile
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from frictionless import Schema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livingevidence import paths
from livingevidence.checks import validate_package
from livingevidence.checks.registry import MAX_PROBLEMS_PER_RULE, ProblemList, problem
from livingevidence.checks.structure import load_package
from livingevidence.checks.structure.cells import _CellCache
from livingevidence.checks.structure.csvfile import _lines, _parse_csv
from livingevidence.checks.structure.limits import CONTROL_CHARACTERS, _Resource

VALID = Path(__file__).resolve().parent / "fixtures" / "valid"
DESCRIPTOR = json.loads((paths.DATAPACKAGE_DIR / "datapackage.json").read_text(encoding="utf-8"))
RESOURCES = {r["name"]: r for r in DESCRIPTOR["resources"]}

# Every distinct field definition of the real package (name, title and description aside).
FIELD_SPECS: list[dict[str, Any]] = list(
    {
        json.dumps(spec, sort_keys=True): spec
        for r in DESCRIPTOR["resources"]
        for f in r["schema"]["fields"]
        for spec in [{k: v for k, v in f.items() if k not in ("name", "title", "description")}]
    }.values()
)

# Texts at the edges of Python's and Frictionless's readers.
SPECIAL = [
    "",
    " ",
    "0",
    "-0",
    "+3",
    " 2 ",
    "1_000",
    "٣",  # an Arabic-Indic digit: int() and Decimal() read it
    "1e3",
    "1E-2",
    "12.",
    ".5",
    "0.000",
    "100.000",
    "nan",
    "NaN",
    "sNaN",
    "inf",
    "-Infinity",
    "1e999999999",
    "1e-999999999",
    "9" * 400,
    "true",
    "True",
    "TRUE",
    "false",
    "yes",
    "1",
    "2021-02-30",
    "2021-2-3",
    "2021-13",
    "2019-04",
    "2021-10-20",
    "<0.001",
    "≤0.05",
    "10.1186/s12876-021-01967-3",
    "https://example.org/x",
    "L01EX05",
    "a-b",
    "A-B",
    "RECIST 1.1",
    "x\u202ey",
    "🧪",
]


def cells_for(spec: dict[str, Any]) -> st.SearchStrategy[str]:
    """Random cell texts for a field: anything, plus texts near what the field accepts."""
    kind = spec.get("type", "string")
    constraints = spec.get("constraints") or {}
    options: list[st.SearchStrategy[str]] = [
        st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12),
        st.sampled_from(SPECIAL),
    ]
    if kind in ("integer", "number"):
        options += [
            st.integers(-(10**6), 10**6).map(str),
            st.decimals(allow_nan=True, allow_infinity=True).map(str),
            st.floats(allow_nan=True, allow_infinity=True).map(repr),
        ]
        for key in ("minimum", "maximum"):
            if key in constraints:
                bound = constraints[key]
                options.append(st.sampled_from([str(bound), f"{bound}.0", str(bound - 1), str(bound + 1)]))
                options.append(st.decimals(bound - 2, bound + 2, places=2).map(str))
    elif kind == "date":
        options += [st.dates().map(str), st.dates().map(lambda d: f"{d.year}-{d.month}-{d.day}")]
    elif kind == "yearmonth":
        options.append(st.tuples(st.integers(0, 9999), st.integers(-1, 14)).map(lambda t: f"{t[0]}-{t[1]:02d}"))
    elif kind == "boolean":
        options.append(st.sampled_from(["true", "false", "True", "False", "TRUE", "FALSE", "1", "0", "yes", "no"]))
    if "enum" in constraints:
        options.append(st.sampled_from([str(v) for v in constraints["enum"]]))
        options.append(st.sampled_from([str(v).upper() for v in constraints["enum"]]))
    if "pattern" in constraints:
        options.append(st.from_regex(constraints["pattern"], fullmatch=True))
    if "maxLength" in constraints:
        n = constraints["maxLength"]
        options.append(st.integers(n - 1, n + 1).map(lambda k: "x" * k))
    plain = st.one_of(options)
    return st.one_of(plain, plain.map(lambda s: f" {s} "))


@cache
def _field(spec_json: str) -> Any:
    return Schema.from_descriptor({"fields": [{"name": "f", **json.loads(spec_json)}]}).fields[0]


def _reference(field: Any, cell: str) -> tuple[Any, tuple[str, ...] | None]:
    """A cell as the structure layer judges it, read afresh: Frictionless's verdict, a value it cannot compare
    with a constraint is unreadable, and 'nan', 'inf' and numbers beyond a float (1e309, 10**400) are not finite
    numbers."""
    try:
        value, notes = field.create_cell_reader()(cell)
    except Exception:
        return None, ("type",)
    too_big = isinstance(value, int) and not isinstance(value, bool) and abs(value) > int(sys.float_info.max)
    if (
        too_big
        or (isinstance(value, Decimal) and (not value.is_finite() or math.isinf(float(value))))
        or (isinstance(value, float) and not math.isfinite(value))
    ):
        return None, ("type",)
    return (None, tuple(notes)) if notes else (value, None)


@pytest.mark.parametrize("spec", FIELD_SPECS, ids=lambda s: json.dumps(s, sort_keys=True)[:70])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_cached_cell_reading_agrees_with_frictionless(spec: dict[str, Any], data: st.DataObject) -> None:
    spec_json = json.dumps(spec, sort_keys=True)
    field = _field(spec_json)
    cells = data.draw(st.lists(cells_for(spec), min_size=1, max_size=20))
    cells += [(c + "#")[:-1] for c in cells[: len(cells) // 2]]  # equal texts, other objects: from the cache
    cache = _CellCache(field.create_cell_reader())
    first: dict[str, str] = {}
    for cell in cells:
        value = cache[cell]
        expected, keys = _reference(field, cell)
        assert cache.bad.get(cell) == keys, (cell, cache.bad.get(cell), keys)
        assert value == expected and type(value) is type(expected) and repr(value) == repr(expected), (cell, value)
        if field.type == "string" and value is not None:
            # A string value is the cell itself (the first one of its text): rows need not keep the text twice.
            assert value is first.setdefault(cell, cell)
        first.setdefault(cell, cell)


@st.composite
def table_rows(draw: st.DrawFn) -> tuple[str, list[list[str]]]:
    """A table of the fixture and random rows for it, one random cell per field."""
    name = draw(st.sampled_from(sorted(RESOURCES)))
    fields = RESOURCES[name]["schema"]["fields"]
    specs = [{k: v for k, v in f.items() if k not in ("name", "title", "description")} for f in fields]
    rows = draw(st.lists(st.tuples(*(cells_for(s) for s in specs)).map(list), min_size=1, max_size=12))
    # Repeat some rows: equal texts in a column share the cache and the row storage.
    rows += draw(st.lists(st.sampled_from(rows), max_size=4))
    return name, rows


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table_rows())
def test_rows_hold_what_a_cell_by_cell_reading_gives(case: tuple[str, list[list[str]]]) -> None:
    name, rows = case
    resource = RESOURCES[name]
    names = [f["name"] for f in resource["schema"]["fields"]]
    with tempfile.TemporaryDirectory() as tmp:
        pkg = Path(tmp) / "pkg"
        shutil.copytree(VALID, pkg)
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows([names, *rows])
        (pkg / resource["path"]).write_text(buf.getvalue(), encoding="utf-8")
        loaded, _problems = load_package(pkg)
    assert loaded is not None
    table = loaded.table(name)
    assert table is not None
    schema = Schema.from_descriptor(resource["schema"])
    readers = {f.name: f for f in schema.fields}
    text = buf.getvalue()
    controls = CONTROL_CHARACTERS.search(text) is not None
    parsed = list(csv.reader(io.StringIO(text, newline="")))[1:]
    kept = [r for r in parsed if len(r) == len(names) and any(c.strip() for c in r)]
    assert len(table.records) == len(kept)
    for rec, cells in zip(table.records, kept, strict=True):
        for field_name, cell in zip(names, cells, strict=True):
            if controls and CONTROL_CHARACTERS.search(cell):
                value, keys = None, ("control",)
            else:
                value, keys = _reference(readers[field_name], cell)
            got = rec.get(field_name)
            assert got == value and type(got) is type(value) and repr(got) == repr(value), (field_name, cell)
            assert (field_name in rec.bad) == (keys is not None), (field_name, cell)
            assert rec.text(field_name) == ("" if keys else cell.strip()), (field_name, cell)
        assert rec.get("no_such_field") is None and rec.text("no_such_field") == ""


def test_a_missing_value_keeps_its_text(tmp_path: Path) -> None:
    """A string field's text is its value, except where a missing value that is not blank reads as empty."""
    pkg = tmp_path / "pkg"
    shutil.copytree(VALID, pkg)
    descriptor = json.loads((pkg / "datapackage.json").read_text(encoding="utf-8"))
    arms = next(r for r in descriptor["resources"] if r["name"] == "arms")
    arms["schema"]["missingValues"] = ["", "NA"]
    (pkg / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    rows = list(csv.reader(io.StringIO((pkg / "arms.csv").read_text(encoding="utf-8"), newline="")))
    column = rows[0].index("description")
    rows[1][column] = "NA"
    rows[2][column] = " spaced "
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    (pkg / "arms.csv").write_text(buf.getvalue(), encoding="utf-8")
    loaded, _ = load_package(pkg)
    assert loaded is not None
    first, second = loaded.rows("arms")[:2]
    assert first.get("description") is None and first.text("description") == "NA"
    assert second.get("description") == " spaced " and second.text("description") == "spaced"


LINE_TEXT = st.lists(
    st.sampled_from(["a", "1", " ", ",", '"', '""', "\r", "\n", "\r\n", "\x85", "\u2028", "\x0b", "\x0c", "é"])
).map("".join)


@settings(max_examples=400, deadline=None)
@given(LINE_TEXT)
def test_lines_and_parsing_agree_with_stringio(text: str) -> None:
    assert list(_lines(text)) == list(io.StringIO(text, newline=""))
    res = _Resource(name="t", descriptor={}, line=None)
    try:
        ours: Any = _parse_csv(text, res)
    except csv.Error as exc:
        ours = ("error", str(exc), exc.line)  # type: ignore[attr-defined]
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    theirs: Any = []
    previous = 0
    try:
        for cells in reader:
            theirs.append((previous + 1, reader.line_num, cells))
            previous = reader.line_num
        theirs = theirs or [(1, 1, [])]
    except csv.Error as exc:
        theirs = ("error", str(exc), previous + 1)
    assert ours == theirs


def test_problems_of_a_rule_are_listed_in_file_order_up_to_the_limit(tmp_path: Path) -> None:
    """Cells are typed a column at a time, but problems of one rule come row by row, field by field, so the
    per-rule limit keeps the first ones in the file, as before."""
    pkg = tmp_path / "pkg"
    shutil.copytree(VALID, pkg)
    rows = list(csv.reader(io.StringIO((pkg / "response.csv").read_text(encoding="utf-8"), newline="")))
    header, template = rows[0], rows[1]
    cr, pr = header.index("cr"), header.index("pr")
    pop = header.index("population_id")
    extra = []
    for i in range(150):  # 300 type problems in two columns, interleaved row by row
        row = list(template)
        row[pop] = f"{template[pop]}-{i}"  # distinct keys (their foreign keys fail: another rule)
        row[cr], row[pr] = f"x{i}", f"y{i}"
        extra.append(row)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([header, *rows[1:], *extra])
    (pkg / "response.csv").write_text(buf.getvalue(), encoding="utf-8")
    report = validate_package(pkg)
    listed = [p for p in report.problems if p.rule == "type" and p.file == "response.csv" and p.row is not None]
    first_line = len(rows) + 1
    expected = [(first_line + i // 2, "cr" if i % 2 == 0 else "pr") for i in range(MAX_PROBLEMS_PER_RULE)]
    assert [(p.row, p.field) for p in listed] == expected
    summary = [p for p in report.problems if p.rule == "type" and p.file == "response.csv" and p.row is None]
    assert len(summary) == 1 and summary[0].message.startswith(f"{300 - MAX_PROBLEMS_PER_RULE} more problems")


def test_full_and_skip_count_without_keeping() -> None:
    found = ProblemList(limit=2)
    for line in (1, 2):
        found.add(problem("foreign-key", "a.csv", line, "x", "m"))
    assert found.full("a.csv", "foreign-key") and not found.full("b.csv", "foreign-key")
    found.skip("a.csv", "foreign-key")
    problems = found.finish()
    assert [p.row for p in problems] == [1, 2, None]
    assert problems[-1].message.startswith("1 more problems")


@pytest.mark.parametrize("enabled", [True, False])
def test_validation_restores_the_garbage_collector(enabled: bool) -> None:
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        validate_package(VALID)
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()


def test_a_key_that_cannot_be_hashed_stops_the_table_where_it_did(tmp_path: Path) -> None:
    """A 'list' field in a primary key cannot be checked for duplicates: the table stops at the first such
    key, with the problems of the rows before it (and none after), as a row-at-a-time reading stopped."""
    pkg = tmp_path / "pkg"
    shutil.copytree(VALID, pkg)
    descriptor = json.loads((pkg / "datapackage.json").read_text(encoding="utf-8"))
    arms = next(r for r in descriptor["resources"] if r["name"] == "arms")
    next(f for f in arms["schema"]["fields"] if f["name"] == "arm_id").update(type="list", constraints={})
    (pkg / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    lines = (pkg / "arms.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    empty_key = "," + lines[1].split(",", 1)[1]  # no key: not checked, so not the stop
    (pkg / "arms.csv").write_text("".join([lines[0], "\n", empty_key, *lines[1:], "\n"]), encoding="utf-8")
    report = validate_package(pkg)
    found = [(p.row, p.rule) for p in report.problems if p.file == "arms.csv"]
    assert (2, "blank-row") in found  # before the stop
    assert not [row for row, _rule in found if row is not None and row > 4]  # the first key is on line 4
    stops = [p.message for p in report.problems if p.file == "arms.csv" and p.rule == "internal-error"]
    assert len(stops) == 1 and re.search("unhashable type: 'list'", stops[0])
