"""Semantic versions of the data package and the bump a change requires.

A data version is MAJOR.MINOR.PATCH (no pre-release or build suffix: every data version is a release).
What each part means for this data package (docs/contribute.md, "Versions"):

- major: something a reader may have cited or linked disappears or changes meaning: a study or a
  comparison is removed, a table or a column is removed or renamed, a column's type or a primary key changes;
- minor: data is added: a study, a comparison, rows, a table or a column;
- patch: a correction: a changed value, a removed row, a changed description or other metadata.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Bump = Literal["none", "patch", "minor", "major"]
BUMP_ORDER: dict[str, int] = {"none": 0, "patch": 1, "minor": 2, "major": 3}
_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")


@dataclass(frozen=True, order=True)
class Version:
    """A MAJOR.MINOR.PATCH version; compares numerically."""

    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: str) -> Version:
        """Parse 'X.Y.Z'; raises ValueError for anything else (no leading zeros, no suffixes)."""
        m = _SEMVER.match(str(text).strip())
        if not m:
            raise ValueError(f"{text!r} is not a version of the form MAJOR.MINOR.PATCH (e.g. 1.2.0)")
        return cls(int(m.group(1)), int(m.group(2)), int(m.group(3)))

    def bumped(self, part: Bump) -> Version:
        """The next version for a bump of `part` ('none' returns self)."""
        if part == "major":
            return Version(self.major + 1, 0, 0)
        if part == "minor":
            return Version(self.major, self.minor + 1, 0)
        if part == "patch":
            return Version(self.major, self.minor, self.patch + 1)
        return self

    def bump_to(self, other: Version) -> Bump | None:
        """Which bump turns self into `other`: 'none' when equal, None when `other` is not a next version."""
        if other == self:
            return "none"
        for part in ("major", "minor", "patch"):
            if self.bumped(part) == other:  # type: ignore[arg-type]
                return part  # type: ignore[return-value]
        return None

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


def is_version(text: str) -> bool:
    """True for a valid MAJOR.MINOR.PATCH string."""
    return bool(_SEMVER.match(str(text).strip()))


def max_bump(*bumps: Bump) -> Bump:
    """The largest of the given bumps ('none' when empty)."""
    return max(bumps, key=lambda b: BUMP_ORDER[b], default="none")


def version_key(text: str) -> tuple[int, int, int]:
    """Sort key for version strings; invalid ones sort first."""
    try:
        v = Version.parse(text)
    except ValueError:
        return (-1, -1, -1)
    return (v.major, v.minor, v.patch)
