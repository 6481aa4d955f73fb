"""Data package -> model. Assumes the package has passed validation (checks/), so cells parse."""

from __future__ import annotations

import csv
import re
from dataclasses import fields
from datetime import date
from pathlib import Path
from typing import Any

from livingevidence import paths
from livingevidence.model import ROW_TYPES, EvidencePackage, PackageInfo
from livingevidence.safety import MAX_JSON_DEPTH, loads_strict, read_package_file

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


def load_package(package: Path = paths.DATAPACKAGE_DIR) -> EvidencePackage:
    """Read every table of a validated package into typed rows."""
    descriptor_path = paths.descriptor_in(package)
    descriptor = read_descriptor(package)
    base = descriptor_path.parent
    tables: dict[str, list] = {}
    for resource in descriptor["resources"]:
        name = resource["name"]
        row_type = ROW_TYPES[name]
        types = {f["name"]: f.get("type", "string") for f in resource["schema"]["fields"]}
        attr = {f.name.rstrip("_"): f.name for f in fields(row_type)}
        rows = []
        text = read_package_file(base, resource["path"]).decode("utf-8")
        for record in csv.DictReader(m.group() for m in _LINE.finditer(text)):
            rows.append(row_type(**{attr[k]: _cast(v or "", types[k]) for k, v in record.items()}))
        tables[name] = rows
    return EvidencePackage(info=package_info(descriptor), tables=tables)


def package_info(descriptor: dict) -> PackageInfo:
    """Name, title, version, date and licence of a package from its parsed descriptor."""
    licenses = descriptor.get("licenses") or [{}]
    return PackageInfo(
        name=descriptor["name"],
        title=descriptor.get("title", descriptor["name"]),
        description=descriptor.get("description", ""),
        version=descriptor["version"],
        created=descriptor["created"],
        license=licenses[0].get("name", ""),
    )
