"""Broken fixture packages: each has ONE defect; the validator reports exactly the expected problems.

tests/fixtures/broken/<case>/ is generated from tests/fixtures/valid/ by tests/fixtures/make_broken.py (run it
after changing the valid fixture or the schema; the generated folders are committed). Each case lists the exact
(file, row, field, rule) of every problem, errors and warnings alike: row is the line in the file (header = 1).
"""

from __future__ import annotations

import filecmp
import json
import sys
import warnings
from pathlib import Path

import pytest

from livingevidence.checks import RULES, validate_package
from livingevidence.report import Report

FIXTURES = Path(__file__).resolve().parent / "fixtures"
VALID = FIXTURES / "valid"
BROKEN = FIXTURES / "broken"
REAL = Path(__file__).resolve().parent.parent / "datapackage"

sys.path.insert(0, str(FIXTURES))
import make_broken  # noqa: E402

Key = tuple[str, int | None, str | None, str]

EXPECTED: dict[str, list[Key]] = {
    "wrong-type": [("response.csv", 3, "n_evaluable", "type")],
    "orphan-foreign-key": [("response.csv", 4, "arm_id", "foreign-key")],
    "duplicate-primary-key": [("arms.csv", 5, "arm_id", "primary-key")],
    "ae-events-over-n": [("adverse_events.csv", 2, "events", "ae-events-exceed-n")],
    "ci-inverted": [("survival.csv", 2, "ci_low", "ci-inverted")],
    "estimate-outside-ci": [("effects.csv", 2, "ci_low", "ci-order")],
    "missing-csv-file": [("landmarks.csv", None, None, "file-missing")],
    "unterminated-quote": [("extraction_notes.csv", 2, None, "csv-syntax")],
    "extra-cell": [("baseline.csv", 4, None, "extra-cell")],
    "missing-cell": [("landmarks.csv", 2, "source", "missing-cell")],
    "latin1-encoding": [("studies.csv", 2, "note", "encoding")],
    "binary-garbage": [("arms.csv", 1, None, "encoding")],
    "empty-file": [("subgroups.csv", None, None, "empty-file")],
    "bom": [("arms.csv", 1, None, "bom")],
    "extra-header-column": [("regimens.csv", 1, None, "extra-label")],
    "missing-label": [("landmarks.csv", 1, "note", "missing-label")],
    "blank-row": [("interventions.csv", 3, None, "blank-row")],
    "invalid-descriptor-json": [("datapackage.json", 23, None, "descriptor-json")],
    "descriptor-missing-resource": [("datapackage.json", None, None, "resource-missing")],
    "descriptor-bad-field-type": [("datapackage.json", 1098, None, "schema-invalid")],
    "no-descriptor": [("datapackage.json", None, None, "descriptor-missing")],
    "enum-violation": [("studies.csv", 2, "design", "enum")],
    "pattern-violation": [("studies.csv", 2, "doi", "pattern")],
    "p-value-malformed": [("effects.csv", 3, "p_value", "pattern")],
    "missing-required": [("arms.csv", 3, "label", "required")],
    "response-sum": [("response.csv", 3, "n_evaluable", "response-sum")],
    "two-primary-populations": [("populations.csv", 3, "primary", "primary-population")],
    "arm-of-another-study": [("population_arms.csv", 11, "arm_id", "arm-study")],
    "dates-out-of-order": [("studies.csv", 2, "enrolment_end", "dates-order")],
    "comparison-identical-regimens": [("comparison_pairs.csv", 4, "control_regimen_id", "comparison-same-regimen")],
    "effect-without-estimate": [("effects.csv", 2, "estimate", "effect-measure")],
    "duplicate-ae-row": [("adverse_events.csv", 8, None, "duplicate-row")],
    "ae-p-value-differs": [("adverse_events.csv", 3, "p_value", "p-value-differs")],
    "note-reference": [("survival.csv", 6, "note", "note-reference")],
    "response-count-over-n": [("response.csv", 4, "pr", "response-count-exceeds-n")],
    "orr-above-dcr": [
        ("response.csv", 4, "orr_n", "orr-above-dcr"),
        ("response.csv", 4, "orr_percent", "orr-above-dcr"),
    ],
    "binary-events-over-n": [("binary_outcomes.csv", 2, "events", "binary-events-exceed-n")],
    "baseline-count-over-n": [("baseline.csv", 9, "count", "baseline-count-exceeds-n")],
    "n-at-risk-over-arm-n": [("adverse_events.csv", 6, "n_at_risk", "n-exceeds-arm-n")],
    "effect-criterion": [("effects.csv", 3, "criterion", "effect-criterion")],
    "effect-same-arm": [("effects.csv", 3, "control_arm_id", "effect-same-arm")],
    "arm-not-in-population": [("survival.csv", 7, "arm_id", "arm-population")],
    "parent-of-another-study": [("populations.csv", 6, "parent_population_id", "parent-study")],
    "cohort-larger-than-parent": [
        ("populations.csv", 4, "parent_population_id", "parent-n"),
        ("populations.csv", 5, "disjoint_set", "disjoint-set-n"),
    ],
    "parent-cycle": [
        ("populations.csv", 2, "parent_population_id", "parent-cycle"),
        ("populations.csv", 3, "parent_population_id", "parent-cycle"),
    ],
    "population-without-arms": [("populations.csv", 7, "population_id", "population-without-arms")],
    "study-without-arms-and-populations": [
        ("studies.csv", 4, "study_id", "rob-missing"),
        ("studies.csv", 4, "study_id", "study-without-arms"),
        ("studies.csv", 4, "study_id", "study-without-populations"),
    ],
    "single-arm-design-two-arms": [("studies.csv", 3, "design", "single-arm-design")],
    "comparison-without-pairs": [("comparisons.csv", 4, "comparison_id", "comparison-without-pairs")],
    "regimen-without-components": [("regimens.csv", 5, "regimen_id", "regimen-without-components")],
    "baseline-statistic": [("baseline.csv", 12, "statistic", "baseline-statistic")],
    "baseline-spread-order": [("baseline.csv", 8, "spread_low", "baseline-spread-order")],
    "minimum": [("population_arms.csv", 2, "n", "minimum")],
    "maximum": [("binary_outcomes.csv", 2, "percent", "maximum")],
    "max-length": [("studies.csv", 3, "label", "max-length")],
    "columns-reordered": [("arms.csv", 1, "study_id", "incorrect-label")],
    "duplicate-label": [("regimens.csv", 1, "note", "duplicate-label")],
    "blank-label": [("regimens.csv", 1, None, "blank-label")],
    "unsafe-resource-path": [("datapackage.json", 2323, None, "descriptor-invalid")],
    "foreign-key-to-unknown-resource": [("datapackage.json", 2323, "comparison_id", "schema-invalid")],
    "percent-mismatch": [("response.csv", 2, "orr_percent", "percent-mismatch")],
    "orr-n-mismatch": [("response.csv", 4, "orr_n", "orr-n-mismatch")],
    "dcr-n-mismatch": [("response.csv", 4, "dcr_n", "dcr-n-mismatch")],
    "baseline-sum": [("baseline.csv", 4, "count", "baseline-sum")],
    "percent-impossible": [("adverse_events.csv", 7, "percent", "percent-impossible")],
    "p-value-inconsistent": [("effects.csv", 4, "p_value", "p-value-inconsistent")],
    "control-character": [("extraction_notes.csv", 2, "note", "control-character")],
    "bidi-override": [("arms.csv", 2, "label", "control-character")],
    "package-version-not-semver": [("datapackage.json", 6, None, "descriptor-invalid")],
    "outcome-kind": [("survival.csv", 2, "outcome", "outcome-kind")],
    "outcome-measure": [("outcomes.csv", 2, "default_measure", "outcome-measure")],
    "outcome-mid": [("outcomes.csv", 2, "mid", "outcome-mid")],
    "ratio-positive": [("effects.csv", 2, "estimate", "ratio-positive")],
    "counts-elsewhere": [("binary_outcomes.csv", 3, "outcome", "counts-elsewhere")],
    "label-duplicate-pool": [("labels.csv", 41, "pool_as", "label-duplicate-pool")],
    "label-missing": [("studies.csv", 2, "design", "label-missing")],
    "column-unknown": [("studies.csv", None, "sponsor", "column-unknown")],
    "comparison-declarations": [("comparisons.csv", 2, "headline_outcomes", "comparison-declarations")],
    "analysis-settings": [("datapackage.json", 3033, "ci_method", "analysis-settings")],
    "resource-unknown": [("extras.csv", None, None, "resource-unknown")],
    "rob-unknown-domain": [("risk_of_bias.csv", 3, "domain", "rob-domain")],
    "rob-judgement-scale": [("risk_of_bias.csv", 4, "judgement", "rob-judgement")],
    "rob-wrong-tool": [("risk_of_bias.csv", 11, "tool", "rob-tool")],
    "rob-missing-support": [("risk_of_bias.csv", 5, "support", "appraisal-support")],
    "rob-incomplete": [("risk_of_bias.csv", 11, "domain", "rob-incomplete")],
    "rob-overall-lenient": [("risk_of_bias.csv", 10, "judgement", "rob-overall")],
    "rob-overall-differs": [("risk_of_bias.csv", 10, "judgement", "rob-overall-differs")],
    "study-without-assessment": [("studies.csv", 3, "study_id", "rob-missing")],
    "indirectness-study": [("indirectness.csv", 2, "study_id", "indirectness-study")],
    "certainty-decision": [("certainty.csv", 2, "rating", "certainty-decision")],
}

# Rules no fixture exercises, and why.
NOT_IN_FIXTURES = {
    "package-missing": "the path itself is missing (tests/test_validate_cli.py)",
    "file-unreadable": "needs a resource path that is a directory (test below)",
    "unique": "every unique field of the project schema is also its table's primary key (reported as primary-key)",
    "exclusive-minimum": "not used by the project schema",
    "exclusive-maximum": "not used by the project schema",
    "min-length": "not used by the project schema",
    "internal-error": "a check crashed; the property tests assert that this never happens",
    "too-large": "files beyond the limits are generated at test time (tests/test_validate_limits.py)",
    "duplicate-key": "the untrusted pull request attacks (tests/test_untrusted_validate.py)",
    "external-reference": "the untrusted pull request attacks (tests/test_untrusted_validate.py)",
    "id-syntax": "the untrusted pull request attacks (tests/test_untrusted_validate.py)",
    "invalid-date": "the untrusted pull request attacks (tests/test_untrusted_validate.py)",
    "spreadsheet-formula": "the untrusted pull request attacks (tests/test_untrusted_validate.py)",
    "releases-json": "the untrusted pull request attacks (tests/test_untrusted_validate.py)",
    "releases-invalid": "the untrusted pull request attacks (tests/test_untrusted_validate.py)",
}


def test_every_case_has_an_expectation() -> None:
    assert set(EXPECTED) == set(make_broken.CASES)
    assert len(EXPECTED) >= 24
    assert sorted(p.name for p in BROKEN.iterdir() if p.is_dir()) == sorted(make_broken.CASES)


def test_valid_fixture_has_no_problem() -> None:
    report = validate_package(VALID)
    assert report.problems == []
    assert report.valid


@pytest.mark.parametrize("case", list(EXPECTED))
def test_broken_case(case: str) -> None:
    report = validate_package(BROKEN / case)
    assert isinstance(report, Report)
    assert report.keys() == EXPECTED[case]
    only_warnings = all(RULES[k[3]].severity == "warning" for k in EXPECTED[case])
    assert report.valid is only_warnings
    for p in report.problems:
        assert p.message and p.hint, p
        assert "Traceback" not in p.message


@pytest.mark.parametrize("case", ["wrong-type", "dates-out-of-order", "missing-csv-file"])
def test_descriptor_path_gives_the_same_report(case: str) -> None:
    by_dir = validate_package(BROKEN / case)
    by_file = validate_package(BROKEN / case / "datapackage.json")
    assert by_dir.keys() == by_file.keys()


def test_every_rule_is_exercised_by_a_fixture() -> None:
    emitted = {k[3] for keys in EXPECTED.values() for k in keys}
    unexercised = set(RULES) - emitted
    explained = {r for r, why in NOT_IN_FIXTURES.items() if why}
    assert unexercised <= explained, unexercised - explained
    assert emitted <= set(RULES)


def test_fixtures_are_regenerated_identically(tmp_path: Path) -> None:
    """The committed broken folders are what make_broken.py writes from the committed valid fixture."""
    out = tmp_path / "broken"
    make_broken.generate(out)
    for case in make_broken.CASES:
        cmp = filecmp.dircmp(BROKEN / case, out / case)
        assert not (cmp.left_only or cmp.right_only), (case, cmp.left_only, cmp.right_only)
        for name in cmp.common_files:
            assert (BROKEN / case / name).read_bytes() == (out / case / name).read_bytes(), (case, name)


def test_valid_fixture_uses_the_real_schema() -> None:
    """The fixture's descriptor declares the same resources and schemas as the real package."""
    real = json.loads((REAL / "datapackage.json").read_text(encoding="utf-8"))
    fixture = json.loads((VALID / "datapackage.json").read_text(encoding="utf-8"))
    assert fixture["resources"] == real["resources"]


def test_resource_path_that_is_a_directory(tmp_path: Path) -> None:
    import shutil

    pkg = tmp_path / "pkg"
    shutil.copytree(VALID, pkg)
    (pkg / "certainty.csv").unlink()
    (pkg / "certainty.csv").mkdir()
    assert validate_package(pkg).keys() == [("certainty.csv", None, None, "file-unreadable")]


# Structural cases that Frictionless on its own (Package.validate) must also reject: our reading of the files must
# never accept what Frictionless rejects. (Stricter than Frictionless: a BOM, a resource the site needs.)
FRICTIONLESS_REJECTS = [
    "wrong-type",
    "orphan-foreign-key",
    "duplicate-primary-key",
    "unterminated-quote",
    "extra-cell",
    "missing-cell",
    "latin1-encoding",
    "empty-file",
    "extra-header-column",
    "missing-label",
    "blank-row",
    "enum-violation",
    "pattern-violation",
    "missing-required",
    "minimum",
]


@pytest.mark.parametrize("case", ["valid", *FRICTIONLESS_REJECTS])
def test_frictionless_agrees(case: str) -> None:
    from frictionless import Package

    path = VALID if case == "valid" else BROKEN / case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frictionless_valid = Package(str(path / "datapackage.json")).validate().valid
    assert frictionless_valid is (case == "valid")
    assert validate_package(path).valid is (case == "valid")
