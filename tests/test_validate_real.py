"""The real data package is valid; its warnings (the public data checks page) are pinned so a change is noticed.

Every warning below was checked against the extraction notes: each is a figure the paper prints (a percentage
its counts do not give, a p-value the counts cannot give), stored as printed and explained in the row's note.
When data are added or corrected, update this list deliberately.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from livingevidence.checks import validate_package

REAL = Path(__file__).resolve().parent.parent / "datapackage"

EXPECTED_WARNINGS = Counter(
    {
        ("adverse_events.csv", "percent-mismatch"): 1,  # 19.41% for 20/103 (the paper rounds 19.417 down)
        ("adverse_events.csv", "percent-impossible"): 1,  # 44.0% of 27 (lp-vs-r-hfsr-r-any)
        ("baseline.csv", "percent-mismatch"): 3,  # 227/288 printed 79.1% (ma-rego-pd1-bclc-c-total); 60.1%/39.9% of 68
        ("binary_outcomes.csv", "percent-impossible"): 1,  # 38.8% of 72 (tace-ici-mtt-resistance-percent)
        ("binary_outcomes.csv", "percent-mismatch"): 1,  # 37.4% for 10/27 (lp-vs-r-subsequent-therapy)
        ("effects.csv", "p-value-inconsistent"): 2,  # li-trp-tr-recist-dcr-p, lp-vs-r-orr-mrecist-p
    }
)


def test_real_package_is_valid() -> None:
    report = validate_package(REAL)
    assert report.errors == [], report.to_text()
    assert report.valid


def test_real_package_warnings_are_the_known_ones() -> None:
    report = validate_package(REAL)
    assert Counter((p.file, p.rule) for p in report.warnings) == EXPECTED_WARNINGS, report.to_text()
    for p in report.warnings:
        assert "the paper prints" in p.message and "not a data entry error" in p.message


def test_frictionless_alone_accepts_the_real_package() -> None:
    """DESIGN 3: `frictionless validate datapackage/datapackage.json` passes on its own, without our code."""
    import warnings

    from frictionless import Package

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert Package(str(REAL / "datapackage.json")).validate().valid
