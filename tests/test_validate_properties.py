"""Property tests: random damage to the valid fixture never makes the validator raise or crash a check.

Each example copies tests/fixtures/valid/ to a temporary directory, applies one to three random mutations
(change a cell to random text, a number or nothing; drop, duplicate or swap rows; truncate a file; insert random
bytes; delete a file; damage datapackage.json) and asserts that ``validate_package`` returns a report whose
problems all use registered rules, with no ``internal-error`` (a check that crashed), and that the report
renders as text and JSON. ``test_csv_byte_mutations_never_crash`` does the same on the raw bytes of the CSV
files (bit flips, inserted CSV syntax, invalid UTF-8, deleted and repeated byte ranges), below the cell level.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livingevidence.checks import RULES, validate_package
from livingevidence.report import Report

VALID = Path(__file__).resolve().parent / "fixtures" / "valid"
CSV_FILES = sorted(p.name for p in VALID.glob("*.csv"))
ALL_FILES = [*CSV_FILES, "datapackage.json"]

# Values that reach the interesting paths: ids of other rows, numbers at and beyond limits, special words.
INTERESTING = [
    "fa-xy",
    "fa-x",
    "fb-tx",
    "fa-psm",
    "fa-all",
    "fb-all",
    "fixture-a",
    "fixture-b",
    "x",
    "x-y",
    "tace-x",
    "0",
    "-1",
    "1",
    "30",
    "31",
    "100",
    "100.5",
    "1e309",
    "-0",
    "nan",
    "inf",
    "NaN",
    "1_000",
    "+3",
    " 2 ",
    "<0.001",
    ">0.05",
    "1",
    "0.05",
    "p=0.05",
    "true",
    "false",
    "2021-13",
    "2021-02-30",
    "2019-01",
    "2030-01-01",
    "mRECIST",
    "RECIST 1.1",
    "none",
    "test",
    "HR",
    "any",
    "3-4",
    "yes",
    "no",
    "male",
    "female",
    "all",
    'a "quoted" cell',
    "comma, inside",
    "new\nline",
    "\ufeff",
    "é",
    "\x00",
    "\r",
    # Extreme numbers: Decimal arithmetic on them must not fail or crawl.
    "1e-999999999",
    "1e999999999",
    "4.0000000000000000000000000000000000000001",
    "9" * 400,
    "0." + "0" * 400 + "1",
    "-1e-7",
    # Control characters, bidirectional overrides, right-to-left text.
    "\x07",
    "x\u202ey",
    "\u2067مرحبا\u2069",
    "🧪",
]

cell_values = st.one_of(
    st.sampled_from(INTERESTING),
    st.text(max_size=12),
    st.integers(min_value=-1000, max_value=10**9).map(str),
    st.decimals(allow_nan=True, allow_infinity=True, places=3).map(str),
    st.just(""),
)


def _rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8", errors="replace"), newline="")))


def _write(path: Path, rows: list[list[str]]) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8", errors="surrogatepass")


@st.composite
def mutation(draw: st.DrawFn) -> tuple[str, str, tuple[object, ...]]:
    kind = draw(
        st.sampled_from(
            ["cell", "cell", "cell", "drop", "duplicate", "swap", "truncate", "bytes", "delete", "descriptor"]
        )
    )
    file = draw(st.sampled_from(CSV_FILES if kind in ("cell", "drop", "duplicate", "swap") else ALL_FILES))
    args: tuple[object, ...]
    if kind == "cell":
        args = (draw(st.integers(0, 20)), draw(st.integers(0, 40)), draw(cell_values))
    elif kind in ("drop", "duplicate"):
        args = (draw(st.integers(0, 20)),)
    elif kind == "swap":
        args = (draw(st.integers(0, 20)), draw(st.integers(0, 20)))
    elif kind == "truncate":
        args = (draw(st.floats(0, 1)),)
    elif kind == "bytes":
        args = (draw(st.floats(0, 1)), draw(st.binary(min_size=1, max_size=16)))
    elif kind == "descriptor":
        file = "datapackage.json"
        args = (
            draw(st.sampled_from(["drop-field", "type", "constraint", "fk", "pk", "resources", "null"])),
            draw(st.integers(0, 30)),
            draw(st.integers(0, 40)),
        )
    else:
        args = ()
    return kind, file, args


def _apply(pkg: Path, kind: str, file: str, args: tuple[object, ...]) -> None:
    path = pkg / file
    if not path.exists():
        return
    if kind == "delete":
        path.unlink()
        return
    if kind == "truncate":
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * float(args[0]))])  # type: ignore[arg-type]
        return
    if kind == "bytes":
        data = path.read_bytes()
        at = int(len(data) * float(args[0]))  # type: ignore[arg-type]
        path.write_bytes(data[:at] + bytes(args[1]) + data[at:])  # type: ignore[arg-type]
        return
    if kind == "descriptor":
        _damage_descriptor(path, *args)  # type: ignore[arg-type]
        return
    rows = _rows(path)
    if not rows:
        return
    if kind == "cell":
        r = int(args[0]) % len(rows)  # type: ignore[call-overload]
        if rows[r]:
            rows[r][int(args[1]) % len(rows[r])] = str(args[2])  # type: ignore[call-overload]
    elif kind == "drop":
        del rows[int(args[0]) % len(rows)]  # type: ignore[call-overload]
    elif kind == "duplicate":
        rows.append(list(rows[int(args[0]) % len(rows)]))  # type: ignore[call-overload]
    elif kind == "swap":
        i, j = int(args[0]) % len(rows), int(args[1]) % len(rows)  # type: ignore[call-overload]
        rows[i], rows[j] = rows[j], rows[i]
    _write(path, rows)


def _damage_descriptor(path: Path, how: str, i: int, j: int) -> None:
    try:
        descriptor = json.loads(path.read_text(encoding="utf-8"))
        resource = descriptor["resources"][i % len(descriptor["resources"])]
        fields = resource["schema"]["fields"]
        field = fields[j % len(fields)]
    except (ValueError, KeyError, TypeError, ZeroDivisionError, IndexError):
        return
    if how == "drop-field":
        fields.remove(field)
    elif how == "type":
        field["type"] = ["integer", "number", "date", "boolean", "yearmonth", "any", "geojson", 7][j % 8]
    elif how == "constraint":
        field["constraints"] = [
            {"minimum": "x"},
            {"pattern": "("},
            {"enum": "a"},
            {"maxLength": -1},
            {"required": "yes"},
            {"unique": True},
        ][j % 6]
    elif how == "fk":
        resource["schema"]["foreignKeys"] = [
            {"fields": field["name"], "reference": {"resource": "nowhere", "fields": "id"}}
        ]
    elif how == "pk":
        resource["schema"]["primaryKey"] = ["no_such_field"]
    elif how == "resources":
        descriptor["resources"] = descriptor["resources"][: i % 5]
    elif how == "null":
        descriptor["resources"][i % len(descriptor["resources"])] = None
    path.write_text(json.dumps(descriptor, indent=2), encoding="utf-8")


def _check(report: Report) -> None:
    assert isinstance(report, Report)
    for p in report.problems:
        assert p.rule in RULES, p
        assert p.rule != "internal-error", p
        assert p.severity == RULES[p.rule].severity
    json.loads(report.to_json())
    assert report.to_text().endswith("\n")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mutation(), min_size=1, max_size=3))
def test_random_damage_never_raises(mutations: list[tuple[str, str, tuple[object, ...]]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        pkg = Path(tmp) / "pkg"
        shutil.copytree(VALID, pkg)
        for kind, file, args in mutations:
            _apply(pkg, kind, file, args)
        _check(validate_package(pkg))


@settings(max_examples=30, deadline=None)
@given(st.binary(max_size=400))
def test_garbage_descriptor_never_raises(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        pkg = Path(tmp) / "pkg"
        shutil.copytree(VALID, pkg)
        (pkg / "datapackage.json").write_bytes(data)
        _check(validate_package(pkg))


# Byte strings that matter to a CSV reader and a UTF-8 decoder.
BYTE_TOKENS = [
    b",",
    b'"',
    b'""',
    b"\n",
    b"\r\n",
    b"\r",
    b"\x00",
    b"\xef\xbb\xbf",  # BOM
    b"\xff",
    b"\xc3",  # a truncated two-byte sequence
    b"\xed\xa0\x80",  # an encoded surrogate (invalid UTF-8)
    b"\xe2\x80\xae",  # U+202E
    b"\x07",
    b"\xc2\x85",  # U+0085
    b",,,,,,,,",
    b"1e-999999999",
    b"9" * 300,
    b"\t",
    b"\\",
    b'"a,b\nc"',
    b"\xf0\x9f\xa7\xaa",  # emoji
    b"\xd9\x85\xd8\xb1",  # Arabic
]

byte_op = st.one_of(
    st.tuples(st.just("flip"), st.floats(0, 1), st.integers(0, 7)),
    st.tuples(st.just("set"), st.floats(0, 1), st.integers(0, 255)),
    st.tuples(
        st.just("insert"), st.floats(0, 1), st.one_of(st.sampled_from(BYTE_TOKENS), st.binary(min_size=1, max_size=8))
    ),
    st.tuples(st.just("delete"), st.floats(0, 1), st.integers(1, 40)),
    st.tuples(st.just("repeat"), st.floats(0, 1), st.integers(1, 120)),
)


def _mutate_bytes(data: bytes, ops: list[tuple[str, float, object]]) -> bytes:
    buf = bytearray(data)
    for kind, where, arg in ops:
        at = min(int(len(buf) * where), max(len(buf) - 1, 0))
        if kind == "flip" and buf:
            buf[at] ^= 1 << int(arg)  # type: ignore[call-overload]
        elif kind == "set" and buf:
            buf[at] = int(arg)  # type: ignore[call-overload]
        elif kind == "insert":
            buf[at:at] = bytes(arg)  # type: ignore[call-overload]
        elif kind == "delete":
            del buf[at : at + int(arg)]  # type: ignore[call-overload]
        elif kind == "repeat":
            buf[at:at] = buf[at : at + int(arg)]  # type: ignore[call-overload]
    return bytes(buf)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.sampled_from(CSV_FILES), st.lists(byte_op, min_size=1, max_size=6)),
        min_size=1,
        max_size=3,
    )
)
def test_csv_byte_mutations_never_crash(edits: list[tuple[str, list[tuple[str, float, object]]]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        pkg = Path(tmp) / "pkg"
        shutil.copytree(VALID, pkg)
        for file, ops in edits:
            path = pkg / file
            path.write_bytes(_mutate_bytes(path.read_bytes(), ops))
        _check(validate_package(pkg))
