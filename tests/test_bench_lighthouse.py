"""The benchmark's Lighthouse side: the local server compresses as a production host does, and the table
prints scores with the metrics behind them (Lighthouse itself is not run here)."""

from __future__ import annotations

import gzip
import http.client
import http.server
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from livingevidence.tools.bench import _Quiet, table


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    (tmp_path / "page").mkdir()
    (tmp_path / "page" / "index.html").write_text("<p>" + "chart " * 500 + "</p>", encoding="utf-8")
    (tmp_path / "logo.png").write_bytes(b"\x89PNG fake")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1], tmp_path
    finally:
        server.shutdown()


def _get(port: int, path: str, gzip_ok: bool = True) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers={"Accept-Encoding": "gzip, deflate"} if gzip_ok else {})
    return conn.getresponse()


def test_text_is_gzipped_when_asked_and_plain_otherwise(served: tuple[int, Path]) -> None:
    port, root = served
    original = (root / "page" / "index.html").read_bytes()
    r = _get(port, "/page/")
    body = r.read()
    assert r.status == 200 and r.getheader("Content-Encoding") == "gzip"
    assert gzip.decompress(body) == original and len(body) < len(original) / 5
    r = _get(port, "/page/", gzip_ok=False)
    assert r.getheader("Content-Encoding") is None and r.read() == original


def test_images_are_not_recompressed_and_directories_redirect(served: tuple[int, Path]) -> None:
    port, _root = served
    r = _get(port, "/logo.png")
    assert r.getheader("Content-Encoding") is None and r.read() == b"\x89PNG fake"
    r = _get(port, "/page")
    assert r.status == 301 and r.getheader("Location") == "/page/"
    assert _get(port, "/missing.html").status == 404


def test_table_prints_scores_and_metrics() -> None:
    report = {
        "machine": {"cpu": "x", "cores": 2, "memory_gb": 1, "python": "3.11"},
        "results": [],
        "targets": {},
        "lighthouse": {
            "available": True,
            "runs": 3,
            "form_factor": "mobile",
            "home": {
                "url": "",
                "performance": 91,
                "accessibility": 100,
                "best-practices": 100,
                "seo": 100,
                "metrics": {"fcp_ms": 1234.0, "lcp_ms": 2500.0, "tbt_ms": 40.0, "cls": 0.0, "transfer_bytes": 51200},
            },
            "study": {"error": "Chrome crashed\nRuntime error"},
        },
    }
    text = table(report)
    home = next(line for line in text.splitlines() if line.strip().startswith("home"))
    assert home.split()[1:5] == ["91", "100", "100", "100"]
    assert "1.2" in home and "2.5" in home and " 40 " in home and "51" in home
    assert "failed" in next(line for line in text.splitlines() if line.strip().startswith("study"))


def test_make_bench_runs_every_size_by_default() -> None:
    # A Makefile default written as $(or $(SIZES),100,1000,5000) silently benchmarked 100 studies only.
    import shutil
    import subprocess

    from livingevidence import paths

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    out = subprocess.run(["make", "-n", "bench"], cwd=paths.ROOT, capture_output=True, text=True, check=True).stdout
    assert "build.py bench --sizes 100,1000,5000" in out
    out = subprocess.run(
        ["make", "-n", "bench", "SIZES=100,1000"], cwd=paths.ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert "build.py bench --sizes 100,1000 " in out or out.rstrip().endswith("--sizes 100,1000")
