"""The rule registry and the small helpers of the checks."""

from __future__ import annotations

import ast
from decimal import Decimal
from pathlib import Path

import pytest

from livingevidence.checks import RULES
from livingevidence.checks.consistency import percent_fits, percent_possible
from livingevidence.checks.context import decimals, parse_p

CHECKS_DIR = Path(__file__).resolve().parent.parent / "livingevidence" / "checks"


def _emitted_rule_ids() -> set[str]:
    """Rule ids passed as string literals to problem(...), ctx.problem(...) or @check(...) in the checks' code,
    plus the ids of the constraint mapping (emitted through a variable)."""
    from livingevidence.checks.structure.limits import CONSTRAINT_RULES

    ids: set[str] = set(CONSTRAINT_RULES.values())
    # The release history's checks live with the release code (they emit the releases-* rules).
    for path in [*CHECKS_DIR.rglob("*.py"), CHECKS_DIR.parent / "release" / "history_schema.py"]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name == "problem":  # problem(rule, ...) and ctx.problem(rule, ...)
                candidates = node.args[:1]
            elif name == "check":  # @check(REGISTRY, rule, rule, ...)
                candidates = node.args[1:]
            else:
                continue
            for arg in candidates:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    ids.add(arg.value)
    return ids


def test_every_rule_the_code_can_emit_is_registered() -> None:
    emitted = _emitted_rule_ids()
    assert emitted <= set(RULES), emitted - set(RULES)


def test_every_registered_rule_is_emitted_somewhere() -> None:
    assert set(RULES) <= _emitted_rule_ids(), set(RULES) - _emitted_rule_ids()


def test_registry_entries_are_complete() -> None:
    for rule in RULES.values():
        assert rule.layer in (1, 2, 3)
        # Layer 3 (slips printed in the papers) is all warnings; layers 1-2 are errors except the notices
        # about what the generator does not show (a missing label, a column or table it does not read, a study
        # not yet assessed for risk of bias) or shows as the assessor's own call (an overall judgement that is
        # more severe than the tool's rule).
        notices = {"label-missing", "column-unknown", "resource-unknown", "rob-missing", "rob-overall-differs"}
        assert rule.severity == ("warning" if rule.layer == 3 or rule.id in notices else "error")
        assert rule.description.endswith(".") and rule.hint and rule.id == rule.id.lower()


def test_check_decorator_refuses_unknown_rules() -> None:
    from livingevidence.checks.context import check

    with pytest.raises(KeyError):
        check([], "no-such-rule")


@pytest.mark.parametrize(
    ("raw", "expected"), [("66.0", 1), ("21", 0), ("19.41", 2), ("1e-3", 3), ("5E+1", 0), ("x", 0)]
)
def test_decimals(raw: str, expected: int) -> None:
    assert decimals(raw) == expected


@pytest.mark.parametrize(
    ("count", "n", "printed", "fits"),
    [
        (18, 64, "28.12", True),  # 28.125: either rounding direction is accepted
        (18, 64, "28.13", True),
        (3, 38, "7.9", True),
        (20, 103, "19.41", False),  # 19.417
        (10, 27, "37.4", False),  # 37.04
        (13, 62, "21", True),  # 20.97 at 0 decimals
        (62, 62, "100", True),
    ],
)
def test_percent_fits(count: int, n: int, printed: str, fits: bool) -> None:
    assert percent_fits(count, n, Decimal(printed), printed) is fits


@pytest.mark.parametrize(
    ("n", "printed", "possible"), [(27, "44.0", False), (27, "44.4", True), (72, "38.8", False), (41, "73.2", True)]
)
def test_percent_possible(n: int, printed: str, possible: bool) -> None:
    assert percent_possible(n, Decimal(printed), printed) is possible


def test_parse_p() -> None:
    assert parse_p("<0.001") == ("<", Decimal("0.001"))
    assert parse_p("0.210") == parse_p("0.21")
    assert parse_p(" 1 ") == ("", Decimal(1))
    assert parse_p("") is None and parse_p("n.s.") is None
