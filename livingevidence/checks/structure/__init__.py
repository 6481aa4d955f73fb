"""Layer 1: the data package's structure, checked through Frictionless.

The descriptor is read with :mod:`json` (for exact line numbers), each table schema is built and validated by
Frictionless (:class:`frictionless.Schema`), and every cell is read by the Frictionless field's own cell reader,
which applies the Table Schema types and constraints (once per distinct text of a column: the reader is a pure
function, see :class:`_CellCache`). The I/O around it is ours, for speed and for messages that name the line:
each file is read once with an explicit dialect (no sniffing, no encoding detection), decoded strictly as
declared (UTF-8), parsed with :mod:`csv` in strict mode, and the header is compared with the schema. Cells are
typed a column at a time and rows are kept as tuples (:class:`~livingevidence.checks.data.Record`). Primary keys,
unique constraints and foreign keys are checked from the rows already read, instead of re-opening every
referenced table for every foreign key as ``Package.validate`` does.

Nothing here raises: anything unexpected becomes a problem naming the file.
"""

from __future__ import annotations

from pathlib import Path

from livingevidence.checks import descriptor_safety
from livingevidence.checks.data import Loaded
from livingevidence.checks.registry import problem
from livingevidence.checks.structure.csvfile import _read_table
from livingevidence.checks.structure.descriptor import (
    _check_descriptor,
    _check_metadata,
    _check_package_size,
    _parse_descriptor,
    _read_descriptor,
)
from livingevidence.checks.structure.keys import _check_foreign_keys
from livingevidence.checks.structure.limits import (
    DESCRIPTOR_NAME,
    EXPECTED_RESOURCES,
    MAX_CELL_CHARS,
    MAX_DESCRIPTOR_BYTES,
    MAX_JSON_DEPTH,
    MAX_PACKAGE_BYTES,
    MAX_RESOURCES,
    MAX_TABLE_BYTES,
    NEEDED_FIELDS,
    _Collector,
)
from livingevidence.checks.structure.schemas import _build_schemas, _check_foreign_key_targets
from livingevidence.report import Problem

__all__ = [
    "EXPECTED_RESOURCES",
    "MAX_CELL_CHARS",
    "MAX_DESCRIPTOR_BYTES",
    "MAX_JSON_DEPTH",
    "MAX_PACKAGE_BYTES",
    "MAX_RESOURCES",
    "MAX_TABLE_BYTES",
    "NEEDED_FIELDS",
    "load_package",
]


def load_package(path: Path | str) -> tuple[Loaded | None, list[Problem]]:
    """Check the structure of the package at ``path`` (a directory or a datapackage.json).

    Returns the tables that loaded (``None`` when the descriptor itself is unusable) and the problems found.
    Never raises.
    """
    out = _Collector()
    try:
        loaded = _load(Path(path), out)
    except Exception as exc:  # pragma: no cover - defensive
        out.add(
            problem("internal-error", str(path), None, None, f"the structure check failed: {type(exc).__name__}: {exc}")
        )
        loaded = None
    return loaded, out.finish()


def _load(path: Path, out: _Collector) -> Loaded | None:
    located = _locate(path, out)
    if located is None:
        return None
    base, descriptor_file = located
    loaded = Loaded(base=base, descriptor_file=descriptor_file)
    text = _read_descriptor(base / descriptor_file, descriptor_file, out, inside=base)
    if text is None:
        return None
    descriptor = _parse_descriptor(text, descriptor_file, out)
    if descriptor is None:
        return None
    external = descriptor_safety.external_references(descriptor, text, descriptor_file)
    if external:  # refused before Frictionless could fetch or read them
        out.extend(external)
        return None
    resources = _check_descriptor(descriptor, text, base, descriptor_file, out)
    if resources is None:
        return None
    _check_metadata(descriptor, resources, text, descriptor_file, out)
    _build_schemas(resources, text, descriptor_file, out)
    _check_foreign_key_targets(resources, descriptor_file, out)
    _check_package_size(base, resources, descriptor_file, out)
    for res in resources.values():
        if not res.usable or res.path is None:
            loaded.failed.add(res.name)
            continue
        try:
            table = _read_table(base, res, out)
        except Exception as exc:  # pragma: no cover - defensive: a bug must not become a traceback
            out.add(
                problem(
                    "internal-error", res.path, None, None, f"reading the table failed: {type(exc).__name__}: {exc}"
                )
            )
            table = None
        if table is None:
            loaded.failed.add(res.name)
        else:
            loaded.tables[res.name] = table
    _check_foreign_keys(resources, loaded, out)
    return loaded


def _locate(path: Path, out: _Collector) -> tuple[Path, str] | None:
    try:
        exists = path.exists()
        is_dir = path.is_dir()
    except OSError as exc:
        out.add(problem("package-missing", str(path), None, None, f"cannot access the path: {exc.strerror}"))
        return None
    if not exists:
        out.add(problem("package-missing", str(path), None, None, "the path does not exist"))
        return None
    if is_dir:
        if not (path / DESCRIPTOR_NAME).is_file():
            out.add(
                problem("descriptor-missing", DESCRIPTOR_NAME, None, None, f"the directory has no {DESCRIPTOR_NAME}")
            )
            return None
        return path, DESCRIPTOR_NAME
    return path.parent, path.name
