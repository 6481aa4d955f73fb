"""Deploy a data version as a snapshot on the gh-pages branch: ``/<version>/`` plus ``/latest/``.

The gh-pages branch follows mike's layout, so mkdocs-material's version selector works
(``extra.version.provider: mike``): one folder per version, an alias folder ``latest``, ``versions.json``
in mike's format, ``.nojekyll``, and a root ``index.html`` that sends readers to ``latest/``. We use mike's
library (its ``Versions`` list and its ``git fast-import`` commit) but not its ``deploy`` command, because

- ``mike deploy`` runs ``mkdocs build`` itself, while our build validates the data and generates the pages
  first (``build.py build``), and
- ``mike deploy`` overwrites an existing version, while a published version here must never change.

The rules (docs/cite.md, "Versions and snapshots"):

1. A new data version (greater than every published one) is built once and committed under ``<version>/``
   and ``latest/``; ``latest`` moves to it in versions.json.
2. A version that is already published is never rewritten. If the new build has the same bytes, nothing
   happens. If it differs (a change to the code, templates or docs, with the same data version), only
   ``latest/`` is replaced, and only when that version is the newest: old snapshots keep what they said.
3. A version older than the newest published one is refused.

Every deploy is one commit on the branch; nothing is pushed unless asked (``--push``). A deploy needs the site's
address (``site_url`` in mkdocs.yml or ``--site-url``): a snapshot is never rewritten, so the citations it
carries must be absolute from the start. The branch root gets ``sitemap.xml``, a sitemap index of every
version's own sitemap (mkdocs-material also requests it, beside the feed link, on every page).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from contextlib import chdir, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from livingevidence.project import Project
from livingevidence.release.semver import Version
from livingevidence.safety import loads_strict

LATEST = "latest"
ROOT_INDEX = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Redirecting to the latest version</title>
<meta http-equiv="refresh" content="0; url=latest/">
<link rel="canonical" href="latest/">
</head>
<body>
<p>The latest version of this site is at <a href="latest/">latest/</a>. Every data version keeps its own
address; see <a href="versions.json">versions.json</a> for the list.</p>
</body>
</html>
"""


class DeployError(Exception):
    """The deploy was refused or failed; nothing was committed."""


@dataclass
class DeployResult:
    """What a deploy did."""

    version: str
    status: str  # 'published', 'latest-updated', 'unchanged'
    message: str
    branch: str
    differing: list[str] = field(default_factory=list)


def _git(repo: Path, *args: str, input: bytes | None = None) -> str:
    result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, input=input, check=False)
    if result.returncode != 0:
        raise DeployError(f"git {' '.join(args)} failed: {result.stderr.decode(errors='replace').strip()}")
    return result.stdout.decode()


def _tree(repo: Path, branch: str, folder: str) -> dict[str, tuple[str, str]]:
    """{path inside folder: (mode, blob id)} of a folder on the branch ({} when absent)."""
    result = subprocess.run(
        ["git", "-C", str(repo), "ls-tree", "-r", "--full-tree", branch, "--", f"{folder}/"],
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        return {}
    out = {}
    for line in result.stdout.decode().splitlines():
        meta, path = line.split("\t", 1)
        mode, _, sha = meta.split()
        out[path.removeprefix(folder + "/")] = (mode, sha)
    return out


def _built_tree(repo: Path, site: Path) -> dict[str, tuple[str, str]]:
    """{relative path: (mode, blob id)} of a built site, hashed the way git would store it."""
    files = sorted(p for p in site.rglob("*") if p.is_file())
    if not files:
        return {}
    ids = _git(repo, "hash-object", "--stdin-paths", input="\n".join(str(p) for p in files).encode()).split()
    return {
        p.relative_to(site).as_posix(): ("100755" if os.access(p, os.X_OK) else "100644", sha)
        for p, sha in zip(files, ids, strict=True)
    }


def _differences(a: dict[str, tuple[str, str]], b: dict[str, tuple[str, str]]) -> list[str]:
    return sorted(p for p in set(a) | set(b) if a.get(p) != b.get(p))


@contextmanager
def _env(**values: str) -> object:
    """Set environment variables for the duration (restored afterwards)."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _identity(repo: Path) -> dict[str, str]:
    """Committer name and email for the deploy commit when neither the environment nor git config has one."""
    out = {}
    for key, env, default in (
        ("user.name", "GIT_COMMITTER_NAME", "livingevidence deploy"),
        ("user.email", "GIT_COMMITTER_EMAIL", "deploy@localhost"),
    ):
        configured = subprocess.run(["git", "-C", str(repo), "config", key], capture_output=True, check=False)
        if not os.environ.get(env) and configured.returncode != 0:
            out[env] = default
    return out


def _source_revision(package: Path) -> str:
    """The commit the package comes from (short id, '+ changes' when the tree is dirty), for the message."""
    from livingevidence.release.sources import repo_root

    root = repo_root(package)
    if root is None:
        return "a package outside git"
    head = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True, check=False)
    if head.returncode != 0:
        return "a repository without commits"
    dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain"], capture_output=True, check=False)
    return head.stdout.decode().strip() + (" + uncommitted changes" if dirty.stdout.strip() else "")


def build_snapshot(package: Path, out: Path, site_url: str | None, project: Project | None = None) -> tuple[str, str]:
    """Build the versioned site for `package` into `out`; return (version, date).

    SOURCE_DATE_EPOCH is the data version's date, so that rebuilding the same version gives the same bytes.
    """
    from livingevidence.load import read_descriptor
    from livingevidence.release.context import ReleaseOptions
    from livingevidence.site import build_site

    descriptor = read_descriptor(package)
    date = str(descriptor["created"])[:10]
    epoch = int(datetime.fromisoformat(date).replace(tzinfo=UTC).timestamp())
    with _env(SOURCE_DATE_EPOCH=str(epoch)):
        project = project or Project.at()
        options = ReleaseOptions(site_url=site_url, versioned=True, config_path=project.mkdocs_yml)
        _, pkg = build_site(package, out, release=options, project=project)
    return pkg.info.version, pkg.info.date


def deploy_site_url(site_url: str | None, project: Project, default: str | None = None) -> str:
    """The site's address for a deploy, normalised: `site_url` (--site-url), else mkdocs.yml's, else `default`
    (--default-site-url: CI passes the repository's GitHub Pages address). DeployError with the fix when there is
    none or it is not an absolute http(s) URL."""
    from livingevidence.release.cite import SITE_URL_FIX, load_config, normalise_site_url, site_url_problem

    url = load_config(site_url, project.mkdocs_yml).site_url or normalise_site_url(default)
    problem = site_url_problem(url)
    if problem:
        raise DeployError(
            f"{problem}; nothing was deployed. A published snapshot is never rewritten, so its citations must "
            f"carry its absolute address from the first deploy: {SITE_URL_FIX}"
        )
    return str(url)


def root_sitemap(site_url: str, versions: list[str]) -> str:
    """The branch root's sitemap.xml: a sitemap index of each version's sitemap (newest first). The alias
    folders are left out: their pages name a version's address as canonical."""
    from xml.sax.saxutils import escape

    entries = "".join(f"  <sitemap><loc>{escape(f'{site_url}{v}/sitemap.xml')}</loc></sitemap>\n" for v in versions)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{entries}</sitemapindex>\n"
    )


def _root_feed(package: Path, version: str, site_url: str | None, config_path: Path) -> str:
    """The feed at the branch root: entries link into each release's snapshot folder."""
    from livingevidence.load import load_package
    from livingevidence.release.cite import load_config
    from livingevidence.release.feed import atom_feed
    from livingevidence.release.history import load_releases, releases_up_to

    info = load_package(package).info
    return atom_feed(
        releases_up_to(load_releases(package), version),
        load_config(site_url, config_path),
        package_name=info.name,
        package_title=info.title,
        link_prefix="",
        versioned=True,
    )


def deploy(
    package: Path | None = None,
    *,
    repo: Path | None = None,
    branch: str = "gh-pages",
    site_url: str | None = None,
    remote: str | None = None,
    push: bool = False,
    project: Project | None = None,
    default_site_url: str | None = None,
) -> DeployResult:
    """Build `package` (default: the project's) and commit its snapshot to `branch` of `repo` (default: the
    project's folder), see the module docstring. The site's address is `site_url`, else mkdocs.yml's, else
    `default_site_url`; without any the deploy is refused."""
    from mike import commands as mike_commands
    from mike import git_utils

    project = project or Project.at()
    site_url = deploy_site_url(site_url, project, default_site_url)
    repo = Path(repo or project.root).resolve()
    package = Path(package or project.package_dir).resolve()
    with tempfile.TemporaryDirectory(prefix="le-deploy-") as tmp:
        site = Path(tmp) / "site"
        try:
            version, date = build_snapshot(package, site, site_url, project)
        except Exception as exc:
            raise DeployError(f"the build failed, nothing was deployed: {exc}") from exc
        Version.parse(version)
        built = _built_tree(repo, site)
        source = _source_revision(package)
        with chdir(repo), _env(**_identity(repo)):
            if remote:
                fetch_remote_branch(repo, remote, branch)
                try:
                    git_utils.update_from_upstream(remote, branch)
                except git_utils.GitError as exc:
                    raise DeployError(
                        f"{branch} and {remote}/{branch} have diverged: {exc}; nothing was deployed (reconcile the "
                        "two branches by hand: a published version is never overwritten)"
                    ) from exc
            versions = published_versions(repo, branch)
            published = [str(v.version) for v in versions]
            newest = max((Version.parse(v) for v in published), default=None)
            feed = _root_feed(package, version, site_url, project.mkdocs_yml)
            files = list(git_utils.walk_real_files(str(site)))

            def add_tree(commit: git_utils.Commit, folder: str) -> None:
                for f in files:
                    commit.add_file(f.copy(folder, str(site)))

            def add_root(commit: git_utils.Commit) -> None:
                commit.add_file(git_utils.FileInfo("feed.xml", feed))
                listed = sorted((str(v.version) for v in versions), key=Version.parse, reverse=True)
                commit.add_file(git_utils.FileInfo("sitemap.xml", root_sitemap(site_url, listed)))
                commit.add_file(git_utils.FileInfo("index.html", ROOT_INDEX))
                commit.add_file(mike_commands.make_nojekyll())

            if version in published:
                differing = _differences(_tree(repo, branch, version), built)
                if newest is not None and Version.parse(version) < newest:
                    raise DeployError(
                        f"data version {version} is already published and is not the newest ({newest}); "
                        "a published version is never rewritten"
                        + (f" ({len(differing)} files would differ)" if differing else " (identical bytes)")
                    )
                if not _differences(_tree(repo, branch, LATEST), built):
                    result = DeployResult(
                        version,
                        "unchanged",
                        f"data version {version} is published and {LATEST}/ already holds this build; nothing to do",
                        branch,
                        differing,
                    )
                    return push_branch(result, remote or "origin", branch, repo) if push else result
                message = (
                    f"Update {LATEST}/ for data version {version} from {source} (snapshot {version}/ kept as published)"
                )
                with git_utils.Commit(branch, message) as commit:
                    commit.delete_files([LATEST])
                    add_tree(commit, LATEST)
                    add_root(commit)
                numbers = [p for p in differing if p.startswith("api/")]
                text = (
                    f"data version {version} was already published: its snapshot {version}/ is kept as it was; "
                    f"{LATEST}/ now holds this build ({len(differing)} files differ from the snapshot)"
                )
                if numbers:
                    text += (
                        f". {len(numbers)} JSON files under api/ differ: numbers moved without a data release; "
                        "consider a patch release so that the change gets its own snapshot"
                    )
                result = DeployResult(version, "latest-updated", text, branch, differing)
            else:
                if newest is not None and Version.parse(version) < newest:
                    raise DeployError(
                        f"data version {version} is older than the newest published version {newest}; "
                        "bump the version (see build.py release-check)"
                    )
                info = versions.add(version, aliases=[LATEST], update_aliases=True)
                message = f"Publish data version {version} ({date}) from {source} as {version}/ and {LATEST}/"
                with git_utils.Commit(branch, message) as commit:
                    commit.delete_files([version, LATEST])
                    add_tree(commit, version)
                    add_tree(commit, LATEST)
                    commit.add_file(mike_commands.versions_to_file_info(versions))
                    add_root(commit)
                result = DeployResult(
                    version,
                    "published",
                    f"published data version {version} ({date}) as {version}/ with aliases "
                    f"{', '.join(sorted(info.aliases))}; {len(published)} earlier version(s) untouched",
                    branch,
                )
            if push:
                result = push_branch(result, remote or "origin", branch, repo)
    return result


def push_branch(result: DeployResult, remote: str, branch: str, repo: Path | None = None) -> DeployResult:
    """`git push REMOTE BRANCH` without force; a rejected push is a DeployError that says why."""
    where = ["-C", str(repo)] if repo is not None else []
    pushed = subprocess.run(["git", *where, "push", "--", remote, branch], capture_output=True, check=False)
    if pushed.returncode != 0:
        why = pushed.stderr.decode(errors="replace").strip()
        moved = "non-fast-forward" in why or "rejected" in why or "fetch first" in why
        raise DeployError(
            f"committed to {branch}, but the push failed: "
            + (
                f"{remote}/{branch} moved since it was fetched; run the deploy again (nothing was overwritten)"
                if moved
                else why
            )
        )
    result.message += f"; pushed to {remote}/{branch}"
    return result


def fetch_remote_branch(repo: Path, remote: str, branch: str) -> None:
    """Bring `remote`'s `branch` into refs/remotes/`remote`/`branch` before anything is compared: a deploy never
    decides from a stale view of what is published. A remote without the branch is a first deploy."""
    listed = subprocess.run(
        ["git", "-C", str(repo), "ls-remote", "--heads", "--", remote, f"refs/heads/{branch}"],
        capture_output=True,
        check=False,
    )
    if listed.returncode != 0:
        raise DeployError(f"cannot reach the remote {remote}: {listed.stderr.decode(errors='replace').strip()}")
    tracking = f"refs/remotes/{remote}/{branch}"
    if not listed.stdout.strip():
        subprocess.run(["git", "-C", str(repo), "update-ref", "-d", tracking], capture_output=True, check=False)
        return
    _git(repo, "fetch", "--quiet", "--no-tags", remote, f"+refs/heads/{branch}:{tracking}")


def published_versions(repo: Path, branch: str):  # type: ignore[no-untyped-def]
    """The branch's versions.json as mike's Versions, after checking that the branch is in the state deploys
    leave it in: versions.json strict JSON in mike's format with MAJOR.MINOR.PATCH versions, and no folder
    that versions.json does not list. Anything else is a DeployError: never silently replaced."""
    from mike.versions import Versions

    exists = ["git", "-C", str(repo), "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"]
    if subprocess.run(exists, capture_output=True, check=False).returncode != 0:
        return Versions()  # the first deploy
    listing = _git(repo, "ls-tree", "--full-tree", branch).splitlines()
    folders = {line.split("\t", 1)[1] for line in listing if line.split()[1] == "tree"}
    names = {line.split("\t", 1)[1] for line in listing}
    versions = Versions()
    if "versions.json" in names:
        text = _git(repo, "show", f"{branch}:versions.json")
        try:
            data = loads_strict(text)
            if not isinstance(data, list):
                raise ValueError("it is not a list of versions")
            for item in data:
                if not isinstance(item, dict) or not isinstance(item.get("version"), str):
                    raise ValueError(f"an entry is not an object with a version: {str(item)[:80]}")
                Version.parse(item["version"])
            versions = Versions.from_json(data)
        except (ValueError, KeyError, TypeError) as exc:
            raise DeployError(
                f"versions.json on {branch} is corrupt ({exc}); nothing was deployed: repair it by hand from the "
                f"branch's history (git log {branch} -- versions.json)"
            ) from exc
    known = {str(v.version) for v in versions} | {a for v in versions for a in v.aliases}
    unexpected = sorted(folders - known)
    if unexpected:
        raise DeployError(
            f"{branch} has folders that versions.json does not list ({', '.join(unexpected[:5])}); nothing was "
            "deployed: a folder on the branch is never replaced without being listed. Add it to versions.json or "
            "remove it by hand"
        )
    return versions


def run_deploy(
    package: Path | None,
    branch: str,
    site_url: str | None,
    push: bool,
    repo: Path | None = None,
    remote: str | None = None,
    project: Project | None = None,
    default_site_url: str | None = None,
) -> int:
    """`build.py deploy`: 0 deployed (or nothing to do), 1 refused or failed."""
    try:
        result = deploy(
            package,
            repo=repo,
            branch=branch,
            site_url=site_url,
            remote=remote,
            push=push,
            project=project,
            default_site_url=default_site_url,
        )
    except DeployError as exc:
        print(f"deploy refused: {exc}", file=sys.stderr)
        return 1
    print(result.message)
    return 0
