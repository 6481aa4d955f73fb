"""`python build.py validate`: exit codes 0/1/2, text and JSON output, and never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from livingevidence.cli import main

ROOT = Path(__file__).resolve().parent.parent
BROKEN = ROOT / "tests" / "fixtures" / "broken"
VALID = ROOT / "tests" / "fixtures" / "valid"


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "build.py"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_real_package_exits_0() -> None:
    result = _run("validate")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1].startswith("0 errors, ")
    assert result.stdout.splitlines()[-1].endswith("datapackage is valid")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("case", ["wrong-type", "binary-garbage", "invalid-descriptor-json", "no-descriptor"])
def test_broken_package_exits_1_without_traceback(case: str) -> None:
    result = _run("validate", "--package", str(BROKEN / case))
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert "is invalid" in result.stdout.splitlines()[-1]


def test_json_format_parses_and_matches_text() -> None:
    case = str(BROKEN / "orphan-foreign-key")
    text = _run("validate", "--package", case)
    data = _run("validate", "--package", case, "--format", "json")
    assert text.returncode == data.returncode == 1
    parsed = json.loads(data.stdout)
    lines = [line for line in text.stdout.splitlines() if not line.endswith("):")]
    assert [p["text"] for p in parsed["errors"] + parsed["warnings"]] == lines[:-1]
    assert parsed["summary"] == lines[-1]
    assert parsed["valid"] is False


def test_bad_usage_exits_2() -> None:
    result = _run("validate", "--format", "xml")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr and "Traceback" not in result.stderr
    assert _run().returncode == 2


@pytest.mark.parametrize("case", sorted(p.name for p in BROKEN.iterdir() if p.is_dir()))
def test_every_broken_case_in_process(case: str, capsys: pytest.CaptureFixture[str]) -> None:
    for fmt in ("text", "json"):
        code = main(["validate", "--package", str(BROKEN / case), "--format", fmt])
        out, err = capsys.readouterr()
        assert code in (0, 1)
        assert "Traceback" not in out + err
        if fmt == "json":
            assert json.loads(out)["valid"] is (code == 0)


def test_missing_and_odd_paths(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(bytes(range(256)))
    descriptor_dir = tmp_path / "pkg"
    (descriptor_dir / "datapackage.json").mkdir(parents=True)  # a directory where the descriptor should be
    latin1 = tmp_path / "latin1.json"
    latin1.write_bytes(b'{"name": "caf\xe9"}')
    for path, rule in [
        (tmp_path / "does-not-exist", "package-missing"),
        (tmp_path, "descriptor-missing"),
        (garbage, "descriptor-json"),
        (descriptor_dir, "descriptor-missing"),
        (latin1, "descriptor-json"),
        (VALID / "arms.csv", "descriptor-json"),
    ]:
        assert main(["validate", "--package", str(path), "--format", "json"]) == 1
        out, err = capsys.readouterr()
        data = json.loads(out)
        assert [p["rule"] for p in data["errors"]] == [rule], (path, data)
        assert "Traceback" not in err


def test_missing_path_as_subprocess(tmp_path: Path) -> None:
    result = _run("validate", "--package", str(tmp_path / "nope"))
    assert result.returncode == 1
    assert "(package-missing)" in result.stdout and "Traceback" not in result.stderr
