"""The data-checks page speaks to readers: each warning names its study (linked) and what the row holds in words,
with the file and line kept for maintainers; the ids of arms and populations in a message become their labels."""

from __future__ import annotations

import html
import re
from pathlib import Path

from livingevidence.load import load_package
from livingevidence.pages.row_text import describe_row, with_labels

PACKAGE = load_package()


def _rows(page: Path) -> list[list[str]]:
    text = page.read_text(encoding="utf-8")
    table = text[text.index("<table") : text.index("</table>")]
    out = []
    for tr in re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]:
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)
        out.append([html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells] + [tr])
    return out


def test_every_warning_names_its_study_and_row(built_site: Path) -> None:
    rows = _rows(built_site / "data" / "checks" / "index.html")
    assert rows, "the HCC package has warnings"
    labels = {s.label for s in PACKAGE.studies.values()}
    ids = {a.arm_id for a in PACKAGE.rows("arms")} | {p.population_id for p in PACKAGE.rows("populations")}
    ids -= set(PACKAGE.studies)
    for study, holds, column, message, rule, raw in rows:
        assert study in labels and 'href="../../studies/' in raw, study
        assert re.search(r"\((\w+)\.csv, line \d+\)$", holds), holds
        assert not re.match(r"^\w+\.csv:\d+", holds)  # no bare file:line
        assert column and rule
        assert not any(re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", message) for i in ids), message
    by_line = {r[1].rsplit("(", 1)[-1]: r for r in rows}
    ae = by_line["adverse_events.csv, line 107)"]
    assert ae[0] == "Ma et al." and ae[1].startswith("Adverse event Neutropenia (any grade), arm Regorafenib-PD-1")
    baseline = by_line["baseline.csv, line 332)"]
    assert baseline[0] == "Lenvatinib + PD-1 vs regorafenib (2023)" and "the n of All patients" in baseline[3]


def test_row_words_and_labels() -> None:
    effect = next(e for e in PACKAGE.rows("effects") if e.population_id == "li-after-psm")
    assert describe_row(PACKAGE, "effects", effect).endswith("arms TRP vs TR, population After PSM")
    # Only whole ids of the row's study are replaced; a study id is never taken for an arm of the same name.
    assert (
        with_labels(PACKAGE, "li-trp-tr", "li-trp 39/64 vs li-tr 26/64 (li-trp-tr)")
        == "TRP 39/64 vs TR 26/64 (li-trp-tr)"
    )
    assert with_labels(PACKAGE, "ma-rego-pd1", "in ma-rego-pd1 and ma-rego") == "in ma-rego-pd1 and Regorafenib"
    assert with_labels(PACKAGE, None, "lpr-overall") == "lpr-overall"
