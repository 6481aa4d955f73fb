"""The release commands of build.py: diff, release-check, deploy and ci-report (see docs/contribute.md)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from livingevidence import paths
from livingevidence.project import Project

COMMANDS = ("diff", "release-check", "deploy", "ci-report")


def _add_project(p: argparse.ArgumentParser) -> None:
    p.add_argument("--project", type=Path, default=None, help="the summary's project folder (default: this repository)")


def _package(args: argparse.Namespace) -> Path:
    return args.package or Project.at(args.project).package_dir


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register the release subcommands on build.py's parser."""
    p = sub.add_parser("diff", help="what changed between two data versions (studies, values, pooled results)")
    p.add_argument("base", metavar="BASE", help="git ref or package path to compare from")
    p.add_argument("head", metavar="HEAD", nargs="?", default=None, help="git ref or package path (default: --package)")
    _add_project(p)
    p.add_argument("--package", type=Path, default=None, help="the working tree's package (default: the project's)")
    p.add_argument("--format", choices=["text", "json", "markdown"], default="text", help="output (default: text)")
    p.add_argument(
        "--record",
        action="store_true",
        help="write the head version's entry into releases.json (and the version into CITATION.cff, .zenodo.json)",
    )

    p = sub.add_parser("release-check", help="data changed without the right version bump is an error")
    _add_project(p)
    p.add_argument("--package", type=Path, default=None, help="package (default: the project's datapackage/)")
    p.add_argument("--base", default=None, help="git ref or package path (default: merge base of HEAD with main)")
    p.add_argument("--format", choices=["text", "json"], default="text", help="report format (default: text)")

    p = sub.add_parser("deploy", help="build this data version and commit it as a snapshot to the gh-pages branch")
    _add_project(p)
    p.add_argument("--package", type=Path, default=None, help="package (default: the project's datapackage/)")
    p.add_argument("--branch", default="gh-pages", help="branch holding the versions (default: gh-pages)")
    p.add_argument(
        "--site-url",
        default=None,
        help="the site's root URL, which every citation of the snapshot carries (default, or when empty: "
        "mkdocs.yml site_url, else --default-site-url; a deploy without any is refused)",
    )
    p.add_argument(
        "--default-site-url",
        default=None,
        help="the root URL when neither --site-url nor mkdocs.yml gives one (CI: the GitHub Pages address)",
    )
    p.add_argument("--repo", type=Path, default=None, help="git repository to commit to (default: this one)")
    p.add_argument("--push", action="store_true", help="update from and push to origin (CI); default: local only")

    p = sub.add_parser("ci-report", help="GitHub annotations and job summary from the JSON reports (CI)")
    p.add_argument("--validation", type=Path, default=None, help="JSON from `build.py validate --format json`")
    p.add_argument("--release", type=Path, default=None, help="JSON from `build.py release-check --format json`")
    p.add_argument("--diff", type=Path, default=None, help="JSON from `build.py diff BASE --format json`")
    p.add_argument("--summary", type=Path, default=None, help="Markdown summary file (default: $GITHUB_STEP_SUMMARY)")


def run_command(args: argparse.Namespace) -> int:
    """Run one release subcommand; exit codes like validate (0 ok, 1 failed, 2 bad usage)."""
    if args.command == "diff":
        return run_diff(args.base, args.head, _package(args), args.format, args.record)
    if args.command == "release-check":
        from livingevidence.release.check import run_release_check

        return run_release_check(_package(args), args.base, args.format)
    if args.command == "deploy":
        from livingevidence.release.deploy import run_deploy

        return run_deploy(
            args.package,
            args.branch,
            args.site_url,
            args.push,
            repo=args.repo,
            remote="origin" if args.push else None,
            project=Project.at(args.project),
            default_site_url=args.default_site_url,
        )
    if args.command == "ci-report":
        from livingevidence.release.ci import run_ci_report

        return run_ci_report(args.validation, args.release, args.diff, args.summary)
    return 2


def run_diff(base: str, head: str | None, package: Path, fmt: str, record: bool) -> int:
    """`build.py diff BASE [HEAD]`: 0 printed, 1 a package failed to load, 2 bad usage."""
    from livingevidence.release import history
    from livingevidence.release.diff import diff_packages, to_markdown, to_text
    from livingevidence.release.sources import SourceError, open_package, repo_root

    head_spec = head if head is not None else str(package)
    package_dir = paths.descriptor_in(Path(package)).parent
    repo = repo_root(package_dir) or repo_root()
    try:
        with (
            open_package(base, repo=repo, package_dir=package_dir) as old,
            open_package(head_spec, repo=repo, package_dir=package_dir) as new,
        ):
            if new.directory is None:
                raise SourceError(f"{head_spec} has no data package")
            if record and new.ref is not None:
                raise SourceError("--record writes into a package directory: give HEAD as a path (or omit it)")
            try:
                d = diff_packages(old.directory, new.directory, old_label=old.label, new_label=new.label)
            except (OSError, ValueError, KeyError) as exc:
                print(f"diff failed: {type(exc).__name__}: {exc}", file=sys.stderr)
                return 1
            if record:
                path, entry = history.record_release(new.directory, d)
                changed = history.sync_citation_files(new.directory.resolve().parent, entry["version"], entry["date"])
                note = f"recorded release {entry['version']} ({entry['date']}) in {path}"
                if changed:
                    note += "; updated " + ", ".join(p.name for p in changed)
                print(note, file=sys.stderr)
    except SourceError as exc:
        print(f"diff: {exc}", file=sys.stderr)
        return 2
    if fmt == "json":
        sys.stdout.write(json.dumps(d, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
    elif fmt == "markdown":
        sys.stdout.write(to_markdown(d))
    else:
        sys.stdout.write(to_text(d))
    return 0
