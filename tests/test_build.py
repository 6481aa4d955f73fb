"""The build as a whole: failures leave the published site untouched; every command is documented."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

from livingevidence import paths
from livingevidence.cli import build_parser
from tests.conftest import copy_package


def _hash_tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "build.py", *args], cwd=paths.ROOT, capture_output=True, text=True, timeout=600
    )


def test_invalid_data_builds_nothing_and_keeps_the_site(tmp_path: Path) -> None:
    out = tmp_path / "site"
    out.mkdir()
    (out / "index.html").write_text("previous site", encoding="utf-8")
    before = _hash_tree(out)
    pkg = copy_package(tmp_path)
    response = pkg / "response.csv"
    lines = response.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[1] = lines[1].replace(",64,", ",640,", 1) if ",64," in lines[1] else lines[1].replace(",", ",x", 1)
    response.write_text("".join(lines), encoding="utf-8")
    result = _run("build", "--package", str(pkg), "--out", str(out))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "left as it was" in result.stderr
    assert _hash_tree(out) == before


def test_template_error_keeps_the_site(tmp_path: Path, monkeypatch) -> None:
    from livingevidence import site

    out = tmp_path / "site"
    out.mkdir()
    (out / "index.html").write_text("previous site", encoding="utf-8")
    before = _hash_tree(out)

    def broken(*args, **kwargs):
        raise RuntimeError("template exploded")

    monkeypatch.setattr(site, "render", broken)
    try:
        site.build_site(paths.DATAPACKAGE_DIR, out)
    except site.BuildError as exc:
        assert "template exploded" in str(exc)
    else:
        raise AssertionError("build should have failed")
    assert _hash_tree(out) == before


def test_engine_error_keeps_the_site(tmp_path: Path, monkeypatch) -> None:
    from livingevidence import site

    out = tmp_path / "site"
    out.mkdir()
    (out / "index.html").write_text("previous site", encoding="utf-8")
    before = _hash_tree(out)

    def broken(config_file):
        raise SystemExit("Aborted with 1 warnings in strict mode!")

    monkeypatch.setattr(site, "run_engine", broken)
    try:
        site.build_site(paths.DATAPACKAGE_DIR, out)
    except site.BuildError as exc:
        assert "site engine" in str(exc)
    else:
        raise AssertionError("build should have failed")
    assert _hash_tree(out) == before


def test_every_command_is_documented() -> None:
    contribute = (paths.DOCS_DIR / "contribute.md").read_text(encoding="utf-8")
    readme = (paths.ROOT / "README.md").read_text(encoding="utf-8")
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name, sub in commands.items():
        assert f"python build.py {name}" in contribute, f"build.py {name} is not in docs/contribute.md"
        for action in sub._actions:
            for opt in action.option_strings:
                if opt.startswith("--") and opt != "--help":
                    assert opt in contribute, f"{name} {opt} is not documented in docs/contribute.md"
    makefile = (paths.ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("site", "test", "validate", "serve", "lint", "help"):
        assert f"\n{target}:" in makefile
        assert f"make {target}" in contribute or f"make {target}" in readme


def test_usage_errors_exit_2() -> None:
    assert _run().returncode == 2
    assert _run("nonsense").returncode == 2
    assert _run("validate", "--format", "xml").returncode == 2
