"""The build as a whole: failures leave the published site untouched; every command is documented."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

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


# Each stage fails in turn, on the small fixture package (fast): the previous site stays byte for byte, no
# temporary directory is left next to it, and the error names the stage.
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "valid"


def _previous_site(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    out = tmp_path / "out" / "site"
    (out / "studies").mkdir(parents=True)
    (out / "index.html").write_text("previous site", encoding="utf-8")
    (out / "studies" / "index.html").write_text("previous studies", encoding="utf-8")
    return out, _hash_tree(out)


def _fail(monkeypatch, stage: str, package: Path) -> None:
    """Make `stage` of the build fail."""
    from livingevidence import site

    def boom(*args, **kwargs):
        raise RuntimeError(f"{stage} exploded")

    if stage == "validation":
        (package / "arms.csv").write_text("arm_id\nbroken\n", encoding="utf-8")
    elif stage == "loading":
        monkeypatch.setattr(site, "load_package", boom)
    elif stage == "template":
        monkeypatch.setattr(site, "render", boom)
    elif stage == "chart assets":
        monkeypatch.setattr(site, "write_assets", boom)
    elif stage == "engine":
        monkeypatch.setattr(site, "run_engine", lambda config: (_ for _ in ()).throw(SystemExit("strict mode")))
    elif stage == "swap":
        real = Path.rename

        def rename(self: Path, target):  # the finished site cannot be moved into place (disk full, ...)
            if self.name.startswith(".site.new-"):
                raise OSError(28, "No space left on device")
            return real(self, target)

        monkeypatch.setattr(Path, "rename", rename)
        from livingevidence import sitedir

        def exchange(a: Path, b: Path) -> bool:  # the atomic exchange fails the same way
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(sitedir, "exchange_dirs", exchange)


STAGES = {
    "validation": "validation failed",
    "loading": "generating pages failed: RuntimeError: loading exploded",
    "template": "template exploded",
    "chart assets": "generating pages failed: RuntimeError: chart assets exploded",
    "engine": "the site engine (mkdocs) failed",
    "swap": "swapping the new site into",
}


@pytest.mark.parametrize("stage", list(STAGES))
def test_each_stage_failing_keeps_the_previous_site(tmp_path: Path, monkeypatch, stage: str) -> None:
    import shutil

    from livingevidence import site

    package = tmp_path / "pkg"
    shutil.copytree(FIXTURE, package)
    out, before = _previous_site(tmp_path)
    _fail(monkeypatch, stage, package)
    with pytest.raises(site.BuildError) as failure:
        site.build_site(package, out)
    assert STAGES[stage] in str(failure.value)
    assert _hash_tree(out) == before
    assert sorted(p.name for p in out.parent.iterdir()) == ["site"], "a temporary directory was left behind"


def test_a_failed_build_says_what_failed_without_a_traceback(tmp_path: Path) -> None:
    import shutil

    package = tmp_path / "pkg"
    shutil.copytree(FIXTURE, package)
    (package / "arms.csv").write_text("arm_id\nbroken\n", encoding="utf-8")
    out, before = _previous_site(tmp_path)
    result = _run("build", "--package", str(package), "--out", str(out))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "left as it was" in result.stderr and "validation failed" in result.stderr and "arms.csv" in result.stderr
    assert _hash_tree(out) == before


def test_a_successful_build_replaces_the_previous_site(tmp_path: Path) -> None:
    from livingevidence import site

    out, _ = _previous_site(tmp_path)
    site.build_site(FIXTURE, out)
    assert (out / "index.html").read_text(encoding="utf-8") != "previous site"
    assert (out / "studies" / "fixture-a" / "index.html").is_file()
    assert sorted(p.name for p in out.parent.iterdir()) == ["site"]
