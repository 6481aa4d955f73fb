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

import codecs
import copy
import csv
import datetime as dt
import difflib
import json
import math
import os
import re
import stat
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import chain, compress, repeat
from operator import is_, itemgetter
from pathlib import Path, PurePosixPath
from typing import Any

from livingevidence.checks import descriptor_safety
from livingevidence.checks.data import NO_BAD, Loaded, Record, Table
from livingevidence.checks.registry import ProblemList, problem
from livingevidence.model import REQUIRED_TABLES
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

# The tables every summary has; a descriptor without one of them is invalid. The others (results, baseline,
# notes, ...) are optional: a topic leaves out what it does not need.
EXPECTED_RESOURCES: tuple[str, ...] = REQUIRED_TABLES

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
    "outcomes": ("outcome_id", "kind", "default_measure", "counts_from", "mid", "higher_is_better"),
    "labels": ("table", "field", "value", "label", "pool_as"),
    "continuous_outcomes": ("population_id", "arm_id", "outcome", "criterion", "n", "mean", "sd"),
    "comparison_pairs": ("comparison_id", "intervention_regimen_id", "control_regimen_id"),
    "extraction_notes": ("note_id",),
}

# A Frictionless field's cell reader: cell -> (typed value, problem notes or None).
CellReader = Callable[[Any], tuple[Any, dict[str, str] | None]]

RESOURCE_NAME = re.compile(r"^[a-z0-9._-]+$")
# The package name and version become part of file names and addresses (the zip download, snapshot paths).
PACKAGE_NAME = re.compile(r"^[a-z0-9]+([._-][a-z0-9]+)*$")
VERSION = re.compile(r"^\d{1,6}\.\d{1,6}\.\d{1,6}$")
MAX_ENCODING_PROBLEMS = 10

# Limits (documented in docs/contribute.md): beyond them the validator reports `too-large` instead of spending
# unbounded time or memory. The validator holds every row in memory: at its peak about 6 bytes per byte of CSV for
# typical tables, about 20 for tables of short cells that are all different.
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
    readers: dict[str, CellReader] = field(default_factory=dict)
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


# Built schemas and cell readers by canonical schema JSON: building a Frictionless Schema validates it against
# the Table Schema profile, which is most of the structure layer's run time. Readers are pure functions.
_SCHEMA_CACHE: dict[str, tuple[Any, dict[str, CellReader]]] = {}


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
) -> tuple[Any, dict[str, CellReader]] | None:
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
    readers: dict[str, CellReader] = {}
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


# ---------------------------------------------------------------------------------------------------------
# Foreign keys, from the rows already read


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
