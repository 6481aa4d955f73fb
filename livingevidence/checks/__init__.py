"""Validate a data package: structure (layer 1), meaning (layer 2, errors), consistency (layer 3, warnings).

``validate_package(path)`` collects every problem into one :class:`~livingevidence.report.Report`; it never
raises. Layer 1 runs on the whole package; layers 2 and 3 run on the tables that loaded, so that one run
reports all problems at once. ``RULES`` documents every rule id a check can report (pages generate the
data checks documentation from it).

Importing this package is cheap: Frictionless and the statistics are imported only when validating.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from livingevidence.checks.registry import RULES, ProblemList, Rule, problem
from livingevidence.report import Problem, Report

__all__ = ["RULES", "Rule", "run_validate", "validate_package"]


def validate_package(path: Path | str) -> Report:
    """Check the data package at ``path`` (a directory or its datapackage.json) and report every problem."""
    with _collector_paused():
        return _validate(path)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while validating, and restore it after.

    Validation allocates hundreds of thousands of long-lived, acyclic objects (rows, their values and tuples)
    and nothing else of note; each allocation burst triggers collections that traverse every row allocated so
    far, a third of the run time of a large package. Reference counting still frees everything as usual.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _validate(path: Path | str) -> Report:
    from livingevidence.checks import appraisal, consistency, generator_rules, rules, topic
    from livingevidence.checks.context import Context
    from livingevidence.checks.structure import load_package

    try:
        path = Path(path)
    except TypeError:
        return Report([problem("package-missing", repr(path), None, None, "the package path is not a path")])
    loaded, problems = load_package(path)
    if loaded is None:
        try:
            base = path if path.is_dir() else (path.parent if path.exists() else None)
        except OSError:  # pragma: no cover - e.g. a path too long for the file system
            base = None
        return Report([*problems, *_release_history(base)], base=base)
    problems += _release_history(loaded.base)
    try:
        ctx = Context(loaded)
    except Exception as exc:  # pragma: no cover - defensive: never a traceback
        problems.append(
            problem(
                "internal-error",
                loaded.descriptor_file,
                None,
                None,
                f"building the lookups failed: {type(exc).__name__}: {exc}",
            )
        )
        return Report(problems, base=loaded.base)
    found = ProblemList()  # at most MAX_PROBLEMS_PER_RULE per file and rule: bounded memory on huge packages
    for registered in (*generator_rules.CHECKS, *rules.CHECKS, *topic.CHECKS, *appraisal.CHECKS, *consistency.CHECKS):
        try:
            found.extend(registered.function(ctx))
        except Exception as exc:  # a check must not hide the other problems
            found.add(
                problem(
                    "internal-error",
                    loaded.descriptor_file,
                    None,
                    None,
                    f"the check '{registered.name}' ({', '.join(registered.rules)}) failed: "
                    f"{type(exc).__name__}: {exc}",
                )
            )
    return Report(_dedupe([*problems, *found.finish()]), base=loaded.base)


def _release_history(base: Path | None) -> list[Problem]:
    """The problems of the package's releases.json (release/history_schema.py): part of the package, so part of
    its validation."""
    if base is None:
        return []
    from livingevidence.release.history_schema import check_releases_file

    return check_releases_file(base)[1]


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen: set[Problem] = set()
    out: list[Problem] = []
    for p in problems:
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out


def run_validate(package: Path | str, fmt: str = "text") -> int:
    """Validate and print the report (text or JSON) to stdout: exit code 0 when valid (warnings allowed), 1
    when invalid. Used by ``python build.py validate [--package PATH] [--format text|json]``."""
    try:
        report = validate_package(package)
        output = report.to_json() if fmt == "json" else report.to_text()
    except Exception as exc:  # pragma: no cover - validate_package does not raise; belt and braces
        print(f"validate failed unexpectedly: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    try:
        sys.stdout.write(output)
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. `build.py validate | head`
        pass
    return 0 if report.valid else 1
