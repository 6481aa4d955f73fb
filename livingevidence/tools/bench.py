"""Benchmark: `python build.py bench [--sizes 100,1000,5000] [--json PATH] [--engines mkdocs,zensical]`.

For each size N it writes a synthetic package (`synth.py`) and measures, per stage, wall time and peak memory:

* our stages, run in a child process per scenario so that sizes do not share a heap: validate, load, analyse
  (per-comparison synthesis), render (page contexts, chart specs and Markdown through Jinja) and write (files,
  JSON, zips, only where bytes change). Peak memory is the process's resident-set high-water mark (VmHWM),
  reset before each stage through /proc/self/clear_refs, so each stage gets its own peak including NumPy's and
  the C extensions' memory; where the reset is not allowed the peaks are cumulative (the JSON says which).
  tracemalloc is not used: it sees only Python allocations and slows the code it measures two- to threefold.
* the site engine(s), each in a subprocess: wall time, CPU time and peak RSS from os.wait4's rusage.
* a rebuild with no data change (files written must be 0) and a change to one study's survival median
  (which files are rewritten), for our stages; for Zensical also its own warm rebuild with its cache. mkdocs
  has no incremental build into a fresh output directory: it re-renders every page on every build, so its
  rebuild cost is its full build time.
* pages written, bytes per HTML page by kind (study, comparison, regimen pages are the per-item pages whose
  size must not grow with N; the index pages list every item and grow by design), and the largest page.

Nothing here asserts a time: the targets are evaluated and reported (`targets` in the JSON), never enforced.
"""

from __future__ import annotations

import csv
import gzip
import http.server
import io
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from functools import partial
from pathlib import Path
from typing import Any

from livingevidence import paths
from livingevidence.site import DocsWriter, StageClock

OUR_STAGES = ("validate", "load", "analyse", "render", "write")
DEFAULT_JSON = paths.BUILD_DIR / "bench.json"
BENCH_DIR = paths.BUILD_DIR / "bench"
LIGHTHOUSE_BIN = paths.BUILD_DIR / "tools" / "lighthouse" / "node_modules" / ".bin" / "lighthouse"
#: Pages that list every study or comparison: they grow with N by design and are reported apart.
INDEX_PAGES = ("index.html", "studies/index.html", "comparisons/index.html", "regimens/index.html")
INDEX_PREFIXES = ("data/",)


# --- memory ------------------------------------------------------------------------------------------------


def _hwm_mb() -> float:
    """Peak resident set of this process since the last reset, in MB."""
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii")
        return int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]
    except (OSError, AttributeError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_hwm() -> bool:
    """Reset the peak-RSS mark (Linux >= 4.0); False where that is not allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5", encoding="ascii")
        return True
    except OSError:
        return False


class MemoryClock(StageClock):
    """A StageClock that also records each stage's peak RSS."""

    def __init__(self) -> None:
        super().__init__()
        self.peak_mb: dict[str, float] = {}
        self.per_stage = _reset_hwm()

    def start(self) -> None:
        """Begin the next stage: reset the timer and the peak-RSS mark."""
        _reset_hwm()
        super().start()

    def lap(self, name: str) -> None:
        """Close a stage, with its time and peak memory."""
        super().lap(name)
        self.peak_mb[name] = round(max(self.peak_mb.get(name, 0.0), _hwm_mb()), 1)
        _reset_hwm()
        self.last = time.perf_counter()


# --- our stages, in a child process ------------------------------------------------------------------------


def our_stages(package: Path, docs: Path) -> dict[str, Any]:
    """Validate and generate `package` into `docs` (kept between runs); times, peaks and files written."""
    from livingevidence.site import prepare_docs

    clock = MemoryClock()
    writer = DocsWriter(docs)
    report, _package, reused = prepare_docs(package, docs, clock=clock, writer=writer)
    return {
        "reused_previous_build": reused,
        "seconds": {k: round(v, 3) for k, v in clock.timings.items()},
        "peak_mb": clock.peak_mb,
        "peak_mb_per_stage": clock.per_stage,
        "warnings": len(report.warnings),
        "files_written": len(writer.written),
        "files_unchanged": writer.unchanged,
        "files_removed": len(writer.removed),
        "written": sorted(writer.written),
        "markdown_pages": sum(1 for p in writer.produced if p.endswith(".md")),
    }


def _child_main(argv: list[str]) -> None:
    """Entry point of the child process: `our_stages(package, docs)` as JSON on stdout."""
    print(json.dumps(our_stages(Path(argv[0]), Path(argv[1]))))


def _run_child(args: list[str], **kwargs: Any) -> tuple[subprocess.CompletedProcess, float, float, float]:
    """Run a command; return it, its wall seconds, its CPU seconds and its peak RSS (MB) from os.wait4."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)
    # Read the pipes in threads so a chatty child cannot block; wait4 gives this child's own rusage.
    out: dict[str, str] = {}
    readers = [
        threading.Thread(target=lambda n=name, s=stream: out.__setitem__(n, s.read()))
        for name, stream in (("stdout", proc.stdout), ("stderr", proc.stderr))
    ]
    for r in readers:
        r.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    for r in readers:
        r.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    done = subprocess.CompletedProcess(args, proc.returncode, out.get("stdout", ""), out.get("stderr", ""))
    return done, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def run_ours(package: Path, docs: Path) -> dict[str, Any]:
    """Our stages in a fresh interpreter (imports excluded from the stage times, included in the wall time)."""
    code = "import sys; from livingevidence.tools.bench import _child_main; _child_main(sys.argv[1:])"
    done, wall, _cpu, rss = _run_child([sys.executable, "-c", code, str(package), str(docs)], cwd=paths.ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"our stages failed on {package}:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["total_seconds"] = round(sum(result["seconds"].get(s, 0.0) for s in OUR_STAGES), 3)
    result["process_seconds"] = round(wall, 3)
    result["process_peak_mb"] = round(rss, 1)
    return result


# --- the site engines --------------------------------------------------------------------------------------


def run_engine(engine: str, root: Path, docs: Path, site: Path, package: Path, clean: bool = True) -> dict[str, Any]:
    """Build `docs` into `site` with one engine in a subprocess; wall time, CPU time, peak RSS."""
    from livingevidence.load import package_info, read_descriptor
    from livingevidence.site import engine_config

    info = package_info(read_descriptor(package))
    if clean and site.exists():
        shutil.rmtree(site)
    if engine == "mkdocs":
        config = engine_config(docs, site, info, root / "mkdocs-engine.yml")
        code = (
            "import sys; from pathlib import Path; from livingevidence.site import run_engine; "
            "run_engine(Path(sys.argv[1]))"
        )
        args = [sys.executable, "-c", code, str(config)]
    else:
        if clean:
            shutil.rmtree(root / ".cache", ignore_errors=True)
        config = engine_config(docs, site, info, root / "zensical-engine.yml", relative=True)
        args = [sys.executable, "-m", "zensical", "build", "--strict", "-f", str(config)]
    done, wall, cpu, rss = _run_child(args, cwd=paths.ROOT, env={**os.environ, "NO_COLOR": "1"})
    if done.returncode != 0:
        return {"ok": False, "error": (done.stdout + done.stderr)[-2000:], "seconds": round(wall, 3)}
    return {"ok": True, "seconds": round(wall, 3), "cpu_seconds": round(cpu, 3), "peak_mb": round(rss, 1)}


def _engine_available(engine: str) -> str | None:
    if engine == "mkdocs":
        return None
    from livingevidence.site import zensical_missing

    return zensical_missing()


# --- pages -------------------------------------------------------------------------------------------------


def _kind(rel: str) -> str:
    if rel in INDEX_PAGES or rel.startswith(INDEX_PREFIXES):
        return "index"
    for kind in ("studies", "comparisons", "regimens"):
        if rel.startswith(f"{kind}/"):
            return kind
    return "other"


def page_stats(site: Path) -> dict[str, Any]:
    """HTML pages by kind: count and mean bytes; the largest page; the whole output's size."""
    by_kind: dict[str, list[int]] = {}
    largest = ("", 0)
    for html in site.rglob("*.html"):
        rel = html.relative_to(site).as_posix()
        size = html.stat().st_size
        by_kind.setdefault(_kind(rel), []).append(size)
        if size > largest[1]:
            largest = (rel, size)
    leaf = [s for k in ("studies", "comparisons", "regimens") for s in by_kind.get(k, [])]
    return {
        "html_pages": sum(len(v) for v in by_kind.values()),
        "bytes_per_page": {k: round(statistics.fmean(v)) for k, v in sorted(by_kind.items())},
        "pages_by_kind": {k: len(v) for k, v in sorted(by_kind.items())},
        "bytes_per_item_page": round(statistics.fmean(leaf)) if leaf else 0,
        "largest_page": {"path": largest[0], "bytes": largest[1]},
        "site_bytes": sum(p.stat().st_size for p in site.rglob("*") if p.is_file()),
    }


# --- one-study change --------------------------------------------------------------------------------------


def change_one_study(package: Path) -> str:
    """Change one survival median of the package's first study (within its CI); return the study id."""
    path = package / "survival.csv"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    header = rows[0]
    col = {name: i for i, name in enumerate(header)}
    row = rows[1]
    low, high = float(row[col["ci_low"]]), float(row[col["ci_high"]])
    row[col["median_months"]] = f"{round((low + high) / 2, 1):g}"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    populations = {r[0]: r[1] for r in csv.reader(io.StringIO((package / "populations.csv").read_text("utf-8")))}
    return populations[row[col["population_id"]]]


def _by_kind(written: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for rel in written:
        if rel.endswith(".md"):
            kind = "page:" + (_kind(rel.removesuffix(".md") + ".html") if "/" in rel else "index")
        elif rel.startswith("api/"):
            kind = "api:" + rel.split("/")[1].removesuffix(".json")
        elif rel.startswith("downloads/"):
            kind = "download"
        else:
            kind = "other"
        out[kind] = out.get(kind, 0) + 1
    return dict(sorted(out.items()))


# --- Lighthouse --------------------------------------------------------------------------------------------


def lighthouse_command() -> list[str] | None:
    """How to run Lighthouse here (`make lighthouse` installs it under .build/tools), or None."""
    if os.environ.get("LIGHTHOUSE"):
        return [os.environ["LIGHTHOUSE"]]
    if LIGHTHOUSE_BIN.exists():
        return [str(LIGHTHOUSE_BIN)]
    found = shutil.which("lighthouse")
    return [found] if found else None


#: Lighthouse audits reported beside the scores (milliseconds, bytes; CLS unitless).
LIGHTHOUSE_METRICS = {
    "first-contentful-paint": "fcp_ms",
    "largest-contentful-paint": "lcp_ms",
    "total-blocking-time": "tbt_ms",
    "cumulative-layout-shift": "cls",
    "total-byte-weight": "transfer_bytes",
}


class _Quiet(http.server.SimpleHTTPRequestHandler):
    """A static server that compresses text as GitHub Pages (and any production host) does.

    Without it Lighthouse would weigh every page uncompressed, which no reader ever downloads: a comparison
    page's chart specs are escaped JSON, several times smaller gzipped.
    """

    COMPRESSED = (".html", ".js", ".css", ".json", ".svg", ".xml", ".txt")

    def log_message(self, format: str, *args: object) -> None:
        pass

    def send_head(self):  # type: ignore[no-untyped-def]
        url_path = self.path.split("?", 1)[0].split("#", 1)[0]
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            if not url_path.endswith("/"):
                return super().send_head()  # the base class redirects to the address with a slash
            path = path / "index.html"
        gzip_ok = "gzip" in self.headers.get("Accept-Encoding", "")
        if not gzip_ok or path.suffix not in self.COMPRESSED or not path.is_file():
            return super().send_head()  # as is, or the base class's 404
        body = gzip.compress(path.read_bytes(), compresslevel=6, mtime=0)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=600")
        self.end_headers()
        return io.BytesIO(body)


def run_lighthouse(site: Path, pages: dict[str, str], runs: int = 3) -> dict[str, Any]:
    """Median Lighthouse scores (0-100) per page over `runs` runs, the site served on localhost."""
    command = lighthouse_command()
    chrome = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
    if command is None or not Path(chrome).exists():
        return {
            "available": False,
            "why": "lighthouse or chromium not found (make lighthouse; apt-get install chromium)",
        }
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    flags = (
        "--headless=new --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-sync "
        "--disable-background-networking --disable-component-update"
    )
    results: dict[str, Any] = {"available": True, "runs": runs, "form_factor": "mobile (Lighthouse default)"}
    try:
        for name, rel in pages.items():
            scores: dict[str, list[float]] = {}
            metrics: dict[str, list[float]] = {}
            for _ in range(runs):
                done = subprocess.run(
                    [
                        *command,
                        base + rel,
                        "--output=json",
                        "--output-path=stdout",
                        "--quiet",
                        "--only-categories=performance,accessibility,best-practices,seo",
                        f"--chrome-flags={flags}",
                    ],
                    capture_output=True,
                    text=True,
                    env={**os.environ, "CHROME_PATH": chrome},
                    timeout=300,
                    check=False,
                )
                if done.returncode != 0:
                    results[name] = {"error": done.stderr[-1000:]}
                    break
                report = json.loads(done.stdout)
                for cat, value in report["categories"].items():
                    if value.get("score") is not None:
                        scores.setdefault(cat, []).append(100 * value["score"])
                for audit, key in LIGHTHOUSE_METRICS.items():
                    value = report.get("audits", {}).get(audit, {}).get("numericValue")
                    if value is not None:
                        metrics.setdefault(key, []).append(value)
            else:
                results[name] = {
                    "url": rel,
                    **{c: round(statistics.median(v)) for c, v in scores.items()},
                    # What the performance score is made of, so a low score can be read, not just quoted.
                    "metrics": {k: round(statistics.median(v), 3) for k, v in metrics.items()},
                }
    finally:
        server.shutdown()
    return results


# --- the whole benchmark -----------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    """CPU model and count, memory, Python and OS, as recorded with the results."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))  # type: ignore[union-attr]
        mem_gb = round(kb / 1024 / 1024, 1)
    except (OSError, AttributeError):
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": mem_gb,
        "python": platform.python_version(),
        "os": platform.platform(),
    }


def bench_size(n: int, engines: list[str], root: Path, seed: int = 1) -> dict[str, Any]:
    """All measurements for one package size."""
    from livingevidence.tools.synth import write_package

    root.mkdir(parents=True, exist_ok=True)
    package, docs = root / "package", root / "docs"
    for stale in (package, docs):
        shutil.rmtree(stale, ignore_errors=True)
    start = time.perf_counter()
    write_package(n, package, seed)
    result: dict[str, Any] = {"studies": n, "synth_seconds": round(time.perf_counter() - start, 3)}
    result["ours"] = run_ours(package, docs)
    result["engines"] = {}
    for engine in engines:
        why = _engine_available(engine)
        if why:
            result["engines"][engine] = {"ok": False, "error": why}
            continue
        site = root / f"site-{engine}"
        info = run_engine(engine, root, docs, site, package)
        if info["ok"]:
            info.update(page_stats(site))
        result["engines"][engine] = info
    result["rebuild_unchanged"] = run_ours(package, docs)
    changed = change_one_study(package)
    after = run_ours(package, docs)
    after["changed_study"] = changed
    after["written_by_kind"] = _by_kind(after["written"])
    result["rebuild_one_study"] = after
    for engine in engines:
        info = result["engines"][engine]
        if engine == "zensical" and info.get("ok"):
            warm = run_engine(engine, root, docs, root / f"site-{engine}", package, clean=False)
            info["rebuild_after_one_study_seconds"] = warm.get("seconds")
    for key in ("ours", "rebuild_unchanged", "rebuild_one_study"):
        if len(result[key]["written"]) > 50:  # keep the JSON small; counts stay
            result[key]["written"] = [*result[key]["written"][:50], "..."]
    return result


def targets(results: list[dict[str, Any]], default_engine: str = "mkdocs") -> dict[str, Any]:
    """The issue's targets, evaluated (reported, never enforced)."""
    by_n = {r["studies"]: r for r in results}
    out: dict[str, Any] = {}

    def ours(n: int) -> float:
        return by_n[n]["ours"]["total_seconds"]

    def engine(n: int) -> float | None:
        e = by_n[n]["engines"].get(default_engine, {})
        return e.get("seconds") if e.get("ok") else None

    if 1000 in by_n:
        out["ours_1000_under_15s"] = {"value": ours(1000), "limit": 15.0, "met": ours(1000) < 15.0}
        if engine(1000):
            ratio = ours(1000) / engine(1000)  # type: ignore[operator]
            out["ours_under_30pct_of_engine_1000"] = {"value": round(ratio, 3), "limit": 0.3, "met": ratio < 0.3}
    if 1000 in by_n and 5000 in by_n:
        growth = ours(5000) / ours(1000)
        out["ours_5000_over_1000_at_most_5.5x"] = {"value": round(growth, 2), "limit": 5.5, "met": growth <= 5.5}
    if results:
        big = max(by_n)
        peak = max(max(by_n[big]["ours"]["peak_mb"].values()), by_n[big]["ours"]["process_peak_mb"])
        out[f"our_peak_memory_{big}_under_2GB"] = {"value_mb": peak, "limit_mb": 2048, "met": peak < 2048}
        for name, e in by_n[big]["engines"].items():
            if e.get("ok") and e.get("peak_mb"):
                out[f"{name}_peak_memory_{big}_under_2GB"] = {
                    "value_mb": e["peak_mb"],
                    "limit_mb": 2048,
                    "met": e["peak_mb"] < 2048,
                }
    small, big = (min(by_n), max(by_n)) if by_n else (0, 0)
    e_small = by_n.get(small, {}).get("engines", {}).get(default_engine, {})
    e_big = by_n.get(big, {}).get("engines", {}).get(default_engine, {})
    if small != big and e_small.get("ok") and e_big.get("ok"):
        a, b = e_small["bytes_per_item_page"], e_big["bytes_per_item_page"]
        change = (b - a) / a
        out["bytes_per_item_page_within_10pct"] = {
            "from": a,
            "to": b,
            "change": round(change, 3),
            "met": abs(change) <= 0.10,
        }
    for r in results:
        n = r["studies"]
        full = r["ours"]["total_seconds"]
        again = r["rebuild_unchanged"]
        share = again["total_seconds"] / full if full else 0.0
        out[f"rebuild_unchanged_{n}"] = {
            "files_written": again["files_written"],
            "share_of_full": round(share, 3),
            "met": again["files_written"] == 0 and share < 0.2,
        }
    return out


def table(report: dict[str, Any]) -> str:
    """The human-readable summary printed by `build.py bench` and quoted in the README."""
    lines = []
    m = report["machine"]
    lines.append(f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB; Python {m['python']}")
    header = f"{'studies':>7} {'stage':<22} {'wall s':>8} {'peak MB':>8}"
    lines += [header, "-" * len(header)]
    for r in report["results"]:
        n = r["studies"]
        o = r["ours"]
        for stage in OUR_STAGES:
            lines.append(f"{n:>7} {stage:<22} {o['seconds'].get(stage, 0):>8.2f} {o['peak_mb'].get(stage, 0):>8.0f}")
        lines.append(f"{n:>7} {'= our stages':<22} {o['total_seconds']:>8.2f} {max(o['peak_mb'].values()):>8.0f}")
        for engine, e in r["engines"].items():
            if e.get("ok"):
                lines.append(f"{n:>7} {'engine: ' + engine:<22} {e['seconds']:>8.2f} {e['peak_mb']:>8.0f}")
            else:
                why = (e.get("error", "").strip().splitlines() or [""])[-1]
                lines.append(f"{n:>7} {'engine: ' + engine:<22} {'failed':>8}  {why[:150]}")
        u, c = r["rebuild_unchanged"], r["rebuild_one_study"]
        lines.append(
            f"{n:>7} {'rebuild, no change':<22} {u['total_seconds']:>8.2f} {'':>8} "
            f"{u['files_written']} files written ({100 * u['total_seconds'] / o['total_seconds']:.0f}% of full)"
        )
        lines.append(
            f"{n:>7} {'rebuild, one study':<22} {c['total_seconds']:>8.2f} {'':>8} "
            f"{c['files_written']} files rewritten: {', '.join(f'{k} {v}' for k, v in c['written_by_kind'].items())}"
        )
    lines.append("")
    head2 = (
        f"{'studies':>7} {'engine':<9} {'pages':>6} {'B/item page':>11} {'B/index page':>12} "
        f"{'largest page':>30} {'ours/engine':>11}"
    )
    lines += [head2, "-" * len(head2)]
    for r in report["results"]:
        for engine, e in r["engines"].items():
            if not e.get("ok"):
                continue
            largest = f"{e['largest_page']['path']} {e['largest_page']['bytes'] / 1e6:.2f} MB"
            lines.append(
                f"{r['studies']:>7} {engine:<9} {e['html_pages']:>6} {e['bytes_per_item_page']:>11} "
                f"{e['bytes_per_page'].get('index', 0):>12} {largest:>30} "
                f"{r['ours']['total_seconds'] / e['seconds']:>11.2f}"
            )
    lines.append("")
    lines.append("Targets (reported, not enforced):")
    for name, t in report["targets"].items():
        shown = {k: v for k, v in t.items() if k != "met"}
        lines.append(f"  {'met ' if t['met'] else 'MISS'} {name}: {shown}")
    lh = report.get("lighthouse")
    if lh and lh.get("available"):
        lines.append("")
        lines.append(f"Lighthouse (median of {lh['runs']}, {lh['form_factor']}):")
        lines.append(
            f"  {'page':<11} {'perf':>4} {'a11y':>4} {'bp':>4} {'seo':>4} {'FCP s':>6} {'LCP s':>6} {'TBT ms':>7} "
            f"{'CLS':>5} {'KB sent':>8}  url"
        )
        for name, v in lh.items():
            if not isinstance(v, dict):
                continue
            if "error" in v:
                lines.append(f"  {name:<11} failed: {v['error'].strip().splitlines()[-1:]}")
                continue
            m = v.get("metrics", {})

            def num(key: str, scale: float = 1.0, digits: int = 1, m: dict = m) -> str:
                return f"{m[key] / scale:.{digits}f}" if key in m else "-"

            lines.append(
                f"  {name:<11} {v.get('performance', '-'):>4} {v.get('accessibility', '-'):>4} "
                f"{v.get('best-practices', '-'):>4} {v.get('seo', '-'):>4} {num('fcp_ms', 1000):>6} "
                f"{num('lcp_ms', 1000):>6} {num('tbt_ms', 1, 0):>7} {num('cls', 1, 3):>5} "
                f"{num('transfer_bytes', 1000, 0):>8}  /{v.get('url', '')}"
            )
    elif lh:
        lines.append(f"Lighthouse: not run ({lh.get('why')})")
    return "\n".join(lines)


def run_bench(
    sizes: str = "100,1000,5000",
    json_path: Path | None = None,
    engines: str = "mkdocs,zensical",
    *,
    lighthouse: bool = False,
    root: Path = BENCH_DIR,
) -> int:
    """`build.py bench`: run every size, print the table, write the JSON. Exit 0 (2 on bad arguments)."""
    try:
        ns = sorted({int(s) for s in sizes.split(",") if s.strip()})
    except ValueError:
        print(f"bench: --sizes must be comma-separated whole numbers, got {sizes!r}", file=sys.stderr)
        return 2
    engine_list = [e.strip() for e in engines.split(",") if e.strip()]
    bad = [e for e in engine_list if e not in ("mkdocs", "zensical")]
    if not ns or min(ns) < 1 or bad:
        print("bench: sizes must be >= 1 and engines mkdocs and/or zensical", file=sys.stderr)
        return 2
    report: dict[str, Any] = {"machine": machine(), "sizes": ns, "engines": engine_list, "results": []}
    for n in ns:
        print(f"bench: {n} studies ...", file=sys.stderr, flush=True)
        report["results"].append(bench_size(n, engine_list, root / str(n)))
    report["targets"] = targets(report["results"], engine_list[0] if engine_list else "mkdocs")
    if lighthouse:
        big = max(ns)
        site = root / str(big) / f"site-{engine_list[0]}"
        pages = {
            "home": "",
            "study": "studies/synth-00001/",
            "comparison": f"comparisons/{_largest_comparison(site)}/",
        }
        report["lighthouse"] = {"studies": big, **run_lighthouse(site, pages)}
    out = Path(json_path) if json_path else DEFAULT_JSON
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(table(report))
    print(f"\nresults written to {out}")
    return 0


def _largest_comparison(site: Path) -> str:
    """The comparison page with the most bytes (the most studies pooled)."""
    pages = sorted(site.glob("comparisons/*/index.html"), key=lambda p: p.stat().st_size)
    return pages[-1].parent.name if pages else ""
