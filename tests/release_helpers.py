"""Fixture data versions for the release tests, made from the real package by editing CSV rows.

"Version 1.0.0" is the real package without one study; "version 1.1.0" adds that study back (a real
study: nothing is invented) and corrects one value. The tests then know exactly what changed.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from pathlib import Path

from livingevidence import paths

ADDED_STUDY = "ma-rego-pd1"  # joins add-pd1-to-regorafenib and rego-pd1-vs-rego, so pooled results move
CORRECTED = {  # baseline.csv line 2 (the first data row): mean age in one arm, 54.8 -> 54.9
    "table": "baseline",
    "file": "baseline.csv",
    "line": 2,
    "field": "value",
    "old": "54.8",
    "new": "54.9",
}


def copy_real(dest: Path) -> Path:
    """A writable copy of the real data package at dest."""
    shutil.copytree(paths.DATAPACKAGE_DIR, dest)
    return dest


def _rows(pkg: Path, name: str) -> list[dict[str, str]]:
    with (pkg / f"{name}.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def drop_study(pkg: Path, study_id: str) -> None:
    """Remove every row that belongs to a study (through study_id, population_id or arm_id)."""
    descriptor = json.loads((pkg / "datapackage.json").read_text(encoding="utf-8"))
    pops = {r["population_id"] for r in _rows(pkg, "populations") if r["study_id"] == study_id}
    arms = {r["arm_id"] for r in _rows(pkg, "arms") if r["study_id"] == study_id}
    for resource in descriptor["resources"]:
        path = pkg / resource["path"]
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines(keepends=True)
        reader = csv.reader(io.StringIO(text))
        header = next(reader)
        kept = [lines[0]]
        for line, record in zip(lines[1:], reader, strict=True):
            row = dict(zip(header, record, strict=True))
            if row.get("study_id") == study_id or row.get("population_id") in pops or row.get("arm_id") in arms:
                continue
            kept.append(line)
        path.write_text("".join(kept), encoding="utf-8")


def set_version(pkg: Path, version: str, created: str) -> None:
    """Set the descriptor's version and created date (YYYY-MM-DD)."""
    path = pkg / "datapackage.json"
    text = path.read_text(encoding="utf-8")
    descriptor = json.loads(text)
    text = text.replace(f'"version": "{descriptor["version"]}"', f'"version": "{version}"', 1)
    text = text.replace(f'"created": "{descriptor["created"]}"', f'"created": "{created}T00:00:00Z"', 1)
    path.write_text(text, encoding="utf-8")


def edit_cell(pkg: Path, file: str, line: int, field: str, old: str, new: str) -> None:
    """Change one cell of one CSV line, checking its old value (lines without embedded newlines)."""
    path = pkg / file
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    header = next(csv.reader([lines[0]]))
    record = next(csv.reader([lines[line - 1]]))
    index = header.index(field)
    assert record[index] == old, (file, line, field, record[index])
    record[index] = new
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(record)
    lines[line - 1] = out.getvalue()
    path.write_text("".join(lines), encoding="utf-8")


def remove_releases(pkg: Path) -> None:
    """Start a package's release history afresh."""
    (pkg / "releases.json").unlink(missing_ok=True)


def fixture_versions(tmp: Path) -> tuple[Path, Path]:
    """(v1, v2): 1.0.0 without ADDED_STUDY, and 1.1.0 with it and one corrected value; no history yet."""
    v1 = copy_real(tmp / "v1" / "datapackage")
    drop_study(v1, ADDED_STUDY)
    set_version(v1, "1.0.0", "2026-11-22")
    remove_releases(v1)
    v2 = copy_real(tmp / "v2" / "datapackage")
    set_version(v2, "1.1.0", "2026-12-01")
    edit_cell(v2, CORRECTED["file"], CORRECTED["line"], CORRECTED["field"], CORRECTED["old"], CORRECTED["new"])
    remove_releases(v2)
    return v1, v2


def git(repo: Path, *args: str) -> str:
    """Run git in repo (with a fixed identity) and return stdout."""
    env_args = ["-c", "user.name=Test", "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false"]
    result = subprocess.run(["git", "-C", str(repo), *env_args, *args], capture_output=True, text=True, check=True)
    return result.stdout


def init_repo(path: Path) -> Path:
    """An empty git repository with a main branch."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    return path
