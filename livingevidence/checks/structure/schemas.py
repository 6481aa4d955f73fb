"""Table Schemas: each built and validated by Frictionless once, with located problems; foreign-key targets."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from livingevidence.checks.registry import problem
from livingevidence.checks.structure.limits import (
    EXPECTED_RESOURCES,
    NEEDED_FIELDS,
    CellReader,
    _Collector,
    _line_of,
    _name_pattern,
    _Resource,
)

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
