"""The home page's what's-new box is capped (a page that grows with every study is slow on a phone, and
Zensical's search index refuses a section that large); pooled results that moved always keep their place."""

from __future__ import annotations

from pathlib import Path

from livingevidence.load import load_package
from livingevidence.pages.evidence_map import whats_new
from livingevidence.pages.whats_new import HOME_ROWS, home_whats_new
from livingevidence.tools.synth import write_package


def _package(tmp_path: Path, n: int):  # type: ignore[no-untyped-def]
    return load_package(write_package(n, tmp_path / "pkg", seed=2))


def test_first_release_box_is_capped_and_says_so(tmp_path: Path) -> None:
    pkg = _package(tmp_path, 40)
    table = whats_new(pkg)
    assert len(table.rows) == HOME_ROWS
    assert f"the first {HOME_ROWS} of 40 changes" in table.caption
    assert "what's new page" in table.caption


def test_small_box_is_whole_and_caption_unchanged() -> None:
    pkg = load_package()
    table = whats_new(pkg)
    assert len(table.rows) == len(pkg.studies)
    assert table.caption == f"Changes in data version {pkg.info.version}"


def test_pooled_results_that_moved_survive_the_cap(tmp_path: Path) -> None:
    pkg = _package(tmp_path, 40)
    added = [{"study_id": sid, "label": s.label} for sid, s in pkg.studies.items()]
    cid = next(iter(pkg.comparisons))
    moved = [
        {
            "status": "moved",
            "measure": "HR",
            "comparison_id": cid,
            "comparison": "c",
            "title": f"Overall survival {i}",
            "old": {"estimate": 0.8, "ci_low": 0.6, "ci_high": 1.0, "k": 2, "pooled": True},
            "new": {"estimate": 0.7, "ci_low": 0.5, "ci_high": 0.9, "k": 3, "pooled": True},
        }
        for i in range(3)
    ]
    release = {"version": "2.0.0", "previous": "1.0.0", "changes": {"studies_added": added, "pooled": moved}}
    table = home_whats_new(pkg, release)
    assert len(table.rows) == HOME_ROWS
    assert [str(r[1]).startswith("Overall survival") for r in table.rows[-3:]] == [True] * 3
    assert f"the first {HOME_ROWS} of {len(added) + 3} changes" in table.caption
