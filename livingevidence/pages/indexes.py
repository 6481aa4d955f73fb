"""Home, index pages, regimen pages, data pages: the pages that summarise across studies."""

from __future__ import annotations

import json
from typing import Any

from livingevidence.model import EvidencePackage
from livingevidence.pages import chartblocks
from livingevidence.pages.common import Page, Table, link, page_href
from livingevidence.pages.row_text import describe_row, row_at, study_of, with_labels
from livingevidence.report import Problem


def _scope(package: EvidencePackage) -> Table:
    """What the summary covers: the topic's scope as written, else what the data holds."""
    topic, voc = package.info.topic, package.vocabulary
    designs = sorted({voc.label("studies", "design", s.design) for s in package.studies.values()})
    rows = [
        ["Population", topic.population or "not described"],
        ["Interventions", topic.interventions or ", ".join(r.label for r in package.regimens.values())],
        ["Outcomes", topic.outcomes or ", ".join(o.label for o in voc.outcomes.values())],
        ["Study designs", topic.designs or ", ".join(designs)],
    ]
    if topic.maintainers:
        rows.append(["Maintained by", "; ".join(topic.maintainers)])
    return Table(["Element", "What the summary includes"], rows, caption="Scope")


def home_page(
    package: EvidencePackage, evidence_map: Table, whats_new: Table, key_findings: list | None = None
) -> Page:
    """The overview: the topic, scope, version, counts, evidence map and what changed."""
    counts = {
        "studies": len(package.studies),
        "patients": sum(package.patients(s) for s in package.studies),
        "comparisons": len(package.comparisons),
    }
    return Page(
        "index.md",
        "home.md.j2",
        dict(
            title=package.info.topic.title,
            description=package.info.topic.description,
            info=package.info,
            counts=counts,
            scope_table=_scope(package),
            evidence_map=evidence_map,
            whats_new=whats_new,
            key_findings=key_findings or [],
            comparisons=list(package.comparisons.values()),
        ),
    )


def studies_index(package: EvidencePackage) -> Page:
    """A sortable table of all studies."""
    rows = []
    for s in sorted(package.studies.values(), key=lambda s: s.sort_key):
        arms = " vs ".join(a.label for a in package.arms_of(s.study_id))
        rows.append(
            [
                link(page_href("studies/index.md", f"studies/{s.study_id}.md"), s.label),
                str(s.year or "not reported"),
                package.vocabulary.label("studies", "design", s.design),
                arms,
                str(package.patients(s.study_id)),
                package.vocabulary.label("studies", "source_kind", s.source_kind),
            ]
        )
    table = Table(
        ["Study", "Year", "Design", "Arms", "Patients", "Extracted from"],
        rows,
        sortable=True,
        id="studies-table",
        caption="Studies in the data package",
    )
    return Page(
        "studies/index.md",
        "studies_index.md.j2",
        dict(
            description="All studies in the living evidence summary, with design and size.",
            studies=list(package.studies),
            version=package.info.version,
            table=table,
        ),
    )


def regimen_pages(package: EvidencePackage) -> list[Page]:
    """The regimens index and one page per regimen with medians across studies."""
    pages = []
    index_rows = []
    survival_by_regimen: dict[str, list] = {}
    for s in package.rows("survival"):
        survival_by_regimen.setdefault(package.arms[s.arm_id].regimen_id, []).append(s)
    for r in package.regimens.values():
        arms = package.arms_by_regimen.get(r.regimen_id, [])
        comps = ", ".join(i.label for i in package.regimen_components.get(r.regimen_id, []))
        index_rows.append(
            [
                link(page_href("regimens/index.md", f"regimens/{r.regimen_id}.md"), r.label),
                comps,
                str(len(arms)),
                ", ".join(sorted({package.studies[a.study_id].label for a in arms})),
            ]
        )
        arms_table = Table(
            ["Study", "Arm", "Description", "Patients (largest population)"],
            [
                [
                    link(
                        page_href(f"regimens/{r.regimen_id}.md", f"studies/{a.study_id}.md"),
                        package.studies[a.study_id].label,
                    ),
                    a.label,
                    a.description or "",
                    str(package.max_arm_n.get(a.arm_id, 0)),
                ]
                for a in arms
            ],
        )
        surv = survival_by_regimen.get(r.regimen_id, [])
        chart = chartblocks.medians_block(
            package,
            surv,
            f"Medians with {r.label} across studies",
            f"../../api/regimens/{r.regimen_id}.json",
            with_study=True,
        )
        pages.append(
            Page(
                f"regimens/{r.regimen_id}.md",
                "regimen.md.j2",
                dict(
                    description=f"{r.label}: arms and medians across studies.",
                    regimen=r,
                    components=comps or "none listed",
                    arms_table=arms_table,
                    chart=chart,
                ),
                data_files={
                    f"api/regimens/{r.regimen_id}.json": {
                        "regimen": r.regimen_id,
                        "medians": chartblocks.median_rows(package, surv, with_study=True),
                    }
                },
            )
        )
    pages.append(
        Page(
            "regimens/index.md",
            "regimens_index.md.j2",
            dict(
                description="Treatment regimens in the summary.",
                table=Table(["Regimen", "Components", "Arms", "Studies"], index_rows, sortable=True),
            ),
        )
    )
    return pages


def data_pages(
    package: EvidencePackage, descriptor: dict, warnings: list[Problem], rules: list[dict], zip_name: str
) -> list[Page]:
    """Data downloads, the data dictionary and the data checks page."""
    tables_table = Table(
        ["Table", "Rows", "What it holds"],
        [
            [
                link(page_href("data/index.md", "data/dictionary.md", r["name"]), r["title"]),
                str(len(package.tables.get(r["name"], ()))),
                r["description"],
            ]
            for r in descriptor["resources"]
        ],
    )
    api_table = Table(
        ["Address", "Content"],
        [
            ["api/index.json", "Version, date, lists of studies, comparisons and regimens with their addresses"],
            ["api/studies/<study_id>.json", "Every row of one study, table by table"],
            [
                "api/comparisons/<comparison_id>.json",
                "Contributing studies, exclusions and every pooled number of one comparison",
            ],
            ["api/regimens/<regimen_id>.json", "Medians across studies for one regimen"],
        ],
    )
    index = Page(
        "data/index.md",
        "data_index.md.j2",
        dict(
            description="Download the data package, its dictionary and the JSON API.",
            info=package.info,
            tables_table=tables_table,
            api_table=api_table,
            zip_name=zip_name,
        ),
    )
    resources = []
    for r in descriptor["resources"]:
        schema = r["schema"]
        rows = []
        for f in schema["fields"]:
            c = f.get("constraints", {})
            rule = []
            if c.get("required"):
                rule.append("required")
            if "enum" in c:
                rule.append("one of: " + ", ".join(map(str, c["enum"])))
            if "pattern" in c:
                rule.append(f"pattern {c['pattern']}")
            if "minimum" in c or "maximum" in c:
                rule.append(f"range {c.get('minimum', '')}..{c.get('maximum', '')}")
            if c.get("unique"):
                rule.append("unique")
            rows.append([f["name"], f.get("type", "string"), "; ".join(rule), f.get("description", "")])
        fks = "; ".join(
            f"{fk['fields']} → {fk['reference']['resource']}.{fk['reference']['fields']}"
            for fk in schema.get("foreignKeys", [])
        )
        resources.append(
            dict(
                name=r["name"],
                title=r["title"],
                description=r["description"],
                path=r["path"],
                primary_key=", ".join(schema.get("primaryKey", [])),
                foreign_keys=fks,
                table=Table(["Field", "Type", "Constraints", "Description"], rows),
            )
        )
    dictionary = Page(
        "data/dictionary.md",
        "dictionary.md.j2",
        dict(description="Every table and column of the data package.", resources=resources),
    )
    warn_rows = [_check_row(package, w) for w in warnings]
    notes_table = Table(
        ["Study", "Topic", "Note", "Source"],
        [
            [
                link(page_href("data/checks.md", f"studies/{n.study_id}.md"), package.studies[n.study_id].label),
                n.topic,
                n.note,
                n.source,
            ]
            for n in package.rows("extraction_notes")
        ],
    )
    rules_table = Table(
        ["Rule", "Layer", "Severity", "What it checks"],
        [[r["id"], str(r["layer"]), r["severity"], r["description"]] for r in rules],
    )
    checks = Page(
        "data/checks.md",
        "checks.md.j2",
        dict(
            description="Inconsistencies found in the source papers by the data checks.",
            warnings=warnings,
            version=package.info.version,
            table=Table(
                ["Study", "What the row holds", "Column", "What the check found", "Rule"], warn_rows, sortable=True
            ),
            notes_table=notes_table,
            rules_table=rules_table,
        ),
    )
    return [index, dictionary, checks]


def _check_row(package: EvidencePackage, w: Problem) -> list[Any]:
    """One warning of the data-checks page: the study (linked), what the row holds in words with its file and line
    for maintainers, the column's title, and the message with the study's ids as labels."""
    file = w.file.rsplit("/", 1)[-1]
    found = row_at(package, w.file, w.row)
    table, row = found if found else ("", None)
    study_id = study_of(package, row) if row is not None else None
    study: Any = "the package"
    if study_id:
        study = link(page_href("data/checks.md", f"studies/{study_id}.md"), package.studies[study_id].label)
    where = f"{file}, line {w.row}" if w.row else file
    holds = f"{describe_row(package, table, row)} ({where})" if row is not None else where
    column = package.columns.get(table, {}).get(w.field or "", w.field or "")
    return [study, holds, column, with_labels(package, study_id, w.message), w.rule]


def api_index(package: EvidencePackage) -> dict:
    """site/api/index.json."""
    return {
        "name": package.info.name,
        "version": package.info.version,
        "date": package.info.date,
        "studies": [{"id": s, "label": st.label, "href": f"studies/{s}.json"} for s, st in package.studies.items()],
        "comparisons": [
            {"id": c, "title": cm.title, "href": f"comparisons/{c}.json"} for c, cm in package.comparisons.items()
        ],
        "regimens": [{"id": r, "label": rg.label, "href": f"regimens/{r}.json"} for r, rg in package.regimens.items()],
    }


def dump(obj: object) -> str:
    """Deterministic JSON for files written into the site.

    Compact on purpose: json's C encoder serves only unindented output, and indenting the API files made
    the pure-Python encoder most of the write stage at 1,000 studies (15 s); readers' tools pretty-print.
    """
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"
