"""The generator's own guards against an untrusted data package: strict JSON, bounded reads, contained writes.

A pull request can change every file of the data package, so whatever the package's schema says, the build

- parses JSON strictly (:func:`loads_strict`): duplicate keys, ``NaN``/``Infinity`` and nesting beyond
  :data:`MAX_JSON_DEPTH` are refused with the line they are on, instead of "the last key wins";
- reads a package file only when it is a regular file inside the package folder (a symlink may point inside it,
  never out of it) and no larger than a limit (:func:`read_package_file`);
- writes a file only below its output folder (:func:`contained`): a path that is absolute, climbs with ``..`` or
  resolves (through a symlink) outside the folder is refused before anything is opened.

Imports nothing from the package but :mod:`paths`-free standard library modules, so any module can use it.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path, PurePosixPath
from typing import Any

__all__ = [
    "MAX_JSON_DEPTH",
    "MAX_PACKAGE_FILE_BYTES",
    "JsonProblem",
    "UnsafePath",
    "contained",
    "loads_strict",
    "read_package_file",
]

MAX_JSON_DEPTH = 64
#: The largest package file the build reads (the validator's limit for one table, docs/contribute.md).
MAX_PACKAGE_FILE_BYTES = 32 * 1024 * 1024


class UnsafePath(ValueError):
    """A path the build refuses to read or write: outside its folder, not a regular file, or too large."""


class JsonProblem(ValueError):
    """JSON that is refused: invalid, a duplicate key, a non-finite number, or nested too deeply.

    ``line`` is the 1-based line of the problem (None when unknown); ``where`` the path of the value inside the
    document (e.g. ``releases[2].version``) when known.
    """

    def __init__(self, message: str, line: int | None = None, where: str | None = None, kind: str = "json") -> None:
        super().__init__(message)
        self.message, self.line, self.where, self.kind = message, line, where, kind


def _line_of_key(text: str, key: str, occurrence: int) -> int | None:
    """Line of the ``occurrence``-th (1-based) appearance of ``"key":`` in the text, or None."""
    import re

    pattern = re.compile(re.escape(json.dumps(key)) + r"\s*:")
    for n, m in enumerate(pattern.finditer(text), start=1):
        if n == occurrence:
            return text.count("\n", 0, m.start()) + 1
    return None


def loads_strict(text: str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` that refuses duplicate keys, NaN and Infinity, and nesting deeper than ``max_depth``.

    Raises :class:`JsonProblem` naming the line (for a duplicate key, its second appearance in the text).
    """
    seen_keys: dict[str, int] = {}
    duplicate: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            seen_keys[key] = seen_keys.get(key, 0) + 1
            if key in out and not duplicate:
                duplicate.append(key)
            out[key] = value
        return out

    def constant(name: str) -> Any:
        raise JsonProblem(f"{name} is not a JSON number (write a finite number, or null)", kind="not-finite")

    try:
        value = json.loads(text, object_pairs_hook=pairs, parse_constant=constant)
    except JsonProblem as exc:
        exc.line = _first_line(text, ("NaN", "Infinity"))
        raise
    except json.JSONDecodeError as exc:
        raise JsonProblem(f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})", exc.lineno) from exc
    except RecursionError as exc:
        raise JsonProblem(f"the JSON is nested more deeply than the limit of {max_depth} levels", kind="depth") from exc
    if duplicate:
        key = duplicate[0]
        raise JsonProblem(
            f'the key "{key}" appears twice in one object (JSON readers disagree on which one counts)',
            _line_of_key(text, key, 2),
            kind="duplicate-key",
        )
    depth = _depth(value)
    if depth > max_depth:
        raise JsonProblem(
            f"the JSON is nested {depth} levels deep, more than the limit of {max_depth}", None, kind="depth"
        )
    return value


def _first_line(text: str, words: tuple[str, ...]) -> int | None:
    positions = [p for p in (text.find(w) for w in words) if p >= 0]
    return text.count("\n", 0, min(positions)) + 1 if positions else None


def _depth(value: Any) -> int:
    """Nesting depth of a parsed JSON value, without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return deepest


def read_package_file(base: Path, rel: str | Path, limit: int = MAX_PACKAGE_FILE_BYTES) -> bytes:
    """The bytes of ``base/rel``: a regular file inside ``base`` of at most ``limit`` bytes.

    A symlink that resolves inside ``base`` is followed; one that leads out of it, a device, pipe or directory,
    and a file over the limit raise :class:`UnsafePath` before a byte is read (at most ``limit + 1`` bytes are
    ever read). OSError when the file does not exist or cannot be read.
    """
    root = Path(base).resolve()
    target = (Path(base) / rel).resolve(strict=True)
    if not target.is_relative_to(root):
        raise UnsafePath(f"{rel} is a link to a file outside the package folder")
    info = os.stat(target)
    if not stat.S_ISREG(info.st_mode):
        raise UnsafePath(f"{rel} is not a regular file")
    if info.st_size > limit:
        raise UnsafePath(f"{rel} is {info.st_size} bytes, more than the limit of {limit}")
    with target.open("rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise UnsafePath(f"{rel} is more than the limit of {limit} bytes")
    return data


def contained(root: Path, rel: str) -> Path:
    """``root/rel`` after checking that it stays inside ``root``; raise :class:`UnsafePath` otherwise.

    ``rel`` must be a relative POSIX path without ``..``, empty or ``.`` parts, backslashes or NUL; the resolved
    target (symlinks of existing parents followed) must lie below the resolved root.
    """
    if not isinstance(rel, str) or not rel or "\x00" in rel or "\\" in rel:
        raise UnsafePath(f"refusing to write {rel!r}: not a plain relative path")
    pure = PurePosixPath(rel)
    if pure.is_absolute() or any(part in ("..", ".", "") for part in rel.split("/")) or ":" in pure.parts[0]:
        raise UnsafePath(f"refusing to write {rel!r}: the path leaves its output folder")
    base = Path(root).resolve()
    target = (base / pure).resolve()
    if target == base or not target.is_relative_to(base):
        raise UnsafePath(f"refusing to write {rel!r}: it resolves to {target}, outside {base}")
    return base / pure
