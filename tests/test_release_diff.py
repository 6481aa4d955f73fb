"""`build.py diff`: studies, rows and every changed value between two fixture versions, row by row, and
the pooled results that moved; text and JSON output; git refs as well as paths."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from livingevidence.analysis.synthesis import synthesise
from livingevidence.cli import main
from livingevidence.load import load_package
from livingevidence.release.diff import diff_packages, to_markdown, to_text
from livingevidence.release.semver import Version
from tests.release_helpers import ADDED_STUDY, CORRECTED, edit_cell, fixture_versions, git, init_repo


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return fixture_versions(tmp_path_factory.mktemp("diff"))


@pytest.fixture(scope="module")
def d(versions: tuple[Path, Path]) -> dict:
    v1, v2 = versions
    return diff_packages(v1, v2, old_label="v1", new_label="v2")


def test_versions_and_bump(d: dict) -> None:
    assert d["base"] == {"label": "v1", "version": "1.0.0", "date": "2026-11-22"}
    assert d["head"] == {"label": "v2", "version": "1.1.0", "date": "2026-12-01"}
    assert d["bump"]["required"] == "minor"
    assert d["bump"]["reasons"] == ["minor: 1 study added", "patch: 1 value changed"]
    assert d["data_changed"] is True


def test_study_added_with_its_rows_counted(d: dict) -> None:
    assert [s["study_id"] for s in d["studies_added"]] == [ADDED_STUDY]
    added = d["studies_added"][0]
    assert added["label"] == "Ma et al."
    # Every row of the study is counted under it, not listed as a loose row.
    assert added["rows"] == {
        "adverse_events": 72,
        "arms": 2,
        "baseline": 160,
        "effects": 14,
        "extraction_notes": 17,
        "indirectness": 8,
        "population_arms": 6,
        "population_attributes": 6,
        "populations": 3,
        "prognostic_factors": 61,
        "response": 6,
        "risk_of_bias": 12,
        "survival": 8,
    }
    assert d["studies_removed"] == []
    assert d["rows_added"] == []
    assert d["rows_removed"] == []
    assert d["comparisons_added"] == d["comparisons_removed"] == []
    assert d["schema"] == [] and d["metadata"] == []


def test_changed_value_row_by_row(d: dict) -> None:
    assert d["values"] == [
        {
            "table": "baseline",
            "file": "baseline.csv",
            "line": CORRECTED["line"],
            "old_line": CORRECTED["line"],
            "key": {
                "population_id": "li-before-psm",
                "arm_id": "li-tr",
                "characteristic": "age",
                "category": "all",
                "statistic": "mean-sd",
            },
            "field": "value",
            "old": CORRECTED["old"],
            "new": CORRECTED["new"],
        }
    ]


def test_pooled_results_that_moved(d: dict, versions: tuple[Path, Path]) -> None:
    moved = {(p["comparison_id"], p["analysis"]): p for p in d["pooled"]}
    # One study population became two (Ma et al.'s cohort with prior PD-1 exposure is a subgroup, not pooled):
    # ORR (mRECIST) is now pooled, and its CI now includes 1.
    orr = moved[("add-pd1-to-regorafenib", "orr-mrecist-rr")]
    assert orr["status"] == "moved"
    assert orr["old"]["k"] == 1 and orr["old"]["pooled"] is False
    assert orr["new"]["k"] == 2 and orr["new"]["pooled"] is True
    # The numbers are the ones the comparison pages show (the same synthesis on each version).
    for side, pkg in (("old", versions[0]), ("new", versions[1])):
        analysis = next(
            a for a in synthesise(load_package(pkg), "add-pd1-to-regorafenib").analyses if a.key == "orr-mrecist-rr"
        )
        shown = analysis.summary() or {"estimate": analysis.rows[0].estimate, "ci_low": analysis.rows[0].ci_low}
        assert orr[side]["estimate"] == pytest.approx(shown["estimate"], rel=1e-5)
        assert orr[side]["ci_low"] == pytest.approx(shown["ci_low"], rel=1e-5)
    assert orr["old"]["estimate"] == pytest.approx(1.909, abs=1e-3)
    assert orr["new"]["estimate"] == pytest.approx(3.079, abs=1e-3)
    assert orr["new"]["pi_low"] is None  # two study populations: no prediction interval
    assert orr["significance_changed"] is True and orr["significant"] is False
    assert orr["direction_changed"] is False
    # A result whose estimate crossed 1.
    hfsr = moved[("add-pd1-to-regorafenib", "ae-hand-foot-skin-reaction-any-grade")]
    assert hfsr["direction_changed"] is True
    # Hazard ratios appear where there were none.
    assert moved[("rego-pd1-vs-rego", "os-hr-unadjusted")]["status"] == "new"
    assert moved[("rego-pd1-vs-rego", "os-hr-unadjusted")]["old"] is None
    # Nothing moved in comparisons the study does not inform.
    assert {p["comparison_id"] for p in d["pooled"]} == {"add-pd1-to-regorafenib", "rego-pd1-vs-rego"}
    assert d["contributors"] == [
        {
            "comparison_id": "add-pd1-to-regorafenib",
            "comparison": "Adding a PD-1 inhibitor to regorafenib-based therapy",
            "added": [ADDED_STUDY],
            "removed": [],
        },
        {
            "comparison_id": "rego-pd1-vs-rego",
            "comparison": "Regorafenib + PD-1 inhibitor vs regorafenib",
            "added": [ADDED_STUDY],
            "removed": [],
        },
    ]


def test_removed_row_and_study(versions: tuple[Path, Path], tmp_path: Path) -> None:
    v1, v2 = versions
    v3 = tmp_path / "v3"
    shutil.copytree(v2, v3)
    lines = (v3 / "landmarks.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (v3 / "landmarks.csv").write_text(lines[0], encoding="utf-8")  # the one landmark row
    d = diff_packages(v2, v3)
    assert [(r["table"], r["line"]) for r in d["rows_removed"]] == [("landmarks", 2)]
    assert d["bump"]["required"] == "patch"
    back = diff_packages(v2, v1)  # the study goes away again: its pages disappear, a major change
    assert [s["study_id"] for s in back["studies_removed"]] == [ADDED_STUDY]
    assert back["bump"]["required"] == "major"


def test_no_change_is_no_bump(versions: tuple[Path, Path]) -> None:
    v1, _ = versions
    d = diff_packages(v1, v1)
    assert d["data_changed"] is False and d["bump"]["required"] == "none" and d["pooled"] == []
    assert d["summary"] == "No data changes."


def test_text_and_markdown(d: dict) -> None:
    text = to_text(d)
    assert "Required version bump: minor" in text
    assert f"+ {ADDED_STUDY} (Ma et al.)" in text
    assert (
        "~ baseline.csv:2 [population_id=li-before-psm, arm_id=li-tr, characteristic=age, category=all, "
        "statistic=mean-sd] value: 54.8 -> 54.9"
    ) in text
    assert "~ add-pd1-to-regorafenib / orr-mrecist-rr: RR 1.91" in text
    assert "[no longer significant]" in text
    md = to_markdown(d)
    assert "| `baseline.csv:2` |" in md and "**minor**" in md


def test_cli_json_with_paths(versions: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    v1, v2 = versions
    assert main(["diff", str(v1), str(v2), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["bump"]["required"] == "minor"
    assert out["values"][0]["new"] == "54.9"


def test_cli_with_git_refs(versions: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """BASE as a git ref: the package at that commit against the working tree."""
    v1, _ = versions
    repo = init_repo(tmp_path / "repo")
    (repo / "README").write_text("before the data\n", encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "no data yet")
    shutil.copytree(v1, repo / "datapackage")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "1.0.0")
    edit_cell(repo / "datapackage", CORRECTED["file"], 2, "value", "54.8", "54.9")
    package = str(repo / "datapackage")
    assert main(["diff", "HEAD", "--package", package, "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [(v["file"], v["line"], v["old"], v["new"]) for v in out["values"]] == [("baseline.csv", 2, "54.8", "54.9")]
    assert out["studies_added"] == [] and out["bump"]["required"] == "patch"
    # A ref without a data package means "no previous release": every study is added.
    assert main(["diff", "HEAD~1", "--package", package, "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["base"]["version"] is None and len(out["studies_added"]) == 4
    # Unknown refs and paths are usage errors.
    assert main(["diff", "no-such-ref", "--package", package]) == 2
    assert "neither a package path nor a git ref" in capsys.readouterr().err


def test_version_arithmetic() -> None:
    v = Version.parse("1.2.3")
    assert str(v.bumped("minor")) == "1.3.0" and str(v.bumped("major")) == "2.0.0"
    assert v.bump_to(Version.parse("1.2.4")) == "patch"
    assert v.bump_to(Version.parse("1.4.0")) is None
    with pytest.raises(ValueError):
        Version.parse("1.02.0")


def test_direction_changed_only_across_the_null_by_more_than_rounding() -> None:
    from livingevidence.release.diff import _direction_changed

    def r(est: float, lo: float, hi: float) -> dict:
        return {"estimate": est, "ci_low": lo, "ci_high": hi}

    assert not _direction_changed("RR", r(0.98, 0.5, 1.9), r(1.02, 0.52, 2.0))  # within rounding of the null
    assert not _direction_changed("RR", r(0.98, 0.5, 1.9), r(1.004, 0.5, 1.9))
    assert _direction_changed("RR", r(0.80, 0.6, 1.1), r(1.25, 0.9, 1.7))
    assert not _direction_changed("RR", r(0.80, 0.6, 1.1), r(1.25, 0.6, 1.1))  # the interval did not move
    assert _direction_changed("RD", r(-0.05, -0.1, 0.0), r(0.04, -0.02, 0.1))
    assert not _direction_changed("RD", r(-0.003, -0.1, 0.1), r(0.003, -0.1, 0.1))


def test_a_version_from_before_the_vocabulary_borrows_it(tmp_path: Path) -> None:
    """An older data version without outcomes.csv is analysed with the other side's vocabulary, so its results
    are compared outcome by outcome instead of all counting as new."""
    import json
    import shutil

    from livingevidence import paths
    from livingevidence.release.diff import pooled_changes

    old = tmp_path / "old"
    shutil.copytree(paths.DATAPACKAGE_DIR, old)
    descriptor = json.loads((old / "datapackage.json").read_text(encoding="utf-8"))
    descriptor["resources"] = [
        r for r in descriptor["resources"] if r["name"] not in ("outcomes", "labels", "glossary")
    ]
    (old / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    changes = pooled_changes(old, paths.DATAPACKAGE_DIR)
    assert "pooled_error" not in changes
    assert changes["pooled"] == []  # the same data and the borrowed vocabulary: nothing moved
