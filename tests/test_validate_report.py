"""The report: problem ordering, the one-line text format, JSON, and paths shown relative to the current directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from livingevidence.report import Problem, Report, display_path


def _p(file: str, row: int | None, field: str | None, rule: str, severity: str = "error") -> Problem:
    return Problem(file, row, field, rule, f"message {rule}", f"hint {rule}", severity)  # type: ignore[arg-type]


def test_text_line_matches_the_documented_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "datapackage").mkdir()
    monkeypatch.chdir(tmp_path)
    problem = Problem(
        "effects.csv",
        12,
        "ci_low",
        "ci-order",
        "1.2 is above the estimate 0.9",
        "check the order of the CI limits in the source table",
    )
    report = Report([problem], base=tmp_path / "datapackage")
    assert report.line(problem) == (
        "datapackage/effects.csv:12: ci_low: 1.2 is above the estimate 0.9 (ci-order) - check the order of the CI "
        "limits in the source table"
    )
    assert report.to_text().splitlines() == [
        "Errors (1):",
        report.line(problem),
        "1 error, 0 warnings: datapackage is invalid",
    ]


def test_line_without_row_or_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    report = Report([_p("landmarks.csv", None, None, "file-missing")], base=tmp_path / "pkg")
    assert (
        report.line(report.problems[0]) == "pkg/landmarks.csv: message file-missing (file-missing) - hint file-missing"
    )


def test_sorted_by_file_row_field_rule_and_stable() -> None:
    problems = [
        _p("b.csv", 3, "x", "type"),
        _p("a.csv", 10, None, "extra-cell"),
        _p("a.csv", 2, "z", "enum"),
        _p("a.csv", 2, "y", "type"),
        _p("a.csv", None, None, "file-missing"),
        _p("a.csv", 2, "y", "required"),
        Problem("a.csv", 2, "y", "required", "second", "h"),
    ]
    report = Report(problems)
    assert [p.key() for p in report.problems] == [
        ("a.csv", None, None, "file-missing"),
        ("a.csv", 2, "y", "required"),
        ("a.csv", 2, "y", "required"),
        ("a.csv", 2, "y", "type"),
        ("a.csv", 2, "z", "enum"),
        ("a.csv", 10, None, "extra-cell"),
        ("b.csv", 3, "x", "type"),
    ]
    assert report.problems[2].message == "second"  # stable: equal keys keep their order


def test_errors_warnings_valid() -> None:
    report = Report([_p("a.csv", 1, None, "percent-mismatch", "warning")])
    assert report.valid and report.errors == [] and len(report.warnings) == 1
    report = Report([_p("a.csv", 1, None, "percent-mismatch", "warning"), _p("a.csv", 2, None, "type")])
    assert not report.valid
    text = report.to_text().splitlines()
    assert text[0] == "Errors (1):" and text[2] == "Warnings (1):"
    assert text[-1].startswith("1 error, 1 warning: ")


def test_json_is_one_object_matching_the_text() -> None:
    report = Report([_p("a.csv", 1, "f", "percent-mismatch", "warning"), _p("a.csv", 2, None, "type")])
    data = json.loads(report.to_json())
    assert data["valid"] is False
    assert (data["errors_count"], data["warnings_count"]) == (1, 1)
    assert [d["text"] for d in data["errors"] + data["warnings"]] == [
        line for line in report.to_text().splitlines()[:-1] if not line.endswith("):")
    ]
    assert data["summary"] == report.summary()
    assert data["warnings"][0] | {} == data["warnings"][0]
    assert set(data["errors"][0]) == {"file", "row", "field", "rule", "message", "hint", "severity", "path", "text"}


def test_problem_is_frozen() -> None:
    problem = _p("a.csv", 1, None, "type")
    with pytest.raises(AttributeError):
        problem.row = 2  # type: ignore[misc]


def test_display_path_outside_cwd_is_absolute(tmp_path: Path) -> None:
    inside = tmp_path / "here"
    inside.mkdir()
    assert display_path("x.csv", tmp_path / "elsewhere", cwd=inside) == str(tmp_path / "elsewhere" / "x.csv")
    assert display_path("x.csv", inside / "pkg", cwd=inside) == "pkg/x.csv"
