"""One table's file: the dialect, strict decoding, CSV parsing line by line, the header against the schema."""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from livingevidence.checks.data import Table
from livingevidence.checks.registry import problem
from livingevidence.checks.structure.cells import _read_rows
from livingevidence.checks.structure.descriptor import _read_limited, _Refused
from livingevidence.checks.structure.limits import (
    CONTROL_CHARACTERS,
    MAX_CELL_CHARS,
    MAX_ENCODING_PROBLEMS,
    MAX_TABLE_BYTES,
    _Collector,
    _q,
    _Resource,
    _suggest,
)


def _dialect(res: _Resource) -> dict[str, Any]:
    d = res.descriptor.get("dialect") or {}
    delimiter = d.get("delimiter", ",")
    quote = d.get("quoteChar", '"')
    return {
        "delimiter": delimiter if isinstance(delimiter, str) and len(delimiter) == 1 else ",",
        "quotechar": quote if isinstance(quote, str) and len(quote) == 1 else '"',
        "doublequote": bool(d.get("doubleQuote", True)),
        "skipinitialspace": bool(d.get("skipInitialSpace", False)),
        "strict": True,
    }


def _read_table(base: Path, res: _Resource, out: _Collector) -> Table | None:
    assert res.path is not None
    file = res.path
    full = base / file
    if not full.exists():
        out.add(
            problem(
                "file-missing",
                file,
                None,
                None,
                f"the file of the table '{res.name}' does not exist",
                f"create {file} with the header row ({', '.join(f.get('name', '?') for f in res.fields[:4])}"
                f"{', ...' if len(res.fields) > 4 else ''}), or fix the path of '{res.name}' in "
                "datapackage.json",
            )
        )
        return None
    try:
        data = _read_limited(full, MAX_TABLE_BYTES, inside=base)
    except _Refused as exc:
        out.add(problem(exc.rule, file, None, None, exc.message, exc.hint))
        return None
    except OSError as exc:
        out.add(problem("file-unreadable", file, None, None, f"cannot read the file: {exc.strerror or exc}"))
        return None
    if not data.strip():
        out.add(
            problem(
                "empty-file",
                file,
                None,
                None,
                "the file is empty (no header row)",
                f"write the header row on line 1: {','.join(str(f.get('name')) for f in res.fields)}",
            )
        )
        return None
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        out.add(
            problem(
                "encoding",
                file,
                line,
                None,
                "the file contains NUL bytes: it is a binary file or UTF-16 text, not a UTF-8 CSV file",
                "export the table as 'CSV UTF-8' (comma-separated)",
            )
        )
        return None
    encoding = str(res.descriptor.get("encoding", "utf-8"))
    is_utf8 = codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")
    if is_utf8 and data.startswith(codecs.BOM_UTF8):
        out.add(
            problem(
                "bom",
                file,
                1,
                None,
                "the file starts with a UTF-8 byte-order mark (BOM); tools reading it as UTF-8 see the first "
                "field name with an invisible character in front",
            )
        )
        data = data[len(codecs.BOM_UTF8) :]
    text, bad_lines = _decode(data, encoding)
    del data
    controls = CONTROL_CHARACTERS.search(text) is not None  # cells are searched only when the file has any
    try:
        records = _parse_csv(text, res)
    except csv.Error as exc:
        line = getattr(exc, "line", None)
        if "field larger than field limit" in str(exc):
            out.add(
                problem(
                    "too-large",
                    file,
                    line,
                    None,
                    f"a cell starting on this line is longer than {MAX_CELL_CHARS} characters, the limit for a cell",
                    "shorten the cell; if the row should not be this long, look for an unclosed quote",
                )
            )
            return None
        out.add(
            problem(
                "csv-syntax",
                file,
                line,
                None,
                _csv_message(str(exc)),
                "close the quote of the cell that starts on this line (a quote inside a quoted cell is "
                'written ""), or remove the stray quote',
            )
        )
        return None
    del text  # the rows hold the cells now
    header_line, labels = records[0][0], records[0][2]
    if not labels or all(not c.strip() for c in labels):
        out.add(
            problem(
                "blank-label",
                file,
                header_line,
                None,
                "the header row is empty",
                f"write the header row: {','.join(str(f.get('name')) for f in res.fields)}",
            )
        )
        return None
    positions = _check_header(file, header_line, labels, res, out)
    if positions is None:
        _report_encoding_unmapped(file, bad_lines, out)
        return None
    del records[0]  # the header: _read_rows takes (and empties) the list of data rows
    return _read_rows(file, records, labels, positions, bad_lines, res, out, controls)


def _decode(data: bytes, encoding: str) -> tuple[str, dict[int, str]]:
    """Decode strictly; on failure decode with replacement characters and return the lines with bad bytes."""
    try:
        return data.decode(encoding), {}
    except UnicodeDecodeError:
        pass
    bad: dict[int, str] = {}
    for i, raw_line in enumerate(data.split(b"\n"), start=1):
        try:
            raw_line.decode(encoding)
        except UnicodeDecodeError as exc:
            s = max(exc.start - 20, 0)
            bad[i] = raw_line[s : exc.end + 20].decode(encoding, errors="backslashreplace").strip()
    return data.decode(encoding, errors="replace"), bad


def _report_encoding_unmapped(file: str, bad_lines: dict[int, str], out: _Collector) -> None:
    for n, (line, snippet) in enumerate(sorted(bad_lines.items())):
        if n == MAX_ENCODING_PROBLEMS:
            out.add(
                problem("encoding", file, None, None, f"{len(bad_lines) - n} more lines have bytes that are not UTF-8")
            )
            break
        out.add(problem("encoding", file, line, None, f"bytes that are not UTF-8 near {_q(snippet)}"))


def _csv_message(msg: str) -> str:
    if "unexpected end of data" in msg:
        return "a quoted cell starting on this line is never closed (the file ends inside quotes)"
    if "expected after" in msg:
        return "a quote ends a quoted cell but is not followed by a comma (unbalanced quotes in this row)"
    return f"the CSV cannot be parsed: {msg}"


# Line breaks of str.splitlines that are not line breaks to a CSV reader (only \r, \n and \r\n are).
_OTHER_LINE_BREAKS = re.compile("[\v\f\x1c\x1d\x1e\x85\u2028\u2029]")

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


def _lines(text: str) -> Iterable[str]:
    r"""The lines of ``text`` with their line ends, split at \r, \n and \r\n, as ``io.StringIO(text,
    newline="")`` gives them to a CSV reader, but without its copy of the text at four bytes a character
    (60 MB for a 15 MB table)."""
    if _OTHER_LINE_BREAKS.search(text) is None:
        return text.splitlines(keepends=True)
    return (m.group() for m in _LINE.finditer(text))


def _parse_csv(text: str, res: _Resource) -> list[tuple[int, int, list[str]]]:
    """Records as (first line, last line, cells). Raises csv.Error with a ``line`` attribute."""
    reader = csv.reader(_lines(text), **_dialect(res))
    records: list[tuple[int, int, list[str]]] = []
    previous = 0
    # The limit is process-wide and Frictionless raises it to 2 GB when it loads its CSV plugin: set ours here.
    saved = csv.field_size_limit(MAX_CELL_CHARS)
    append = records.append  # once per row of every table: keep the loop lean
    try:
        for cells in reader:
            line = reader.line_num
            append((previous + 1, line, cells))
            previous = line
    except csv.Error as exc:
        exc.line = previous + 1  # type: ignore[attr-defined]
        raise
    finally:
        csv.field_size_limit(saved)
    if not records:
        records.append((1, 1, []))
    return records


def _check_header(file: str, line: int, labels: list[str], res: _Resource, out: _Collector) -> dict[str, int] | None:
    """Compare labels with the schema; return the column of each field, or None when a field has no column."""
    names = [str(f.get("name")) for f in res.fields]
    positions: dict[str, int] = {}
    seen: dict[str, int] = {}
    for i, label in enumerate(labels):
        if not label.strip():
            out.add(
                problem(
                    "blank-label",
                    file,
                    line,
                    names[i] if i < len(names) else None,
                    f"column {i + 1} of the header is empty",
                )
            )
            continue
        if label in seen:
            out.add(
                problem(
                    "duplicate-label",
                    file,
                    line,
                    label,
                    f"column {i + 1} repeats the header '{label}' of column {seen[label] + 1}",
                )
            )
            continue
        seen[label] = i
        if label in names:
            positions[label] = i
        else:
            stripped = label.strip()
            suggestion = _suggest(label, [n for n in names if n not in labels])
            if stripped in names and stripped not in labels:
                out.add(
                    problem(
                        "incorrect-label",
                        file,
                        line,
                        stripped,
                        f"the header {_q(label)} has spaces around the field name",
                        f"write the header as '{stripped}'",
                    )
                )
                positions[stripped] = i
            else:
                out.add(
                    problem(
                        "extra-label",
                        file,
                        line,
                        None,
                        f"the header has a column {_q(label)} that is not a field of '{res.name}'{suggestion}",
                        "remove the column, or rename it to the schema's field name",
                    )
                )
    missing = [n for n in names if n not in positions]
    for n in missing:
        out.add(
            problem(
                "missing-label",
                file,
                line,
                n,
                f"the header has no column '{n}'",
                f"add the column '{n}' in position {names.index(n) + 1} (and a cell to every row)",
            )
        )
    if missing:
        return None
    order = sorted(positions, key=positions.__getitem__)
    if order != names:
        first = next(i for i, (a, b) in enumerate(zip(order, names, strict=True)) if a != b)
        out.add(
            problem(
                "incorrect-label",
                file,
                line,
                names[first],
                f"the columns are not in the schema's order: '{order[first]}' comes where '{names[first]}' is expected",
                "put the columns in the schema's order",
            )
        )
    return positions
