"""The release history's own schema: ``datapackage/releases.json`` is part of the package, and checked as such.

A pull request can edit the history as freely as the tables, and the build turns it into file names
(``whats-new/<version>/``), links, the Atom feed and comparison histories. So before anything reads it:

1. the file is a regular file inside the package folder within :data:`MAX_RELEASES_BYTES`, strict UTF-8 JSON
   without duplicate keys, NaN or Infinity, nested at most :data:`MAX_RELEASES_DEPTH` levels, without control
   characters (``releases-json``);
2. it follows :data:`SCHEMA` (a JSON Schema, checked with ``jsonschema``; nothing in it refers to another
   document): versions are MAJOR.MINOR.PATCH, dates YYYY-MM-DD, ids slugs, counts whole numbers
   (``releases-invalid``);
3. and what a schema cannot say: dates are days of the calendar, versions are unique (``releases-invalid``).

Every problem names the file, the entry and field as a JSON path (``releases[2].version``), the rule and a hint.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

from livingevidence.report import Problem
from livingevidence.safety import JsonProblem, UnsafePath, loads_strict, read_package_file

__all__ = ["MAX_RELEASES_BYTES", "SCHEMA", "ReleasesInvalid", "check_releases_file", "check_releases_text"]

RELEASES_FILE = "releases.json"
MAX_RELEASES_BYTES = 32 * 1024 * 1024
MAX_RELEASES_DEPTH = 16
MAX_TEXT = 10_000
VERSION = r"^(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})$"
DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
SLUG = r"^[a-z0-9]+(-[a-z0-9]+)*$"
NAME = r"^[a-z0-9._-]{1,100}$"
# C0 and C1 controls other than tab and line feed, DEL, and the bidirectional overrides (as in the tables).
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202d\u202e]")
HINT = "regenerate the entry with `python build.py diff BASE --record` instead of editing releases.json by hand"

_text: dict[str, Any] = {"type": "string", "maxLength": MAX_TEXT}
_slug: dict[str, Any] = {"type": "string", "pattern": SLUG, "maxLength": 80}
_count: dict[str, Any] = {"type": "integer", "minimum": 0}
_number: dict[str, Any] = {"type": ["number", "null"]}
_scalar: dict[str, Any] = {"type": ["string", "number", "integer", "boolean", "null"]}


def _obj(required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "required": sorted(required),
        "properties": {**required, **(optional or {})},
    }


def _list(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item}


_study = _obj(
    {"study_id": _slug, "label": _text},
    {"rows": {"type": "object", "propertyNames": {"pattern": NAME}, "additionalProperties": _count}},
)
_comparison = _obj({"comparison_id": _slug, "title": _text})
_row = _obj(
    {"table": {"type": "string", "pattern": NAME}, "file": _text, "line": _count},
    {"key": {"type": "object", "additionalProperties": _scalar}},
)
_value = _obj(
    {
        "table": {"type": "string", "pattern": NAME},
        "file": _text,
        "line": _count,
        "field": _text,
        "old": {"type": ["string", "null"], "maxLength": MAX_TEXT},
        "new": {"type": ["string", "null"], "maxLength": MAX_TEXT},
    },
    {"old_line": _count, "key": {"type": "object", "additionalProperties": _scalar}},
)
_schema_change = _obj({"table": _text, "change": _text}, {"field": _text, "bump": _text})
_metadata = _obj({"field": _text}, {})
_result = {
    "type": ["object", "null"],
    "properties": {
        "k": _count,
        "pooled": {"type": "boolean"},
        **{k: _number for k in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high")},
    },
}
_pooled = _obj(
    {
        "comparison_id": _slug,
        "comparison": _text,
        "analysis": _text,
        "title": _text,
        "measure": _text,
        "status": _text,
        "old": _result,
        "new": _result,
    },
    {
        "direction_changed": {"type": "boolean"},
        "significance_changed": {"type": "boolean"},
        "significant": {"type": ["boolean", "null"]},
    },
)
_contributors = _obj(
    {"comparison_id": _slug, "comparison": _text, "added": _list(_slug), "removed": _list(_slug)},
)

_CHANGES = {
    "studies_added": _list(_study),
    "studies_removed": _list(_study),
    "comparisons_added": _list(_comparison),
    "comparisons_removed": _list(_comparison),
    "rows_added": _list(_row),
    "rows_removed": _list(_row),
    "values": _list(_value),
    "schema": _list(_schema_change),
    "metadata": _list(_metadata),
    "pooled": _list(_pooled),
    "contributors": _list(_contributors),
}

#: The JSON Schema of releases.json (draft 2020-12; self-contained: no $ref, nothing fetched).
SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["releases"],
    "additionalProperties": False,
    "properties": {
        "releases": _list(
            {
                **_obj(
                    {
                        "version": {"type": "string", "pattern": VERSION},
                        "date": {"type": "string", "pattern": DATE},
                        "previous": {"type": ["string", "null"], "pattern": VERSION},
                        "summary": _text,
                        "bump": {"enum": ["initial", "major", "minor", "patch", "none"]},
                        "changes": {**_obj({}, _CHANGES), "additionalProperties": False},
                    }
                ),
                "additionalProperties": False,
            }
        )
    },
}


class ReleasesInvalid(ValueError):
    """releases.json breaks its rules; ``problems`` says where and how."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.field or p.file}: {p.message}" for p in problems[:3]))
        self.problems = problems


def problem(rule: str, where: str | None, message: str, line: int | None = None, hint: str = HINT) -> Problem:
    """A problem of releases.json (the rule's severity from the registry)."""
    from livingevidence.checks.registry import problem as registered

    return registered(rule, RELEASES_FILE, line, where, message, hint)


def _path(parts: Any) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(the top level)"


def check_releases_text(text: str, limit: int = 200) -> tuple[Any, list[Problem]]:
    """(the parsed history, problems) of the text of a releases.json; the history is None when unusable."""
    try:
        data = loads_strict(text, MAX_RELEASES_DEPTH)
    except JsonProblem as exc:
        rule = "duplicate-key" if exc.kind == "duplicate-key" else "releases-json"
        return None, [problem(rule, None, exc.message, exc.line)]
    problems = _controls(data, limit)
    problems += _schema_problems(data, limit)
    if not problems:
        problems = _calendar(data)
    return (data if not problems else None), problems


def _controls(data: Any, limit: int) -> list[Problem]:
    out: list[Problem] = []
    stack: list[tuple[Any, tuple[Any, ...]]] = [(data, ())]
    while stack and len(out) < limit:
        item, where = stack.pop()
        if isinstance(item, dict):
            for k, v in item.items():
                if CONTROL.search(k):
                    out.append(problem("releases-json", _path(where), f"the key {k!r} holds a control character"))
                stack.append((v, (*where, k)))
        elif isinstance(item, list):
            stack.extend((v, (*where, i)) for i, v in enumerate(item))
        elif isinstance(item, str) and (m := CONTROL.search(item)):
            out.append(
                problem(
                    "releases-json",
                    _path(where),
                    f"the text holds the control character U+{ord(m.group()):04X} at character {m.start() + 1}",
                    hint="delete the character (feed readers and XML refuse it)",
                )
            )
    return sorted(out, key=lambda p: p.field or "")


_PATTERN_WORDS = {
    VERSION: "a version MAJOR.MINOR.PATCH such as 1.2.0",
    DATE: "a date YYYY-MM-DD",
    SLUG: "an id of lower-case letters, digits and single hyphens",
    NAME: "a table name of lower-case letters, digits, '.', '_' or '-'",
}


def _message(error: Any) -> str:
    if error.validator == "pattern" and error.validator_value in _PATTERN_WORDS:
        shown = repr(error.instance)[:80]
        return f"{shown} is not {_PATTERN_WORDS[error.validator_value]}"
    message = str(error.message)
    return message if len(message) <= 300 else message[:299] + "…"


def _schema_problems(data: Any, limit: int) -> list[Problem]:
    import jsonschema

    validator = jsonschema.Draft202012Validator(SCHEMA)
    out = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        if len(out) >= limit:
            break
        where = _path(error.absolute_path)
        out.append(problem("releases-invalid", where, f"{_message(error)} (schema rule '{error.validator}')"))
    return out


def _calendar(data: dict[str, Any]) -> list[Problem]:
    out: list[Problem] = []
    seen: dict[str, int] = {}
    for i, entry in enumerate(data["releases"]):
        try:
            date.fromisoformat(entry["date"])
        except ValueError:
            out.append(
                problem(
                    "releases-invalid",
                    f"releases[{i}].date",
                    f"'{entry['date']}' is not a day of the calendar",
                    hint="write the release date as YYYY-MM-DD",
                )
            )
        version = entry["version"]
        if version in seen:
            out.append(
                problem(
                    "releases-invalid",
                    f"releases[{i}].version",
                    f"version {version} has a second entry (the first is releases[{seen[version]}])",
                    hint="keep one entry per version",
                )
            )
        seen.setdefault(version, i)
    return out


def check_releases_file(package_dir: Path) -> tuple[Any, list[Problem]]:
    """(the parsed history or None, problems) of the package folder's releases.json; ({"releases": []}, [])
    when the package has none."""
    base = Path(package_dir)
    path = base / RELEASES_FILE
    if not path.exists() and not path.is_symlink():
        return {"releases": []}, []
    try:
        raw = read_package_file(base, RELEASES_FILE, MAX_RELEASES_BYTES)
    except UnsafePath as exc:
        return None, [problem("releases-json", None, f"the file is not read: {exc}", hint="replace it by the file")]
    except OSError as exc:
        return None, [problem("releases-json", None, f"cannot read the file: {exc.strerror or exc}")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [problem("releases-json", None, "the file is not UTF-8", line, "save releases.json as UTF-8")]
    return check_releases_text(text)
