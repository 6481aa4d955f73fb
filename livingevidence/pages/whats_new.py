"""What's new: one page per data release, an index of releases, the home page's table and the short history
on each comparison page. Everything comes from the release history (datapackage/releases.json)."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from livingevidence.model import EvidencePackage
from livingevidence.pages.common import Page, Table, link, page_href
from livingevidence.release.diff import fmt_effect, pooled_flags

BUMP_WORDS = {
    "initial": "first release",
    "major": "major (something was removed or changed meaning)",
    "minor": "minor (data added)",
    "patch": "patch (corrections)",
    "none": "no data change",
}


def release_page_path(version: str) -> str:
    """Where the what's-new page of one release lives (Markdown path)."""
    return f"whats-new/{version}.md"


def _key(key: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in key.items())


def _study(package: EvidencePackage, here: str, study_id: str, label: str) -> Any:
    if study_id in package.studies:
        return link(page_href(here, f"studies/{study_id}.md"), label)
    return label


def _comparison(package: EvidencePackage, here: str, cid: str, title: str) -> Any:
    if cid in package.comparisons:
        return link(page_href(here, f"comparisons/{cid}.md"), title)
    return title


def release_page(package: EvidencePackage, release: dict[str, Any]) -> Page:
    """The what's-new page of one release: studies, rows, values, pooled results, schema and metadata."""
    here = release_page_path(release["version"])
    ch = release.get("changes", {})
    studies = Table(
        ["Study", "Change", "Rows"],
        [
            [
                _study(package, here, s["study_id"], s["label"]),
                "added",
                ", ".join(f"{t} {n}" for t, n in s["rows"].items()),
            ]
            for s in ch.get("studies_added", [])
        ]
        + [[s["label"], "removed", ""] for s in ch.get("studies_removed", [])],
        caption="Studies added or removed",
    )
    comparisons = Table(
        ["Comparison", "Change"],
        [[_comparison(package, here, c["comparison_id"], c["title"]), "added"] for c in ch.get("comparisons_added", [])]
        + [[c["title"], "removed"] for c in ch.get("comparisons_removed", [])],
        caption="Comparisons added or removed",
    )
    values = Table(
        ["Where", "Row", "Field", "Old value", "New value"],
        [
            [f"{v['file']}:{v['line']}", _key(v["key"]), v["field"], v["old"] or "(empty)", v["new"] or "(empty)"]
            for v in ch.get("values", [])
        ],
        caption="Every changed value (old → new), with the table, the row's key and its line in the CSV file",
        sortable=True,
    )
    rows = Table(
        ["Where", "Change", "Row"],
        [[f"{r['file']}:{r['line']}", "added", _key(r["key"])] for r in ch.get("rows_added", [])]
        + [[f"{r['file']}:{r['line']} (old line)", "removed", _key(r["key"])] for r in ch.get("rows_removed", [])],
        caption="Rows added to or removed from studies and tables that were already there",
    )
    pooled = Table(
        ["Comparison", "Analysis", "Before", "After", "What changed"],
        [
            [
                _comparison(package, here, p["comparison_id"], p["comparison"]),
                p["title"],
                fmt_effect(p["measure"], p["old"]),
                fmt_effect(p["measure"], p["new"]),
                ", ".join([p["status"], *pooled_flags(p)]),
            ]
            for p in ch.get("pooled", [])
        ],
        caption="Pooled results that moved (random effects; a single study is shown unpooled)",
        sortable=True,
    )
    other = Table(
        ["What", "Change"],
        [[f"{s['table']}{'.' + s['field'] if s.get('field') else ''}", s["change"]] for s in ch.get("schema", [])]
        + [[m["field"], "changed"] for m in ch.get("metadata", [])],
        caption="Schema and metadata changes",
    )
    return Page(
        here,
        "whats_new.md.j2",
        dict(
            description=f"What changed in data version {release['version']} ({release['date']}).",
            release=release,
            bump=BUMP_WORDS.get(release.get("bump", ""), release.get("bump", "")),
            studies=studies,
            comparisons=comparisons,
            values=values,
            rows=rows,
            pooled=pooled,
            other=other,
        ),
    )


def whats_new_pages(package: EvidencePackage, releases: list[dict[str, Any]]) -> list[Page]:
    """The index of releases and one page per release (newest first)."""
    index = Table(
        ["Version", "Date", "Kind", "Summary"],
        [
            [
                link(page_href("whats-new/index.md", release_page_path(r["version"])), r["version"]),
                r["date"],
                BUMP_WORDS.get(r.get("bump", ""), r.get("bump", "")),
                r.get("summary", ""),
            ]
            for r in releases
        ],
        caption="Data releases, newest first",
    )
    pages = [
        Page(
            "whats-new/index.md",
            "whats_new_index.md.j2",
            dict(
                description="Every release of the data package: what changed and which results moved.",
                table=index,
                version=package.info.version,
            ),
        )
    ]
    pages += [release_page(package, r) for r in releases]
    return pages


def home_whats_new(package: EvidencePackage, release: dict[str, Any]) -> Table:
    """The home page's what's-new table from the release's diff against the previous release."""
    ch = release.get("changes", {})
    rows: list[list[Any]] = []
    for s in ch.get("studies_added", []):
        st = package.studies.get(s["study_id"])
        rows.append(
            [
                _study(package, "index.md", s["study_id"], s["label"]),
                "added",
                package.vocabulary.label("studies", "source_kind", st.source_kind) if st else "",
            ]
        )
    rows += [[s["label"], "removed", ""] for s in ch.get("studies_removed", [])]
    by_study: dict[str, int] = {}
    pops = {p.population_id: p.study_id for p in package.populations.values()}
    arms = {a.arm_id: a.study_id for a in package.arms.values()}
    for v in ch.get("values", []) + ch.get("rows_added", []) + ch.get("rows_removed", []):
        key = v["key"]
        sid = key.get("study_id") or pops.get(key.get("population_id", "")) or arms.get(key.get("arm_id", ""))
        by_study[sid or ""] = by_study.get(sid or "", 0) + 1
    for sid, n in sorted(by_study.items()):
        if sid and sid in package.studies:
            st = package.studies[sid]
            rows.append([_study(package, "index.md", sid, st.label), f"{n} value(s) or row(s) corrected", ""])
        else:
            rows.append(["Shared tables", f"{n} value(s) or row(s) changed", ""])
    moved = [p for p in ch.get("pooled", []) if p["status"] == "moved" and p["measure"] in ("HR", "RR")]
    pooled_rows: list[list[Any]] = []
    for p in moved:
        flags = pooled_flags(p)
        pooled_rows.append(
            [
                _comparison(package, "index.md", p["comparison_id"], p["comparison"]),
                f"{p['title']}: {fmt_effect(p['measure'], p['old'])} → {fmt_effect(p['measure'], p['new'])}",
                ", ".join(flags),
            ]
        )
    total = len(rows) + len(pooled_rows)
    # Pooled results that moved are what a reader most needs; when the box is full they keep their place.
    rows = rows[: max(0, HOME_ROWS - len(pooled_rows))] + pooled_rows[:HOME_ROWS]
    if not rows:
        rows.append(["No data changes", release.get("summary", ""), ""])
    headers = ["Study or comparison", "Change", "Note"] if moved else ["Study", "Change", "Based on"]
    caption = f"Changes in data version {release['version']} since version {release.get('previous')}"
    return Table(headers, rows, caption=caption + capped_note(len(rows), total))


#: The home page's what's-new box shows at most this many rows; the what's-new page lists them all. A page
#: that grows with every study is slow on a phone, and Zensical's search index refuses a section that large.
HOME_ROWS = 25


def capped_note(shown: int, total: int) -> str:
    """'' when every change is shown, else how many are (the caption of a capped what's-new box)."""
    return "" if shown >= total else f" (the first {shown} of {total} changes; all are on the what's new page)"


def comparison_history_items(history: list[dict[str, Any]], here: str, package: EvidencePackage) -> list[Markup]:
    """One line per release that changed this comparison (see release.history.comparison_history)."""
    items = []
    for h in history:
        parts: list[str] = []
        if h["first"]:
            parts.append("first published")
        elif h["added_here"]:
            parts.append("comparison added")
        labels = {s.study_id: s.label for s in package.studies.values()}
        if h["studies_added"]:
            parts.append("now includes " + ", ".join(labels.get(s, s) for s in h["studies_added"]))
        if h["studies_removed"]:
            parts.append("no longer includes " + ", ".join(labels.get(s, s) for s in h["studies_removed"]))
        for p in h["results"]:
            text = f"{p['title']}: {fmt_effect(p['measure'], p['old'])} → {fmt_effect(p['measure'], p['new'])}"
            flags = pooled_flags(p)
            parts.append(text + (f" ({', '.join(flags)})" if flags else ""))
        if h["other_results"]:
            n = h["other_results"]
            parts.append(
                f"{n} other result{'s' if n != 1 else ''} (adverse events, odds ratios, risk differences) changed"
            )
        items.append(
            Markup("{}: {}.").format(
                link(page_href(here, release_page_path(h["version"])), f"Version {h['version']} ({h['date']})"),
                "; ".join(parts),
            )
        )
    return items
