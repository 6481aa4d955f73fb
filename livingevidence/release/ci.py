"""``build.py ci-report``: GitHub annotations and the job summary from the JSON reports of a pull request.

Reads the JSON written by ``build.py validate --format json``, ``build.py release-check --format json`` and
``build.py diff BASE --format json``; prints one workflow command per problem
(``::error file=datapackage/response.csv,line=5,title=response-sum::...``), so that GitHub shows it on the
CSV line, and appends a Markdown summary (validation report, release check, what changes) to
``$GITHUB_STEP_SUMMARY`` (or ``--summary FILE``). Exit 1 when the validation or the release check failed,
so the job fails after the annotations and the summary are out.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from livingevidence.release.diff import to_markdown


def _escape_data(text: str) -> str:
    return str(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_prop(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(problem: dict[str, Any]) -> str:
    """One GitHub workflow command for one problem of a validate or release-check JSON report."""
    level = "error" if problem.get("severity", "error") == "error" else "warning"
    props = [f"file={_escape_prop(problem.get('path') or problem.get('file') or '')}"]
    if problem.get("row"):
        props.append(f"line={int(problem['row'])}")
    props.append(f"title={_escape_prop(problem.get('rule', ''))}")
    field = f"{problem['field']}: " if problem.get("field") else ""
    hint = f" - {problem['hint']}" if problem.get("hint") else ""
    return f"::{level} {','.join(props)}::{_escape_data(field + problem.get('message', '') + hint)}"


def _load(path: Path | None) -> dict[str, Any] | None:
    if path is None or not path.is_file() or not path.read_text(encoding="utf-8").strip():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def _problems_md(title: str, report: dict[str, Any] | None, limit: int = 100) -> list[str]:
    if report is None:
        return [f"### {title}", "", "_No report (the step did not run)._", ""]
    errors, warnings = report.get("errors", []), report.get("warnings", [])
    out = [f"### {title}", "", report.get("summary") or f"{len(errors)} errors, {len(warnings)} warnings", ""]
    rows = errors + warnings
    if rows:
        out += ["| | Where | Field | Problem | Rule | How to fix |", "|---|---|---|---|---|---|"]
        for p in rows[:limit]:
            where = p.get("path") or p.get("file") or ""
            if p.get("row"):
                where += f":{p['row']}"
            cells = [
                "❌" if p.get("severity") == "error" else "⚠️",
                f"`{where}`",
                p.get("field") or "",
                p.get("message", ""),
                p.get("rule", ""),
                p.get("hint", ""),
            ]
            out.append("| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
        if len(rows) > limit:
            out.append(f"\n… and {len(rows) - limit} more.")
        out.append("")
    return out


def run_ci_report(validation: Path | None, release: Path | None, diff: Path | None, summary: Path | None) -> int:
    """Print annotations, write the summary, and fail when validation or the release check failed."""
    v, r, d = _load(validation), _load(release), _load(diff)
    for report in (v, r):
        for p in (report or {}).get("errors", []) + (report or {}).get("warnings", []):
            print(annotation(p))
    lines = ["## Data package report", ""]
    lines += _problems_md("Validation", v)
    if r is not None:
        lines += _problems_md("Release check", r)
        lines.append(f"Required version bump: **{r.get('required_bump')}** ({'; '.join(r.get('reasons', []))})")
        lines.append("")
    if d is not None:
        lines.append(to_markdown(d))
    text = "\n".join(lines) + "\n"
    target = summary or (Path(os.environ["GITHUB_STEP_SUMMARY"]) if os.environ.get("GITHUB_STEP_SUMMARY") else None)
    if target is None:
        sys.stdout.write(text)
    else:
        with target.open("a", encoding="utf-8") as fh:
            fh.write(text)
    failed = (v is None) or not v.get("valid", False) or (r is not None and not r.get("valid", False))
    return 1 if failed else 0
