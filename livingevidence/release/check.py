"""``build.py release-check``: does the working tree's data package carry the version bump its changes need?

Compares the data package at a base (a git ref, by default where this branch left main; or a package path)
with the working tree's package. Errors (exit 1):

- the data changed but the version did not (or went down), or the bump is too small for the changes
  (a new study needs a minor bump, a corrected number a patch; see ``semver``), or the version skips
  (1.0.0 -> 1.2.0);
- a new version without a new date (``created``), or with a date before the base's;
- the release history (releases.json) has no entry for the new version, or one that does not match the
  changes (it is written by ``build.py diff BASE --record``), or an earlier entry was changed or removed;
- CITATION.cff or .zenodo.json name another version or date than the package.

The report uses the validator's problem format (file, row, field, rule, message, hint), as text or JSON.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from livingevidence import paths
from livingevidence.release import history
from livingevidence.release.diff import diff_packages
from livingevidence.release.history_schema import ReleasesInvalid
from livingevidence.release.semver import BUMP_ORDER, Version
from livingevidence.release.sources import SourceError, default_base, open_package, repo_root
from livingevidence.report import Problem, display_path
from livingevidence.safety import JsonProblem, UnsafePath, loads_strict, read_package_file


def _problem(rule: str, file: str, field: str | None, message: str, hint: str, severity: str = "error") -> Problem:
    return Problem(file=file, row=None, field=field, rule=rule, message=message, hint=hint, severity=severity)  # type: ignore[arg-type]


def check_release(base_dir: Path | None, head_dir: Path, *, base_label: str = "base") -> tuple[list[Problem], dict]:
    """All release problems of `head_dir` against `base_dir` (None: no previous release), and the diff."""
    descriptor = "datapackage.json"
    d = diff_packages(base_dir, head_dir, old_label=base_label, new_label="working tree")
    problems: list[Problem] = []
    head_v, head_date = d["head"]["version"], d["head"]["date"]
    base_v, base_date = d["base"]["version"], d["base"]["date"]
    required = d["bump"]["required"]
    why = "; ".join(d["bump"]["reasons"])
    try:
        head = Version.parse(head_v)
    except ValueError as exc:
        return [_problem("release-version-format", descriptor, "version", str(exc), "use MAJOR.MINOR.PATCH")], d
    bumped = False
    if base_v is not None:
        try:
            base = Version.parse(base_v)
        except ValueError:
            base = None
        if base is not None:
            actual = base.bump_to(head)
            bumped = actual not in ("none", None)
            if head < base:
                problems.append(
                    _problem(
                        "release-version-order",
                        descriptor,
                        "version",
                        f"version {head} is lower than the base's {base}",
                        f"set version to {base.bumped(required if required != 'none' else 'patch')}",
                    )
                )
            elif d["data_changed"] and actual == "none":
                problems.append(
                    _problem(
                        "release-version-bump",
                        descriptor,
                        "version",
                        f"the data changed but the version is still {base} ({why})",
                        f"a {required} bump is needed: set version to {base.bumped(required)} and created to today",
                    )
                )
            elif actual is None:
                options = ", ".join(str(base.bumped(p)) for p in ("patch", "minor", "major"))
                problems.append(
                    _problem(
                        "release-version-skip",
                        descriptor,
                        "version",
                        f"{base} -> {head} is not a single bump",
                        f"use the next version: {base.bumped(required if required != 'none' else 'patch')} "
                        f"(one of {options})",
                    )
                )
            elif d["data_changed"] and BUMP_ORDER[actual] < BUMP_ORDER[required]:
                problems.append(
                    _problem(
                        "release-version-bump",
                        descriptor,
                        "version",
                        f"{base} -> {head} is a {actual} bump, but the changes need a {required} bump ({why})",
                        f"set version to {base.bumped(required)}",
                    )
                )
            elif bumped and not d["data_changed"]:
                problems.append(
                    _problem(
                        "release-no-change",
                        descriptor,
                        "version",
                        f"the version went from {base} to {head} but no data changed",
                        "a release needs a data change; undo the bump unless one is coming",
                        severity="warning",
                    )
                )
            if bumped and base_date and head_date and head_date <= base_date:
                problems.append(
                    _problem(
                        "release-date",
                        descriptor,
                        "created",
                        f"version {head} has the date {head_date}, not later than {base}'s {base_date}",
                        "set created to the release date (today), e.g. 2026-12-01T00:00:00Z",
                    )
                )
    new_release = base_v is None or bumped
    problems += _check_history(base_dir, head_dir, d, new_release)
    problems += _check_citation_files(head_dir, head_v, head_date)
    return problems, d


def _check_history(base_dir: Path | None, head_dir: Path, d: dict, new_release: bool) -> list[Problem]:
    problems: list[Problem] = []
    rel = history.RELEASES_FILE
    try:
        head_releases = {r["version"]: r for r in history.load_releases(head_dir)}
    except ReleasesInvalid as exc:  # the history's own schema (located problems), nothing else to compare
        return exc.problems
    try:
        base_releases = {r["version"]: r for r in history.load_releases(base_dir)} if base_dir else {}
    except ReleasesInvalid as exc:
        first = exc.problems[0]
        return [
            _problem(
                "release-history",
                rel,
                first.field,
                f"the base's releases.json is invalid, so the history cannot be compared: {first.message}",
                "fix the base branch's releases.json first",
            )
        ]
    for v, r in base_releases.items():
        if v not in head_releases:
            problems.append(
                _problem("release-history", rel, None, f"the entry for released version {v} was removed", "restore it")
            )
        elif not history.same(r, head_releases[v]):
            problems.append(
                _problem(
                    "release-history",
                    rel,
                    None,
                    f"the entry for released version {v} was changed",
                    "the history of published releases is append-only; restore the entry",
                )
            )
    head_v = d["head"]["version"]
    record = f"python build.py diff {d['base']['label']} --record"
    if Path(head_dir).resolve() != paths.DATAPACKAGE_DIR.resolve():
        record += f" --package {head_dir}"
    if not new_release or head_v in base_releases:
        return problems
    entry = head_releases.get(head_v)
    if entry is None:
        problems.append(
            _problem("release-history", rel, None, f"no entry for version {head_v}", f"run `{record}` and commit it")
        )
    elif not history.same(history.entry_from_diff(d), entry):
        problems.append(
            _problem(
                "release-history",
                rel,
                None,
                f"the entry for version {head_v} does not match the changes since {d['base']['version']}",
                f"run `{record}` again and commit it",
            )
        )
    return problems


def _check_citation_files(head_dir: Path, version: str, date: str | None) -> list[Problem]:
    """CITATION.cff and .zenodo.json next to the package's folder carry its version and date."""
    problems: list[Problem] = []
    root = Path(head_dir).resolve().parent
    cff = root / "CITATION.cff"
    text = _small_file(root, "CITATION.cff", problems)
    if text is not None:
        for key, want in (("version", version), ("date-released", date)):
            m = re.search(rf"(?m)^{key}:\s*[\"']?([^\"'\n]+)[\"']?\s*$", text)
            if not m or m.group(1).strip() != want:
                problems.append(
                    _problem(
                        "release-citation-file",
                        str(cff),
                        key,
                        f"CITATION.cff has {key} {m.group(1).strip() if m else '(none)'}, the package {want}",
                        "run `python build.py diff BASE --record` (it updates both files) or edit the line",
                    )
                )
    zen = root / ".zenodo.json"
    zen_text = _small_file(root, ".zenodo.json", problems)
    if zen_text is not None:
        try:
            data = loads_strict(zen_text)
        except JsonProblem as exc:
            data = {}
            problems.append(_problem("release-citation-file", str(zen), None, exc.message, "fix the JSON"))
        data = data if isinstance(data, dict) else {}
        for key, want in (("version", version), ("publication_date", date)):
            if data.get(key) != want:
                problems.append(
                    _problem(
                        "release-citation-file",
                        str(zen),
                        key,
                        f".zenodo.json has {key} {data.get(key)!r}, the package {want}",
                        "run `python build.py diff BASE --record` (it updates both files) or edit the field",
                    )
                )
    return problems


def _small_file(root: Path, name: str, problems: list[Problem]) -> str | None:
    """The text of a citation file beside the package folder (None when absent); a link out of the repository,
    a file over 1 MB or one that is not UTF-8 is a problem, never read."""
    if not (root / name).exists():
        return None
    try:
        return read_package_file(root, name, 1024 * 1024).decode("utf-8")
    except (UnsafePath, OSError, UnicodeDecodeError) as exc:
        problems.append(_problem("release-citation-file", str(root / name), None, f"not read: {exc}", "fix the file"))
        return None


def render_text(problems: list[Problem], d: dict, base_dir_shown: str, head_dir: Path = paths.DATAPACKAGE_DIR) -> str:
    """Problems as `file: field: message (rule) - hint`, then the verdict and the required bump."""
    out = []
    for p in sorted(problems, key=lambda p: (p.severity != "error", p.file, p.field or "")):
        field = f"{p.field}: " if p.field else ""
        out.append(f"{p.severity}: {display_path(p.file, head_dir)}: {field}{p.message} ({p.rule}) - {p.hint}")
    errors = sum(1 for p in problems if p.severity == "error")
    b, h = d["base"], d["head"]
    verdict = "ready to release" if not errors else "not ready"
    out.append(
        f"release check against {base_dir_shown} ({b['version'] or 'no release'}): {h['version']} is {verdict}; "
        f"the changes need a {d['bump']['required']} bump. {d['summary']} "
        f"({errors} error{'s' if errors != 1 else ''}, {len(problems) - errors} warning"
        f"{'s' if len(problems) - errors != 1 else ''})"
    )
    return "\n".join(out) + "\n"


def render_json(problems: list[Problem], d: dict, head_dir: Path = paths.DATAPACKAGE_DIR) -> str:
    """The same as JSON: verdict, problems (validator format), required bump and the diff summary."""
    errors = [p for p in problems if p.severity == "error"]

    def item(p: Problem) -> dict[str, Any]:
        return {
            "file": p.file,
            "path": display_path(p.file, head_dir),
            "row": p.row,
            "field": p.field,
            "rule": p.rule,
            "message": p.message,
            "hint": p.hint,
            "severity": p.severity,
        }

    return (
        json.dumps(
            {
                "valid": not errors,
                "base": d["base"],
                "head": d["head"],
                "required_bump": d["bump"]["required"],
                "reasons": d["bump"]["reasons"],
                "summary": d["summary"],
                "errors": [item(p) for p in errors],
                "warnings": [item(p) for p in problems if p.severity == "warning"],
            },
            indent=2,
            ensure_ascii=False,
        )
        + "\n"
    )


def run_release_check(package: Path, base: str | None, fmt: str = "text") -> int:
    """`build.py release-check`: 0 ready (warnings allowed), 1 not ready, 2 bad usage (unknown ref or path)."""
    head_dir = paths.descriptor_in(Path(package)).parent
    repo = repo_root(head_dir) or repo_root()
    try:
        spec = base if base is not None else (default_base(repo) if repo else None)
        if spec is None:
            raise SourceError("no --base given and not inside a git repository")
        with open_package(spec, repo=repo, package_dir=head_dir) as source:
            problems, d = check_release(source.directory, head_dir, base_label=spec)
    except SourceError as exc:
        print(f"release-check: {exc}", file=sys.stderr)
        return 2
    except (OSError, ValueError, KeyError, TypeError) as exc:  # a package that cannot be read: said, no traceback
        print(
            f"release-check: a package cannot be read ({type(exc).__name__}: {exc}); run build.py validate",
            file=sys.stderr,
        )
        return 1
    sys.stdout.write(render_json(problems, d, head_dir) if fmt == "json" else render_text(problems, d, spec, head_dir))
    return 1 if any(p.severity == "error" for p in problems) else 0
