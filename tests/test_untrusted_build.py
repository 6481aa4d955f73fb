"""Untrusted pull requests (issue 11), what the build itself guarantees: nothing is written outside its folders,
no link is followed out of the package or docs/, the download zips are safe to open in a spreadsheet, no
Infinity reaches the API, and the site is swapped in whole (an atomic exchange), world-readable, without debris of
killed builds, and an unwritable parent is a message rather than a traceback.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from livingevidence import paths, sitedir
from livingevidence.site import BuildError, DocsWriter, build_site
from tests.untrusted import (
    copy_fixture,
    drop_constraints,
    outside,
    releases_entry,
    rename_id,
    set_cell,
    watch,
    write_releases,
)

ESCAPE = "../../../../tmp/x/config"


def test_a_study_id_that_climbs_out_writes_nothing_outside(tmp_path: Path) -> None:
    """The issue's attack: the schema loses its pattern and maxLength, a study is renamed to a path."""
    pkg = copy_fixture(tmp_path)
    drop_constraints(pkg, {"study_id"})
    rename_id(pkg, "fixture-a", ESCAPE)
    out = tmp_path / "out" / "site"
    with watch() as w, pytest.raises(BuildError) as failure:
        build_site(pkg, out)
    assert "id-syntax" in str(failure.value) and "studies.csv" in str(failure.value)
    assert outside(w.writes, out.parent, paths.BUILD_DIR) == []
    assert not Path("/tmp/x/config.json").exists()


def test_a_release_version_that_is_a_path_overwrites_nothing(tmp_path: Path) -> None:
    about = paths.DOCS_DIR / "about.md"
    before = about.read_bytes()
    pkg = copy_fixture(tmp_path)
    write_releases(pkg, [releases_entry("../../../docs/about", date="2026-01-20")])
    with watch() as w, pytest.raises(BuildError, match=r"releases\.json"):
        build_site(pkg, tmp_path / "out" / "site")
    assert about.read_bytes() == before
    assert str(about) not in w.writes


@pytest.mark.parametrize("rel", ["../escape.md", "/tmp/escape.md", "a/../../escape.md", "a//b.md", "./a.md", "a\\b"])
def test_the_docs_writer_refuses_paths_that_leave_its_folder(tmp_path: Path, rel: str) -> None:
    root = tmp_path / "docs"
    with pytest.raises(BuildError, match="refusing to write"):
        DocsWriter(root).write_text(rel, "x")
    assert not (tmp_path / "escape.md").exists()


def test_the_docs_writer_never_writes_through_a_link_out(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    (root / "studies").mkdir(parents=True)
    target = tmp_path / "victim"
    target.mkdir()
    (root / "api").symlink_to(target)  # a folder link leading out
    with pytest.raises(BuildError, match="outside"):
        DocsWriter(root).write_text("api/x.json", "{}")
    assert list(target.iterdir()) == []


def test_a_hand_written_page_linking_out_of_docs_is_not_published(tmp_path: Path) -> None:
    from livingevidence.project import Project

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("# Home\n", encoding="utf-8")
    secret = tmp_path / "secret.txt"
    secret.write_text("do not publish", encoding="utf-8")
    (docs / "notes.txt").symlink_to(secret)
    shutil.copy(paths.MKDOCS_YML, tmp_path / "mkdocs.yml")
    with pytest.raises(BuildError, match=r"notes\.txt"):
        build_site(copy_fixture(tmp_path), tmp_path / "out" / "site", project=Project.at(tmp_path))


def _zip_texts(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n).decode("utf-8") for n in zf.namelist()}


def test_downloads_neutralise_formulas_and_the_package_keeps_the_data(tmp_path: Path) -> None:
    import csv

    pkg = copy_fixture(tmp_path)
    payloads = ['=HYPERLINK("https://evil.example","x")', "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2.5"]
    for line, payload in zip((2, 3), payloads[:2], strict=True):
        set_cell(pkg, "extraction_notes.csv", line, "note", payload)
    set_cell(pkg, "studies.csv", 2, "note", payloads[2])
    set_cell(pkg, "studies.csv", 3, "note", payloads[3])
    from livingevidence.checks import validate_package
    from livingevidence.site import generate

    docs = tmp_path / "docs"
    generate(pkg, docs, validate_package(pkg))
    whole = _zip_texts(next((docs / "downloads").glob("*.zip")).read_bytes())
    per_study = _zip_texts((docs / "downloads" / "studies" / "fixture-a.zip").read_bytes())
    for texts in (whole, per_study):
        cells = [
            c for name, t in texts.items() if name.endswith(".csv") for row in csv.reader(io.StringIO(t)) for c in row
        ]
        assert not [c for c in cells if c.startswith(("=", "+", "@")) or (c.startswith("-") and c != "-2.5")], cells
    assert "'=HYPERLINK(" in whole["extraction_notes.csv"] and "'@SUM(1+1)" in whole["studies.csv"]
    assert ",-2.5\n" in whole["studies.csv"]  # a number is no formula
    assert whole["datapackage.json"] == (pkg / "datapackage.json").read_text(encoding="utf-8")
    # The data package itself keeps the data as entered.
    assert (docs / "downloads" / "datapackage.json").read_bytes() == (pkg / "datapackage.json").read_bytes()
    assert '=HYPERLINK(""https://evil.example""' in (pkg / "extraction_notes.csv").read_text(encoding="utf-8")


def test_unchanged_tables_keep_their_bytes_in_the_zip(tmp_path: Path) -> None:
    from livingevidence.checks import validate_package
    from livingevidence.site import generate

    pkg = copy_fixture(tmp_path)
    docs = tmp_path / "docs"
    generate(pkg, docs, validate_package(pkg))
    whole = _zip_texts(next((docs / "downloads").glob("*.zip")).read_bytes())
    for name, text in whole.items():
        assert text == (pkg / name).read_text(encoding="utf-8"), name


def test_no_infinity_reaches_the_api(tmp_path: Path) -> None:
    pkg = copy_fixture(tmp_path)
    set_cell(pkg, "survival.csv", 2, "median_months", "1e309")
    with pytest.raises(BuildError, match=r"validation failed(.|\n)*survival\.csv:2: median_months"):
        build_site(pkg, tmp_path / "out" / "site")
    assert not (tmp_path / "out" / "site").exists()


# --- the site swap ----------------------------------------------------------------------------------------------


def test_the_site_is_exchanged_atomically(tmp_path: Path, monkeypatch) -> None:
    """With the exchange, the old site is never renamed away: a rename of site/ itself would fail here."""
    out = tmp_path / "out" / "site"
    build_site(copy_fixture(tmp_path), out)
    real = Path.rename

    def rename(self: Path, target):
        if Path(self) == out:
            raise AssertionError("site/ was renamed away: for a moment there was no site")
        return real(self, target)

    monkeypatch.setattr(Path, "rename", rename)
    if sitedir._RENAMEAT2 is None:
        pytest.skip("no renameat2 here: the fallback swap renames")
    build_site(copy_fixture(tmp_path, "pkg2"), out)
    assert (out / "index.html").is_file()
    assert sorted(p.name for p in out.parent.iterdir()) == ["site"]


def test_a_swap_interrupted_between_the_fallback_renames_is_repaired(tmp_path: Path) -> None:
    out = tmp_path / "out" / "site"
    (out.parent / ".site.old").mkdir(parents=True)
    (out.parent / ".site.old" / "index.html").write_text("previous", encoding="utf-8")
    assert sitedir.clean_stale(tmp_path / "no-build-dir", out) == []
    assert (out / "index.html").read_text(encoding="utf-8") == "previous"


def test_stale_work_folders_of_killed_builds_are_cleaned(tmp_path: Path) -> None:
    out = tmp_path / "out" / "site"
    out.parent.mkdir(parents=True)
    killed = paths.BUILD_DIR / "work-killedtest"
    killed.mkdir(parents=True, exist_ok=True)
    (killed / sitedir.LOCK_NAME).touch()  # its lock is not held: the build is gone
    half = out.parent / ".site.new-killedtest"
    half.mkdir()
    starting = paths.BUILD_DIR / "work-startingtest"  # no lock yet, just made: a build starting now
    starting.mkdir(exist_ok=True)
    old = paths.BUILD_DIR / "work-oldtest"  # no lock, long ago: a build killed before it took its lock
    old.mkdir(exist_ok=True)
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    try:
        build_site(copy_fixture(tmp_path), out)
        assert not killed.exists() and not half.exists() and not old.exists()
        assert starting.exists()
        assert sorted(p.name for p in out.parent.iterdir()) == ["site"]
    finally:
        for d in (killed, starting, old):
            shutil.rmtree(d, ignore_errors=True)


def test_a_running_build_keeps_its_work_folder(tmp_path: Path) -> None:
    work = paths.BUILD_DIR / "work-runningtest"
    work.mkdir(parents=True, exist_ok=True)
    try:
        with sitedir.work_lock(work):
            sitedir.clean_stale(paths.BUILD_DIR, tmp_path / "site")
            assert work.exists()
    finally:
        (work / sitedir.LOCK_NAME).unlink(missing_ok=True)
        work.rmdir()


def test_the_site_is_world_readable_whatever_the_umask(tmp_path: Path) -> None:
    out = tmp_path / "out" / "site"
    previous = os.umask(0o077)
    try:
        build_site(copy_fixture(tmp_path), out)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(out.stat().st_mode) == 0o755
    modes = {stat.S_IMODE(p.stat().st_mode) for p in out.rglob("*")}
    dirs = {stat.S_IMODE(p.stat().st_mode) for p in out.rglob("*") if p.is_dir()}
    assert dirs == {0o755} and modes <= {0o755, 0o644}


def test_an_unwritable_parent_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "build.py", "build", "--package", str(copy_fixture(tmp_path)), "--out", str(blocker / "site")],
        capture_output=True,
        text=True,
        cwd=paths.ROOT,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "cannot write the build" in result.stderr, result.stderr


def test_a_read_only_parent_is_a_message(tmp_path: Path, monkeypatch) -> None:
    """As root the tests cannot make a folder read-only; the file system's refusal is simulated."""
    out = tmp_path / "ro" / "site"
    out.parent.mkdir()
    real = Path.mkdir

    def mkdir(self: Path, *args, **kwargs):
        if Path(self).parent == out.parent and self.name.startswith(".site.new-"):
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    with pytest.raises(BuildError, match=r"cannot write the build .*Permission denied"):
        build_site(copy_fixture(tmp_path), out)
    assert list(out.parent.iterdir()) == []


def test_api_files_are_strict_json(tmp_path: Path) -> None:
    from livingevidence.checks import validate_package
    from livingevidence.site import generate

    pkg = copy_fixture(tmp_path)
    docs = tmp_path / "docs"
    generate(pkg, docs, validate_package(pkg))

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} in an API file")

    for path in (docs / "api").rglob("*.json"):
        json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)
