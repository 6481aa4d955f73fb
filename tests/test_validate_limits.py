"""Hostile and huge input: the validator answers with a clear problem, never a traceback, in bounded time and memory.

Big files are generated here at test time (nothing large is committed). Each case asserts the rule, that the
message says what is wrong, and, for the command line, the exit code and that no traceback is printed. No case is
timed beyond the generous subprocess timeout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from livingevidence import paths
from livingevidence.checks import validate_package
from livingevidence.checks.registry import MAX_PROBLEMS_PER_RULE
from livingevidence.checks.structure.limits import (
    MAX_CELL_CHARS,
    MAX_DESCRIPTOR_BYTES,
    MAX_JSON_DEPTH,
    MAX_PACKAGE_BYTES,
    MAX_RESOURCES,
    MAX_TABLE_BYTES,
)

VALID = Path(__file__).resolve().parent / "fixtures" / "valid"
MB = 1024 * 1024


@pytest.fixture
def pkg(tmp_path: Path) -> Path:
    """A writable copy of the valid fixture."""
    target = tmp_path / "pkg"
    shutil.copytree(VALID, target)
    return target


def _validate_cli(package: Path, *extra: str) -> subprocess.CompletedProcess:
    """`build.py validate` in a subprocess with a 2 GB address-space limit: a memory blow-up fails the test."""

    def limit_memory() -> None:  # pragma: no cover - runs in the child
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (2048 * MB, 2048 * MB))

    return subprocess.run(
        [sys.executable, "build.py", "validate", "--package", str(package), *extra],
        cwd=paths.ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=limit_memory,
    )


def _rules(package: Path) -> list[tuple[str, int | None, str]]:
    return [(p.file, p.row, p.rule) for p in validate_package(package).problems]


def _set_line(path: Path, line: int, text: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[line - 1] = text
    path.write_text("".join(lines), encoding="utf-8")


def test_limits_are_documented() -> None:
    contribute = (paths.DOCS_DIR / "contribute.md").read_text(encoding="utf-8")
    for value in (
        f"{MAX_TABLE_BYTES // MB} MB",
        f"{MAX_PACKAGE_BYTES // MB} MB",
        f"{MAX_DESCRIPTOR_BYTES // MB} MB",
        f"{MAX_CELL_CHARS:,}",
        f"{MAX_JSON_DEPTH} levels",
        f"{MAX_RESOURCES} resources",
        f"{MAX_PROBLEMS_PER_RULE} problems",
    ):
        assert value in contribute, f"docs/contribute.md does not state the limit {value!r}"


def test_a_100_mb_csv_is_refused_without_reading_it(pkg: Path) -> None:
    header = (pkg / "adverse_events.csv").read_text(encoding="utf-8").splitlines(keepends=True)[1]
    with (pkg / "adverse_events.csv").open("a", encoding="utf-8") as fh:
        block = header * 10_000
        while fh.tell() < 100 * MB:
            fh.write(block)
    result = _validate_cli(pkg)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "adverse_events.csv: the file is 100" in result.stdout
    assert f"more than the limit of {MAX_TABLE_BYTES // MB}.0 MB (too-large)" in result.stdout


def test_tables_together_over_the_package_limit(pkg: Path) -> None:
    per_file = MAX_TABLE_BYTES - MB
    for name in ("baseline.csv", "effects.csv", "survival.csv", "landmarks.csv"):
        with (pkg / name).open("r+b") as fh:  # sparse: the size is what is checked, nothing is read
            fh.truncate(per_file)
    problems = validate_package(pkg).problems
    assert [(p.file, p.rule) for p in problems] == [("datapackage.json", "too-large")]
    assert "no table was read" in problems[0].message


def test_a_one_megabyte_cell(pkg: Path) -> None:
    lines = (pkg / "extraction_notes.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    lines.insert(2, 'fixture-a-big,fixture-a,Big,"' + "x" * MB + '",Table 1\n')
    (pkg / "extraction_notes.csv").write_text("".join(lines), encoding="utf-8")
    problems = validate_package(pkg).problems
    assert [(p.file, p.row, p.rule) for p in problems] == [("extraction_notes.csv", 3, "too-large")]
    assert f"longer than {MAX_CELL_CHARS} characters" in problems[0].message


def test_a_long_cell_under_the_csv_limit_is_a_max_length_problem(pkg: Path) -> None:
    lines = (pkg / "extraction_notes.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    lines.insert(2, "fixture-a-big,fixture-a,Big," + "x" * 100_000 + ",Table 1\n")
    (pkg / "extraction_notes.csv").write_text("".join(lines), encoding="utf-8")
    assert _rules(pkg) == [("extraction_notes.csv", 3, "max-length")]


def test_a_huge_descriptor(pkg: Path) -> None:
    descriptor = json.loads((pkg / "datapackage.json").read_text(encoding="utf-8"))
    descriptor["description"] = "x" * (MAX_DESCRIPTOR_BYTES + 1)
    (pkg / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    problems = validate_package(pkg).problems
    assert [(p.file, p.rule) for p in problems] == [("datapackage.json", "too-large")]


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 5_000, 200_000])
def test_deeply_nested_descriptor(pkg: Path, depth: int) -> None:
    descriptor = json.loads((pkg / "datapackage.json").read_text(encoding="utf-8"))
    text = json.dumps(descriptor)[:-1] + ', "x": ' + "[" * depth + "]" * depth + "}"
    (pkg / "datapackage.json").write_text(text, encoding="utf-8")
    problems = validate_package(pkg).problems
    assert [(p.file, p.rule) for p in problems] == [("datapackage.json", "too-large")]
    assert "nested" in problems[0].message


def test_too_many_resources(pkg: Path) -> None:
    descriptor = json.loads((pkg / "datapackage.json").read_text(encoding="utf-8"))
    extra = [{"name": f"t{i}", "path": f"t{i}.csv", "schema": {"fields": []}} for i in range(MAX_RESOURCES)]
    descriptor["resources"] += extra
    (pkg / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    assert [(p.file, p.rule) for p in validate_package(pkg).problems] == [("datapackage.json", "too-large")]


def test_nul_bytes(pkg: Path) -> None:
    data = (pkg / "arms.csv").read_bytes()
    (pkg / "arms.csv").write_bytes(data.replace(b"Drug X alone.", b"Drug X\x00alone."))
    assert _rules(pkg) == [("arms.csv", 3, "encoding")]


@pytest.mark.parametrize(
    ("char", "shown"),
    [
        ("\x07", "U+0007"),
        ("\x1b", "U+001B"),
        ("\x7f", "U+007F"),
        ("\x85", "U+0085"),
        ("\u202e", "RIGHT-TO-LEFT OVERRIDE"),
        ("\u202d", "LEFT-TO-RIGHT OVERRIDE"),
    ],
)
def test_control_characters_in_a_cell(pkg: Path, char: str, shown: str) -> None:
    _set_line(pkg / "arms.csv", 3, f"fa-x,fixture-a,X,x,Drug X{char} alone.,Methods\n")
    problems = validate_package(pkg).problems
    assert [(p.file, p.row, p.field, p.rule) for p in problems] == [("arms.csv", 3, "description", "control-character")]
    assert shown in problems[0].message


def test_control_character_in_the_descriptor(pkg: Path) -> None:
    descriptor = json.loads((pkg / "datapackage.json").read_text(encoding="utf-8"))
    descriptor["resources"][1]["title"] = "Inter\x08ventions"
    (pkg / "datapackage.json").write_text(json.dumps(descriptor, indent=2), encoding="utf-8")
    problems = validate_package(pkg).problems
    assert [(p.file, p.rule) for p in problems] == [("datapackage.json", "control-character")]
    assert "resources[1].title" in problems[0].message and problems[0].row is not None


def test_right_to_left_text_emoji_and_isolates_are_valid(pkg: Path) -> None:
    label = "\u2067مرحبا\u2069 שלום \u202bembedded\u202c 🧪👩\u200d⚕️ e\u0301 \ttab"
    _set_line(pkg / "arms.csv", 3, f'fa-x,fixture-a,X,x,"{label}",Methods\n')
    assert validate_package(pkg).problems == []


def test_a_link_to_a_device_is_refused_not_read(pkg: Path) -> None:
    (pkg / "landmarks.csv").unlink()
    (pkg / "landmarks.csv").symlink_to("/dev/zero")
    result = _validate_cli(pkg)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert (
        "landmarks.csv: the file is a link to a file outside the package directory (file-unreadable)" in result.stdout
    )


def test_a_pipe_is_refused_without_blocking(pkg: Path) -> None:
    (pkg / "landmarks.csv").unlink()
    os.mkfifo(pkg / "landmarks.csv")
    assert _rules(pkg) == [("landmarks.csv", None, "file-unreadable")]


def test_a_link_out_of_the_package_is_refused(pkg: Path, tmp_path: Path) -> None:
    outside = tmp_path / "secret.csv"
    shutil.copy(pkg / "landmarks.csv", outside)
    (pkg / "landmarks.csv").unlink()
    (pkg / "landmarks.csv").symlink_to(outside)
    problems = validate_package(pkg).problems
    assert [(p.file, p.rule) for p in problems] == [("landmarks.csv", "file-unreadable")]
    assert "outside the package" in problems[0].message


def test_a_link_inside_the_package_is_fine(pkg: Path) -> None:
    (pkg / "data").mkdir()
    shutil.move(pkg / "landmarks.csv", pkg / "data" / "landmarks.csv")
    (pkg / "landmarks.csv").symlink_to(pkg / "data" / "landmarks.csv")
    assert validate_package(pkg).problems == []


def test_a_zip_bomb_given_as_the_package_is_not_unpacked(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("datapackage.json", b"\0" * (50 * MB))  # 50 MB of zeros, ~50 kB compressed
    result = _validate_cli(bomb)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "bomb.zip" in result.stdout and "(descriptor-json)" in result.stdout


def test_a_zip_declared_as_a_table_is_not_unpacked(pkg: Path) -> None:
    with zipfile.ZipFile(pkg / "landmarks.csv", "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("landmarks.csv", b"a" * (20 * MB))
    problems = validate_package(pkg).problems
    assert problems and all(p.file == "landmarks.csv" and p.rule in ("encoding", "csv-syntax") for p in problems)


def test_problems_are_capped_per_file_and_rule(pkg: Path) -> None:
    with (pkg / "interventions.csv").open("a", encoding="utf-8") as fh:
        for i in range(5_000):
            fh.write(f"drug-{i},Drug {i},not-a-class,,,\n")
    problems = [p for p in validate_package(pkg).problems if p.rule == "enum"]
    assert len(problems) == MAX_PROBLEMS_PER_RULE + 1
    summary = [p for p in problems if p.row is None]
    assert len(summary) == 1
    assert f"{5_000 - MAX_PROBLEMS_PER_RULE} more problems of this rule" in summary[0].message


def test_package_name_that_would_escape_the_downloads_folder(pkg: Path) -> None:
    descriptor = json.loads((pkg / "datapackage.json").read_text(encoding="utf-8"))
    descriptor["name"] = "../../evil"
    (pkg / "datapackage.json").write_text(json.dumps(descriptor, indent=2), encoding="utf-8")
    problems = validate_package(pkg).problems
    assert [(p.file, p.rule) for p in problems] == [("datapackage.json", "descriptor-invalid")]
    assert "package name '../../evil'" in problems[0].message
