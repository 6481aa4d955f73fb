"""What the structure layer hands to the meaning and consistency layers: tables of typed rows.

Only tables that loaded (file read, CSV parsed, header matching the schema) are passed on. Rows that are
structurally broken (blank, ragged) are left out; cells that failed their type or constraint are kept as
``None`` and marked bad, so that later checks skip them instead of reporting the same defect again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Loaded", "Record", "Table"]


@dataclass
class Record:
    """One data row: its line number, typed values, the raw text of each cell and the bad cells."""

    line: int
    values: dict[str, Any]
    raw: dict[str, str]
    bad: frozenset[str] = frozenset()

    def get(self, name: str) -> Any:
        """Typed value of a field, or ``None`` when empty, missing or invalid."""
        if name in self.bad:
            return None
        return self.values.get(name)

    def text(self, name: str) -> str:
        """Raw cell text as written in the file (stripped), ``""`` when absent or invalid."""
        if name in self.bad:
            return ""
        return (self.raw.get(name) or "").strip()

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
