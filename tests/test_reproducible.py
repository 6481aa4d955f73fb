"""Reproducible builds: the same commit and data give a byte-identical site, whatever the clock, time zone, locale,
hash seed or SOURCE_DATE_EPOCH of the machine that builds it.

Two builds of the real package run in subprocesses with different environments; the second one, when libfaketime
is installed (`apt-get install faketime`; .ci/run installs it), also believes it is another year. Every file of
the two sites is compared by SHA-256.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from livingevidence import paths
from livingevidence.load import load_package


def _hash_tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _build(out: Path, env: dict[str, str], prefix: list[str]) -> None:
    clean = {k: v for k, v in os.environ.items() if k not in ("SOURCE_DATE_EPOCH", "PYTHONHASHSEED", "TZ")}
    result = subprocess.run(
        [*prefix, sys.executable, "build.py", "build", "--out", str(out)],
        cwd=paths.ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The real package built twice, under two different clocks and environments."""
    root = tmp_path_factory.mktemp("repro")
    first, second = root / "one" / "site", root / "two" / "site"
    _build(first, {"TZ": "UTC", "PYTHONHASHSEED": "1", "LC_ALL": "C.UTF-8"}, [])
    faketime = shutil.which("faketime")
    _build(
        second,
        # A time zone 14 hours ahead, another hash seed and a SOURCE_DATE_EPOCH of 2001 that must not leak in.
        {"TZ": "Pacific/Kiritimati", "PYTHONHASHSEED": "2", "SOURCE_DATE_EPOCH": "1000000000", "LC_ALL": "C"},
        [faketime, "-f", "@2031-02-03 04:05:06"] if faketime else [],
    )
    return first, second


def test_two_builds_are_byte_identical(two_builds: tuple[Path, Path]) -> None:
    first, second = two_builds
    a, b = _hash_tree(first), _hash_tree(second)
    assert sorted(a) == sorted(b), set(a) ^ set(b)
    differing = sorted(name for name in a if a[name] != b[name])
    assert differing == [], f"{len(differing)} files differ between two builds: {differing[:20]}"
    assert len(a) > 50


def test_dates_come_from_the_data_version(two_builds: tuple[Path, Path]) -> None:
    first, _ = two_builds
    date = load_package().info.date
    sitemap = (first / "sitemap.xml").read_text(encoding="utf-8")
    lastmods = {line.strip() for line in sitemap.splitlines() if "<lastmod>" in line}
    assert lastmods <= {f"<lastmod>{date}</lastmod>"}  # pages have a lastmod only when site_url is set
    with gzip.open(first / "sitemap.xml.gz") as fh:
        assert fh.read().decode("utf-8") == sitemap
    header_mtime = int.from_bytes((first / "sitemap.xml.gz").read_bytes()[4:8], "little")
    assert datetime.fromtimestamp(header_mtime, UTC).date().isoformat() == date


def test_the_engine_sees_the_data_date_not_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    from mkdocs.utils import get_build_date

    from livingevidence.site import data_date_epoch

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1000000000")
    with data_date_epoch("2026-11-22T00:00:00Z"):
        assert get_build_date() == "2026-11-22"
    assert os.environ["SOURCE_DATE_EPOCH"] == "1000000000"
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    with data_date_epoch("2024-02-29"):
        assert get_build_date() == "2024-02-29"
    assert "SOURCE_DATE_EPOCH" not in os.environ


def test_zip_downloads_have_fixed_timestamps(two_builds: tuple[Path, Path]) -> None:
    first, _ = two_builds
    zips = sorted((first / "downloads").rglob("*.zip"))
    assert zips
    for path in zips:
        with zipfile.ZipFile(path) as zf:
            assert {info.date_time for info in zf.infolist()} <= {(1980, 1, 1, 0, 0, 0)}, path
