"""`init` + `import`: extraction sheets of three public data sets become packages whose pooled results equal
metafor's; broken sheets give located errors, exit 1 and write nothing; importing twice changes nothing.

Reference values: tests/reference/metafor/import_sheets.json, written by import_sheets.R (metafor 3.8.1) from
the same public data sets (dat.egger2001, dat.normand1999, dat.hackshaw1998 and dat.bcg).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from livingevidence.analysis.synthesis import synthesise_all
from livingevidence.checks import validate_package
from livingevidence.cli import main
from livingevidence.load import load_package
from livingevidence.tools.init_project import init_project

HERE = Path(__file__).resolve().parent
SHEETS = HERE / "fixtures" / "sheets"
REFERENCE = json.loads((HERE / "reference" / "metafor" / "import_sheets.json").read_text(encoding="utf-8"))

# sheet -> (analysis key of its default measure, the kind of data)
CASES = {
    "magnesium": ("death-or", "counts"),
    "stroke": ("length-of-hospital-stay-md", "means"),
    "smoking": ("lung-cancer-or-unadjusted", "reported"),
    "bcg": ("tuberculosis-rr", "counts"),
}


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "summary"
    init_project(root, "A new question")
    return root


def test_init_writes_a_valid_empty_project(project: Path) -> None:
    report = validate_package(project / "datapackage")
    assert report.valid and not report.problems, report.to_text()
    for name in ("mkdocs.yml", "README.md", "docs/methods.md", ".github/workflows/validate.yml", "CITATION.cff"):
        assert (project / name).is_file(), name
    descriptor = json.loads((project / "datapackage" / "datapackage.json").read_text(encoding="utf-8"))
    assert descriptor["topic"]["title"] == "A new question"


def test_init_refuses_a_folder_that_holds_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "keep.txt").write_text("mine", encoding="utf-8")
    assert main(["init", str(tmp_path), "--title", "T"]) == 1
    assert "not an empty folder" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


@pytest.mark.parametrize("sheet", list(CASES))
def test_imported_sheet_pools_as_metafor(project: Path, sheet: str) -> None:
    assert main(["import", str(SHEETS / f"{sheet}.csv"), "--project", str(project)]) == 0
    package = load_package(project / "datapackage")
    analyses = {a.key: a for s in synthesise_all(package, workers=1).values() for a in s.analyses}
    key, _kind = CASES[sheet]
    pooled = analyses[key].pool.random
    ref = REFERENCE[sheet]["adhoc"]  # the default CI method: HKSJ with the ad hoc correction
    assert analyses[key].k == ref["k"]
    for ours, theirs in (
        (pooled.estimate, ref["estimate"]),
        (pooled.se, ref["se"]),
        (pooled.ci_low, ref["ci_low"]),
        (pooled.ci_high, ref["ci_high"]),
        (pooled.tau2, ref["tau2"]),
        (pooled.i2, ref["i2"]),
        (pooled.q, ref["q"]),
        (pooled.tau2_ci_low, ref["tau2_ci"][0]),
        (pooled.tau2_ci_high, ref["tau2_ci"][1]),
    ):
        assert ours == pytest.approx(theirs, rel=1e-6, abs=1e-10)


@pytest.mark.parametrize("sheet", list(CASES))
def test_importing_the_same_sheet_twice_changes_nothing(project: Path, sheet: str) -> None:
    assert main(["import", str(SHEETS / f"{sheet}.csv"), "--project", str(project)]) == 0
    before = _snapshot(project)
    assert main(["import", str(SHEETS / f"{sheet}.csv"), "--project", str(project)]) == 0
    assert _snapshot(project) == before


def test_reimport_keeps_what_was_added_by_hand(project: Path) -> None:
    sheet = SHEETS / "magnesium.csv"
    assert main(["import", str(sheet), "--project", str(project)]) == 0
    studies = project / "datapackage" / "studies.csv"
    text = studies.read_text(encoding="utf-8")
    studies.write_text(text.replace("isis-4-1995,ISIS-4 1995,,", "isis-4-1995,ISIS-4 1995,ISIS-4 trial,", 1), "utf-8")
    assert main(["import", str(sheet), "--project", str(project)]) == 0
    assert "ISIS-4 trial" in studies.read_text(encoding="utf-8")


# broken sheet -> the (line, column) of every problem it must report
BROKEN = {
    "missing-column": [(1, "outcome")],
    "unknown-measure": [(2, "measure")],
    "events-over-n": [(2, "events_int")],
    "sd-not-positive": [(2, "sd_int")],
    "n-zero": [(2, "n_int")],
    "counts-and-means": [(2, None)],
    "ci-excludes-estimate": [(2, "estimate")],
    "not-a-number": [(2, "events_int")],
    "duplicate-row": [(4, "study")],
    "empty-sheet": [(1, None)],
    "wrong-encoding": [(2, None)],
    "formula-cell": [(2, "study")],
    "unknown-column": [(1, "events_itn"), (1, None)],
    "unknown-design": [(2, "design")],
    "ratio-not-positive": [(2, "estimate")],
    "study-disagrees": [(3, "year")],
}


def test_every_broken_sheet_has_a_case() -> None:
    assert {p.stem for p in (SHEETS / "broken").glob("*.csv")} == set(BROKEN)


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_sheet_is_located_and_writes_nothing(
    project: Path, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from livingevidence.tools.sheet import read_sheet

    before = _snapshot(project)
    path = SHEETS / "broken" / f"{case}.csv"
    assert main(["import", str(path), "--project", str(project)]) == 1
    err = capsys.readouterr().err
    assert "nothing was imported" in err and "Traceback" not in err
    assert _snapshot(project) == before
    problems = read_sheet(path, ["rct"]).problems
    assert [(p.line, p.column) for p in problems] == BROKEN[case]
    for p in problems:
        assert p.text(str(path)).startswith(f"{path}:{p.line}") and p.hint


def test_import_into_a_folder_without_a_package(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", str(SHEETS / "bcg.csv"), "--project", str(tmp_path)]) == 1
    assert "build.py init" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("sheet", "comparison", "words"),
    [
        ("stroke", "specialist-stroke-care-vs-routine-care", ("Length of hospital stay", "Mean difference (days)")),
        ("smoking", "spouse-smokes-vs-spouse-does-not-smoke", ("Lung cancer", "Odds ratio (log scale)")),
        ("magnesium", "intravenous-magnesium-vs-control", ("Death", "Mantel-Haenszel")),
    ],
)
def test_an_imported_project_builds_a_site_about_its_topic(
    project: Path, sheet: str, comparison: str, words: tuple[str, str]
) -> None:
    assert main(["import", str(SHEETS / f"{sheet}.csv"), "--project", str(project)]) == 0
    assert main(["build", "--project", str(project)]) == 0
    site = project / "site"
    page = (site / "comparisons" / comparison / "index.html").read_text(encoding="utf-8")
    home = (site / "index.html").read_text(encoding="utf-8")
    assert words[0] in home and words[0] in page
    assert words[1] in page  # the forest plot's axis (in its spec) or the sensitivity line
    api = json.loads((site / "api" / "comparisons" / f"{comparison}.json").read_text(encoding="utf-8"))
    key, _ = CASES[sheet]
    pooled = next(a for a in api["analyses"] if a["key"] == key)["pool_detail"]["random"]
    assert pooled["estimate"] == pytest.approx(REFERENCE[sheet]["adhoc"]["estimate"], rel=1e-6)
    assert pooled["ci_low"] == pytest.approx(REFERENCE[sheet]["adhoc"]["ci_low"], rel=1e-6)
    for word in ("hepatocellular", "regorafenib", "mRECIST"):
        assert word not in home and word not in page
