"""`build.py release-check`: data changed without the right version bump is an error, and the message says
which bump is needed; the release history must record the release; exit codes like validate."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from livingevidence.cli import main
from livingevidence.release.check import check_release
from livingevidence.release.diff import diff_packages
from livingevidence.release.history import load_releases, record_release
from tests.release_helpers import CORRECTED, edit_cell, fixture_versions, git, init_repo, set_version


@pytest.fixture()
def versions(tmp_path: Path) -> tuple[Path, Path]:
    return fixture_versions(tmp_path)


def _rules(problems: list) -> list[tuple[str, str]]:
    return sorted((p.rule, p.severity) for p in problems)


def test_data_changed_without_bump(versions: tuple[Path, Path]) -> None:
    v1, v2 = versions
    set_version(v2, "1.0.0", "2026-11-22")
    problems, _ = check_release(v1, v2)
    bump = [p for p in problems if p.rule == "release-version-bump"]
    assert len(bump) == 1
    assert "the data changed but the version is still 1.0.0" in bump[0].message
    assert bump[0].hint == "a minor bump is needed: set version to 1.1.0 and created to today"
    assert bump[0].file == "datapackage.json" and bump[0].field == "version"


def test_too_small_a_bump_names_the_needed_one(versions: tuple[Path, Path]) -> None:
    v1, v2 = versions
    set_version(v2, "1.0.1", "2026-12-01")
    problems, _ = check_release(v1, v2)
    bump = next(p for p in problems if p.rule == "release-version-bump")
    assert "is a patch bump, but the changes need a minor bump" in bump.message
    assert bump.hint == "set version to 1.1.0"


def test_a_correction_needs_a_patch(versions: tuple[Path, Path], tmp_path: Path) -> None:
    v1, _ = versions
    v3 = tmp_path / "v3" / "datapackage"
    shutil.copytree(v1, v3)
    edit_cell(v3, CORRECTED["file"], CORRECTED["line"], CORRECTED["field"], CORRECTED["old"], CORRECTED["new"])
    problems, d = check_release(v1, v3)
    assert d["bump"]["required"] == "patch"
    assert next(p for p in problems if p.rule == "release-version-bump").hint.startswith(
        "a patch bump is needed: set version to 1.0.1"
    )
    set_version(v3, "1.0.1", "2026-11-23")
    record_release(v3, diff_packages(v1, v3, old_label="v1"))
    assert check_release(v1, v3)[0] == []


def test_bumped_release_needs_its_history_entry(versions: tuple[Path, Path]) -> None:
    v1, v2 = versions
    problems, _ = check_release(v1, v2)
    assert _rules(problems) == [("release-history", "error")]
    assert "no entry for version 1.1.0" in problems[0].message
    assert "--record" in problems[0].hint
    record_release(v2, diff_packages(v1, v2, old_label="v1"))
    assert check_release(v1, v2)[0] == []
    # Changing the data after recording makes the entry stale.
    edit_cell(v2, "baseline.csv", 2, "value", "54.9", "55.0")
    problems, _ = check_release(v1, v2)
    assert _rules(problems) == [("release-history", "error")]
    assert "does not match the changes" in problems[0].message


def test_skips_old_dates_and_history_rewrites(versions: tuple[Path, Path]) -> None:
    v1, v2 = versions
    set_version(v2, "1.2.0", "2026-12-01")
    assert "release-version-skip" in {p.rule for p in check_release(v1, v2)[0]}
    set_version(v2, "1.1.0", "2026-11-22")
    assert "release-date" in {p.rule for p in check_release(v1, v2)[0]}
    set_version(v2, "0.9.0", "2026-12-01")
    assert "release-version-order" in {p.rule for p in check_release(v1, v2)[0]}
    # Published history is append-only.
    set_version(v2, "1.1.0", "2026-12-01")
    record_release(v1, diff_packages(None, v1))
    base_entry = load_releases(v1)[0]
    record_release(v2, diff_packages(v1, v2))
    data = json.loads((v2 / "releases.json").read_text(encoding="utf-8"))
    data["releases"].append({**base_entry, "summary": "rewritten"})
    (v2 / "releases.json").write_text(json.dumps(data), encoding="utf-8")
    problems, _ = check_release(v1, v2)
    assert [p.message for p in problems] == ["the entry for released version 1.0.0 was changed"]


def test_no_change_no_problem_and_bump_without_change_warns(versions: tuple[Path, Path], tmp_path: Path) -> None:
    v1, _ = versions
    assert check_release(v1, v1)[0] == []
    v3 = tmp_path / "v3" / "datapackage"
    shutil.copytree(v1, v3)
    set_version(v3, "1.0.1", "2026-11-23")
    record_release(v3, diff_packages(v1, v3))
    assert _rules(check_release(v1, v3)[0]) == [("release-no-change", "warning")]


def test_citation_files_follow_the_version(versions: tuple[Path, Path]) -> None:
    v1, v2 = versions
    root = v2.parent
    (root / "CITATION.cff").write_text('cff-version: 1.2.0\nversion: "1.0.0"\ndate-released: "2026-11-22"\n')
    (root / ".zenodo.json").write_text('{"version": "1.0.0", "publication_date": "2026-11-22"}\n')
    assert main(["diff", str(v1), "--package", str(v2), "--record"]) == 0
    assert 'version: "1.1.0"' in (root / "CITATION.cff").read_text()
    assert json.loads((root / ".zenodo.json").read_text())["version"] == "1.1.0"
    assert check_release(v1, v2)[0] == []
    (root / "CITATION.cff").write_text('cff-version: 1.2.0\nversion: "1.0.0"\ndate-released: "2026-12-01"\n')
    problems, _ = check_release(v1, v2)
    assert [(p.rule, p.field) for p in problems] == [("release-citation-file", "version")]


def test_cli_exit_codes_and_json(versions: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    v1, v2 = versions
    assert main(["release-check", "--package", str(v2), "--base", str(v1)]) == 1
    text = capsys.readouterr().out
    assert "not ready; the changes need a minor bump" in text
    assert main(["release-check", "--package", str(v2), "--base", str(v1), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is False and report["required_bump"] == "minor"
    assert report["errors"][0]["rule"] == "release-history"
    assert report["errors"][0]["path"].endswith("releases.json")
    assert main(["diff", str(v1), "--package", str(v2), "--record"]) == 0
    capsys.readouterr()
    assert main(["release-check", "--package", str(v2), "--base", str(v1)]) == 0
    assert "1.1.0 is ready to release" in capsys.readouterr().out
    assert main(["release-check", "--package", str(v2), "--base", "no-such-ref"]) == 2


def test_default_base_is_where_the_branch_left_main(versions: tuple[Path, Path], tmp_path: Path) -> None:
    v1, v2 = versions
    repo = init_repo(tmp_path / "repo")
    shutil.copytree(v1, repo / "datapackage")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "1.0.0")
    git(repo, "checkout", "-q", "-b", "add-ma")
    shutil.rmtree(repo / "datapackage")
    shutil.copytree(v2, repo / "datapackage")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "add Ma et al. without a history entry")
    assert main(["release-check", "--package", str(repo / "datapackage")]) == 1
    assert main(["diff", "main", "--package", str(repo / "datapackage"), "--record"]) == 0
    assert main(["release-check", "--package", str(repo / "datapackage")]) == 0
