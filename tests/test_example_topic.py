"""The second example topic (examples/bcg-vaccine, made by `init` + `import` from metafor's dat.bcg) builds next
to the first one, its pages and API are about its own topic, and its pooled result equals metafor's."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from livingevidence import paths
from livingevidence.cli import main

EXAMPLE = paths.ROOT / "examples" / "bcg-vaccine"
REFERENCE = json.loads((paths.ROOT / "tests" / "reference" / "metafor" / "import_sheets.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("example") / "bcg-vaccine"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("site", ".build"))
    assert main(["build", "--project", str(project)]) == 0
    return project


def test_the_example_is_about_its_own_topic(built: Path) -> None:
    home = (built / "site" / "index.html").read_text(encoding="utf-8")
    assert "BCG vaccine against tuberculosis" in home and "Tuberculosis" in home
    comparison = (built / "site" / "comparisons" / "bcg-vaccine-vs-no-vaccine" / "index.html").read_text("utf-8")
    assert "fewer patients with tuberculosis" in comparison or "tuberculosis" in comparison.lower()
    # Nothing of the first topic leaks into another project's site.
    for word in ("hepatocellular", "regorafenib", "mRECIST"):
        assert word not in home and word not in comparison


def test_the_example_pools_as_metafor(built: Path) -> None:
    api = json.loads((built / "site" / "api" / "comparisons" / "bcg-vaccine-vs-no-vaccine.json").read_text("utf-8"))
    analysis = next(a for a in api["analyses"] if a["key"] == "tuberculosis-rr")
    ref = REFERENCE["bcg"]["adhoc"]  # the project's setting: HKSJ with the ad hoc correction
    detail = analysis["pool_detail"]["random"]
    assert analysis["k"] == ref["k"] == 13
    for ours, theirs in (
        (detail["estimate"], ref["estimate"]),
        (detail["se"], ref["se"]),
        (detail["ci_low"], ref["ci_low"]),
        (detail["ci_high"], ref["ci_high"]),
        (detail["tau2"], ref["tau2"]),
        (detail["i2"], ref["i2"]),
        (detail["q"], ref["q"]),
    ):
        assert ours == pytest.approx(theirs, rel=1e-6)


def test_the_example_writes_only_inside_its_folder(built: Path) -> None:
    assert (built / "site" / "index.html").is_file() and (built / ".build").is_dir()
    assert not (EXAMPLE / "site").exists() or (EXAMPLE / "site").stat().st_mtime < built.stat().st_mtime


def test_the_example_is_what_init_and_import_give(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The committed example is reproducible from its sheet: init + import on the same day give the same package
    (the descriptor's topic text and keywords were edited by hand afterwards)."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1796083200")
    fresh = tmp_path / "bcg"
    assert (
        main(
            [
                "init",
                str(fresh),
                "--title",
                "BCG vaccine against tuberculosis",
                "--maintainers",
                "Living evidence generator maintainers (example topic)",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "import",
                str(EXAMPLE / "extraction-sheet.csv"),
                "--project",
                str(fresh),
                "--extracted-by",
                "metafor's dat.bcg (public data set)",
            ]
        )
        == 0
    )
    for csv_file in sorted((EXAMPLE / "datapackage").glob("*.csv")):
        assert (fresh / "datapackage" / csv_file.name).read_text("utf-8") == csv_file.read_text("utf-8"), csv_file.name
