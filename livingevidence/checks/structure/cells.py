"""Cells: typed by each Frictionless field's own reader (once per distinct text), rows kept as records."""

from __future__ import annotations

import math
from decimal import Decimal
from itertools import chain, compress, repeat
from operator import is_, itemgetter
from typing import Any

from livingevidence.checks.data import NO_BAD, Record, Table
from livingevidence.checks.registry import problem
from livingevidence.checks.structure.descriptor import _describe_control
from livingevidence.checks.structure.keys import _cell_problem, _partial, _unhashable_key
from livingevidence.checks.structure.limits import (
    CONTROL_CHARACTERS,
    MAX_ENCODING_PROBLEMS,
    CellReader,
    _Collector,
    _q,
    _Resource,
)
from livingevidence.report import Problem


class _CellCache(dict[str, Any]):
    """Cell text -> typed value of one field (``None`` for a bad cell), each text read once by Frictionless.

    The Frictionless cell reader is a pure function of the cell text, and a column holds few distinct texts
    (the 1,000-study package has 1.3 million cells but 77,000 distinct texts per column), so asking it once
    per text and then looking the answer up gives exactly its result at a fraction of the cost: a lookup
    that hits runs in C (``map(cache.__getitem__, column)``). ``bad`` keeps the problem keys of each text
    that failed its type or a constraint.
    """

    __slots__ = ("bad", "read")

    def __init__(self, read: CellReader | None) -> None:
        super().__init__()
        self.read = read
        self.bad: dict[str, tuple[str, ...]] = {}

    def __missing__(self, cell: str) -> Any:
        value, keys = _read_cell(self.read, cell)
        if keys:
            self.bad[cell] = keys
        self[cell] = value
        return value


def _read_cell(read: CellReader | None, cell: str) -> tuple[Any, tuple[str, ...] | None]:
    """A cell's typed value and, when it is bad, the keys of its problems (value None), as the structure
    layer judges it: the Frictionless reader's verdict, where a value it cannot compare with a constraint is
    unreadable and 'nan' and 'inf', numbers to Frictionless, are not finite numbers to us."""
    if read is None:  # a field without a reader keeps its text
        return cell, None
    try:
        value, notes = read(cell)
    except Exception:  # a constraint Frictionless cannot apply to this value: not a usable value
        value, notes = None, {"type": "unreadable"}
    if _not_finite(value):  # 'nan', 'inf': numbers to Frictionless, not to us
        value, notes = None, {"type": "not finite"}
    if notes:
        return None, tuple(notes)
    return value, None


def _not_finite(value: Any) -> bool:
    """True for NaN and infinities, and for numbers a float cannot hold (1e309 is a finite Decimal, but the
    build computes with floats: it would become inf)."""
    if isinstance(value, Decimal):
        return not value.is_finite() or math.isinf(float(value))
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return abs(value) > _FLOAT_MAX
    return False


_FLOAT_MAX = int(1.7976931348623157e308)


def _read_rows(
    file: str,
    records: list[tuple[int, int, list[str]]],
    labels: list[str],
    positions: dict[str, int],
    bad_lines: dict[int, str],
    res: _Resource,
    out: _Collector,
    controls: bool = False,
) -> Table:
    """Check and type the data rows of a table (``records``, emptied as they are read).

    Rows are checked for their shape in file order first; the cells of the rows that have the header's
    shape are then typed a column at a time (see :class:`_CellCache`), and the rows are built from the typed
    columns. Problems of one rule are reported in file order, row by row and field by field, as a row-at-a-
    time reading would report them (the per-rule limit keeps the first ones, so the order matters).
    """
    table = Table(name=res.name, file=file, fields=res.fields)
    descriptors = {str(f.get("name")): f for f in res.fields}
    width = len(labels)
    needed_width = max(positions.values()) + 1
    names = list(positions)  # the order of every row's values: the header's
    cols = [positions[n] for n in names]
    index = table.index = {n: i for i, n in enumerate(names)}
    pk = [k for k in res.primary_key if k in positions]
    unique_fields = [
        n
        for n, f in descriptors.items()
        if isinstance(f.get("constraints"), dict) and f["constraints"].get("unique") is True and pk != [n]
    ]
    encoding_reported: set[int] = set()
    encoding_problems: list[Problem] = []

    # 1. The shape of each row, in file order; cells with bytes that are not UTF-8 or control characters are
    #    bad before they are typed. Problems wait in ``shape`` with the row's ordinal (see step 4).
    shape: list[tuple[int, Problem]] = []
    ordinals: list[int] = []  # kept row -> its ordinal among all rows
    lines: list[int] = []
    rows: list[list[str]] = []
    pre_bad: dict[int, set[int]] = {}  # kept row -> positions (in ``names``) of cells already bad
    dropped: list[tuple[int, list[str]]] = []  # ragged rows (line, cells)
    for ordinal, (start, end, cells) in enumerate(records):
        # The first cell decides for almost every row; all(...) runs only when it is blank.
        if not cells or (not cells[0].strip() and all(not c.strip() for c in cells)):
            shape.append((ordinal, problem("blank-row", file, start, None, "the row is empty")))
            continue
        bad_here = [ln for ln in range(start, end + 1) if ln in bad_lines] if bad_lines else []
        if len(cells) > width or len(cells) < needed_width:
            spans = f" (the row spans lines {start}-{end}: check for an unclosed quote)" if end > start else ""
            if len(cells) > width:
                extra = cells[width:]
                first = next((c for c in extra if c.strip()), extra[0])
                ragged = problem(
                    "extra-cell",
                    file,
                    start,
                    None,
                    f"the row has {len(cells)} cells but the header has {width}; first extra cell {_q(first)}{spans}",
                )
            else:
                missing = [n for n, p in sorted(positions.items(), key=lambda kv: kv[1]) if p >= len(cells)]
                ragged = problem(
                    "missing-cell",
                    file,
                    start,
                    missing[0],
                    f"the row has {len(cells)} cells but the header has {width}; no cell for "
                    f"{', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''}{spans}",
                )
            shape.append((ordinal, ragged))
            dropped.append((start, cells))
            continue
        if bad_here or controls:
            marked: set[int] = set()
            for i, (name, col) in enumerate(zip(names, cols, strict=True)):
                cell = cells[col]
                if bad_here and "\ufffd" in cell:
                    marked.add(i)
                    encoding_reported.update(bad_here)
                    encoding_problems.append(
                        problem(
                            "encoding", file, start, name, f"bytes that are not UTF-8 in {_q(bad_lines[bad_here[0]])}"
                        )
                    )
                elif controls and CONTROL_CHARACTERS.search(cell):
                    marked.add(i)
                    shape.append(
                        (
                            ordinal,
                            problem(
                                "control-character", file, start, name, f"the cell contains {_describe_control(cell)}"
                            ),
                        )
                    )
            for ln in bad_here:
                if ln not in encoding_reported:
                    encoding_reported.add(ln)
                    encoding_problems.append(
                        problem("encoding", file, ln, None, f"bytes that are not UTF-8 near {_q(bad_lines[ln])}")
                    )
            if marked:
                pre_bad[len(rows)] = marked
        ordinals.append(ordinal)
        lines.append(start)
        rows.append(cells)
    records.clear()  # the kept rows' cells are in ``rows``; free the rest now (the caller has no more use for it)

    # 2. Type the cells a column at a time.
    value_columns: list[list[Any]] = []
    # The raw text of the fields whose text is not their value, by position: rows keep it for the checks that
    # read a number as printed. Equal cells of a column are kept as one str object (most of a row's memory).
    text_columns: dict[int, list[str]] = {}
    issues: list[tuple[int, int, tuple[str, ...], str]] = []  # (row, position, problem keys, text) of bad cells
    string_fields = {f.name for f in res.schema.fields if f.type == "string"} if res.schema is not None else set()
    # Columns are sliced from one flat list of the cells when every row has the header's width (the usual
    # case): one pass over the rows in memory order instead of one per column (4x faster on large tables).
    flat: list[str] | None = None
    if rows and set(map(len, rows)) == {width}:
        flat = list(chain.from_iterable(rows))
        rows.clear()
    for i, (name, col) in enumerate(zip(names, cols, strict=True)):
        column = flat[col::width] if flat is not None else list(map(itemgetter(col), rows))
        cache = _CellCache(res.readers.get(name))
        if name in string_fields:
            # A string field's value is its cell itself (the cache's, first of its text): no text to keep,
            # unless an empty value stands for a text that is not blank (a missing value such as 'NA').
            values = list(map(cache.__getitem__, column))
            if None in values:
                none_texts = set(compress(column, map(is_, values, repeat(None))))
                if any(t.strip() and t not in cache.bad for t in none_texts):
                    text_columns[i] = [c if v is None else v for v, c in zip(values, column, strict=True)]
        else:
            canonical: dict[str, str] = {}
            column = list(map(canonical.setdefault, column, column))
            del canonical
            values = list(map(cache.__getitem__, column))
            text_columns[i] = column
        if cache.bad:
            bad_texts = cache.bad
            for r, cell in enumerate(column):
                keys = bad_texts.get(cell)
                if keys is not None and not (r in pre_bad and i in pre_bad[r]):
                    issues.append((r, i, keys, cell))
        for r, marked in pre_bad.items():
            if i in marked:
                values[r] = None
        value_columns.append(values)
    del rows, flat
    issues.sort(key=lambda item: (item[0], item[1]))  # file order, then field order (the sort is stable)

    # 3. Keys: the primary key, then the fields declared unique (an empty or bad cell is reported by its own
    #    constraint). Problems wait in ``keyed``.
    keyed: list[Problem] = []
    pk_columns = [value_columns[index[k]] for k in pk]
    unique_columns = [value_columns[index[n]] for n in unique_fields]
    stop = _unhashable_key(pk_columns, unique_columns)
    if pk:
        pk_seen: dict[tuple[Any, ...], int] = {}
        fields_txt = ", ".join(pk)
        for r, key in enumerate(zip(*pk_columns, strict=True)):
            if stop is not None and (r > stop[0] or (r == stop[0] and stop[1] == -1)):
                break
            if any(v is None for v in key):
                continue
            first_line = pk_seen.setdefault(key, lines[r])
            if first_line != lines[r]:
                shown = ", ".join(str(v) for v in key)
                keyed.append(
                    problem(
                        "primary-key",
                        file,
                        lines[r],
                        pk[0] if len(pk) == 1 else None,
                        f"({fields_txt}) = ({shown}) is already used on line {first_line}"
                        if len(pk) > 1
                        else f"'{shown}' is already used on line {first_line}",
                        f"remove the duplicate row, or give it its own {fields_txt}",
                    )
                )
    if unique_fields:
        unique_seen: list[dict[Any, int]] = [{} for _ in unique_fields]
        for r, row_values in enumerate(zip(*unique_columns, strict=True)):
            if stop is not None and r > stop[0]:
                break
            for j, (name, v) in enumerate(zip(unique_fields, row_values, strict=True)):
                if stop is not None and (r, j) >= stop:
                    break
                if v is None:
                    continue
                seen = unique_seen[j]
                if v in seen:
                    keyed.append(
                        problem(
                            "unique",
                            file,
                            lines[r],
                            name,
                            f"{_q(v)} is already used on line {seen[v]}",
                            f"remove the duplicate row, or give it its own {name}",
                        )
                    )
                else:
                    seen[v] = lines[r]

    # 4. Report. A key that cannot be hashed (a 'list' or 'object' field in a key) stops the table where a
    #    row-at-a-time reading stops: only the problems of the rows up to that one are reported.
    last_row = len(lines) if stop is None else stop[0]
    for ordinal, found in shape:
        if stop is None or ordinal <= ordinals[last_row]:
            out.add(found)
    bad_of: dict[int, set[str]] = {r: {names[i] for i in marked} for r, marked in pre_bad.items()}
    for r, i, keys, cell in issues:
        if r > last_row:
            break
        bad_of.setdefault(r, set()).add(names[i])
        for key in keys:
            out.add(_cell_problem(file, lines[r], names[i], key, cell, descriptors.get(names[i], {})))
    for found in keyed:
        out.add(found)
    if stop is not None:
        row_values = [c[stop[0]] for c in pk_columns] if stop[1] == -1 else [unique_columns[stop[1]][stop[0]]]
        hash(tuple(row_values))  # raises the TypeError that a row-at-a-time reading raises
        raise TypeError("unhashable key")  # pragma: no cover - hash() above raised

    # 5. The rows, from the typed columns.
    bads = [NO_BAD] * len(lines)
    for r, bad_names in bad_of.items():
        bads[r] = frozenset(bad_names)
    text_positions = sorted(text_columns)
    text_index = {names[i]: len(names) + j for j, i in enumerate(text_positions)}
    row_values = zip(*value_columns, *(text_columns[i] for i in text_positions), strict=True)
    table.records = list(map(Record, lines, row_values, bads, repeat(index), repeat(text_index)))
    del value_columns, text_columns, row_values
    table.dropped = [_partial(line, cells, positions, res, index, text_index) for line, cells in dropped]

    for ln in sorted(set(bad_lines) - encoding_reported):  # bad bytes on lines that are not data rows
        encoding_problems.append(
            problem("encoding", file, ln, None, f"bytes that are not UTF-8 near {_q(bad_lines[ln])}")
        )
    for p in encoding_problems[:MAX_ENCODING_PROBLEMS]:
        out.add(p)
    if len(encoding_problems) > MAX_ENCODING_PROBLEMS:
        out.add(
            problem(
                "encoding",
                file,
                None,
                None,
                f"{len(encoding_problems) - MAX_ENCODING_PROBLEMS} more cells or lines have bytes that are not UTF-8",
            )
        )
    return table
