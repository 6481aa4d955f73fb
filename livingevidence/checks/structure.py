"""Layer 1: the data package's structure, checked through Frictionless.

The descriptor is read with :mod:`json` (for exact line numbers), each table schema is built and validated by
Frictionless (:class:`frictionless.Schema`), and every cell is read by the Frictionless field's own cell reader,
which applies the Table Schema types and constraints. The I/O around it is ours, for speed and for messages
that name the line: each file is read once with an explicit dialect (no sniffing, no encoding detection),
decoded strictly as declared (UTF-8), parsed with :mod:`csv` in strict mode, and the header is compared with the
schema. Primary keys, unique constraints and foreign keys are checked from the rows already read, instead of
re-opening every referenced table for every foreign key as ``Package.validate`` does.

Nothing here raises: anything unexpected becomes a problem naming the file.
"""

from __future__ import annotations

import codecs
import copy
import csv
import difflib
import io
import json
import math
import os
import re
import stat
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any

from livingevidence.checks.data import Loaded, Record, Table
from livingevidence.checks.registry import ProblemList, problem
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

DESCRIPTOR_NAME = "datapackage.json"

# The tables the site and the checks need. A descriptor without one of them is invalid.
EXPECTED_RESOURCES: tuple[str, ...] = (
    "studies",
    "interventions",
    "regimens",
    "regimen_components",
    "arms",
    "populations",
    "population_arms",
    "baseline",
    "survival",
    "landmarks",
    "effects",
    "prognostic_factors",
    "response",
    "binary_outcomes",
    "adverse_events",
    "subgroups",
    "comparisons",
    "comparison_pairs",
    "certainty",
    "extraction_notes",
)

# Fields the meaning and consistency checks read. A schema without one of them is reported, and the checks
# that need it skip (they see empty values).
NEEDED_FIELDS: dict[str, tuple[str, ...]] = {
    "studies": (
        "study_id",
        "design",
        "year",
        "publication_date",
        "enrolment_start",
        "enrolment_end",
        "follow_up_end",
        "extraction_date",
    ),
    "regimens": ("regimen_id",),
    "regimen_components": ("regimen_id", "intervention_id"),
    "arms": ("arm_id", "study_id", "regimen_id"),
    "populations": ("population_id", "study_id", "primary", "disjoint_set", "parent_population_id"),
    "population_arms": ("population_id", "arm_id", "n"),
    "baseline": (
        "population_id",
        "arm_id",
        "characteristic",
        "category",
        "count",
        "percent",
        "statistic",
        "value",
        "spread_low",
        "spread_high",
        "p_value",
    ),
    "survival": ("population_id", "arm_id", "outcome", "median_months", "ci_low", "ci_high"),
    "landmarks": ("population_id", "arm_id", "rate_percent", "ci_low", "ci_high"),
    "effects": (
        "population_id",
        "outcome",
        "criterion",
        "intervention_arm_id",
        "control_arm_id",
        "measure",
        "estimate",
        "ci_low",
        "ci_high",
        "p_value",
    ),
    "prognostic_factors": ("population_id", "n", "hr", "ci_low", "ci_high"),
    "response": (
        "population_id",
        "arm_id",
        "criterion",
        "n_evaluable",
        "cr",
        "pr",
        "sd",
        "pd",
        "orr_n",
        "orr_percent",
        "dcr_n",
        "dcr_percent",
    ),
    "binary_outcomes": ("population_id", "arm_id", "outcome", "events", "n", "percent", "p_value"),
    "adverse_events": (
        "population_id",
        "arm_id",
        "category",
        "term",
        "grade",
        "events",
        "n_at_risk",
        "percent",
        "p_value",
    ),
    "subgroups": (
        "study_id",
        "population_id",
        "arm_id",
        "variable",
        "outcome",
        "median_months",
        "ci_low",
        "ci_high",
        "p_value",
    ),
    "comparisons": ("comparison_id", "parent_comparison_id"),
    "comparison_pairs": ("comparison_id", "intervention_regimen_id", "control_regimen_id"),
    "extraction_notes": ("note_id",),
}

RESOURCE_NAME = re.compile(r"^[a-z0-9._-]+$")
# The package name and version become part of file names and addresses (the zip download, snapshot paths).
PACKAGE_NAME = re.compile(r"^[a-z0-9]+([._-][a-z0-9]+)*$")
VERSION = re.compile(r"^\d{1,6}\.\d{1,6}\.\d{1,6}$")
MAX_ENCODING_PROBLEMS = 10

# Limits (documented in docs/contribute.md): beyond them the validator reports `too-large` instead of spending
# unbounded time or memory. The validator holds every row in memory, about 25 bytes per byte of CSV.
MAX_DESCRIPTOR_BYTES = 4 * 1024 * 1024
MAX_TABLE_BYTES = 32 * 1024 * 1024
MAX_PACKAGE_BYTES = 96 * 1024 * 1024
MAX_CELL_CHARS = 131_072  # the csv module's field size limit
MAX_JSON_DEPTH = 64
MAX_RESOURCES = 100
# C0 controls other than tab, line feed and carriage return; DEL and the C1 controls; the two bidirectional
# overrides (U+202D, U+202E), which display the text after them reversed (embeddings and isolates are allowed).
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202d\u202e]")

SLUG_PATTERN = "^[a-z0-9]+(-[a-z0-9]+)*$"
P_VALUE_HINT = "write the p-value as printed, e.g. 0.041, <0.001, >0.05 or 1 (no 'p =', no '%')"
PATTERN_HINTS = {
    SLUG_PATTERN: "use lower-case letters, digits and single hyphens, e.g. 'li-after-psm'",
    "^10\\.\\d{4,9}/\\S+$": "write the DOI without 'https://doi.org/', e.g. 10.1186/s12876-021-01967-3",
    "^\\d{1,9}$": "write the PubMed ID as digits only",
    "^https?://\\S+$": "write an http(s) address without spaces",
    "^[A-Z]\\d{2}[A-Z]{0,2}\\d{0,2}$": "write a WHO ATC code such as L01EX05 (or leave it empty)",
    "^\\d{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12]\\d|3[01]))?$": "write YYYY-MM-DD, or YYYY-MM when only the month is printed",
}
TYPE_HINTS = {
    "integer": "write a whole number, e.g. 12 (no decimals, spaces, '%' or thousands separators)",
    "number": "write a number with '.' as the decimal point, e.g. 12.5 (no '%', units or spaces)",
    "boolean": "write true or false",
    "date": "write the date as YYYY-MM-DD, e.g. 2021-10-20",
    "yearmonth": "write the month as YYYY-MM, e.g. 2019-04",
    "year": "write a four-digit year, e.g. 2021",
    "datetime": "write the date and time as YYYY-MM-DDThh:mm:ssZ",
}
CONSTRAINT_RULES = {
    "required": "required",
    "enum": "enum",
    "pattern": "pattern",
    "minimum": "minimum",
    "maximum": "maximum",
    "exclusiveMinimum": "exclusive-minimum",
    "exclusiveMaximum": "exclusive-maximum",
    "minLength": "min-length",
    "maxLength": "max-length",
}


# ---------------------------------------------------------------------------------------------------------
# Small helpers


def _q(value: object, limit: int = 60) -> str:
    """Quote a cell for a message, shortened and with control characters made visible."""
    text = str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return repr(text) if any(ord(c) < 32 for c in text) or CONTROL_CHARACTERS.search(text) else f"'{text}'"


def _suggest(value: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for a close match, else ''."""
    pool = [str(c) for c in choices]
    lowered = {c.lower(): c for c in pool}
    if value.strip().lower() in lowered and lowered[value.strip().lower()] != value:
        return f" (did you mean '{lowered[value.strip().lower()]}'?)"
    match = difflib.get_close_matches(value, pool, n=1, cutoff=0.75)
    return f" (did you mean '{match[0]}'?)" if match else ""


def _slugify(value: str) -> str:
    return "-".join(re.findall(r"[a-z0-9]+", value.lower()))


def _line_of(text: str, needle: re.Pattern[str], start: int = 0) -> tuple[int | None, int]:
    """Line number (1-based) of the first match of ``needle`` at or after ``start``, and the match end."""
    m = needle.search(text, start)
    if m is None:
        return None, start
    return text.count("\n", 0, m.start()) + 1, m.end()


def _name_pattern(name: str) -> re.Pattern[str]:
    return re.compile(r'"name"\s*:\s*' + re.escape(json.dumps(name)))


@dataclass
class _Resource:
    """A declared resource, with what is known about it so far."""

    name: str
    descriptor: dict[str, Any]
    line: int | None
    path: str | None = None
    schema: Any = None  # frictionless.Schema
    fields: list[dict[str, Any]] = field(default_factory=list)
    readers: dict[str, Callable[[Any], tuple[Any, dict[str, str] | None]]] = field(default_factory=dict)
    primary_key: list[str] = field(default_factory=list)
    foreign_keys: list[dict[str, Any]] = field(default_factory=list)
    usable: bool = True


class _Collector(ProblemList):
    """Collects the problems of the structure layer, in the order found (at most MAX_PROBLEMS_PER_RULE per
    file and rule, so a huge broken file cannot exhaust memory with problems)."""


# ---------------------------------------------------------------------------------------------------------
# Entry point


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
    text = _read_descriptor(base / descriptor_file, descriptor_file, out)
    if text is None:
        return None
    descriptor = _parse_descriptor(text, descriptor_file, out)
    if descriptor is None:
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


# ---------------------------------------------------------------------------------------------------------
# Descriptor


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


def _read_descriptor(path: Path, name: str, out: _Collector) -> str | None:
    try:
        raw = _read_limited(path, MAX_DESCRIPTOR_BYTES)
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


# Built schemas and cell readers by canonical schema JSON: building a Frictionless Schema validates it against
# the Table Schema profile, which is most of the structure layer's run time. Readers are pure functions.
_SCHEMA_CACHE: dict[str, tuple[Any, dict[str, Callable[[Any], tuple[Any, dict[str, str] | None]]]]] = {}


def _build_schemas(resources: dict[str, _Resource], text: str, name: str, out: _Collector) -> None:
    for res in resources.values():
        if not isinstance(res.descriptor.get("schema"), dict):
            continue
        schema_desc = res.descriptor["schema"]
        try:
            key = json.dumps(schema_desc, sort_keys=True, ensure_ascii=False)
        except (TypeError, ValueError):  # pragma: no cover - the descriptor came from json.loads
            key = ""
        cached = _SCHEMA_CACHE.get(key) if key else None
        if cached is None:
            built = _build_schema(res, copy.deepcopy(schema_desc), text, name, out)
            if built is None:
                res.usable = False
                continue
            if key:
                _SCHEMA_CACHE[key] = built
            cached = built
        schema, readers = cached
        res.schema = schema
        res.readers = dict(readers)
        res.fields = [f for f in schema_desc.get("fields", []) if isinstance(f, dict)]
        res.primary_key = list(schema.primary_key)
        res.foreign_keys = [fk for fk in schema.foreign_keys if isinstance(fk, dict)]
        names = {f.name for f in schema.fields}
        for needed in NEEDED_FIELDS.get(res.name, ()):
            if needed not in names:
                out.add(
                    problem(
                        "schema-invalid",
                        name,
                        res.line,
                        needed,
                        f"resource '{res.name}' has no field '{needed}', which the checks and pages need",
                        "restore the field in the schema and the column in the CSV file",
                    )
                )


def _build_schema(
    res: _Resource, schema_desc: dict[str, Any], text: str, name: str, out: _Collector
) -> tuple[Any, dict[str, Callable[[Any], tuple[Any, dict[str, str] | None]]]] | None:
    """Build and validate one schema with Frictionless; report problems and return None when invalid."""
    from frictionless import FrictionlessException, Schema

    label = f"resource '{res.name}'"
    try:
        schema = Schema.from_descriptor(schema_desc)
    except FrictionlessException as exc:
        reasons = list(getattr(exc, "reasons", None) or []) or [exc.error]
        for reason in reasons:
            note = getattr(reason, "note", None) or getattr(reason, "message", str(reason))
            out.add(problem("schema-invalid", name, res.line, None, f"the schema of {label} is invalid: {note}"))
        return None
    except Exception as exc:
        out.add(
            problem(
                "schema-invalid", name, res.line, None, f"the schema of {label} is invalid: {type(exc).__name__}: {exc}"
            )
        )
        return None
    readers: dict[str, Callable[[Any], tuple[Any, dict[str, str] | None]]] = {}
    ok = True
    for fld in schema.fields:
        try:
            readers[fld.name] = fld.create_cell_reader()
            _probe_constraints(fld)
        except Exception as exc:
            line, _ = _line_of(text, _name_pattern(fld.name), _offset_of_line(text, res.line) if res.line else 0)
            out.add(
                problem(
                    "schema-invalid",
                    name,
                    line,
                    fld.name,
                    f"the field '{fld.name}' of {label} has an invalid constraint: {type(exc).__name__}: {exc}",
                )
            )
            ok = False
    return (schema, readers) if ok else None


def _offset_of_line(text: str, line: int) -> int:
    pos = 0
    for _ in range(line - 1):
        nxt = text.find("\n", pos)
        if nxt < 0:
            return pos
        pos = nxt + 1
    return pos


def _probe_constraints(fld: Any) -> None:
    """Raise ValueError when a constraint's value is not of the field's type (Frictionless would crash later)."""
    value_reader = fld.create_value_reader()
    constraints = fld.constraints or {}
    for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        if key in constraints and value_reader(constraints[key]) is None:
            raise ValueError(f"constraint {key} {constraints[key]!r} is not a valid {fld.type}")
    for key in ("minLength", "maxLength"):
        if key in constraints and (not isinstance(constraints[key], int) or isinstance(constraints[key], bool)):
            raise ValueError(f"constraint {key} {constraints[key]!r} is not a whole number")
    if "enum" in constraints:
        enum = constraints["enum"]
        if not isinstance(enum, list) or any(value_reader(v) is None for v in enum):
            raise ValueError(f"constraint enum {enum!r} has values that are not valid {fld.type} values")
    if "pattern" in constraints:
        re.compile(str(constraints["pattern"]))


def _check_foreign_key_targets(resources: dict[str, _Resource], name: str, out: _Collector) -> None:
    """Foreign keys must point at declared resources and existing fields."""
    for res in resources.values():
        if res.schema is None:
            continue
        kept: list[dict[str, Any]] = []
        for fk in res.foreign_keys:
            ref = fk.get("reference") or {}
            target = ref.get("resource") or res.name
            fields = list(fk.get("fields") or [])
            ref_fields = list(ref.get("fields") or [])
            if target not in resources:
                if target not in EXPECTED_RESOURCES:  # an expected one is reported once as resource-missing
                    out.add(
                        problem(
                            "schema-invalid",
                            name,
                            res.line,
                            fields[0] if fields else None,
                            f"a foreign key of '{res.name}' refers to the resource '{target}', which is not declared",
                            "fix the reference's resource name, or declare the resource",
                        )
                    )
                continue
            other = resources[target]
            if other.schema is not None:
                other_names = {f.name for f in other.schema.fields}
                missing = [f for f in ref_fields if f not in other_names]
                if missing:
                    out.add(
                        problem(
                            "schema-invalid",
                            name,
                            res.line,
                            fields[0] if fields else None,
                            f"a foreign key of '{res.name}' refers to {', '.join(missing)} in '{target}', "
                            "which has no such field",
                            "fix the reference's fields",
                        )
                    )
                    continue
            kept.append({"fields": fields, "resource": target, "ref_fields": ref_fields})
        res.foreign_keys = kept


# ---------------------------------------------------------------------------------------------------------
# Tables


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
    controls = CONTROL_CHARACTERS.search(text) is not None  # cells are searched only when the file has any
    return _read_rows(file, records[1:], labels, positions, bad_lines, res, out, controls)


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


def _parse_csv(text: str, res: _Resource) -> list[tuple[int, int, list[str]]]:
    """Records as (first line, last line, cells). Raises csv.Error with a ``line`` attribute."""
    reader = csv.reader(io.StringIO(text, newline=""), **_dialect(res))
    records: list[tuple[int, int, list[str]]] = []
    previous = 0
    # The limit is process-wide and Frictionless raises it to 2 GB when it loads its CSV plugin: set ours here.
    saved = csv.field_size_limit(MAX_CELL_CHARS)
    try:
        for cells in reader:
            records.append((previous + 1, reader.line_num, cells))
            previous = reader.line_num
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
    table = Table(name=res.name, file=file, fields=res.fields)
    descriptors = {str(f.get("name")): f for f in res.fields}
    width = len(labels)
    needed_width = max(positions.values()) + 1
    pk = [k for k in res.primary_key if k in positions]
    pk_seen: dict[tuple[Any, ...], int] = {}
    unique_fields = [
        n
        for n, f in descriptors.items()
        if isinstance(f.get("constraints"), dict) and f["constraints"].get("unique") is True and pk != [n]
    ]
    unique_seen: dict[str, dict[Any, int]] = {n: {} for n in unique_fields}
    encoding_reported: set[int] = set()
    encoding_problems: list[Problem] = []

    for start, end, cells in records:
        spans = f" (the row spans lines {start}-{end}: check for an unclosed quote)" if end > start else ""
        if not cells or all(not c.strip() for c in cells):
            out.add(problem("blank-row", file, start, None, "the row is empty"))
            continue
        bad_here = [ln for ln in range(start, end + 1) if ln in bad_lines]
        if len(cells) > width:
            extra = cells[width:]
            first = next((c for c in extra if c.strip()), extra[0])
            out.add(
                problem(
                    "extra-cell",
                    file,
                    start,
                    None,
                    f"the row has {len(cells)} cells but the header has {width}; first extra cell {_q(first)}{spans}",
                )
            )
            table.dropped.append(_partial(start, cells, positions, res))
            continue
        if len(cells) < needed_width:
            missing = [n for n, p in sorted(positions.items(), key=lambda kv: kv[1]) if p >= len(cells)]
            out.add(
                problem(
                    "missing-cell",
                    file,
                    start,
                    missing[0],
                    f"the row has {len(cells)} cells but the header has {width}; no cell for "
                    f"{', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''}{spans}",
                )
            )
            table.dropped.append(_partial(start, cells, positions, res))
            continue
        values: dict[str, Any] = {}
        raw: dict[str, str] = {}
        bad: set[str] = set()
        for name, col in positions.items():
            cell = cells[col]
            raw[name] = cell
            if bad_here and "\ufffd" in cell:
                bad.add(name)
                values[name] = None
                for ln in bad_here:
                    encoding_reported.add(ln)
                encoding_problems.append(
                    problem("encoding", file, start, name, f"bytes that are not UTF-8 in {_q(bad_lines[bad_here[0]])}")
                )
                continue
            if controls and CONTROL_CHARACTERS.search(cell):
                bad.add(name)
                values[name] = None
                out.add(problem("control-character", file, start, name, f"the cell contains {_describe_control(cell)}"))
                continue
            reader = res.readers.get(name)
            if reader is None:
                values[name] = cell
                continue
            try:
                value, notes = reader(cell)
            except Exception:  # a constraint Frictionless cannot apply to this value: not a usable value
                value, notes = None, {"type": "unreadable"}
            if (isinstance(value, Decimal) and not value.is_finite()) or (
                isinstance(value, float) and not math.isfinite(value)
            ):
                value, notes = None, {"type": "not finite"}  # 'nan', 'inf': numbers to Frictionless, not to us
            if notes:
                bad.add(name)
                value = None
                for key in notes:
                    out.add(_cell_problem(file, start, name, key, cell, descriptors.get(name, {})))
            values[name] = value
        for ln in bad_here:
            if ln not in encoding_reported:
                encoding_reported.add(ln)
                encoding_problems.append(
                    problem("encoding", file, ln, None, f"bytes that are not UTF-8 near {_q(bad_lines[ln])}")
                )
        record = Record(line=start, values=values, raw=raw, bad=frozenset(bad))
        if pk and not any(k in bad for k in pk):
            key = tuple(values.get(k) for k in pk)
            if any(v is None for v in key):
                pass  # an empty key cell is reported by its 'required' constraint
            elif key in pk_seen:
                shown = ", ".join(str(v) for v in key)
                fields_txt = ", ".join(pk)
                out.add(
                    problem(
                        "primary-key",
                        file,
                        start,
                        pk[0] if len(pk) == 1 else None,
                        f"({fields_txt}) = ({shown}) is already used on line {pk_seen[key]}"
                        if len(pk) > 1
                        else f"'{shown}' is already used on line {pk_seen[key]}",
                        f"remove the duplicate row, or give it its own {fields_txt}",
                    )
                )
            else:
                pk_seen[key] = start
        for name in unique_fields:
            v = values.get(name)
            if v is None or name in bad:
                continue
            if v in unique_seen[name]:
                out.add(
                    problem(
                        "unique",
                        file,
                        start,
                        name,
                        f"{_q(v)} is already used on line {unique_seen[name][v]}",
                        f"remove the duplicate row, or give it its own {name}",
                    )
                )
            else:
                unique_seen[name][v] = start
        table.records.append(record)
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


def _partial(line: int, cells: list[str], positions: dict[str, int], res: _Resource) -> Record:
    """A ragged row's readable cells: kept only so that foreign keys into the table still resolve."""
    values: dict[str, Any] = {}
    raw: dict[str, str] = {}
    bad: set[str] = set()
    for name, col in positions.items():
        if col >= len(cells) or name not in res.readers:
            bad.add(name)
            continue
        try:
            value, notes = res.readers[name](cells[col])
        except Exception:
            value, notes = None, {"error": ""}
        raw[name] = cells[col]
        values[name] = None if notes else value
        if notes:
            bad.add(name)
    return Record(line=line, values=values, raw=raw, bad=frozenset(bad))


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


# ---------------------------------------------------------------------------------------------------------
# Foreign keys, from the rows already read


def _check_foreign_keys(resources: dict[str, _Resource], loaded: Loaded, out: _Collector) -> None:
    index_cache: dict[tuple[str, tuple[str, ...]], set[tuple[Any, ...]]] = {}
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
            cache_key = (fk["resource"], tuple(ref_fields))
            index = index_cache.get(cache_key)
            if index is None:
                index = set()
                for rec in (*target.records, *target.dropped):
                    key = tuple(rec.values.get(f) for f in ref_fields)
                    if all(v is not None for v in key):
                        index.add(key)
                index_cache[cache_key] = index
            for rec in table.records:
                if any(f in rec.bad for f in fields):
                    continue
                key = tuple(rec.values.get(f) for f in fields)
                if all(v is None for v in key) or key in index:
                    continue
                shown = ", ".join("" if v is None else str(v) for v in key)
                ref_txt = ", ".join(ref_fields)
                choices = [", ".join(str(v) for v in k) for k in index]
                out.add(
                    problem(
                        "foreign-key",
                        table.file,
                        rec.line,
                        fields[0],
                        f"no row of {target.file} has {ref_txt} '{shown}'{_suggest(shown, choices)}",
                        f"add a row to {target.file} with {ref_txt} '{shown}' or fix the id",
                    )
                )
