"""Untrusted pull requests (issue 11), deploy: a corrupt or unexpected gh-pages branch is a clear error and is
never silently replaced; `--push` fetches first and never overwrites a remote that moved.

The fixture package (tiny) is deployed into throwaway repositories; gh-pages states are made with git plumbing.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from livingevidence.cli import main
from livingevidence.release import deploy as deploy_module
from livingevidence.release.deploy import DeployError, deploy
from tests.release_helpers import git, init_repo
from tests.untrusted import copy_fixture


def _branch_with(repo: Path, files: dict[str, bytes], branch: str = "gh-pages") -> str:
    """Make `branch` one commit holding exactly `files`; return its id."""
    index = repo / ".git" / "tmp-index"
    env = {**os.environ, "GIT_INDEX_FILE": str(index)}

    def run(*args: str, data: bytes | None = None) -> str:
        ident = ["-c", "user.name=Test", "-c", "user.email=test@example.invalid"]
        out = subprocess.run(["git", "-C", str(repo), *ident, *args], input=data, capture_output=True, env=env)
        assert out.returncode == 0, out.stderr
        return out.stdout.decode().strip()

    for path, data in files.items():
        blob = run("hash-object", "-w", "--stdin", data=data)
        run("update-index", "--add", "--cacheinfo", f"100644,{blob},{path}")
    tree = run("write-tree")
    commit = run("commit-tree", tree, "-m", "hand-made gh-pages")
    run("update-ref", f"refs/heads/{branch}", commit)
    index.unlink()
    return commit


def _head(repo: Path, ref: str = "gh-pages") -> str:
    return git(repo, "rev-parse", ref).strip()


SITE = "https://example.org/summary/"
VERSIONS_OK = b'[{"version": "0.9.0", "title": "0.9.0", "aliases": ["latest"]}]'


@pytest.mark.parametrize(
    "versions",
    [
        b"{not json",
        b'[{"version": "0.9.0"}]',
        b'{"version": "0.9.0"}',
        b'[{"version": "../x", "title": "", "aliases": []}]',
        VERSIONS_OK.replace(b'"title"', b'"version": "0.9.1", "title"'),
    ],
    ids=["bad JSON", "no title", "not a list", "not a version", "duplicate key"],
)
def test_a_corrupt_versions_json_is_a_clear_error(tmp_path: Path, versions: bytes, capsys) -> None:
    repo = init_repo(tmp_path / "repo")
    before = _branch_with(repo, {"versions.json": versions, "0.9.0/index.html": b"old", "latest/index.html": b"old"})
    with pytest.raises(DeployError, match=r"versions\.json on gh-pages is corrupt"):
        deploy(copy_fixture(tmp_path), repo=repo, site_url=SITE)
    assert _head(repo) == before
    assert main(["deploy", "--package", str(tmp_path / "pkg"), "--repo", str(repo), "--site-url", SITE]) == 1
    err = capsys.readouterr().err
    assert "deploy refused" in err and "Traceback" not in err


def test_a_folder_that_versions_json_does_not_list_is_never_replaced(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    before = _branch_with(
        repo,
        {"versions.json": VERSIONS_OK, "0.9.0/index.html": b"old", "latest/index.html": b"old",
         "1.0.0/index.html": b"someone's hand-made page"},
    )  # fmt: skip
    with pytest.raises(DeployError, match=r"folders that versions\.json does not list \(1\.0\.0\)"):
        deploy(copy_fixture(tmp_path), repo=repo, site_url=SITE)
    assert _head(repo) == before
    assert git(repo, "show", "gh-pages:1.0.0/index.html") == "someone's hand-made page"


def _remote_and_clones(tmp_path: Path) -> tuple[Path, Path, Path]:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    a = init_repo(tmp_path / "a")
    git(a, "remote", "add", "origin", str(remote))
    b = tmp_path / "b"
    git(tmp_path, "clone", "-q", str(remote), str(b))  # before anything was published
    return remote, a, b


def test_push_fetches_first_and_sees_what_is_published(tmp_path: Path) -> None:
    remote, a, b = _remote_and_clones(tmp_path)
    pkg = copy_fixture(tmp_path)
    assert deploy(pkg, repo=a, remote="origin", push=True, site_url=SITE).status == "published"
    published = _head(remote)
    # b's view of origin is stale (it has never fetched): the deploy fetches and finds the version published.
    result = deploy(pkg, repo=b, remote="origin", push=True, site_url=SITE)
    assert result.status == "unchanged" and "nothing to do" in result.message
    assert _head(remote) == published


def test_push_never_overwrites_a_remote_that_moved(tmp_path: Path, monkeypatch) -> None:
    remote, a, b = _remote_and_clones(tmp_path)
    pkg = copy_fixture(tmp_path)
    deploy(pkg, repo=a, remote="origin", push=True, site_url=SITE)
    published = _head(remote)
    # The remote moves between b's fetch and its push: simulated by a fetch that brings nothing.
    monkeypatch.setattr(deploy_module, "fetch_remote_branch", lambda repo, remote, branch: None)
    with pytest.raises(DeployError, match="moved since it was fetched"):
        deploy(pkg, repo=b, remote="origin", push=True, site_url=SITE)
    assert _head(remote) == published
