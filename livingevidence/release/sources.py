"""Where a data package comes from: a directory (or its datapackage.json), or a git ref of this repository.

`open_package(spec)` yields a directory holding the package: the directory itself for a path, or a
temporary directory filled by ``git archive REF -- datapackage`` for a ref. A ref whose tree has no data
package (e.g. a commit before the first release) yields ``None``: "no previous release".
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from livingevidence import paths


class SourceError(Exception):
    """A package path or git ref that cannot be read (bad usage: exit code 2)."""


@dataclass(frozen=True)
class Source:
    """A resolved package: where it lives now and how the user named it."""

    label: str  # what the user passed: a path or a ref
    directory: Path | None  # None: the ref has no data package (no previous release)
    ref: str | None = None  # the git ref, when it came from git


def git(repo: Path, *args: str, check: bool = True, input: bytes | None = None) -> subprocess.CompletedProcess:
    """Run git in `repo`; bytes in and out."""
    result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, input=input, check=False)
    if check and result.returncode != 0:
        raise SourceError(f"git {' '.join(args)} failed: {result.stderr.decode(errors='replace').strip()}")
    return result


def repo_root(start: Path = paths.ROOT) -> Path | None:
    """The top of the git work tree containing `start`, or None outside a repository."""
    result = git(start, "rev-parse", "--show-toplevel", check=False)
    return Path(result.stdout.decode().strip()) if result.returncode == 0 else None


def is_ref(repo: Path, ref: str) -> bool:
    """True when `ref` names a commit in `repo`."""
    return git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False).returncode == 0


def default_base(repo: Path) -> str:
    """The ref a change is compared with: the merge base of HEAD with origin/main (or main), else HEAD.

    On a feature branch this is where the branch left main, so the check sees exactly the branch's changes;
    on main itself it is HEAD, so the check sees the uncommitted changes in the working tree.
    """
    for candidate in ("origin/main", "main"):
        if is_ref(repo, candidate):
            result = git(repo, "merge-base", "HEAD", candidate, check=False)
            if result.returncode == 0 and result.stdout.strip():
                return result.stdout.decode().strip()
    return "HEAD"


def _package_relpath(repo: Path, package_dir: Path) -> str:
    try:
        return package_dir.resolve().relative_to(repo.resolve()).as_posix()
    except ValueError:
        return "datapackage"


@contextmanager
def open_package(spec: str | Path, *, repo: Path | None = None, package_dir: Path | None = None) -> Iterator[Source]:
    """Yield the package named by `spec`: an existing path, else a git ref of `repo`.

    `package_dir` says where the package lives inside the repository (default: datapackage/), so that a
    ref is read from the same folder.
    """
    text = str(spec)
    candidate = Path(text)
    if candidate.exists():
        directory = paths.descriptor_in(candidate).parent
        if not (directory / "datapackage.json").is_file():
            raise SourceError(f"{text}: no datapackage.json there")
        yield Source(text, directory)
        return
    repo = repo or repo_root()
    if repo is None:
        raise SourceError(f"{text} is neither a package path nor a git ref (not inside a git repository)")
    if not is_ref(repo, text):
        raise SourceError(f"{text} is neither a package path nor a git ref of {repo}")
    rel = _package_relpath(repo, package_dir or paths.DATAPACKAGE_DIR)
    listed = git(repo, "ls-tree", "--name-only", f"{text}:{rel}", check=False)
    if listed.returncode != 0 or b"datapackage.json" not in listed.stdout.split():
        yield Source(text, None, ref=text)
        return
    archive = git(repo, "archive", "--format=tar", text, "--", rel).stdout
    with tempfile.TemporaryDirectory(prefix="le-ref-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        yield Source(text, Path(tmp) / rel, ref=text)
