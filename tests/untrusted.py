"""Helpers for the untrusted-pull-request tests: edit a copy of the fixture package as an attacker would, and watch
what the process opens (Python audit hooks) while a command runs.

A pull request may change every CSV, datapackage.json (schemas included) and releases.json. The helpers make
those edits on a copy of tests/fixtures/valid/ (a tiny package: the tests stay fast).
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

VALID = Path(__file__).resolve().parent / "fixtures" / "valid"


def copy_fixture(dest: Path, name: str = "pkg") -> Path:
    """A writable copy of the valid fixture package."""
    target = dest / name
    shutil.copytree(VALID, target)
    return target


def edit_descriptor(pkg: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Apply `change` to the parsed datapackage.json and write it back."""
    path = pkg / "datapackage.json"
    descriptor = json.loads(path.read_text(encoding="utf-8"))
    change(descriptor)
    path.write_text(json.dumps(descriptor, indent=2, ensure_ascii=False), encoding="utf-8")


def drop_constraints(pkg: Path, fields: set[str], keys: tuple[str, ...] = ("pattern", "maxLength")) -> None:
    """Remove constraints from the named fields in every table's schema (what a hostile schema edit does)."""

    def change(descriptor: dict[str, Any]) -> None:
        for resource in descriptor["resources"]:
            for field in resource["schema"]["fields"]:
                if field["name"] in fields:
                    for key in keys:
                        field.get("constraints", {}).pop(key, None)

    edit_descriptor(pkg, change)


def read_rows(pkg: Path, file: str) -> list[list[str]]:
    """The rows of a CSV file, header first."""
    return list(csv.reader(io.StringIO((pkg / file).read_text(encoding="utf-8"), newline="")))


def write_rows(pkg: Path, file: str, rows: list[list[str]]) -> None:
    """Write rows back (LF line ends, minimal quoting)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    (pkg / file).write_text(out.getvalue(), encoding="utf-8", newline="")


def set_cell(pkg: Path, file: str, line: int, field: str, value: str) -> None:
    """Set one cell (line numbers as in problems: the header is line 1)."""
    rows = read_rows(pkg, file)
    rows[line - 1][rows[0].index(field)] = value
    write_rows(pkg, file, rows)


def rename_id(pkg: Path, old: str, new: str) -> int:
    """Replace the id `old` by `new` in every *_id column of every table; return the number of cells changed."""
    changed = 0
    for path in sorted(pkg.glob("*.csv")):
        rows = read_rows(pkg, path.name)
        ids = [i for i, name in enumerate(rows[0]) if name.endswith("_id")]
        for row in rows[1:]:
            for i in ids:
                if i < len(row) and row[i] == old:
                    row[i] = new
                    changed += 1
        write_rows(pkg, path.name, rows)
    return changed


def releases_entry(version: str = "1.0.0", date: str = "2026-01-01", **changes: Any) -> dict[str, Any]:
    """A release history entry in the shape `build.py diff --record` writes."""
    return {
        "version": version,
        "date": date,
        "previous": None,
        "summary": "First release.",
        "bump": "initial",
        "changes": changes,
    }


def write_releases(pkg: Path, entries: list[dict[str, Any]] | str) -> None:
    """Write releases.json: a list of entries, or raw text."""
    text = entries if isinstance(entries, str) else json.dumps({"releases": entries}, indent=1)
    (pkg / "releases.json").write_text(text, encoding="utf-8")


# ---------------------------------------------------------------------------------------------------------
# Audit hooks: what the process opens, writes, renames, removes, and every socket it creates.

_WATCHERS: list[Watch] = []
_HOOKED = False
_FILE_EVENTS = {"open", "os.rename", "os.replace", "os.remove", "os.unlink", "os.rmdir", "os.mkdir", "shutil.rmtree"}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


class Watch:
    """What happened while it was active: files opened for writing (and renames, removals, folders made),
    files opened for reading, and sockets created or connected."""

    def __init__(self, block_sockets: bool) -> None:
        self.block_sockets = block_sockets
        self.writes: list[str] = []
        self.reads: list[str] = []
        self.sockets: list[str] = []
        self.thread = threading.get_ident()


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if not _WATCHERS:
        return
    if event.startswith("socket."):
        # Only the watching thread: a test server's thread may accept connections meanwhile.
        for w in (w for w in _WATCHERS if w.thread == threading.get_ident()):
            w.sockets.append(f"{event} {args[1:2]!r}")
            if w.block_sockets and event in ("socket.connect", "socket.__new__", "socket.getaddrinfo"):
                raise PermissionError(f"no network during this test ({event})")
        return
    if event not in _FILE_EVENTS or not args:
        return
    path = args[0]
    if isinstance(path, int) or path is None:
        return
    path = os.fsdecode(path) if isinstance(path, bytes | os.PathLike) else str(path)
    dir_fd = {"os.remove": 1, "os.rmdir": 1, "os.mkdir": 2, "os.rename": 2, "os.replace": 2}.get(event)
    if dir_fd is not None and len(args) > dir_fd and isinstance(args[dir_fd], int) and args[dir_fd] >= 0:
        # shutil.rmtree removes by name relative to an open folder (dir_fd)
        path = os.path.join(os.readlink(f"/proc/self/fd/{args[dir_fd]}"), path)
    writing = event != "open"
    if event == "open":
        mode, flags = (args[1] if len(args) > 1 else "r"), (args[2] if len(args) > 2 else 0)
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or bool(
            isinstance(flags, int) and flags & _WRITE_FLAGS
        )
    for w in _WATCHERS:
        (w.writes if writing else w.reads).append(os.path.abspath(path))
        if event in ("os.rename", "os.replace") and len(args) > 1 and args[1] is not None:
            target = os.fsdecode(args[1])
            if len(args) > 3 and isinstance(args[3], int) and args[3] >= 0:
                target = os.path.join(os.readlink(f"/proc/self/fd/{args[3]}"), target)
            w.writes.append(os.path.abspath(target))


@contextmanager
def watch(block_sockets: bool = True) -> Iterator[Watch]:
    """Record file activity and sockets while the block runs; with `block_sockets`, creating or connecting a
    socket raises PermissionError (so nothing can reach the network, and the test sees that something tried)."""
    global _HOOKED
    if not _HOOKED:
        sys.addaudithook(_hook)  # audit hooks cannot be removed: it does nothing while no Watch is active
        _HOOKED = True
    w = Watch(block_sockets)
    _WATCHERS.append(w)
    try:
        yield w
    finally:
        _WATCHERS.remove(w)


def outside(paths: list[str], *allowed: Path) -> list[str]:
    """The paths that are not inside any of the allowed folders."""
    roots = [os.path.realpath(a) for a in allowed]
    out = []
    for p in paths:
        real = os.path.realpath(p)
        if not any(real == r or real.startswith(r + os.sep) for r in roots):
            out.append(p)
    return out
