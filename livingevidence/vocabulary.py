"""The topic's words, read from its data package: outcomes, labels of coded values, pooling groups.

Nothing here names a topic. What an outcome is, which way is better for patients, how an enum value reads
on a page and which outcome definitions may be pooled together all come from `outcomes.csv` and
`labels.csv`; the generator only knows the kinds of outcome (time-to-event, binary, continuous) and the
effect measures.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from livingevidence.model import Label, Outcome

#: Effect measures analysed on the log scale; the others are differences (null at 0).
RATIO_MEASURES = frozenset({"HR", "RR", "OR", "ROM"})
DIFFERENCE_MEASURES = frozenset({"RD", "MD", "SMD"})
MEASURE_NAMES = {
    "HR": "hazard ratio",
    "RR": "risk ratio",
    "OR": "odds ratio",
    "RD": "risk difference",
    "MD": "mean difference",
    "SMD": "standardised mean difference",
    "ROM": "ratio of means",
}
#: The measures computed from arm-level data of each kind of outcome, in display order.
MEASURES_BY_KIND = {"binary": ("RR", "OR", "RD"), "continuous": ("MD", "SMD", "ROM"), "time-to-event": ()}
#: The criterion value that means "no definition qualifier" (e.g. a hazard ratio of overall survival).
NO_CRITERION = "none"


def humanise(value: str) -> str:
    """'line-of-therapy' -> 'Line of therapy': the fallback when labels.csv has no row for a value."""
    text = re.sub(r"[-_]+", " ", value).strip()
    return text[:1].upper() + text[1:]


def is_ratio(measure: str) -> bool:
    """True for measures pooled on the log scale (null 1)."""
    return measure in RATIO_MEASURES


@dataclass(frozen=True)
class Vocabulary:
    """Look-ups over the outcome vocabulary and the labels table of one package."""

    outcome_rows: tuple[Outcome, ...]
    label_rows: tuple[Label, ...]

    @classmethod
    def of(cls, outcomes: Iterable[Outcome], labels: Iterable[Label]) -> Vocabulary:
        """Build from the package's `outcomes` and `labels` rows."""
        return cls(tuple(outcomes), tuple(labels))

    @cached_property
    def outcomes(self) -> dict[str, Outcome]:
        """outcome_id -> outcome, in the vocabulary's order (then by id)."""
        ordered = sorted(self.outcome_rows, key=lambda o: (o.order, o.outcome_id))
        return {o.outcome_id: o for o in ordered}

    @cached_property
    def _labels(self) -> dict[tuple[str, str, str], Label]:
        return {(lb.table, lb.field, lb.value): lb for lb in self.label_rows}

    @cached_property
    def _positions(self) -> dict[tuple[str, str, str], int]:
        return {(lb.table, lb.field, lb.value): i for i, lb in enumerate(self.label_rows)}

    def outcome(self, outcome_id: str) -> Outcome | None:
        """The vocabulary row of an outcome id, or None."""
        return self.outcomes.get(outcome_id)

    def outcome_label(self, outcome_id: str) -> str:
        """The outcome's label, or its id when the vocabulary does not have it."""
        o = self.outcomes.get(outcome_id)
        return o.label if o else outcome_id

    def label(self, table: str, field: str, value: str | None, missing: str = "") -> str:
        """Words for a coded value: labels.csv, else the value made readable."""
        if value is None or value == "":
            return missing
        row = self._labels.get((table, field, value))
        return row.label if row else humanise(value)

    def has_label(self, table: str, field: str, value: str) -> bool:
        """Whether labels.csv names this value."""
        return (table, field, value) in self._labels

    def pool_as(self, table: str, field: str, value: str) -> str:
        """The name under which a definition pools: its pool_as, else its label (so it pools only with itself)."""
        row = self._labels.get((table, field, value))
        if row is None:
            return value
        return row.pool_as or row.label

    def position(self, table: str, field: str, value: str) -> int:
        """Order of a value in labels.csv (values without a row come last, in their own order)."""
        return self._positions.get((table, field, value), len(self._positions))

    def outcomes_of_kind(self, *kinds: str) -> list[Outcome]:
        """Outcomes of the given kinds, in vocabulary order."""
        return [o for o in self.outcomes.values() if o.kind in kinds]
