"""What changed between two versions of the data package.

The diff reads the CSV files as text (the source of truth, exactly as a contributor edits them) and matches
rows by each table's primary key (or, for tables without one, the natural key the validator enforces). It
reports:

- studies and comparisons added or removed (the rows of an added or removed study are counted, not listed);
- every other row added or removed, with its table, key and CSV line;
- every changed value: table, key, CSV line, field, old -> new;
- changes to the tables' schemas and to the package metadata;
- every pooled result that moved (``analysis.synthesis.synthesise`` on both packages): estimate, CI and
  prediction interval before and after, and whether the direction or the significance changed;
- the version bump these changes require (see ``semver``).

`diff_packages(old, new)` returns a JSON-able dict; `to_text` and `to_markdown` render it.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from livingevidence.release.semver import Bump, max_bump
from livingevidence.safety import loads_strict, read_package_file
from livingevidence.vocabulary import is_ratio

SCHEMA_VERSION = 1
# Tables without a primaryKey are matched on the natural key the validator checks for duplicates.
try:  # the validator owns the definition; fall back to the same keys if it moves
    from livingevidence.checks.rules import NATURAL_KEYS as _NATURAL_KEYS
except ImportError:  # pragma: no cover
    _NATURAL_KEYS = {
        "baseline": ("population_id", "arm_id", "characteristic", "category", "statistic"),
        "adverse_events": ("population_id", "arm_id", "category", "term", "grade"),
    }
NATURAL_KEYS: dict[str, tuple[str, ...]] = dict(_NATURAL_KEYS)
PRIMARY_MEASURES = ("HR", "RR")  # the measures shown in short histories; OR and RD variants follow them
EPS = 1e-9


# --- reading a package as text --------------------------------------------------------------------------


@dataclass
class RawTable:
    """One CSV table as strings, with each row's line number (header on line 1)."""

    name: str
    path: str
    fields: list[str]
    key_fields: tuple[str, ...]
    rows: list[dict[str, str]]
    lines: list[int]
    schema: dict[str, Any] = field(default_factory=dict)

    def key(self, row: dict[str, str]) -> tuple[str, ...]:
        """The row's identity."""
        return tuple(row.get(f, "") for f in self.key_fields)

    def key_dict(self, row: dict[str, str]) -> dict[str, str]:
        """The row's identity as {field: value}."""
        return {f: row.get(f, "") for f in self.key_fields}


@dataclass
class RawPackage:
    """A data package read as text: descriptor and tables. An empty package stands for 'no release'."""

    descriptor: dict[str, Any]
    tables: dict[str, RawTable]

    @property
    def version(self) -> str | None:
        return self.descriptor.get("version")

    @property
    def date(self) -> str | None:
        created = self.descriptor.get("created")
        return str(created)[:10] if created else None

    def study_labels(self) -> dict[str, str]:
        """study_id -> label."""
        t = self.tables.get("studies")
        return {r["study_id"]: r.get("label") or r["study_id"] for r in t.rows} if t else {}

    def _map(self, table: str, key: str) -> dict[str, str]:
        t = self.tables.get(table)
        return {r[key]: r.get("study_id", "") for r in t.rows if key in r} if t else {}

    def study_index(self) -> tuple[dict[str, str], dict[str, str]]:
        """(population_id -> study_id, arm_id -> study_id)."""
        return self._map("populations", "population_id"), self._map("arms", "arm_id")


def read_raw(directory: Path | None) -> RawPackage:
    """Read a package directory as text; None gives the empty package."""
    if directory is None:
        return RawPackage({}, {})
    # An unvalidated package (a pull request's): every file is read inside its folder and within the limits.
    descriptor = loads_strict(read_package_file(Path(directory), "datapackage.json").decode("utf-8-sig"))
    tables: dict[str, RawTable] = {}
    for resource in descriptor.get("resources", []):
        name = resource["name"]
        schema = resource.get("schema", {})
        fields = [f["name"] for f in schema.get("fields", [])]
        pk = schema.get("primaryKey") or list(NATURAL_KEYS.get(name, ())) or fields
        pk = [pk] if isinstance(pk, str) else list(pk)
        rows: list[dict[str, str]] = []
        lines: list[int] = []
        path = Path(directory) / resource["path"]
        if path.is_file():
            text = read_package_file(Path(directory), resource["path"]).decode("utf-8", errors="replace")
            with io.StringIO(text, newline="") as fh:
                reader = csv.reader(fh)
                header = next(reader, [])
                start = reader.line_num + 1
                for record in reader:
                    rows.append(dict(zip(header, record, strict=False)))
                    lines.append(start)
                    start = reader.line_num + 1
        tables[name] = RawTable(name, resource["path"], fields, tuple(pk), rows, lines, schema)
    return RawPackage(descriptor, tables)


def _study_of(pkg: RawPackage, table: str, row: dict[str, str], index: tuple[dict, dict]) -> str | None:
    if row.get("study_id"):
        return row["study_id"]
    pops, arms = index
    for key, lookup in (("population_id", pops), ("arm_id", arms), ("intervention_arm_id", arms)):
        if row.get(key) and row[key] in lookup:
            return lookup[row[key]]
    return None


# --- the diff ----------------------------------------------------------------------------------------------


def _key_text(key: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in key.items())


def _index(table: RawTable) -> dict[tuple[str, ...], tuple[dict[str, str], int]]:
    """key -> (row, line); a repeated key (invalid data) gets a running suffix so nothing is lost."""
    out: dict[tuple[str, ...], tuple[dict[str, str], int]] = {}
    for row, line in zip(table.rows, table.lines, strict=True):
        key = table.key(row)
        n = 1
        while key in out:
            key = (*table.key(row), f"#{n}")
            n += 1
        out[key] = (row, line)
    return out


def _schema_changes(old: RawPackage, new: RawPackage) -> list[dict[str, Any]]:
    changes: list[dict[str, Any]] = []
    for name in sorted(set(old.tables) | set(new.tables)):
        o, n = old.tables.get(name), new.tables.get(name)
        if not old.tables:
            break  # everything is new in a first release; that is not a schema change
        if o is None:
            changes.append({"table": name, "change": "table added", "bump": "minor"})
            continue
        if n is None:
            changes.append({"table": name, "change": "table removed", "bump": "major"})
            continue
        of = {f["name"]: f for f in o.schema.get("fields", [])}
        nf = {f["name"]: f for f in n.schema.get("fields", [])}
        for f in sorted(set(nf) - set(of)):
            changes.append({"table": name, "field": f, "change": "column added", "bump": "minor"})
        for f in sorted(set(of) - set(nf)):
            changes.append({"table": name, "field": f, "change": "column removed", "bump": "major"})
        for f in sorted(set(of) & set(nf)):
            if of[f].get("type", "string") != nf[f].get("type", "string"):
                changes.append(
                    {
                        "table": name,
                        "field": f,
                        "change": f"type {of[f].get('type', 'string')} -> {nf[f].get('type', 'string')}",
                        "bump": "major",
                    }
                )
            elif of[f] != nf[f]:
                changes.append({"table": name, "field": f, "change": "constraints or description", "bump": "patch"})
        if o.schema.get("primaryKey") != n.schema.get("primaryKey"):
            changes.append({"table": name, "change": "primary key changed", "bump": "major"})
        elif {k: v for k, v in o.schema.items() if k != "fields"} != {
            k: v for k, v in n.schema.items() if k != "fields"
        }:
            changes.append({"table": name, "change": "foreign keys or other schema properties", "bump": "patch"})
    return changes


def _metadata_changes(old: RawPackage, new: RawPackage) -> list[dict[str, Any]]:
    if not old.descriptor:
        return []
    skip = {"version", "created", "resources"}
    out = []
    for key in sorted((set(old.descriptor) | set(new.descriptor)) - skip):
        a, b = old.descriptor.get(key), new.descriptor.get(key)
        if a != b:
            out.append({"field": key, "old": a, "new": b})
    for name in sorted(set(old.tables) & set(new.tables)):
        ro = next(r for r in old.descriptor["resources"] if r["name"] == name)
        rn = next(r for r in new.descriptor["resources"] if r["name"] == name)
        for key in sorted((set(ro) | set(rn)) - {"schema", "name"}):
            if ro.get(key) != rn.get(key):
                out.append({"field": f"resources.{name}.{key}", "old": ro.get(key), "new": rn.get(key)})
    return out


def diff_packages(
    old_dir: Path | None,
    new_dir: Path | None,
    *,
    old_label: str = "base",
    new_label: str = "head",
    pooled: bool = True,
) -> dict[str, Any]:
    """Everything that changed from the package in `old_dir` to the one in `new_dir` (None: no package)."""
    old, new = read_raw(old_dir), read_raw(new_dir)
    old_labels, new_labels = old.study_labels(), new.study_labels()
    studies_added = sorted(set(new_labels) - set(old_labels))
    studies_removed = sorted(set(old_labels) - set(new_labels))
    old_cmp = {r["comparison_id"]: r for r in (old.tables["comparisons"].rows if "comparisons" in old.tables else [])}
    new_cmp = {r["comparison_id"]: r for r in (new.tables["comparisons"].rows if "comparisons" in new.tables else [])}
    comparisons_added = sorted(set(new_cmp) - set(old_cmp))
    comparisons_removed = sorted(set(old_cmp) - set(new_cmp))
    rows_per_added: dict[str, dict[str, int]] = {s: {} for s in studies_added}
    rows_per_removed: dict[str, dict[str, int]] = {s: {} for s in studies_removed}
    rows_added: list[dict[str, Any]] = []
    rows_removed: list[dict[str, Any]] = []
    values: list[dict[str, Any]] = []
    old_index, new_index = old.study_index(), new.study_index()
    for name in [n for n in new.tables if n in old.tables] + [n for n in new.tables if n not in old.tables]:
        n_table = new.tables[name]
        o_table = old.tables.get(name)
        o_rows = _index(o_table) if o_table else {}
        n_rows = _index(n_table)
        for key, (row, line) in n_rows.items():
            if key in o_rows:
                continue
            sid = _study_of(new, name, row, new_index)
            if name == "studies" and row.get("study_id") in rows_per_added:
                continue
            if name == "comparisons" and row.get("comparison_id") in comparisons_added:
                continue
            if sid in rows_per_added:
                rows_per_added[sid][name] = rows_per_added[sid].get(name, 0) + 1
                continue
            rows_added.append({"table": name, "file": n_table.path, "line": line, "key": n_table.key_dict(row)})
        if o_table is None:
            continue
        common_fields = [f for f in n_table.fields if f in o_table.fields]
        for key, (row, line) in o_rows.items():
            if key not in n_rows:
                sid = _study_of(old, name, row, old_index)
                if name == "studies" and row.get("study_id") in rows_per_removed:
                    continue
                if name == "comparisons" and row.get("comparison_id") in comparisons_removed:
                    continue
                if sid in rows_per_removed:
                    rows_per_removed[sid][name] = rows_per_removed[sid].get(name, 0) + 1
                    continue
                rows_removed.append({"table": name, "file": o_table.path, "line": line, "key": o_table.key_dict(row)})
                continue
            new_row, new_line = n_rows[key]
            for f in common_fields:
                a, b = row.get(f, ""), new_row.get(f, "")
                if a != b:
                    values.append(
                        {
                            "table": name,
                            "file": n_table.path,
                            "line": new_line,
                            "old_line": line,
                            "key": n_table.key_dict(new_row),
                            "field": f,
                            "old": a,
                            "new": b,
                        }
                    )
    schema = _schema_changes(old, new)
    metadata = _metadata_changes(old, new)
    result: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "base": {"label": old_label, "version": old.version, "date": old.date},
        "head": {"label": new_label, "version": new.version, "date": new.date},
        "studies_added": [
            {"study_id": s, "label": new_labels[s], "rows": dict(sorted(rows_per_added[s].items()))}
            for s in studies_added
        ],
        "studies_removed": [
            {"study_id": s, "label": old_labels[s], "rows": dict(sorted(rows_per_removed[s].items()))}
            for s in studies_removed
        ],
        "comparisons_added": [{"comparison_id": c, "title": new_cmp[c].get("title", c)} for c in comparisons_added],
        "comparisons_removed": [{"comparison_id": c, "title": old_cmp[c].get("title", c)} for c in comparisons_removed],
        "rows_added": rows_added,
        "rows_removed": rows_removed,
        "values": values,
        "schema": schema,
        "metadata": metadata,
        "pooled": [],
        "contributors": [],
    }
    if pooled:
        result.update(pooled_changes(old_dir, new_dir))
    result["bump"] = required_bump(result)
    result["data_changed"] = data_changed(result)
    result["summary"] = summary_line(result)
    return result


def _n(count: int, singular: str, plural: str | None = None) -> str:
    """'1 study', '2 studies'."""
    return f"{count} {singular if count == 1 else (plural or singular + 's')}"


def data_changed(d: dict[str, Any]) -> bool:
    """True when anything but the version and date changed."""
    keys = ("studies_added", "studies_removed", "comparisons_added", "comparisons_removed", "rows_added")
    keys += ("rows_removed", "values", "schema", "metadata")
    return any(d.get(k) for k in keys)


def required_bump(d: dict[str, Any]) -> dict[str, Any]:
    """The smallest bump the changes need, with the reasons (largest first)."""
    reasons: list[tuple[Bump, str]] = []
    if d["studies_removed"]:
        reasons.append(("major", _n(len(d["studies_removed"]), "study", "studies") + " removed"))
    if d["comparisons_removed"]:
        reasons.append(("major", _n(len(d["comparisons_removed"]), "comparison") + " removed"))
    for s in d["schema"]:
        reasons.append((s["bump"], f"{s['table']}{'.' + s['field'] if s.get('field') else ''}: {s['change']}"))
    if d["studies_added"]:
        reasons.append(("minor", _n(len(d["studies_added"]), "study", "studies") + " added"))
    if d["comparisons_added"]:
        reasons.append(("minor", _n(len(d["comparisons_added"]), "comparison") + " added"))
    if d["rows_added"]:
        reasons.append(("minor", _n(len(d["rows_added"]), "row") + " added to existing studies or tables"))
    if d["values"]:
        reasons.append(("patch", _n(len(d["values"]), "value") + " changed"))
    if d["rows_removed"]:
        reasons.append(("patch", _n(len(d["rows_removed"]), "row") + " removed"))
    if d["metadata"]:
        reasons.append(("patch", _n(len(d["metadata"]), "metadata field") + " changed"))
    order = {"major": 0, "minor": 1, "patch": 2, "none": 3}
    reasons.sort(key=lambda r: order[r[0]])
    return {"required": max_bump(*(r[0] for r in reasons)), "reasons": [f"{b}: {text}" for b, text in reasons]}


# --- pooled results -------------------------------------------------------------------------------------


def _round(x: float | None) -> float | None:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return None
    return float(f"{x:.6g}")


def _analysis_result(a: Any) -> dict[str, Any]:
    s = a.summary()
    if s:
        return {
            "k": a.k,
            "pooled": True,
            "estimate": _round(s["estimate"]),
            "ci_low": _round(s["ci_low"]),
            "ci_high": _round(s["ci_high"]),
            "pi_low": _round(s["prediction_low"]),
            "pi_high": _round(s["prediction_high"]),
        }
    if a.k == 1:
        r = a.rows[0]
        return {
            "k": 1,
            "pooled": False,
            "estimate": _round(r.estimate),
            "ci_low": _round(r.ci_low),
            "ci_high": _round(r.ci_high),
            "pi_low": None,
            "pi_high": None,
        }
    return {
        "k": a.k,
        "pooled": False,
        "estimate": None,
        "ci_low": None,
        "ci_high": None,
        "pi_low": None,
        "pi_high": None,
    }


#: Two bounds closer than this (on the log scale for ratios) read the same at two decimals: an interval that
#: moved less has not moved.
ROUNDING = 0.005
#: An estimate this close to the null (log scale for ratios: about 0.95 to 1.05) is on neither side of it:
#: RR 0.98 -> 1.02 is no change of direction a reader should be told about.
NULL_BAND = {"ratio": 0.05, "difference": 0.01}


def _scale(measure: str, x: float) -> float:
    return math.log(x) if is_ratio(measure) and x > 0 else x


def _side(measure: str, est: float | None) -> int | None:
    """+1 or -1 for the side of the null an estimate is on; 0 when it is the null at printed precision."""
    if est is None:
        return None
    d = _scale(measure, est)  # the null is 0 on the analysis scale (log of 1 for ratios)
    band = NULL_BAND["ratio" if is_ratio(measure) else "difference"]
    return 0 if abs(d) < band else (1 if d > 0 else -1)


def _interval_moved(measure: str, r_old: dict[str, Any], r_new: dict[str, Any]) -> bool:
    bounds = [(r_old.get(k), r_new.get(k)) for k in ("ci_low", "ci_high")]
    if any(a is None or b is None for a, b in bounds):
        return True
    return any(abs(_scale(measure, a) - _scale(measure, b)) >= ROUNDING for a, b in bounds)


def _direction_changed(measure: str, r_old: dict[str, Any] | None, r_new: dict[str, Any] | None) -> bool:
    """The estimate crossed the null from beyond its band on one side to beyond it on the other (RR 0.98 ->
    1.02 does not) and its interval moved by more than rounding."""
    if not r_old or not r_new:
        return False
    so, sn = _side(measure, r_old.get("estimate")), _side(measure, r_new.get("estimate"))
    return bool(so and sn and so != sn and _interval_moved(measure, r_old, r_new))


def _significant(measure: str, r: dict[str, Any] | None) -> bool | None:
    if not r or r.get("ci_low") is None or r.get("ci_high") is None:
        return None
    null = 1.0 if is_ratio(measure) else 0.0
    return bool(r["ci_low"] > null or r["ci_high"] < null)


def _differs(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    if a is None or b is None:
        return a is not b
    for key in ("k", "estimate", "ci_low", "ci_high", "pi_low", "pi_high"):
        x, y = a.get(key), b.get(key)
        if (x is None) != (y is None):
            return True
        if x is not None and abs(x - y) > EPS * max(1.0, abs(x)):
            return True
    return False


#: The topic's vocabulary: a data version from before it was part of the package borrows the other side's.
VOCABULARY_TABLES = ("outcomes", "labels", "glossary")


def _syntheses(directory: Path | None, vocabulary_from: Path | None = None) -> tuple[dict[str, Any], dict[str, str]]:
    """comparison_id -> synthesis, and comparison titles, for a package directory (empty for None).

    Both versions are analysed by the current code. A version without an outcome vocabulary (made before the
    vocabulary was data) is read with the vocabulary of ``vocabulary_from``, so that its results are compared
    outcome by outcome instead of all counting as new.
    """
    if directory is None:
        return {}, {}
    from livingevidence.analysis.synthesis import synthesise
    from livingevidence.load import load_package

    package = load_package(directory)
    if not package.tables.get("outcomes") and vocabulary_from is not None:
        other = load_package(vocabulary_from)
        for table in VOCABULARY_TABLES:
            if not package.tables.get(table):
                package.tables[table] = other.tables.get(table, [])
        package.__dict__.pop("vocabulary", None)  # a cached_property read before the swap
    return (
        {cid: synthesise(package, cid) for cid in package.comparisons},
        {cid: c.title for cid, c in package.comparisons.items()},
    )


def pooled_changes(old_dir: Path | None, new_dir: Path | None) -> dict[str, Any]:
    """Every analysis whose result moved, appeared or disappeared, and which studies joined or left."""
    try:
        old_syn, old_titles = _syntheses(old_dir, vocabulary_from=new_dir)
        new_syn, new_titles = _syntheses(new_dir, vocabulary_from=old_dir)
    except Exception as exc:  # a package that does not load: say so, report the data changes anyway
        return {"pooled": [], "contributors": [], "pooled_error": f"{type(exc).__name__}: {exc}"}
    titles = {**old_titles, **new_titles}
    pooled: list[dict[str, Any]] = []
    contributors: list[dict[str, Any]] = []
    for cid in list(new_syn) + [c for c in old_syn if c not in new_syn]:
        o, n = old_syn.get(cid), new_syn.get(cid)
        o_an = {a.key: a for a in (o.analyses if o else [])}
        n_an = {a.key: a for a in (n.analyses if n else [])}
        for key in list(n_an) + [k for k in o_an if k not in n_an]:
            a_old, a_new = o_an.get(key), n_an.get(key)
            ref = a_new or a_old
            r_old = _analysis_result(a_old) if a_old else None
            r_new = _analysis_result(a_new) if a_new else None
            if not _differs(r_old, r_new):
                continue
            status = "new" if r_old is None else ("removed" if r_new is None else "moved")
            go, gn = _significant(ref.measure, r_old), _significant(ref.measure, r_new)
            pooled.append(
                {
                    "comparison_id": cid,
                    "comparison": titles.get(cid, cid),
                    "analysis": key,
                    "title": ref.title,
                    "measure": ref.measure,
                    "status": status,
                    "old": r_old,
                    "new": r_new,
                    "direction_changed": status == "moved" and _direction_changed(ref.measure, r_old, r_new),
                    "significance_changed": status == "moved" and go is not None and gn is not None and go != gn,
                    "significant": gn,
                }
            )
        o_ids = sorted({c.study.study_id for c in (o.contributing if o else [])})
        n_ids = sorted({c.study.study_id for c in (n.contributing if n else [])})
        if o_ids != n_ids:
            contributors.append(
                {
                    "comparison_id": cid,
                    "comparison": titles.get(cid, cid),
                    "added": sorted(set(n_ids) - set(o_ids)),
                    "removed": sorted(set(o_ids) - set(n_ids)),
                }
            )
    return {"pooled": pooled, "contributors": contributors}


# --- rendering ----------------------------------------------------------------------------------------------


def fmt_effect(measure: str, r: dict[str, Any] | None) -> str:
    """'HR 0.62 (95% CI 0.45 to 0.85; PI 0.2 to 1.9), k=3' or 'none'."""
    if not r or r.get("estimate") is None:
        return "none" if not r else f"no estimate (k={r.get('k', 0)})"

    def f(x: float | None) -> str:
        if x is None:
            return "not reported"
        if x != 0 and abs(x) < 0.01:
            return f"{x:.2g}"
        return f"{x:.3f}" if abs(x) < 0.1 else f"{x:.2f}"

    text = f"{measure} {f(r['estimate'])}"
    if r.get("ci_low") is not None or r.get("ci_high") is not None:
        text += f" (95% CI {f(r.get('ci_low'))} to {f(r.get('ci_high'))}"
        if r.get("pi_low") is not None:
            text += f"; prediction interval {f(r['pi_low'])} to {f(r.get('pi_high'))}"
        text += ")"
    return text + f", k={r['k']}" + ("" if r.get("pooled") else " (not pooled)")


def pooled_flags(p: dict[str, Any]) -> list[str]:
    """['direction changed', 'now significant'] for a moved result."""
    flags = []
    if p.get("direction_changed"):
        flags.append("direction changed")
    if p.get("significance_changed"):
        flags.append("now significant" if p.get("significant") else "no longer significant")
    return flags


def summary_line(d: dict[str, Any]) -> str:
    """One sentence: what this release changes."""
    parts = []
    if d["studies_added"]:
        parts.append("adds " + ", ".join(s["label"] for s in d["studies_added"]))
    if d["studies_removed"]:
        parts.append("removes " + ", ".join(s["label"] for s in d["studies_removed"]))
    if d["comparisons_added"]:
        parts.append(_n(len(d["comparisons_added"]), "new comparison"))
    if d["rows_added"]:
        parts.append(_n(len(d["rows_added"]), "row") + " added")
    if d["rows_removed"]:
        parts.append(_n(len(d["rows_removed"]), "row") + " removed")
    if d["values"]:
        parts.append(_n(len(d["values"]), "value") + " corrected")
    if d["schema"]:
        parts.append(_n(len(d["schema"]), "schema change"))
    if d["metadata"]:
        parts.append("metadata updated")
    moved = [p for p in d.get("pooled", []) if p["status"] == "moved"]
    new = [p for p in d.get("pooled", []) if p["status"] == "new"]
    gone = [p for p in d.get("pooled", []) if p["status"] == "removed"]
    if moved:
        parts.append(_n(len(moved), "pooled result") + " moved")
    if new:
        parts.append(_n(len(new), "new result"))
    if gone:
        parts.append(_n(len(gone), "result") + " no longer available")
    if not parts:
        return "No data changes."
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def to_text(d: dict[str, Any]) -> str:
    """The diff for a terminal: one change per line."""
    b, h = d["base"], d["head"]
    out = [
        f"Data package diff: {b['version'] or 'no release'} ({b['date'] or '-'}, {b['label']}) -> "
        f"{h['version']} ({h['date']}, {h['label']})",
        f"Required version bump: {d['bump']['required']}"
        + (f" ({'; '.join(d['bump']['reasons'])})" if d["bump"]["reasons"] else ""),
        d["summary"],
    ]

    def section(title: str, items: list[str]) -> None:
        out.append("")
        out.append(f"{title} ({len(items)}):" if items else f"{title}: none")
        out.extend(f"  {i}" for i in items)

    section(
        "Studies added",
        [
            f"+ {s['study_id']} ({s['label']}): " + ", ".join(f"{t} {n}" for t, n in s["rows"].items())
            for s in d["studies_added"]
        ],
    )
    section("Studies removed", [f"- {s['study_id']} ({s['label']})" for s in d["studies_removed"]])
    if d["comparisons_added"] or d["comparisons_removed"]:
        section(
            "Comparisons",
            [f"+ {c['comparison_id']}: {c['title']}" for c in d["comparisons_added"]]
            + [f"- {c['comparison_id']}: {c['title']}" for c in d["comparisons_removed"]],
        )
    section("Rows added", [f"+ {r['file']}:{r['line']} [{_key_text(r['key'])}]" for r in d["rows_added"]])
    section(
        "Rows removed", [f"- {r['file']}:{r['line']} (old line) [{_key_text(r['key'])}]" for r in d["rows_removed"]]
    )
    section(
        "Changed values",
        [
            f"~ {v['file']}:{v['line']} [{_key_text(v['key'])}] {v['field']}: {v['old'] or '(empty)'} -> "
            f"{v['new'] or '(empty)'}"
            for v in d["values"]
        ],
    )
    if d["schema"]:
        section(
            "Schema changes",
            [f"{s['table']}{'.' + s['field'] if s.get('field') else ''}: {s['change']}" for s in d["schema"]],
        )
    if d["metadata"]:
        section("Metadata changes", [f"{m['field']}: {m['old']!r} -> {m['new']!r}" for m in d["metadata"]])
    if d.get("pooled_error"):
        out += ["", f"Pooled results: not computed ({d['pooled_error']})"]
    else:
        section(
            "Contributing studies",
            [
                f"{c['comparison_id']}: " + ", ".join([f"+{s}" for s in c["added"]] + [f"-{s}" for s in c["removed"]])
                for c in d.get("contributors", [])
            ],
        )
        section(
            "Pooled results that moved, appeared or disappeared",
            [
                f"{'~' if p['status'] == 'moved' else '+' if p['status'] == 'new' else '-'} "
                f"{p['comparison_id']} / {p['analysis']}: {fmt_effect(p['measure'], p['old'])} -> "
                f"{fmt_effect(p['measure'], p['new'])}"
                + (f" [{', '.join(pooled_flags(p))}]" if pooled_flags(p) else "")
                for p in d.get("pooled", [])
            ],
        )
    return "\n".join(out) + "\n"


def _rows_text(rows: dict[str, int]) -> str:
    return ", ".join(f"{t} {n}" for t, n in rows.items())


def _md(text: Any) -> str:
    """Escape a value for a Markdown table cell."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace("\n", " ")


def to_markdown(d: dict[str, Any], *, max_rows: int = 200) -> str:
    """The diff as GitHub-flavoured Markdown (the pull request's job summary)."""
    b, h = d["base"], d["head"]
    out = [
        f"### Data changes: {b['version'] or 'no release'} → {h['version']}",
        "",
        f"{_md(d['summary'])} Required version bump: **{d['bump']['required']}**.",
        "",
    ]
    if d["studies_added"] or d["studies_removed"]:
        out += ["| Study | Change | Rows |", "|---|---|---|"]
        out += [
            f"| {_md(s['label'])} (`{s['study_id']}`) | added | {_md(_rows_text(s['rows']))} |"
            for s in d["studies_added"]
        ]
        out += [f"| {_md(s['label'])} (`{s['study_id']}`) | removed | |" for s in d["studies_removed"]]
        out.append("")
    if d["values"]:
        out += ["| Where | Row | Field | Old | New |", "|---|---|---|---|---|"]
        out += [
            f"| `{v['file']}:{v['line']}` | {_md(_key_text(v['key']))} | {v['field']} | "
            f"{_md(v['old'])} | {_md(v['new'])} |"
            for v in d["values"][:max_rows]
        ]
        if len(d["values"]) > max_rows:
            out.append(f"\n… and {len(d['values']) - max_rows} more (see `build.py diff`).")
        out.append("")
    for title, rows in (("Rows added", d["rows_added"]), ("Rows removed", d["rows_removed"])):
        if rows:
            out += [f"**{title}**", ""]
            out += [f"- `{r['file']}:{r['line']}` {_md(_key_text(r['key']))}" for r in rows[:max_rows]]
            out.append("")
    moved = d.get("pooled", [])
    if moved:
        out += ["| Comparison | Analysis | Before | After | Flags |", "|---|---|---|---|---|"]
        out += [
            f"| {_md(p['comparison'])} | {_md(p['title'])} | {_md(fmt_effect(p['measure'], p['old']))} | "
            f"{_md(fmt_effect(p['measure'], p['new']))} | {_md(', '.join(pooled_flags(p)))} |"
            for p in moved[:max_rows]
        ]
        out.append("")
    return "\n".join(out) + "\n"
