"""Scale work: the synthetic package generator, the benchmark's output shape (never its timings), the
incremental docs writer and the exactness of the faster pooling paths."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from livingevidence.analysis import pooling
from livingevidence.checks import validate_package
from livingevidence.site import DocsWriter
from livingevidence.tools.synth import generate, write_package


def test_synth_same_seed_same_bytes_and_different_seeds_differ() -> None:
    a, b = generate(25, seed=7), generate(25, seed=7)
    assert a == b
    c = generate(25, seed=8)
    assert a["datapackage.json"] != c["datapackage.json"]
    assert a["survival.csv"] != c["survival.csv"]
    assert set(a) == set(c)


def test_synth_package_is_valid_realistic_and_fictional(tmp_path: Path) -> None:
    pkg = write_package(120, tmp_path / "pkg", seed=3)
    report = validate_package(pkg)
    assert report.valid, report.to_text()
    assert not report.errors
    rules = {w.rule for w in report.warnings}
    assert rules, "a synthetic package carries a few deliberate consistency warnings"
    assert rules <= {"baseline-sum", "orr-n-mismatch", "percent-mismatch", "p-value-inconsistent"}
    files = generate(120, seed=3)
    for table, text in files.items():
        if table.endswith(".csv") and table not in ("certainty.csv",):
            assert text.count("\n") > 1, f"{table} has no rows"
    arms = files["arms.csv"].splitlines()[1:]
    per_study: dict[str, int] = {}
    for line in arms:
        sid = line.split(",")[1]
        per_study[sid] = per_study.get(sid, 0) + 1
    assert set(per_study.values()) <= {2, 3} and 3 in per_study.values()
    assert "(fictional" in files["regimens.csv"] and "fictional" in json.loads(files["datapackage.json"])["title"]
    kinds = {line.split(",")[3] for line in files["populations.csv"].splitlines()[1:]}
    assert kinds == {"overall", "cohort", "unmatched", "matched"}


def test_synth_pools_dozens_of_studies(tmp_path: Path) -> None:
    from livingevidence.analysis.synthesis import synthesise
    from livingevidence.load import load_package

    pkg = load_package(write_package(60, tmp_path / "pkg", seed=1))
    syn = synthesise(pkg, "f000-add-fictolimab")
    ks = [a.k for a in syn.analyses]
    assert max(ks) >= 24, ks
    assert any(a.leave_one_out for a in syn.analyses)


def test_writer_rewrites_only_changed_files_and_removes_stale(tmp_path: Path) -> None:
    w = DocsWriter(tmp_path)
    w.write_text("a.md", "one")
    w.write_text("sub/b.md", "two")
    assert sorted(w.written) == ["a.md", "sub/b.md"]
    w2 = DocsWriter(tmp_path)
    w2.write_text("a.md", "one")
    w2.write_text("c.md", "three")
    assert w2.written == ["c.md"] and w2.unchanged == 1
    assert w2.remove_stale() == ["sub/b.md"]
    assert not (tmp_path / "sub").exists()


@pytest.mark.parametrize("k", [1, 2, 3, 7, 30, 80])
def test_brief_pools_match_full_pools(k: int) -> None:
    """pool_brief is pool(...).random bit for bit; the batched leave-one-out and cumulative briefs agree with
    leave_one_out/cumulative to a relative 1e-9 (estimate, CI) and an absolute 1e-9 (I^2): they sum in a
    different order, so they differ in the last few ulps (tests/test_pooling_batch.py has the properties)."""
    rng = np.random.default_rng(k)
    y = rng.normal(-0.2, 0.4, k)
    v = rng.uniform(0.01, 0.3, k)
    brief = pooling.pool_brief(y, v)
    full = pooling.pool(y, v)
    assert brief.k == full.k and brief.pooled == full.pooled and brief.first == full.yi[0]
    if full.random is not None:
        r = full.random
        assert (brief.estimate, brief.ci_low, brief.ci_high, brief.i2) == (r.estimate, r.ci_low, r.ci_high, r.i2)

    def check(b: pooling.BriefResult, f: pooling.PoolResult) -> None:
        assert b.k == f.k and b.pooled == f.pooled and b.first == f.yi[0]
        if f.random is None:
            assert b.estimate is None and b.ci_low is None and b.ci_high is None and b.i2 is None
            return
        r = f.random
        for ours, theirs in ((b.estimate, r.estimate), (b.ci_low, r.ci_low), (b.ci_high, r.ci_high)):
            assert ours is not None and math.isclose(ours, theirs, rel_tol=1e-9, abs_tol=1e-12)
        assert b.i2 is not None and abs(b.i2 - r.i2) <= 1e-9

    if k >= 2:
        loo = pooling.leave_one_out_brief(y, v)
        assert len(loo) == k
        for b, f in zip(loo, pooling.leave_one_out(y, v), strict=True):
            check(b, f)
    cum = pooling.cumulative_brief(y, v)
    assert len(cum) == k
    for b, f in zip(cum, pooling.cumulative(y, v), strict=True):
        check(b, f)


def test_tail_probabilities_equal_scipy_stats() -> None:
    d = pooling.distributions
    for x in (0.0, 1e-9, 0.3, 1.96, 5.0, 40.0, math.inf):
        assert d.norm_sf(x) == float(stats.norm.sf(x))
        for df in (1, 2, 5, 30, 200):
            assert d.t_sf(x, df) == float(stats.t.sf(x, df))
            assert d.chi2_sf(x, df) == float(stats.chi2.sf(x, df))
            for df2 in (1, 7, 60):
                assert d.f_sf(x, df, df2) == float(stats.f.sf(x, df, df2))
    assert d.t_ppf(0.975, 4) == float(stats.t.ppf(0.975, 4))
    assert d.chi2_ppf(0.025, 9) == float(stats.chi2.ppf(0.025, 9))


def test_a_build_with_unchanged_inputs_does_nothing(tmp_path: Path) -> None:
    from livingevidence.site import prepare_docs
    from tests.conftest import copy_package

    pkg = copy_package(tmp_path)
    docs = tmp_path / "docs"
    report, _, reused = prepare_docs(pkg, docs)
    assert not reused
    writer = DocsWriter(docs)
    again, package, reused = prepare_docs(pkg, docs, writer=writer)
    assert reused and writer.written == [] and again.to_text() == report.to_text()
    assert set(package.studies)  # the tables are still there when asked for
    survival = pkg / "survival.csv"
    lines = survival.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[1] = lines[1].replace(",6.5,", ",6.6,", 1)
    survival.write_text("".join(lines), encoding="utf-8")
    writer = DocsWriter(docs)
    _, _, reused = prepare_docs(pkg, docs, writer=writer)
    assert not reused
    assert "studies/li-trp-tr.md" in writer.written
    assert not any(p.startswith("studies/") and "li-trp-tr" not in p for p in writer.written if p.endswith(".md"))


def test_bench_smoke_shape(tmp_path: Path) -> None:
    """A 5-study benchmark: the output has every stage, size and target, whatever the timings."""
    from livingevidence.tools.bench import OUR_STAGES, run_bench

    out = tmp_path / "bench.json"
    assert run_bench("5", out, "mkdocs", root=tmp_path / "work") == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["machine"]["cores"] >= 1 and data["sizes"] == [5]
    (result,) = data["results"]
    assert result["studies"] == 5
    assert set(OUR_STAGES) <= set(result["ours"]["seconds"]) <= set(result["ours"]["peak_mb"]) | {"validate"}
    engine = result["engines"]["mkdocs"]
    assert engine["ok"] and engine["html_pages"] > 5 and engine["bytes_per_item_page"] > 0
    assert engine["largest_page"]["bytes"] > 0
    assert result["rebuild_unchanged"]["files_written"] == 0
    assert result["rebuild_one_study"]["files_written"] >= 1
    assert "rebuild_unchanged_5" in data["targets"]


@pytest.mark.browser
def test_chart_bundle_loads_only_on_pages_with_charts(browser, site_url: str) -> None:
    """The 0.9 MB Vega bundle is one file, fetched only by pages that draw a chart."""
    for path, wanted in (("about/", False), ("methods/", False), ("studies/li-trp-tr/", True)):
        page = browser.new_page()
        requested: list[str] = []
        page.on("request", lambda r, seen=requested: seen.append(r.url))
        page.goto(site_url + path, wait_until="networkidle")
        bundles = [u for u in requested if "/js/vega.js" in u]
        assert len(bundles) == (1 if wanted else 0), (path, bundles)
        page.close()


def test_missing_zensical_fails_clearly_and_keeps_the_site(tmp_path: Path, monkeypatch) -> None:
    from livingevidence import paths, site

    out = tmp_path / "site"
    out.mkdir()
    (out / "index.html").write_text("previous site", encoding="utf-8")
    monkeypatch.setattr(site, "zensical_missing", lambda: "Zensical is not installed: pip install zensical")
    with pytest.raises(site.BuildError, match="Zensical is not installed"):
        site.build_site(paths.DATAPACKAGE_DIR, out, engine="zensical")
    assert (out / "index.html").read_text(encoding="utf-8") == "previous site"
    with pytest.raises(site.BuildError, match="unknown site engine"):
        site.build_site(paths.DATAPACKAGE_DIR, out, engine="hugo")
