"""datapackage.json: read within limits, parsed strictly with line numbers, checked as a descriptor."""

from __future__ import annotations

import codecs
import json
import os
import re
import stat
import unicodedata
from pathlib import Path, PurePosixPath
from typing import Any

from livingevidence.checks import descriptor_safety
from livingevidence.checks.registry import problem
from livingevidence.checks.structure.limits import (
    CONTROL_CHARACTERS,
    EXPECTED_RESOURCES,
    MAX_DESCRIPTOR_BYTES,
    MAX_JSON_DEPTH,
    MAX_PACKAGE_BYTES,
    MAX_RESOURCES,
    MAX_TABLE_BYTES,
    PACKAGE_NAME,
    RESOURCE_NAME,
    VERSION,
    _Collector,
    _line_of,
    _name_pattern,
    _q,
    _Resource,
)


class _Refused(Exception):
    """A file that is not read: not a regular file, outside the package, or too large."""

    def __init__(self, rule: str, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.rule, self.message, self.hint = rule, message, hint


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n} bytes"


def _read_limited(path: Path, limit: int, inside: Path | None = None) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (inside the directory ``inside`` when given).

    Devices, pipes and directories are refused before they are opened (reading /dev/zero never ends; opening a
    pipe blocks), and at most ``limit + 1`` bytes are ever read. Raises _Refused or OSError.
    """
    resolved = path.resolve(strict=True)
    if inside is not None and not resolved.is_relative_to(inside.resolve()):
        raise _Refused(
            "file-unreadable",
            "the file is a link to a file outside the package directory",
            "replace the link with the file itself",
        )
    info = os.stat(resolved)
    if not stat.S_ISREG(info.st_mode):
        kind = "a directory" if stat.S_ISDIR(info.st_mode) else "a device, pipe or socket"
        raise _Refused("file-unreadable", f"the path is {kind}, not a file", "point the path at a CSV file")
    if info.st_size > limit:
        raise _Refused("too-large", f"the file is {_mb(info.st_size)}, more than the limit of {_mb(limit)}")
    with resolved.open("rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:  # the file grew while being read
        raise _Refused("too-large", f"the file is more than the limit of {_mb(limit)}")
    return data


def _read_descriptor(path: Path, name: str, out: _Collector, inside: Path | None = None) -> str | None:
    try:
        raw = _read_limited(path, MAX_DESCRIPTOR_BYTES, inside)  # a link out of the package folder is refused
    except _Refused as exc:
        rule = "too-large" if exc.rule == "too-large" else "descriptor-json"
        out.add(problem(rule, name, None, None, f"the descriptor is not read: {exc.message}", exc.hint))
        return None
    except OSError as exc:
        out.add(problem("descriptor-json", name, None, None, f"cannot read the descriptor: {exc.strerror or exc}"))
        return None
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        out.add(
            problem(
                "descriptor-json",
                name,
                line,
                None,
                f"the descriptor is not UTF-8: byte {raw[exc.start : exc.start + 1]!r} cannot be decoded",
                "save datapackage.json as UTF-8",
            )
        )
        return None


def _parse_descriptor(text: str, name: str, out: _Collector) -> dict[str, Any] | None:
    strict = descriptor_safety.strict_json_problem(text, name)  # duplicate keys, NaN
    if strict is not None:
        out.add(strict)
        return None
    try:
        descriptor = json.loads(text)
    except json.JSONDecodeError as exc:
        out.add(
            problem(
                "descriptor-json",
                name,
                exc.lineno,
                None,
                f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
            )
        )
        return None
    except RecursionError:
        out.add(
            problem(
                "too-large",
                name,
                None,
                None,
                f"the JSON is nested more deeply than the limit of {MAX_JSON_DEPTH} levels",
            )
        )
        return None
    except ValueError as exc:
        out.add(problem("descriptor-json", name, None, None, f"invalid JSON: {exc}"))
        return None
    depth, controls = _walk_json(descriptor)
    if depth > MAX_JSON_DEPTH:
        out.add(
            problem(
                "too-large",
                name,
                None,
                None,
                f"the JSON is nested {depth} levels deep, more than the limit of {MAX_JSON_DEPTH}",
                "a data package descriptor needs fewer than 10 levels; remove the nested values",
            )
        )
        return None
    for where, value in controls:
        out.add(
            problem(
                "control-character",
                name,
                _line_of(text, re.compile(re.escape(json.dumps(value, ensure_ascii=False)[1:-1])))[0],
                None,
                f"the text at {where} contains {_describe_control(value)}",
            )
        )
    if not isinstance(descriptor, dict):
        out.add(
            problem(
                "descriptor-invalid",
                name,
                1,
                None,
                f"the descriptor must be a JSON object, not {type(descriptor).__name__}",
                'write the descriptor as an object: {"name": ..., "resources": [...]}',
            )
        )
        return None
    return descriptor


def _walk_json(value: Any) -> tuple[int, list[tuple[str, str]]]:
    """Depth of a parsed JSON value (iteratively: no recursion limit) and its strings with control characters,
    each with its path (e.g. ``resources[2].title``)."""
    deepest = 0
    controls: list[tuple[str, str]] = []
    stack: list[tuple[Any, int, str]] = [(value, 1, "")]
    while stack:
        item, depth, where = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_JSON_DEPTH:
            break
        if isinstance(item, dict):
            for k, v in item.items():
                if CONTROL_CHARACTERS.search(k):
                    controls.append((f"{where or 'the top level'} (a key)", k))
                stack.append((v, depth + 1, f"{where}.{k}" if where else str(k)))
        elif isinstance(item, list):
            stack.extend((v, depth + 1, f"{where}[{i}]") for i, v in enumerate(item))
        elif isinstance(item, str) and CONTROL_CHARACTERS.search(item):
            controls.append((where or "the top level", item))
    return deepest, sorted(controls)


def _describe_control(text: str) -> str:
    """'U+0007 (a control character) at character 5' for the first control character of ``text``."""
    m = CONTROL_CHARACTERS.search(text)
    if m is None:  # pragma: no cover - only called on text that has one
        return "no control character"
    char = m.group()
    name = unicodedata.name(char, "")
    kind = f"the bidirectional override {name}" if name else "a control character"
    return f"U+{ord(char):04X} ({kind}) at character {m.start() + 1}"


def _check_descriptor(
    descriptor: dict[str, Any], text: str, base: Path, name: str, out: _Collector
) -> dict[str, _Resource] | None:
    resources_desc = descriptor.get("resources")
    if isinstance(resources_desc, list) and len(resources_desc) > MAX_RESOURCES:
        out.add(
            problem(
                "too-large",
                name,
                None,
                None,
                f"the descriptor declares {len(resources_desc)} resources, more than the limit of {MAX_RESOURCES}",
                f"declare the {len(EXPECTED_RESOURCES)} tables of the data package (see docs/contribute.md)",
            )
        )
        return None
    if not isinstance(resources_desc, list) or not resources_desc:
        line, _ = _line_of(text, re.compile(r'"resources"\s*:'))
        out.add(
            problem(
                "descriptor-invalid",
                name,
                line,
                None,
                "the descriptor has no list of resources"
                if not isinstance(resources_desc, list)
                else "the list of resources is empty",
                'declare the tables in "resources": [{"name": ..., "path": ..., "schema": ...}, ...]',
            )
        )
        return None
    resources: dict[str, _Resource] = {}
    cursor = max(text.find('"resources"'), 0)
    for i, res in enumerate(resources_desc):
        label = f"resource #{i + 1}"
        if not isinstance(res, dict):
            out.add(
                problem(
                    "descriptor-invalid",
                    name,
                    None,
                    None,
                    f"{label} is not a JSON object",
                    "write each resource as an object with name, path and schema",
                )
            )
            continue
        res_name = res.get("name")
        line = None
        if isinstance(res_name, str):
            line, cursor = _line_of(text, _name_pattern(res_name), cursor)
            label = f"resource '{res_name}'"
        if not isinstance(res_name, str) or not RESOURCE_NAME.match(res_name):
            out.add(
                problem(
                    "descriptor-invalid",
                    name,
                    line,
                    None,
                    f"{label} has no valid name ({_q(res_name)})",
                    "give the resource a name of lower-case letters, digits, '-', '_' or '.'",
                )
            )
            continue
        if res_name in resources:
            out.add(
                problem(
                    "descriptor-invalid",
                    name,
                    line,
                    None,
                    f"{label} is declared twice",
                    "remove the duplicate resource entry",
                )
            )
            continue
        entry = _Resource(name=res_name, descriptor=res, line=line)
        resources[res_name] = entry
        entry.path = _check_resource_path(res, label, name, line, out)
        if entry.path is None:
            entry.usable = False
        fmt = res.get("format")
        if fmt is not None and str(fmt).lower() != "csv":
            out.add(
                problem(
                    "descriptor-invalid",
                    name,
                    line,
                    None,
                    f"{label} has format {_q(fmt)}",
                    "every table is a CSV file: set format to 'csv'",
                )
            )
            entry.usable = False
        encoding = res.get("encoding", "utf-8")
        try:
            codecs.lookup(str(encoding))
        except LookupError:
            out.add(
                problem(
                    "descriptor-invalid",
                    name,
                    line,
                    None,
                    f"{label} has an unknown encoding {_q(encoding)}",
                    "set encoding to 'utf-8'",
                )
            )
            entry.usable = False
        dialect = res.get("dialect")
        if dialect is not None and not isinstance(dialect, dict):
            out.add(
                problem(
                    "descriptor-invalid",
                    name,
                    line,
                    None,
                    f"{label} has a dialect that is not an object",
                    "remove the dialect (comma-separated, double-quoted CSV is the default)",
                )
            )
            entry.usable = False
        schema = res.get("schema")
        if not isinstance(schema, dict):
            out.add(
                problem(
                    "schema-invalid",
                    name,
                    line,
                    None,
                    f"{label} has no inline schema"
                    if schema is None
                    else f"{label} has a schema that is not an object ({_q(schema)})",
                    'write the Table Schema inline in the resource: "schema": {"fields": [...]}',
                )
            )
            entry.usable = False
    for expected in EXPECTED_RESOURCES:
        if expected not in resources:
            hint = "restore the table's resource entry (name, path and schema) in datapackage.json"
            if (base / f"{expected}.csv").is_file():
                hint = f"{expected}.csv exists but is not declared: " + hint
            out.add(
                problem(
                    "resource-missing",
                    name,
                    None,
                    None,
                    f"the table '{expected}' is not declared in the resources",
                    hint,
                )
            )
    return resources


_STUB_RESOURCE = {"name": "stub", "path": "stub.csv", "profile": "tabular-data-resource", "schema": {"fields": []}}

_PROPERTY = re.compile(r"at property '([^'/]+)")


def _check_metadata(
    descriptor: dict[str, Any], resources: dict[str, _Resource], text: str, name: str, out: _Collector
) -> None:
    """Package- and resource-level properties (licenses, version, title, bytes, ...) through Frictionless.

    Resources and schemas are replaced by stubs here: resources are checked above, schemas when they are built.
    """
    from frictionless import Package, Resource

    try:
        errors = list(Package.metadata_validate({**descriptor, "resources": [_STUB_RESOURCE]}))
    except Exception as exc:
        errors = [exc]
    for error in errors:
        note = str(getattr(error, "note", "") or error)
        m = _PROPERTY.search(note)
        line = _line_of(text, re.compile(re.escape(json.dumps(m.group(1))) + r"\s*:"))[0] if m else None
        out.add(problem("descriptor-invalid", name, line, None, f"the package metadata is invalid: {note}"))
    for key, pattern, hint in (
        ("name", PACKAGE_NAME, "use lower-case letters and digits, separated by single '-', '_' or '.'"),
        ("version", VERSION, "write the data version as MAJOR.MINOR.PATCH, e.g. 1.2.0 (see docs/contribute.md)"),
    ):
        value = descriptor.get(key)
        if isinstance(value, str) and not pattern.match(value):
            line = _line_of(text, re.compile(re.escape(json.dumps(key)) + r"\s*:"))[0]
            out.add(
                problem(
                    "descriptor-invalid",
                    name,
                    line,
                    None,
                    f"the package {key} {_q(value)} is not usable in file names and addresses",
                    hint,
                )
            )
    for res in resources.values():
        if not res.usable:
            continue
        try:
            errors = list(Resource.metadata_validate({**res.descriptor, "schema": {"fields": []}}))
        except Exception as exc:
            errors = [exc]
        for error in errors:
            note = str(getattr(error, "note", "") or error)
            out.add(problem("descriptor-invalid", name, res.line, None, f"resource '{res.name}' is invalid: {note}"))


def _check_package_size(base: Path, resources: dict[str, _Resource], name: str, out: _Collector) -> None:
    """Refuse to read any table when the declared files together are larger than MAX_PACKAGE_BYTES."""
    total = 0
    for res in resources.values():
        if res.usable and res.path is not None:
            try:
                size = os.stat(base / res.path).st_size
            except OSError:
                continue  # reported when the table is read
            if size <= MAX_TABLE_BYTES:  # a larger file is refused on its own, unread
                total += size
    if total > MAX_PACKAGE_BYTES:
        out.add(
            problem(
                "too-large",
                name,
                None,
                None,
                f"the tables are {_mb(total)} together, more than the limit of {_mb(MAX_PACKAGE_BYTES)}; "
                "no table was read",
            )
        )
        for res in resources.values():
            res.usable = False


def _check_resource_path(res: dict[str, Any], label: str, name: str, line: int | None, out: _Collector) -> str | None:
    path = res.get("path")
    if "data" in res and path is None:
        out.add(
            problem(
                "descriptor-invalid",
                name,
                line,
                None,
                f"{label} has inline data",
                "store the table as a CSV file and give its path",
            )
        )
        return None
    if not isinstance(path, str) or not path.strip():
        out.add(
            problem(
                "descriptor-invalid",
                name,
                line,
                None,
                f"{label} has no path"
                if path is None
                else f"{label} has a path that is not one file name ({_q(path)})",
                'set path to the CSV file\'s name relative to datapackage.json, e.g. "arms.csv"',
            )
        )
        return None
    pure = PurePosixPath(path.replace("\\", "/"))
    if "://" in path or pure.is_absolute() or ".." in pure.parts or re.match(r"^[A-Za-z]:", path):
        out.add(
            problem(
                "descriptor-invalid",
                name,
                line,
                None,
                f"{label} has an unsafe path {_q(path)}",
                "use a path relative to datapackage.json, inside the package directory, without '..'",
            )
        )
        return None
    return str(pure)
