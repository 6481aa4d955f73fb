"""The release history: ``datapackage/releases.json``, one entry per data version, newest first.

Each entry holds the version, its date, the previous version, a one-line summary and the changes against
the previous release as computed by ``diff.diff_packages`` when the release was recorded
(``python build.py diff BASE --record``). The what's-new pages, the history sections of comparison pages
and the Atom feed are rendered from this file alone, so any checkout (or the downloaded package) rebuilds
them without git history. ``release-check`` verifies that the entry for the current version matches the
diff against the base.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from livingevidence import paths
from livingevidence.release.history_schema import ReleasesInvalid, check_releases_file
from livingevidence.release.semver import version_key

RELEASES_FILE = "releases.json"
CHANGE_KEYS = (
    "studies_added",
    "studies_removed",
    "comparisons_added",
    "comparisons_removed",
    "rows_added",
    "rows_removed",
    "values",
    "schema",
    "metadata",
    "pooled",
    "contributors",
)


def releases_path(package: Path) -> Path:
    """releases.json beside the package's datapackage.json."""
    return paths.descriptor_in(Path(package)).parent / RELEASES_FILE


def load_releases(package: Path) -> list[dict[str, Any]]:
    """All recorded releases, newest first ([] when the file does not exist).

    Raises ReleasesInvalid (with located problems) when releases.json breaks its schema (history_schema).
    """
    data, problems = check_releases_file(releases_path(package).parent)
    if problems:
        raise ReleasesInvalid(problems)
    return sorted(data["releases"], key=lambda r: version_key(r.get("version", "")), reverse=True)


def releases_up_to(releases: list[dict[str, Any]], version: str) -> list[dict[str, Any]]:
    """The releases a build of `version` shows: that version and the ones before it."""
    top = version_key(version)
    return [r for r in releases if version_key(r.get("version", "")) <= top]


def dump_releases(releases: list[dict[str, Any]]) -> str:
    """Deterministic JSON for releases.json."""
    ordered = sorted(releases, key=lambda r: version_key(r.get("version", "")), reverse=True)
    return json.dumps({"releases": ordered}, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def entry_from_diff(d: dict[str, Any]) -> dict[str, Any]:
    """The releases.json entry for the head version of a diff.

    A first release (no previous version) keeps the studies and comparisons it adds, not the vocabulary
    rows or the pooled results, which would only repeat the whole package.
    """
    changes = {k: d.get(k, []) for k in CHANGE_KEYS}
    first = d["base"]["version"] is None
    if first:
        changes["rows_added"] = []
        changes["pooled"] = []
        changes["contributors"] = []
    return {
        "version": d["head"]["version"],
        "date": d["head"]["date"],
        "previous": d["base"]["version"],
        "summary": _first_summary(d) if first else d["summary"],
        "bump": "initial" if first else d["bump"]["required"],
        "changes": changes,
    }


def _first_summary(d: dict[str, Any]) -> str:
    studies = d.get("studies_added", [])
    n_cmp = len(d.get("comparisons_added", []))
    names = ", ".join(s["label"] for s in studies)
    return f"First release: {len(studies)} studies ({names}) and {n_cmp} comparisons."


def same(a: Any, b: Any, tol: float = 1e-6) -> bool:
    """Equal, with floats compared to a relative tolerance (libm differs between platforms)."""
    if isinstance(a, float) or isinstance(b, float):
        if not isinstance(a, int | float) or not isinstance(b, int | float):
            return False
        return math.isclose(a, b, rel_tol=tol, abs_tol=tol)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k], tol) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y, tol) for x, y in zip(a, b, strict=True))
    return a == b


def record_release(package: Path, d: dict[str, Any]) -> tuple[Path, dict[str, Any]]:
    """Write (or replace) the entry for the diff's head version into the package's releases.json."""
    entry = entry_from_diff(d)
    releases = [r for r in load_releases(package) if r.get("version") != entry["version"]]
    releases.append(entry)
    path = releases_path(package)
    path.write_text(dump_releases(releases), encoding="utf-8")
    return path, entry


def sync_citation_files(root: Path, version: str, date: str) -> list[Path]:
    """Set version and date in CITATION.cff and .zenodo.json under `root` (if present); return those changed."""
    changed = []
    cff = root / "CITATION.cff"
    if cff.is_file():
        text = cff.read_text(encoding="utf-8")
        new = re.sub(r"(?m)^version: .*$", f'version: "{version}"', text)
        new = re.sub(r"(?m)^date-released: .*$", f'date-released: "{date}"', new)
        if new != text:
            cff.write_text(new, encoding="utf-8")
            changed.append(cff)
    zen = root / ".zenodo.json"
    if zen.is_file():
        data = json.loads(zen.read_text(encoding="utf-8"))
        if data.get("version") != version or data.get("publication_date") != date:
            data["version"] = version
            data["publication_date"] = date
            zen.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            changed.append(zen)
    return changed


def comparison_history(releases: list[dict[str, Any]], comparison_id: str) -> list[dict[str, Any]]:
    """What each release changed for one comparison, newest first: studies joining or leaving, and the
    main results (survival hazard ratios, response risk ratios) that moved, appeared or disappeared."""
    out = []
    for r in releases:
        ch = r.get("changes", {})
        added_here = any(c["comparison_id"] == comparison_id for c in ch.get("comparisons_added", []))
        contributors = next((c for c in ch.get("contributors", []) if c["comparison_id"] == comparison_id), None)
        results = [p for p in ch.get("pooled", []) if p["comparison_id"] == comparison_id]
        # Short: survival hazard ratios and response risk ratios; adverse events and OR/RD variants are counted.
        primary = [p for p in results if p["measure"] in ("HR", "RR") and not p["analysis"].startswith("ae-")]
        if not (added_here or contributors or results or r.get("previous") is None):
            continue
        out.append(
            {
                "version": r["version"],
                "date": r["date"],
                "first": r.get("previous") is None,
                "added_here": added_here,
                "studies_added": contributors["added"] if contributors else [],
                "studies_removed": contributors["removed"] if contributors else [],
                "results": primary,
                "other_results": len(results) - len(primary),
            }
        )
    return out
