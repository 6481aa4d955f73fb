"""`build.py import SHEET.csv --project DIR`: turn an extraction sheet into rows of the project's package.

The sheet (see sheet.py) gives studies, their two arms, interventions and regimens, the comparisons
(intervention vs control), the outcomes of the vocabulary and the results: counts (binary_outcomes.csv),
means and SDs (continuous_outcomes.csv) or reported contrasts (effects.csv). Rows are matched by their
primary key: importing the same sheet twice changes nothing, and a corrected sheet updates the numbers it
gives while keeping what was added by hand (a study's title, authors, DOI). On any problem nothing is
written: the sheet is checked first, then the changed package is validated in a copy, and only a valid
result replaces the project's tables.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from livingevidence.project import Project
from livingevidence.tools.init_project import _today, slug
from livingevidence.tools.sheet import SheetRow, read_sheet

ID_LIMIT = 80
POPULATION_LABEL = "All participants"
UNCLASSIFIED = "unclassified"


class _Tables:
    """The package's tables as lists of dicts (schema column order), with upserts by primary key."""

    def __init__(self, descriptor: dict, base: Path) -> None:
        self.resources = {r["name"]: r for r in descriptor["resources"]}
        self.rows: dict[str, list[dict[str, str]]] = {}
        self.before: dict[str, str] = {}
        for name, r in self.resources.items():
            text = (base / r["path"]).read_text(encoding="utf-8")
            self.before[name] = text
            self.rows[name] = list(csv.DictReader(io.StringIO(text, newline="")))

    def columns(self, table: str) -> list[str]:
        return [f["name"] for f in self.resources[table]["schema"]["fields"]]

    def key(self, table: str) -> list[str]:
        pk = self.resources[table]["schema"].get("primaryKey") or []
        return [pk] if isinstance(pk, str) else list(pk)

    def upsert(self, table: str, /, **values: object) -> None:
        """Add a row, or update the given columns of the row with the same primary key."""
        if table not in self.resources:
            raise ImportProblem(f"the package has no '{table}' table; add it from the generator's catalogue")
        cells = {k: _cell(v) for k, v in values.items()}
        unknown = set(cells) - set(self.columns(table))
        if unknown:
            raise ImportProblem(f"{table}.csv has no column {sorted(unknown)[0]}")
        key = self.key(table)
        for row in self.rows[table]:
            if key and all(row.get(k, "") == cells.get(k, "") for k in key):
                row.update(cells)
                return
        self.rows[table].append({c: cells.get(c, "") for c in self.columns(table)})

    def get(self, table: str, /, **match: str) -> dict[str, str] | None:
        return next((r for r in self.rows.get(table, []) if all(r.get(k) == v for k, v in match.items())), None)

    def texts(self) -> dict[str, str]:
        """table -> new CSV text, for the tables that changed."""
        out = {}
        for name, rows in self.rows.items():
            buf = io.StringIO()
            writer = csv.writer(buf, lineterminator="\n")
            writer.writerow(self.columns(name))
            writer.writerows([[row.get(c, "") for c in self.columns(name)] for row in rows])
            if buf.getvalue() != self.before[name]:
                out[name] = buf.getvalue()
        return out


class ImportProblem(Exception):
    """A problem that stops the import, said in one line."""


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _id(*parts: str) -> str:
    """A slug id of at most ID_LIMIT characters (long names are cut, never made to collide silently)."""
    return slug("-".join(parts), ID_LIMIT)


def _outcome_kind(row: SheetRow) -> str:
    if row.kind == "counts" or (row.kind == "reported" and row.measure in ("OR", "RR", "RD")):
        return "binary"
    if row.kind == "means" or row.measure in ("MD", "SMD", "ROM"):
        return "continuous"
    return "time-to-event"


def _phrase(label: str) -> str:
    """'Length of stay' -> 'length of stay'; names and acronyms ('HbA1c', 'BMI') keep their capitals."""
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


class _Importer:
    def __init__(self, tables: _Tables, sheet_name: str, extracted_by: str) -> None:
        self.t = tables
        self.sheet_name = sheet_name
        self.extracted_by = extracted_by
        self.outcome_ids: dict[str, str] = {}
        self.arm_n: dict[str, int] = {}

    def outcome(self, row: SheetRow) -> str:
        """The vocabulary id of the row's outcome: an existing row by id or label, else a new one."""
        name = row.outcome.casefold()
        if name in self.outcome_ids:
            return self.outcome_ids[name]
        kind = _outcome_kind(row)
        existing = next(
            (o for o in self.t.rows["outcomes"] if name in (o["outcome_id"].casefold(), o["label"].casefold())), None
        )
        if existing is not None:
            if existing["kind"] != kind:
                raise ImportProblem(
                    f"line {row.line}: outcome '{row.outcome}' is {existing['kind']} in outcomes.csv, but the sheet "
                    f"gives {row.kind} for it; fix the sheet's outcome or the vocabulary's kind"
                )
            oid = existing["outcome_id"]
        else:
            oid = _id(row.outcome)
            orders = [int(o["order"]) for o in self.t.rows["outcomes"] if o.get("order", "").isdigit()]
            self.t.upsert(
                "outcomes",
                outcome_id=oid,
                label=row.outcome,
                short_label=row.outcome[:40],
                phrase=_phrase(row.outcome),
                kind=kind,
                unit=row.unit or None,
                higher_is_better=row.higher_is_better,
                default_measure=row.measure,
                order=max(orders, default=0) + 1,
            )
        self.outcome_ids[name] = oid
        return oid

    def regimen(self, name: str) -> str:
        rid = _id(name)
        if self.t.get("interventions", intervention_id=rid) is None:
            self.t.upsert("interventions", intervention_id=rid, label=name, **{"class": UNCLASSIFIED})
        if self.t.get("regimens", regimen_id=rid) is None:
            self.t.upsert("regimens", regimen_id=rid, label=name, short_label=name[:40])
            self.t.upsert("regimen_components", regimen_id=rid, intervention_id=rid)
        return rid

    def comparison(self, intervention: str, control: str, i_id: str, c_id: str) -> None:
        cid = _id(i_id, "vs", c_id)
        if self.t.get("comparisons", comparison_id=cid) is None:
            orders = [int(c["order"]) for c in self.t.rows["comparisons"] if c.get("order", "").isdigit()]
            self.t.upsert(
                "comparisons",
                comparison_id=cid,
                title=f"{intervention} vs {control}",
                question=f"Compared with {_phrase(control)}, what are the effects of {_phrase(intervention)}?",
                order=max(orders, default=0) + 1,
            )
        self.t.upsert("comparison_pairs", comparison_id=cid, intervention_regimen_id=i_id, control_regimen_id=c_id)

    def study(self, row: SheetRow) -> tuple[str, str, str, str]:
        """Study, population and the two arm ids of a row (created or updated)."""
        sid = _id(row.study)
        first_time = self.t.get("studies", study_id=sid) is None
        # What the sheet says; a study's other fields (title, authors, DOI, provenance) are kept as edited.
        given: dict[str, object] = dict(label=(row.label or row.study)[:80], year=row.year, design=row.design)
        if first_time:
            given.update(
                source_kind="not-reported",
                source_file=self.sheet_name,
                extracted_by=self.extracted_by,
                extraction_date=_today(),
            )
        self.t.upsert("studies", study_id=sid, **given)
        pid = _id(sid, "all")
        source = row.source or f"extraction sheet line {row.line}"
        self.t.upsert(
            "populations",
            population_id=pid,
            study_id=sid,
            label=POPULATION_LABEL,
            kind="overall",
            primary=True,
            source=source,
        )
        arms = []
        for name in (row.intervention, row.control):
            rid = self.regimen(name)
            aid = _id(sid, rid)
            self.t.upsert("arms", arm_id=aid, study_id=sid, label=name[:100], regimen_id=rid, source=source)
            arms.append(aid)
        return sid, pid, arms[0], arms[1]

    def add(self, row: SheetRow) -> None:
        oid = self.outcome(row)
        sid, pid, ai, ac = self.study(row)
        self.comparison(row.intervention, row.control, _id(row.intervention), _id(row.control))
        source = row.source or f"extraction sheet line {row.line}"
        note = row.notes or None
        v = row.values
        for arm, side in ((ai, "int"), (ac, "ctl")):
            n = v.get(f"n_{side}")
            if n is not None:
                self.arm_n[arm] = max(self.arm_n.get(arm, 0), int(n))
            self.t.upsert("population_arms", population_id=pid, arm_id=arm, n=self.arm_n.get(arm), source=source)
            if row.kind == "counts":
                self.t.upsert(
                    "binary_outcomes",
                    population_id=pid,
                    arm_id=arm,
                    outcome=oid,
                    events=v[f"events_{side}"],
                    n=n,
                    source=source,
                    note=note,
                )
            elif row.kind == "means":
                self.t.upsert(
                    "continuous_outcomes",
                    population_id=pid,
                    arm_id=arm,
                    outcome=oid,
                    criterion="none",
                    n=n,
                    mean=v[f"mean_{side}"],
                    sd=v[f"sd_{side}"],
                    source=source,
                    note=note,
                )
        if row.kind == "reported":
            self.t.upsert(
                "effects",
                population_id=pid,
                outcome=oid,
                criterion="none",
                intervention_arm_id=ai,
                control_arm_id=ac,
                measure=row.measure,
                analysis="multivariable" if row.adjusted else "univariable",
                estimate=v["estimate"],
                ci_low=v["ci_low"],
                ci_high=v["ci_high"],
                source=source,
                note=note,
            )
        del sid

    def labels(self) -> None:
        """Words for the codes the import writes, when the project has none yet."""
        for table, field, value, label in (
            ("interventions", "class", UNCLASSIFIED, "Not classified"),
            ("studies", "source_kind", "not-reported", "Not recorded (imported from an extraction sheet)"),
        ):
            if self.t.get("labels", table=table, field=field, value=value) is None:
                self.t.upsert("labels", table=table, field=field, value=value, label=label)


def _designs(tables: _Tables, descriptor: dict) -> list[str]:
    studies = next(r for r in descriptor["resources"] if r["name"] == "studies")
    design = next(f for f in studies["schema"]["fields"] if f["name"] == "design")
    return list(design.get("constraints", {}).get("enum") or [])


def _validate_copy(project: Project, texts: dict[str, str], descriptor: dict) -> list[str]:
    """Errors of the package with the new tables, checked in a temporary copy (the project is not touched)."""
    from livingevidence.checks import validate_package

    paths_of = {r["name"]: r["path"] for r in descriptor["resources"]}
    with tempfile.TemporaryDirectory(prefix="import-") as tmp:
        copy = Path(tmp) / "datapackage"
        shutil.copytree(project.package_dir, copy, symlinks=True)
        for name, text in texts.items():
            (copy / paths_of[name]).write_text(text, encoding="utf-8")
        report = validate_package(copy)
    return [f"{p.file}:{p.row or ''}: {p.field or ''}: {p.message} ({p.rule})" for p in report.errors]


def import_sheet(sheet_path: Path, project: Project, extracted_by: str = "extraction sheet import") -> dict[str, str]:
    """Import a sheet into the project; return {table: new text} of what changed (written) or raise."""
    descriptor = json.loads(project.descriptor.read_text(encoding="utf-8"))
    tables = _Tables(descriptor, project.package_dir)
    sheet = read_sheet(sheet_path, _designs(tables, descriptor))
    if sheet.problems:
        raise SheetInvalid([p.text(str(sheet_path)) for p in sheet.problems])
    importer = _Importer(tables, sheet_path.name, extracted_by)
    importer.labels()
    for row in sheet.rows:
        importer.add(row)
    texts = tables.texts()
    if not texts:
        return {}
    errors = _validate_copy(project, texts, descriptor)
    if errors:
        raise SheetInvalid(["the imported rows would make the package invalid:", *errors])
    paths_of = {r["name"]: r["path"] for r in descriptor["resources"]}
    for name, text in texts.items():
        target = project.package_dir / paths_of[name]
        staged = target.with_name(f".{target.name}.import")
        staged.write_text(text, encoding="utf-8")
        os.replace(staged, target)
    return texts


class SheetInvalid(Exception):
    """The sheet's problems, one line each."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__(f"{len(lines)} problems")
        self.lines = lines


def run_import(sheet: Path, project_dir: Path | None, extracted_by: str = "extraction sheet import") -> int:
    """`build.py import SHEET --project DIR`: 0 when imported (or nothing changed), 1 with located problems."""
    project = Project.at(project_dir)
    if not project.descriptor.is_file():
        print(
            f"import: {project.root} has no datapackage/datapackage.json; start one with build.py init", file=sys.stderr
        )
        return 1
    try:
        changed = import_sheet(Path(sheet), project, extracted_by)
    except SheetInvalid as exc:
        for line in exc.lines:
            print(line, file=sys.stderr)
        print("nothing was imported", file=sys.stderr)
        return 1
    except (ImportProblem, OSError, ValueError, KeyError) as exc:
        print(f"import: {exc}; nothing was imported", file=sys.stderr)
        return 1
    if not changed:
        print(f"{sheet}: nothing to change (the package already holds these rows)")
    else:
        print(f"{sheet}: imported into {', '.join(sorted(f'{t}.csv' for t in changed))}")
    return 0
