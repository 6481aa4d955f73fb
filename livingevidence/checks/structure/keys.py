"""Primary keys, unique constraints and foreign keys, checked from the rows already read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from livingevidence.checks.data import Loaded, Record, Table
from livingevidence.checks.registry import problem
from livingevidence.checks.structure.limits import (
    CONSTRAINT_RULES,
    P_VALUE_HINT,
    PATTERN_HINTS,
    SLUG_PATTERN,
    TYPE_HINTS,
    _Collector,
    _q,
    _Resource,
    _slugify,
    _suggest,
)
from livingevidence.report import Problem

# Types of typed values that always hash (a 'list', 'array', 'object' or 'geojson' field gives lists and dicts).
_HASHABLE_TYPES = frozenset({str, int, float, bool, Decimal, type(None), dt.date, dt.datetime, dt.time, dt.timedelta})


def _unhashable_key(pk_columns: list[list[Any]], unique_columns: list[list[Any]]) -> tuple[int, int] | None:
    """The first (row, j) whose key cannot be hashed, in the order a row-at-a-time reading checks them: the
    primary key of a row (j = -1), then its unique fields (j = their position). None when every key hashes,
    which is always the case for the types of the data package (strings, numbers, dates)."""
    if all(set(map(type, c)) <= _HASHABLE_TYPES for c in (*pk_columns, *unique_columns)):
        return None  # the usual case, decided in C
    n = len(pk_columns[0]) if pk_columns else len(unique_columns[0])
    for r in range(n):
        checks: list[tuple[int, Any]] = [(-1, tuple(c[r] for c in pk_columns))] if pk_columns else []
        checks += [(j, c[r]) for j, c in enumerate(unique_columns)]
        for j, value in checks:
            if value is None or (j == -1 and any(v is None for v in value)):
                continue
            try:
                hash(value)
            except TypeError:
                return (r, j)
    return None


def _partial(
    line: int,
    cells: list[str],
    positions: dict[str, int],
    res: _Resource,
    index: dict[str, int],
    text_index: dict[str, int],
) -> Record:
    """A ragged row's readable cells: kept only so that foreign keys into the table still resolve."""
    values: list[Any] = [None] * (len(index) + len(text_index))
    bad: set[str] = set()
    for name, col in positions.items():
        if col >= len(cells) or name not in res.readers:
            bad.add(name)
            continue
        try:
            value, notes = res.readers[name](cells[col])
        except Exception:
            value, notes = None, {"error": ""}
        if name in text_index:
            values[text_index[name]] = cells[col]
        values[index[name]] = None if notes else value
        if notes:
            bad.add(name)
    return Record(line, tuple(values), frozenset(bad), index, text_index)


def _cell_problem(file: str, line: int, name: str, key: str, cell: str, desc: dict[str, Any]) -> Problem:
    ftype = str(desc.get("type", "string"))
    constraints = desc.get("constraints") if isinstance(desc.get("constraints"), dict) else {}
    assert isinstance(constraints, dict)
    description = str(desc.get("description", "")).strip()
    optional = "" if constraints.get("required") else "; leave the cell empty if the source does not report it"
    if key == "type":
        article = "an" if ftype[0] in "aeiou" else "a"
        hint = TYPE_HINTS.get(ftype, f"write a valid {ftype}") + optional
        return problem("type", file, line, name, f"{_q(cell)} is not {article} {ftype}", hint)
    rule = CONSTRAINT_RULES.get(key)
    if rule is None:
        return problem("schema-invalid", file, line, name, f"{_q(cell)} breaks the constraint '{key}'")
    value = constraints.get(key)
    if rule == "required":
        what = f": {description[0].lower()}{description[1:]}" if description else ""
        return problem("required", file, line, name, "the cell is empty but required", f"fill in the value{what}")
    if rule == "enum":
        allowed = [str(v) for v in value] if isinstance(value, list) else []
        return problem(
            "enum",
            file,
            line,
            name,
            f"{_q(cell)} is not an allowed value{_suggest(cell, allowed)}",
            "use one of: " + ", ".join(allowed),
        )
    if rule == "pattern":
        pattern = str(value)
        hint = PATTERN_HINTS.get(pattern)
        if hint is None and "[<>≤≥]" in pattern:
            hint = P_VALUE_HINT
        if hint is None:
            hint = f"write the value in the form the schema expects ({pattern})"
        suggestion = ""
        if pattern == SLUG_PATTERN and _slugify(cell) and _slugify(cell) != cell:
            suggestion = f" (did you mean '{_slugify(cell)}'?)"
        return problem("pattern", file, line, name, f"{_q(cell)} does not have the expected form{suggestion}", hint)
    if rule in ("minimum", "exclusive-minimum"):
        word = "below the minimum" if rule == "minimum" else "not above the exclusive minimum"
        return problem(
            rule,
            file,
            line,
            name,
            f"{cell.strip()} is {word} {value}",
            "check the value against the source"
            + ("; counts and sizes cannot be negative" if value in (0, "0") else ""),
        )
    if rule in ("maximum", "exclusive-maximum"):
        word = "above the maximum" if rule == "maximum" else "not below the exclusive maximum"
        extra = "; percentages are numbers from 0 to 100, without '%'" if value in (100, "100") else ""
        return problem(
            rule, file, line, name, f"{cell.strip()} is {word} {value}", "check the value against the source" + extra
        )
    if rule == "max-length":
        return problem(
            rule,
            file,
            line,
            name,
            f"the text is {len(cell)} characters long, more than {value}",
            f"shorten the text to at most {value} characters",
        )
    return problem(
        rule,
        file,
        line,
        name,
        f"the text is {len(cell)} characters long, fewer than {value}",
        f"write at least {value} characters",
    )


def _check_foreign_keys(resources: dict[str, _Resource], loaded: Loaded, out: _Collector) -> None:
    # Indexes of referenced keys, built once per (table, fields): one-field keys (all of the data package's)
    # as a set of values, longer ones as a set of tuples.
    index_cache: dict[tuple[str, tuple[str, ...]], set[Any]] = {}
    choices_cache: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    suggestions: dict[tuple[tuple[str, tuple[str, ...]], str], str] = {}
    for res in resources.values():
        table = loaded.tables.get(res.name)
        if table is None:
            continue
        for fk in res.foreign_keys:
            target = loaded.tables.get(fk["resource"])
            if target is None:
                continue  # the target did not load; its problems are reported already
            fields: list[str] = fk["fields"]
            ref_fields: list[str] = fk["ref_fields"]
            single = len(fields) == 1 and len(ref_fields) == 1
            cache_key = (fk["resource"], tuple(ref_fields))
            index = index_cache.get(cache_key)
            if index is None:
                if single:
                    index = {v for v in _column((*target.records, *target.dropped), ref_fields[0]) if v is not None}
                else:
                    index = set()
                    for key in _keys((*target.records, *target.dropped), ref_fields):
                        if all(v is not None for v in key):
                            index.add(key)
                index_cache[cache_key] = index
            keys = ((v,) for v in _column(table.records, fields[0])) if single else _keys(table.records, fields)
            for rec, key in zip(table.records, keys, strict=True):
                # A bad cell reads as None: a one-field key with a bad cell is skipped by the None test.
                if single:
                    if key[0] is None or key[0] in index:
                        continue
                elif (rec.bad and any(f in rec.bad for f in fields)) or all(v is None for v in key) or key in index:
                    continue
                if out.full(table.file, "foreign-key"):
                    out.skip(table.file, "foreign-key")  # not listed: spare the costly suggestion
                    continue
                shown = ", ".join("" if v is None else str(v) for v in key)
                ref_txt = ", ".join(ref_fields)
                suggestion = suggestions.get((cache_key, shown))
                if suggestion is None:  # the same unknown id is often used on many rows and in many tables
                    choices = choices_cache.get(cache_key)
                    if choices is None:
                        choices = choices_cache[cache_key] = _key_choices(target, ref_fields)
                    suggestion = suggestions[(cache_key, shown)] = _suggest(shown, choices)
                out.add(
                    problem(
                        "foreign-key",
                        table.file,
                        rec.line,
                        fields[0],
                        f"no row of {target.file} has {ref_txt} '{shown}'{suggestion}",
                        f"add a row to {target.file} with {ref_txt} '{shown}' or fix the id",
                    )
                )


def _column(records: Iterable[Record], name: str) -> list[Any]:
    """The values of one field of each record (all records of one table share one ``index``)."""
    records = list(records)
    if not records:
        return []
    position = records[0].index.get(name)
    if position is None:
        return [None] * len(records)
    return [rec.values[position] for rec in records]


def _keys(records: Iterable[Record], fields: list[str]) -> Iterable[tuple[Any, ...]]:
    """The values of ``fields`` of each record, as tuples (``None`` for a field a record does not have)."""
    for rec in records:
        values, index = rec.values, rec.index
        yield tuple(values[i] if (i := index.get(f)) is not None else None for f in fields)


def _key_choices(target: Table, ref_fields: list[str]) -> list[str]:
    """The referenced keys as shown in a 'did you mean' suggestion, in the order of a set of key tuples
    filled in file order (the order decides between two keys that differ only in case)."""
    keys: set[tuple[Any, ...]] = set()
    for key in _keys((*target.records, *target.dropped), ref_fields):
        if all(v is not None for v in key):
            keys.add(key)
    return [", ".join(str(v) for v in k) for k in keys]
