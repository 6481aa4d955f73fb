"""Descriptor rules the generator enforces before Frictionless sees the descriptor: strict JSON, and nothing
outside the descriptor itself.

- Strict JSON: a key twice in one object (``duplicate-key``: JSON readers disagree on which one counts, so what
  the validator checks need not be what another tool reads), ``NaN`` or ``Infinity`` (``descriptor-json``).
- No external reference (``external-reference``): a ``profile`` that is not one of the official profiles known by
  name, ``$schema``, ``$ref``, ``extrapaths``, a foreign key into another package, a schema or dialect given as a
  path or URL. Frictionless would fetch a remote profile during metadata validation (a stalled server stalls
  validation; a served schema replaces the real profile) and read a local one from anywhere on the disk. The
  checks here read nothing and open no socket; when one fails, Frictionless is not called at all.
"""

from __future__ import annotations

import json
import re
from typing import Any

from livingevidence.checks.registry import problem
from livingevidence.report import Problem
from livingevidence.safety import JsonProblem, loads_strict

__all__ = ["external_references", "strict_json_problem"]

PACKAGE_PROFILES = ("data-package", "tabular-data-package")
RESOURCE_PROFILES = ("data-resource", "tabular-data-resource")
#: Keys that name another document wherever they appear.
_ALWAYS_EXTERNAL = ("$ref", "$schema", "extrapaths")


def strict_json_problem(text: str, name: str) -> Problem | None:
    """A duplicate key or a non-finite number in the descriptor's JSON, located; None when there is neither
    (other JSON problems are left to the structure layer's own messages)."""
    try:
        loads_strict(text, max_depth=10_000)  # depth is the structure layer's to report
    except JsonProblem as exc:
        if exc.kind == "duplicate-key":
            return problem(
                "duplicate-key", name, exc.line, None, exc.message, "keep one of the two entries and delete the other"
            )
        if exc.kind == "not-finite":
            return problem(
                "descriptor-json", name, exc.line, None, f"invalid JSON: {exc.message}", "write a finite number"
            )
    except Exception:  # invalid JSON is reported by the structure layer, with its line
        return None
    return None


def _line(text: str, key: str, value: Any) -> int | None:
    """Line of ``"key": value`` in the descriptor text (of the key alone when the value is not a string)."""
    shown = re.escape(json.dumps(key)) + r"\s*:\s*"
    if isinstance(value, str):
        shown += re.escape(json.dumps(value, ensure_ascii=False)[1:-1]).join(['"', '"'])
    m = re.search(shown, text) or re.search(re.escape(json.dumps(key)) + r"\s*:", text)
    return text.count("\n", 0, m.start()) + 1 if m else None


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:79] + "…"


def _found(text: str, name: str, where: str, key: str, value: Any, what: str, hint: str) -> Problem:
    return problem(
        "external-reference",
        name,
        _line(text, key, value),
        None,
        f"{where} {what} ({_shown(value)}); validation and the build never fetch or read another document",
        hint,
    )


def _profile_problems(text: str, name: str, where: str, owner: dict[str, Any], allowed: tuple[str, ...]) -> list:
    out = []
    for key in ("profile", "profiles"):
        if key not in owner:
            continue
        values = owner[key] if key == "profiles" and isinstance(owner[key], list) else [owner[key]]
        for value in values:
            if isinstance(value, str) and value in allowed:
                continue
            out.append(
                _found(
                    text,
                    name,
                    where,
                    key,
                    value,
                    f"has the {key} {_shown(value)}, which is not an official profile known by name",
                    f"write the profile by name: {' or '.join(repr(a) for a in allowed)}",
                )
            )
    return out


def external_references(descriptor: dict[str, Any], text: str, name: str) -> list[Problem]:
    """Every reference of the descriptor to a document outside itself, located (see the module docstring)."""
    out: list[Problem] = _profile_problems(text, name, "the package", descriptor, PACKAGE_PROFILES)
    resources = descriptor.get("resources")
    for i, res in enumerate(resources if isinstance(resources, list) else []):
        if not isinstance(res, dict):
            continue
        where = f"resource '{res.get('name')}'" if isinstance(res.get("name"), str) else f"resource #{i + 1}"
        out += _profile_problems(text, name, where, res, RESOURCE_PROFILES)
        for key in ("schema", "dialect"):
            if isinstance(res.get(key), str):
                out.append(
                    _found(
                        text,
                        name,
                        where,
                        key,
                        res[key],
                        f"gives its {key} as a path or address",
                        f"write the {key} inline in the resource, as a JSON object",
                    )
                )
        schema = res.get("schema")
        keys = schema.get("foreignKeys") if isinstance(schema, dict) else None
        for fk in keys if isinstance(keys, list) else []:
            reference = fk.get("reference") if isinstance(fk, dict) else None
            if isinstance(reference, dict) and "package" in reference:
                out.append(
                    _found(
                        text,
                        name,
                        where,
                        "package",
                        reference["package"],
                        "has a foreign key into another data package",
                        "refer to a table of this package: remove 'package' from the reference",
                    )
                )
    out += _keys_anywhere(descriptor, text, name)
    return out


def _keys_anywhere(descriptor: Any, text: str, name: str) -> list[Problem]:
    """``$ref``, ``$schema`` and ``extrapaths`` at any depth (iteratively; depth is bounded by the caller)."""
    out: list[Problem] = []
    stack: list[tuple[Any, str]] = [(descriptor, "")]
    while stack:
        item, where = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                here = f"{where}.{key}" if where else key
                if key in _ALWAYS_EXTERNAL:
                    out.append(
                        _found(
                            text,
                            name,
                            f"the descriptor at {here}",
                            key,
                            value,
                            f"uses '{key}'",
                            f"remove '{key}': write everything inline (profiles by name)",
                        )
                    )
                else:
                    stack.append((value, here))
        elif isinstance(item, list):
            stack.extend((v, f"{where}[{i}]") for i, v in enumerate(item))
    return sorted(out, key=lambda p: (p.row or 0, p.message))
