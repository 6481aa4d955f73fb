"""Data package -> model. Assumes the package has passed validation (checks/), so cells parse.

Tables a topic does not need may be left out of the package (their rows are empty), columns the model does
not know are ignored (the checks warn about them) and model fields a table's schema lacks are None.
"""

from __future__ import annotations

import csv
import re
from dataclasses import fields
from datetime import date
from pathlib import Path
from typing import Any

from livingevidence import paths
from livingevidence.model import ROW_TYPES, EvidencePackage, PackageInfo, Topic
from livingevidence.safety import MAX_JSON_DEPTH, loads_strict, read_package_file
from livingevidence.vocabulary import humanise

_TRUE = {"true", "True", "TRUE", "1", "yes"}
_DESCRIPTOR_LIMIT = 4 * 1024 * 1024  # the validator's MAX_DESCRIPTOR_BYTES
# The lines of a CSV text as a reader opened with newline="" sees them (split at \r\n, \r and \n only).
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


def _cast(value: str, type_: str) -> Any:
    if value == "":
        return None
    if type_ == "integer":
        return int(value)
    if type_ == "number":
        return float(value)
    if type_ == "boolean":
        return value in _TRUE
    if type_ == "date":
        return date.fromisoformat(value)
    return value


def read_descriptor(package: Path) -> dict:
    """The parsed datapackage.json of a package directory or descriptor path (read within the size limit,
    parsed strictly: see livingevidence.safety)."""
    descriptor_path = paths.descriptor_in(package)
    data = read_package_file(descriptor_path.parent, descriptor_path.name, _DESCRIPTOR_LIMIT)
    return loads_strict(data.decode("utf-8-sig"), MAX_JSON_DEPTH)


def _read_table(base: Path, resource: dict, row_type: type) -> list:
    types = {f["name"]: f.get("type", "string") for f in resource["schema"]["fields"]}
    attrs = {f.name.rstrip("_"): f.name for f in fields(row_type)}
    known = [k for k in types if k in attrs]
    absent = {name: None for key, name in attrs.items() if key not in types}
    rows = []
    text = read_package_file(base, resource["path"]).decode("utf-8")
    for record in csv.DictReader(m.group() for m in _LINE.finditer(text)):
        values = {attrs[k]: _cast(record.get(k) or "", types[k]) for k in known}
        rows.append(row_type(**values, **absent))
    return rows


def load_package(package: Path = paths.DATAPACKAGE_DIR) -> EvidencePackage:
    """Read every table of a validated package into typed rows (absent tables as empty lists)."""
    descriptor_path = paths.descriptor_in(package)
    descriptor = read_descriptor(package)
    base = descriptor_path.parent
    tables: dict[str, list] = {name: [] for name in ROW_TYPES}
    columns: dict[str, dict[str, str]] = {}
    for resource in descriptor["resources"]:
        row_type = ROW_TYPES.get(resource["name"])
        if row_type is not None:
            tables[resource["name"]] = _read_table(base, resource, row_type)
            columns[resource["name"]] = {
                f["name"]: f.get("title") or humanise(f["name"]) for f in resource["schema"]["fields"]
            }
    return EvidencePackage(info=package_info(descriptor), tables=tables, columns=columns)


def _topic(descriptor: dict) -> Topic:
    raw = descriptor.get("topic") if isinstance(descriptor.get("topic"), dict) else {}
    scope = raw.get("scope") if isinstance(raw.get("scope"), dict) else {}

    def text(d: dict, key: str, default: str = "") -> str:
        value = d.get(key)
        return value.strip() if isinstance(value, str) else default

    maintainers = raw.get("maintainers") if isinstance(raw.get("maintainers"), list) else []
    return Topic(
        title=text(raw, "title", descriptor.get("title", descriptor["name"])),
        description=text(raw, "description", descriptor.get("description", "")),
        population=text(scope, "population"),
        interventions=text(scope, "interventions"),
        outcomes=text(scope, "outcomes"),
        designs=text(scope, "designs"),
        maintainers=tuple(m.strip() for m in maintainers if isinstance(m, str) and m.strip()),
    )


def package_info(descriptor: dict) -> PackageInfo:
    """Name, title, version, date, licence and topic of a package from its parsed descriptor."""
    licenses = descriptor.get("licenses") or [{}]
    return PackageInfo(
        name=descriptor["name"],
        title=descriptor.get("title", descriptor["name"]),
        description=descriptor.get("description", ""),
        version=descriptor["version"],
        created=descriptor["created"],
        license=licenses[0].get("name", ""),
        topic=_topic(descriptor),
        analysis=descriptor["analysis"] if isinstance(descriptor.get("analysis"), dict) else {},
    )
