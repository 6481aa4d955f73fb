"""The validation report: every problem found in a data package, collected in one place.

A :class:`Problem` names the file, the row (the line number in the CSV file, header on line 1), the field,
the rule that was broken, a message saying what is wrong and a hint saying how to fix it. A :class:`Report`
holds all problems of one run, sorted by file, row, field and rule, and renders them as text (one line per
problem) or JSON (one object).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

Severity = Literal["error", "warning"]

__all__ = ["Problem", "Report", "Severity", "display_path"]


@dataclass(frozen=True)
class Problem:
    """One problem in a data package.

    Attributes:
        file: path of the file, relative to the package directory (e.g. ``"effects.csv"``,
            ``"datapackage.json"``), or the path as given when the package itself cannot be found.
        row: line number in the file, with the header on line 1; ``None`` when not row-specific.
        field: field (column) name; ``None`` when not field-specific.
        rule: id of the rule that was broken (see ``livingevidence.checks.RULES``).
        message: what is wrong, with the values involved.
        hint: how to fix it.
        severity: ``"error"`` (the build stops) or ``"warning"`` (shown on the data checks page).
    """

    file: str
    row: int | None
    field: str | None
    rule: str
    message: str
    hint: str
    severity: Severity = "error"

    def sort_key(self) -> tuple[str, int, int, str, str]:
        """Key ordering problems by file, row (file-level problems first), field and rule."""
        return (self.file, 0 if self.row is None else 1, self.row or 0, self.field or "", self.rule)

    def key(self) -> tuple[str, int | None, str | None, str]:
        """The (file, row, field, rule) tuple that identifies where and what, without the wording."""
        return (self.file, self.row, self.field, self.rule)


def display_path(file: str, base: Path | None = None, cwd: Path | None = None) -> str:
    """Show ``file`` (relative to ``base``) relative to the current directory when it lies below it.

    Falls back to the absolute path for files outside the current directory. Always uses ``/``.
    """
    path = Path(file)
    if base is not None and not path.is_absolute():
        path = base / path
    try:
        path = path.absolute()
        here = (cwd or Path.cwd()).absolute()
        shown = os.path.relpath(path, here) if path.is_relative_to(here) else str(path)
    except (OSError, ValueError):
        shown = str(path)
    return shown.replace(os.sep, "/")


@dataclass
class Report:
    """All problems found in one validation run.

    ``base`` is the package directory; problem files are relative to it and shown relative to the
    current directory by :meth:`to_text` and :meth:`to_json`.
    """

    problems: list[Problem] = field(default_factory=list)
    base: Path | None = None

    def __post_init__(self) -> None:
        self.problems = sorted(self.problems, key=Problem.sort_key)

    @property
    def errors(self) -> list[Problem]:
        """Problems that make the package invalid, sorted."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        """Problems shown on the data checks page that do not stop the build, sorted."""
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def valid(self) -> bool:
        """True when there is no error (warnings are allowed)."""
        return not self.errors

    def keys(self, severity: Severity | None = None) -> list[tuple[str, int | None, str | None, str]]:
        """(file, row, field, rule) of every problem, optionally of one severity only."""
        return [p.key() for p in self.problems if severity is None or p.severity == severity]

    def display(self, problem: Problem) -> str:
        """The problem's file as shown to a person (relative to the current directory when possible)."""
        return display_path(problem.file, self.base)

    def line(self, problem: Problem) -> str:
        """One line of text: ``path:row: field: message (rule) - hint``."""
        where = self.display(problem)
        if problem.row is not None:
            where += f":{problem.row}"
        what = f"{problem.field}: " if problem.field else ""
        text = f"{where}: {what}{problem.message} ({problem.rule})"
        if problem.hint:
            text += f" - {problem.hint}"
        return text

    def summary(self) -> str:
        """One line: counts and the verdict."""
        n_err, n_warn = len(self.errors), len(self.warnings)
        verdict = "valid" if self.valid else "invalid"
        package = display_path(".", self.base) if self.base is not None else "the data package"
        return (
            f"{n_err} error{'s' if n_err != 1 else ''}, {n_warn} warning{'s' if n_warn != 1 else ''}: "
            f"{package} is {verdict}"
        )

    def to_text(self) -> str:
        """Errors, then warnings, one per line, then a one-line summary."""
        out: list[str] = []
        if self.errors:
            out.append(f"Errors ({len(self.errors)}):")
            out.extend(self.line(p) for p in self.errors)
        if self.warnings:
            out.append(f"Warnings ({len(self.warnings)}):")
            out.extend(self.line(p) for p in self.warnings)
        out.append(self.summary())
        return "\n".join(out) + "\n"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict: verdict, counts, summary line, then errors and warnings."""

        def item(p: Problem) -> dict[str, Any]:
            d = asdict(p)
            d["path"] = self.display(p)
            d["text"] = self.line(p)
            return d

        return {
            "valid": self.valid,
            "errors_count": len(self.errors),
            "warnings_count": len(self.warnings),
            "summary": self.summary(),
            "errors": [item(p) for p in self.errors],
            "warnings": [item(p) for p in self.warnings],
        }

    def to_json(self, indent: int | None = 2) -> str:
        """The report as one JSON object (see :meth:`to_dict`)."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False) + "\n"
