"""What the structure layer hands to the meaning and consistency layers: tables of typed rows.

Only tables that loaded (file read, CSV parsed, header matching the schema) are passed on. Rows that are
structurally broken (blank, ragged) are left out; cells that failed their type or constraint are kept as
``None`` and marked bad, so that later checks skip them instead of reporting the same defect again.

A row is stored compactly, because a large package has hundreds of thousands of them: one tuple of its typed
values in the table's field order, followed by the raw text of the cells whose text is not their value, and
two field name -> position mappings shared by every row of the table. (Two dicts per row, values and raw
text by field name, took about 2 KB a row: most of the validator's memory.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

__all__ = ["NO_BAD", "Loaded", "Record", "Table"]

#: The ``bad`` set of a row without bad cells (one object shared by all of them).
NO_BAD: frozenset[str] = frozenset()


class Record:
    """One data row: its line number, typed values, the raw text of its cells and the bad cells.

    ``values`` holds the typed value of the field at position ``i`` of ``index`` at ``values[i]`` (``None``
    for an empty or bad cell), followed by the raw text of the fields in ``text_index`` (at the position it
    gives). A field not in ``text_index`` is a string field whose text is its value (or blank when the value
    is empty), so its text is not stored twice. ``index`` and ``text_index`` are shared by the rows of a table.
    """

    __slots__ = ("bad", "index", "line", "text_index", "values")

    def __init__(
        self,
        line: int,
        values: tuple[Any, ...],
        bad: frozenset[str] = NO_BAD,
        index: dict[str, int] | None = None,
        text_index: dict[str, int] | None = None,
    ) -> None:
        self.line = line
        self.values = values
        self.bad = bad
        self.index: dict[str, int] = index if index is not None else {}
        self.text_index: dict[str, int] = text_index if text_index is not None else {}

    def __repr__(self) -> str:
        return f"Record(line={self.line}, values={dict(zip(self.index, self.values, strict=False))!r})"

    def get(self, name: str) -> Any:
        """Typed value of a field, or ``None`` when empty, missing or invalid."""
        # A bad cell's value is stored as None, so the bad set need not be consulted here (the hottest call).
        i = self.index.get(name)
        return None if i is None else self.values[i]

    def text(self, name: str) -> str:
        """Raw cell text as written in the file (stripped), ``""`` when absent or invalid."""
        if name in self.bad:
            return ""
        j = self.text_index.get(name)
        if j is not None:
            return (self.values[j] or "").strip()
        i = self.index.get(name)
        if i is None:
            return ""
        value = self.values[i]  # a string field: its value is its text
        return value.strip() if value is not None else ""

    def has(self, *names: str) -> bool:
        """True when every named field has a valid, non-empty value."""
        return all(self.get(n) is not None for n in names)


@dataclass
class Table:
    """A loaded table: resource name, file (relative to the package directory), fields and rows."""

    name: str
    file: str
    fields: list[dict[str, Any]]
    records: list[Record] = field(default_factory=list)
    # Ragged rows, left out of the checks; their readable key cells still count as targets of foreign keys.
    dropped: list[Record] = field(default_factory=list)
    # The position of each field in the values of the table's rows (the ``index`` every row shares).
    index: dict[str, int] = field(default_factory=dict)

    def picker(self, names: Sequence[str]) -> Callable[[Record], tuple[Any, ...]]:
        """A function giving a row's typed values of ``names``: ``tuple(rec.get(n) for n in names)`` in one
        call instead of one per field, for the checks that key every row of a large table."""
        positions = [self.index.get(n) for n in names]
        if not names or any(p is None for p in positions):  # a field the table does not have reads as None
            return lambda rec: tuple(rec.get(n) for n in names)
        if len(positions) == 1:
            only = positions[0]
            return lambda rec: (rec.values[only],)
        getter = itemgetter(*positions)
        return lambda rec: getter(rec.values)

    @property
    def field_names(self) -> list[str]:
        """Field names in schema order."""
        return [str(f.get("name")) for f in self.fields]

    def __iter__(self) -> Iterator[Record]:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.records)


@dataclass
class Loaded:
    """The result of the structure layer: the package directory, descriptor and the tables that loaded."""

    base: Path
    descriptor_file: str = "datapackage.json"
    tables: dict[str, Table] = field(default_factory=dict)
    # Tables that are declared but did not load (file missing, broken CSV, ...): checks that need them skip.
    failed: set[str] = field(default_factory=set)

    def table(self, name: str) -> Table | None:
        """A loaded table, or ``None`` when it is not declared or did not load."""
        return self.tables.get(name)

    def rows(self, name: str) -> list[Record]:
        """Rows of a loaded table; empty when it did not load."""
        t = self.tables.get(name)
        return t.records if t is not None else []

    def file(self, name: str) -> str:
        """File of a table, for problems (falls back to ``<name>.csv``)."""
        t = self.tables.get(name)
        return t.file if t is not None else f"{name}.csv"
