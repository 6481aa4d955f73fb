"""Lookups shared by the meaning and consistency checks: studies, arms, populations and their sizes.

Every lookup answers ``None`` when the answer is unknown (the id does not exist, or its table did not load).
Checks skip a row whose references are unknown: a broken reference is reported once, by the foreign-key
check, not again by every rule that follows it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from livingevidence.checks.data import Loaded, Record
from livingevidence.checks.registry import RULES, problem
from livingevidence.report import Problem

__all__ = ["Check", "Context", "check", "decimals", "fmt", "parse_p"]


class Context:
    """Indices over the loaded tables, and a helper to create problems for a table's row."""

    def __init__(self, loaded: Loaded) -> None:
        self.loaded = loaded
        self.studies = _first_by(loaded.rows("studies"), "study_id")
        self.arms = _first_by(loaded.rows("arms"), "arm_id")
        self._arms_by_study: dict[Any, list[str]] | None = None
        self.populations = _first_by(loaded.rows("populations"), "population_id")
        self.regimens = _first_by(loaded.rows("regimens"), "regimen_id")
        self.comparisons = _first_by(loaded.rows("comparisons"), "comparison_id")
        # The study of each arm and population, asked for nearly every row of the large tables.
        self._arm_study: dict[Any, Any] = {a: rec.get("study_id") for a, rec in self.arms.items()}
        self._population_study: dict[Any, Any] = {p: rec.get("study_id") for p, rec in self.populations.items()}
        self.arm_n: dict[tuple[str, str], int] = {}
        self.population_arm_ids: dict[str, list[str]] = {}
        self._population_n_unknown: set[str] = set()
        for rec in loaded.rows("population_arms"):
            pop, arm, n = rec.get("population_id"), rec.get("arm_id"), rec.get("n")
            if pop is None or arm is None:
                continue
            pop_study, arm_study = self.population_study(pop), self.arm_study(arm)
            if pop_study is not None and arm_study is not None and pop_study != arm_study:
                continue  # an arm of another study (reported by arm-study) does not count towards the n
            self.population_arm_ids.setdefault(pop, [])
            if arm not in self.population_arm_ids[pop]:
                self.population_arm_ids[pop].append(arm)
            if n is None:
                self._population_n_unknown.add(pop)
            else:
                self.arm_n.setdefault((pop, arm), n)
        self.arms_loaded = "arms" in loaded.tables
        self.populations_loaded = "populations" in loaded.tables
        self.population_arms_loaded = "population_arms" in loaded.tables

    def file(self, table: str) -> str:
        """File of a table, relative to the package directory."""
        return self.loaded.file(table)

    def problem(
        self, rule: str, table: str, rec: Record | None, field: str | None, message: str, hint: str | None = None
    ) -> Problem:
        """A problem in ``table`` at the line of ``rec`` (or file-level when ``rec`` is None)."""
        return problem(rule, self.file(table), rec.line if rec is not None else None, field, message, hint)

    def arm_study(self, arm: str | None) -> str | None:
        """The study of an arm, or None when unknown."""
        return self._arm_study.get(arm) if arm is not None else None

    def population_study(self, population: str | None) -> str | None:
        """The study of a population, or None when unknown."""
        return self._population_study.get(population) if population is not None else None

    def arms_of_study(self, study: str) -> list[str]:
        """Arm ids of a study, in file order (indexed once: checks ask for every study)."""
        if self._arms_by_study is None:
            index: dict[Any, list[str]] = {}
            for a, rec in self.arms.items():
                index.setdefault(rec.get("study_id"), []).append(a)
            self._arms_by_study = index
        return list(self._arms_by_study.get(study, ()))

    def n_of(self, population: str | None, arm: str | None) -> int | None:
        """The n of an arm in a population; with ``arm`` None, the population's n (sum over its arms)."""
        if population is None:
            return None
        if arm is not None:
            return self.arm_n.get((population, arm))
        return self.population_n(population)

    def population_n(self, population: str) -> int | None:
        """Sum of the population's arm sizes, or None when a size is unknown or it has no arms."""
        arms = self.population_arm_ids.get(population)
        if not arms or population in self._population_n_unknown:
            return None
        return sum(self.arm_n[(population, a)] for a in arms)

    def arm_in_population(self, population: str | None, arm: str | None) -> bool | None:
        """Whether the arm and population belong together: None when unknown, else True/False.

        False means the arm is of another study than the population, or not listed for the population.
        """
        if population is None or arm is None:
            return None
        ps, ast = self.population_study(population), self.arm_study(arm)
        if ps is None or ast is None:
            return None
        if ps != ast:
            return False
        if not self.population_arms_loaded:
            return None
        return arm in self.population_arm_ids.get(population, [])


def _first_by(rows: list[Record], key: str) -> dict[Any, Record]:
    out: dict[Any, Record] = {}
    for rec in rows:
        value = rec.get(key)
        if value is not None and value not in out:
            out[value] = rec
    return out


CheckFunction = Callable[[Context], Iterator[Problem]]


@dataclass(frozen=True)
class Check:
    """A registered check: a function of the context and the rule ids it may emit."""

    function: CheckFunction
    rules: tuple[str, ...] = field(default_factory=tuple)

    @property
    def name(self) -> str:
        """The function's name, for messages when a check fails."""
        return self.function.__name__


def check(registry: list[Check], *rules: str) -> Callable[[CheckFunction], CheckFunction]:
    """Decorator: add a check function to ``registry``, declaring the rules it emits (all must be in RULES)."""
    unknown = [r for r in rules if r not in RULES]
    if unknown:
        raise KeyError(f"rules not in the registry: {unknown}")

    def register(function: CheckFunction) -> CheckFunction:
        registry.append(Check(function=function, rules=rules))
        return function

    return register


#: No paper prints more decimals; more (e.g. '1e-999999999') would make Decimal arithmetic fail or crawl.
MAX_DECIMALS = 20


def decimals(raw: str) -> int:
    """Number of decimals a number was printed with ('66.0' -> 1, '21' -> 0, '1e-3' -> 3), at most MAX_DECIMALS."""
    text = raw.strip()
    try:
        exponent = Decimal(text).as_tuple().exponent
    except (InvalidOperation, ValueError):
        return 0
    return min(max(0, -exponent), MAX_DECIMALS) if isinstance(exponent, int) else 0


def fmt(value: Any) -> str:
    """A number as people write it: no trailing '.0' for whole numbers, Decimals unchanged."""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def parse_p(raw: str) -> tuple[str, Decimal] | None:
    """A printed p-value as (relation, value), e.g. '<0.001' -> ('<', Decimal('0.001')); None if unreadable."""
    text = raw.strip().replace(" ", "")
    if not text:
        return None
    relation = ""
    if text[0] in "<>≤≥":
        relation, text = text[0], text[1:]
    try:
        return relation, Decimal(text)
    except InvalidOperation:
        return None
