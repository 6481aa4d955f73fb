"""Untrusted pull requests (issue 11), what validation refuses: each attack found by probing the validator as an
attacker would is a test here, on a copy of the fixture package.

Files outside the build (ids and release versions as paths), remote profiles (no socket is ever opened), symlinks
and size limits, non-finite numbers, dates that are not days, duplicate JSON keys, blank required text, a release
history that breaks its own schema, and spreadsheet formulas (a warning naming the cell).
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from pathlib import Path

import pytest

from livingevidence.checks import validate_package
from livingevidence.cli import main
from tests.untrusted import (
    copy_fixture,
    drop_constraints,
    edit_descriptor,
    releases_entry,
    rename_id,
    set_cell,
    watch,
    write_releases,
)

ESCAPE = "../../../../tmp/x/config"


def _keys(pkg: Path, rule: str | None = None) -> list[tuple]:
    keys = validate_package(pkg).keys()
    return [k for k in keys if rule is None or k[3] == rule]


# --- ids: the generator's slug rule, whatever the schema says ----------------------------------------------------


@pytest.mark.parametrize(
    ("old", "field", "file", "line"),
    [
        ("fixture-a", "study_id", "studies.csv", 2),
        ("x-y", "regimen_id", "regimens.csv", 3),
        ("xy-vs-x", "comparison_id", "comparisons.csv", 3),
    ],
)
def test_an_id_that_climbs_out_of_the_site_is_refused_whatever_the_schema(
    tmp_path: Path, old: str, field: str, file: str, line: int
) -> None:
    pkg = copy_fixture(tmp_path)
    id_fields = {"study_id", "regimen_id", "comparison_id", "intervention_regimen_id", "control_regimen_id"}
    drop_constraints(pkg, id_fields | {"parent_comparison_id"})
    assert rename_id(pkg, old, ESCAPE) > 0
    report = validate_package(pkg)
    assert not report.valid
    assert (file, line, field, "id-syntax") in report.keys("error")
    found = next(p for p in report.problems if p.key() == (file, line, field, "id-syntax"))
    assert ESCAPE in found.message and found.hint


def test_an_id_longer_than_80_characters_is_refused(tmp_path: Path) -> None:
    pkg = copy_fixture(tmp_path)
    drop_constraints(pkg, {"study_id"})
    rename_id(pkg, "fixture-b", "b" * 81)
    assert ("studies.csv", 3, "study_id", "id-syntax") in _keys(pkg)


# --- the release history: its own schema ---------------------------------------------------------------------------


def test_a_release_version_that_is_a_path_is_refused(tmp_path: Path) -> None:
    pkg = copy_fixture(tmp_path)
    write_releases(pkg, [releases_entry("../../../docs/about")])
    report = validate_package(pkg)
    assert ("releases.json", None, "releases[0].version", "releases-invalid") in report.keys("error")
    assert not report.valid


BAD_HISTORIES = {
    "bad JSON": ('{"releases": [', "releases-json", None),
    "a numeric date": (json.dumps({"releases": [releases_entry(date=20260101)]}), "releases-invalid", "date"),
    "a date that is no day": (
        json.dumps({"releases": [releases_entry(date="2025-02-30")]}),
        "releases-invalid",
        "date",
    ),
    "a control character": (
        json.dumps({"releases": [{**releases_entry(), "summary": "bell \u0007 here"}]}),
        "releases-json",
        "summary",
    ),
    "deep nesting": ('{"releases": ' + "[" * 5000 + "]" * 5000 + "}", "releases-json", None),
    "a duplicate key": ('{"releases": [], "releases": [{"version": "9.9.9"}]}', "duplicate-key", None),
    "NaN": ('{"releases": [{"version": "1.0.0", "n": NaN}]}', "releases-json", None),
    "a second entry for one version": (
        json.dumps({"releases": [releases_entry(), releases_entry()]}),
        "releases-invalid",
        "version",
    ),
    "a study id that is a path": (
        json.dumps({"releases": [releases_entry(studies_added=[{"study_id": "../x", "label": "X", "rows": {}}])]}),
        "releases-invalid",
        "study_id",
    ),
}


@pytest.mark.parametrize("case", list(BAD_HISTORIES))
def test_a_broken_release_history_is_a_located_error(tmp_path: Path, case: str) -> None:
    text, rule, field = BAD_HISTORIES[case]
    pkg = copy_fixture(tmp_path)
    write_releases(pkg, text)
    report = validate_package(pkg)
    assert not report.valid
    found = [p for p in report.errors if p.file == "releases.json"]
    assert found and all(p.rule == rule for p in found), found
    if field:
        assert all(p.field and p.field.startswith("releases[") and p.field.endswith(field) for p in found), found
    assert all(p.hint for p in found)


def test_release_check_reports_a_broken_history_without_a_traceback(tmp_path: Path, capsys) -> None:
    base = copy_fixture(tmp_path, "base")
    head = copy_fixture(tmp_path, "head")
    write_releases(head, [releases_entry("../../../docs/about")])
    assert main(["release-check", "--package", str(head), "--base", str(base), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert any(e["file"] == "releases.json" and e["rule"] == "releases-invalid" for e in report["errors"])


# --- no network: remote profiles and references are refused before Frictionless sees them -----------------------


class _Listener:
    """A local TCP listener that counts the connections it receives (it must receive none)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            conn.close()  # never answer: a fetching validator would stall, or fail

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


@pytest.fixture
def listener():
    served = _Listener()
    yield served
    served.close()


REMOTE_CASES = {
    "package profile": lambda d, url: d.__setitem__("profile", url),
    "resource profile": lambda d, url: d["resources"][0].__setitem__("profile", url),
    "package $schema": lambda d, url: d.__setitem__("$schema", url),
    "a $ref in a schema": lambda d, url: d["resources"][1]["schema"].__setitem__("$ref", url),
    "a schema given as a URL": lambda d, url: d["resources"][2].__setitem__("schema", url),
    "a dialect given as a URL": lambda d, url: d["resources"][2].__setitem__("dialect", url),
    "a profile that is a local file": lambda d, url: d.__setitem__("profile", "/etc/hostname"),
}


@pytest.mark.parametrize("case", list(REMOTE_CASES))
def test_validate_refuses_a_remote_reference_without_opening_a_socket(tmp_path: Path, listener, case: str) -> None:
    pkg = copy_fixture(tmp_path)
    url = f"http://127.0.0.1:{listener.port}/profile.json"
    edit_descriptor(pkg, lambda d: REMOTE_CASES[case](d, url))
    started = time.perf_counter()
    with watch(block_sockets=True) as w:
        report = validate_package(pkg)
    assert time.perf_counter() - started < 5, "validation waited for the network"
    assert w.sockets == [], w.sockets
    time.sleep(0.3)  # give a late connection the chance to be counted
    assert listener.connections == 0
    assert not report.valid
    errors = [p for p in report.errors if p.rule == "external-reference"]
    assert errors and all(p.file == "datapackage.json" and p.row is not None and p.hint for p in errors), report.errors


def test_the_official_profiles_by_name_are_accepted(tmp_path: Path) -> None:
    pkg = copy_fixture(tmp_path)
    edit_descriptor(pkg, lambda d: d.__setitem__("profile", "data-package"))
    edit_descriptor(pkg, lambda d: [r.__setitem__("profile", "data-resource") for r in d["resources"][:2]])
    assert validate_package(pkg).valid


def test_validate_and_build_open_no_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole validate + build with socket creation made impossible: it still succeeds."""
    from livingevidence.site import build_site

    def no_socket(*args, **kwargs):
        raise AssertionError("a socket was opened during validate/build")

    monkeypatch.setattr(socket, "socket", no_socket)
    monkeypatch.setattr(socket, "create_connection", no_socket)
    monkeypatch.setattr(socket, "getaddrinfo", no_socket)
    report, _ = build_site(copy_fixture(tmp_path), tmp_path / "out" / "site")
    assert report.valid and (tmp_path / "out" / "site" / "index.html").is_file()


# --- size limits and symlinks, the input digest included -----------------------------------------------------------


def test_a_link_to_a_huge_file_is_never_read(tmp_path: Path) -> None:
    from livingevidence.site import input_digest

    huge = tmp_path / "huge.bin"
    with huge.open("wb") as fh:
        fh.truncate(3 * 1024**3)  # sparse: 3 GB that take no disk
    pkg = copy_fixture(tmp_path)
    (pkg / "notes.bin").symlink_to(huge)
    (pkg / "big-inside.bin").write_bytes(b"")
    os.truncate(pkg / "big-inside.bin", 64 * 1024**2)  # a regular file over the limit, inside the package
    with watch(block_sockets=True) as w:
        input_digest(pkg)
        report = validate_package(pkg)
    assert str(huge) not in w.reads and str(pkg / "notes.bin") not in w.reads
    assert str(pkg / "big-inside.bin") not in w.reads
    assert report.valid  # files the package does not declare are not its tables


def test_a_table_that_links_out_of_the_package_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "secret.csv"
    pkg = copy_fixture(tmp_path)
    outside.write_bytes((pkg / "certainty.csv").read_bytes())
    (pkg / "certainty.csv").unlink()
    (pkg / "certainty.csv").symlink_to(outside)
    assert ("certainty.csv", None, None, "file-unreadable") in _keys(pkg)


# --- numbers, dates, JSON keys and blank text -------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["1e309", "-1E400", "inf", "nan"])
def test_a_number_that_is_not_finite_is_refused(tmp_path: Path, cell: str) -> None:
    pkg = copy_fixture(tmp_path)
    set_cell(pkg, "survival.csv", 2, "median_months", cell)
    assert ("survival.csv", 2, "median_months", "type") in _keys(pkg)


def test_a_date_checked_only_by_a_pattern_must_be_a_day(tmp_path: Path) -> None:
    pkg = copy_fixture(tmp_path)
    set_cell(pkg, "studies.csv", 2, "follow_up_end", "2025-02-30")
    set_cell(pkg, "studies.csv", 3, "follow_up_end", "2021-04-31")
    keys = _keys(pkg)
    assert ("studies.csv", 2, "follow_up_end", "invalid-date") in keys
    assert ("studies.csv", 3, "follow_up_end", "invalid-date") in keys


def test_a_date_field_without_its_pattern_is_still_a_date(tmp_path: Path) -> None:
    pkg = copy_fixture(tmp_path)
    drop_constraints(pkg, {"follow_up_end"}, ("pattern",))
    set_cell(pkg, "studies.csv", 2, "follow_up_end", "soon")
    assert ("studies.csv", 2, "follow_up_end", "invalid-date") in _keys(pkg)


def test_a_duplicate_key_in_the_descriptor_is_a_located_error(tmp_path: Path) -> None:
    pkg = copy_fixture(tmp_path)
    path = pkg / "datapackage.json"
    text = path.read_text(encoding="utf-8")
    text = text.replace('"version": "', '"version": "9.9.9",\n  "version": "', 1)
    path.write_text(text, encoding="utf-8")
    line = text[: text.index('"version": "9.9.9"')].count("\n") + 2
    assert _keys(pkg) == [("datapackage.json", line, None, "duplicate-key")]


def test_nan_in_the_descriptor_is_refused(tmp_path: Path) -> None:
    pkg = copy_fixture(tmp_path)
    path = pkg / "datapackage.json"
    path.write_text(path.read_text(encoding="utf-8").replace('"version"', '"x": NaN,\n  "version"', 1), "utf-8")
    assert [k[3] for k in _keys(pkg)] == ["descriptor-json"]


def test_required_text_of_spaces_is_empty(tmp_path: Path) -> None:
    pkg = copy_fixture(tmp_path)
    set_cell(pkg, "studies.csv", 2, "label", "   ")
    assert ("studies.csv", 2, "label", "required") in _keys(pkg)


# --- spreadsheet formulas: a warning naming the cell -------------------------------------------------------------

FORMULAS = ['=HYPERLINK("https://evil.example","x")', "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)"]


def test_formula_cells_are_warnings_naming_the_cell(tmp_path: Path) -> None:
    pkg = copy_fixture(tmp_path)
    cells = [("extraction_notes.csv", 2), ("extraction_notes.csv", 3), ("studies.csv", 2), ("studies.csv", 3)]
    for (file, line), payload in zip(cells, FORMULAS, strict=True):
        set_cell(pkg, file, line, "note", payload)
    set_cell(pkg, "certainty.csv", 2, "reason", "\tindented")
    report = validate_package(pkg)
    assert report.valid, report.errors
    warned = {k[:3] for k in report.keys("warning") if k[3] == "spreadsheet-formula"}
    assert warned == {(file, line, "note") for file, line in cells} | {("certainty.csv", 2, "reason")}


def test_numbers_in_text_cells_are_not_formulas(tmp_path: Path) -> None:
    pkg = copy_fixture(tmp_path)
    set_cell(pkg, "extraction_notes.csv", 2, "note", "-2.5")
    assert not [k for k in _keys(pkg) if k[3] == "spreadsheet-formula"]


def test_a_descriptor_that_links_out_of_its_folder_is_refused(tmp_path: Path) -> None:
    pkg = copy_fixture(tmp_path)
    real = tmp_path / "elsewhere.json"
    (pkg / "datapackage.json").rename(real)
    (pkg / "datapackage.json").symlink_to(real)
    report = validate_package(pkg)
    assert report.keys() == [("datapackage.json", None, None, "descriptor-json")]
    assert "outside the package" in report.problems[0].message
