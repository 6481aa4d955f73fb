"""Run the whole build: validate, analyse, write pages, run the site engine, swap the site into place.

A failed stage never touches the published site: everything is written into a fresh temporary directory
next to the output, and only a complete build is renamed into place.
"""

from __future__ import annotations

import http.server
import shutil
import sys
import tempfile
import threading
import time
import zipfile
from functools import partial
from pathlib import Path

import yaml

from livingevidence import paths
from livingevidence.analysis.synthesis import synthesise
from livingevidence.charts import write_assets
from livingevidence.load import load_package, read_descriptor
from livingevidence.model import EvidencePackage
from livingevidence.pages.common import Page, problems_by_study
from livingevidence.pages.comparison import comparison_json, comparison_page, comparisons_index
from livingevidence.pages.evidence_map import evidence_map, whats_new
from livingevidence.pages.indexes import api_index, data_pages, dump, home_page, regimen_pages, studies_index
from livingevidence.pages.render import render
from livingevidence.pages.study import study_page, study_rows
from livingevidence.report import Report

STATIC_DIR = Path(__file__).parent / "static"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: the same data gives byte-identical zips


class BuildError(Exception):
    """A stage failed; the message says which and why."""


def generate(package_path: Path, docs_out: Path, report: Report) -> EvidencePackage:
    """Write every page, chart asset, JSON file and download into docs_out (the site engine's input)."""
    package = load_package(package_path)
    descriptor = read_descriptor(package_path)
    shutil.copytree(paths.DOCS_DIR, docs_out, dirs_exist_ok=True)
    problems = problems_by_study(package, report.warnings)
    syntheses = {cid: synthesise(package, cid) for cid in package.comparisons}
    pages: list[Page] = [studies_index(package), comparisons_index(package, syntheses)]
    pages += [study_page(package, s, problems.get(sid, [])) for sid, s in package.studies.items()]
    for cid, comparison in package.comparisons.items():
        page = comparison_page(package, comparison, syntheses[cid])
        page.data_files[f"api/comparisons/{cid}.json"] = comparison_json(package, comparison, syntheses[cid])
        pages.append(page)
    pages += regimen_pages(package)
    zip_name = f"{package.info.name}-{package.info.version}.zip"
    from livingevidence.checks import RULES

    pages += data_pages(
        package,
        descriptor,
        report.warnings,
        [{"id": r.id, "layer": r.layer, "severity": r.severity, "description": r.description} for r in RULES.values()],
        zip_name,
    )
    pages.append(home_page(package, evidence_map(package, syntheses), whats_new(package)))
    for page in pages:
        target = docs_out / page.path
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            target.write_text(render(page.template, **page.context), encoding="utf-8")
        except Exception as exc:  # a template error names the page and the template
            raise BuildError(f"rendering {page.path} with templates/{page.template} failed: {exc}") from exc
        for rel, obj in page.data_files.items():
            (docs_out / rel).parent.mkdir(parents=True, exist_ok=True)
            (docs_out / rel).write_text(dump(obj), encoding="utf-8")
    (docs_out / "api").mkdir(exist_ok=True)
    (docs_out / "api" / "index.json").write_text(dump(api_index(package)), encoding="utf-8")
    for sid in package.studies:
        rows = study_rows(package, sid)
        target = docs_out / "api" / "studies" / f"{sid}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(dump({"id": sid, "version": package.info.version, "tables": rows}), encoding="utf-8")
        _zip_study_csv(
            paths.descriptor_in(package_path).parent,
            descriptor,
            package,
            sid,
            docs_out / "downloads" / "studies" / f"{sid}.zip",
        )
    _zip_package(paths.descriptor_in(package_path).parent, descriptor, docs_out / "downloads" / zip_name)
    shutil.copy2(paths.descriptor_in(package_path), docs_out / "downloads" / "datapackage.json")
    write_assets(docs_out)
    (docs_out / "assets").mkdir(exist_ok=True)
    shutil.copy2(STATIC_DIR / "site.css", docs_out / "assets" / "site.css")
    (docs_out / "js").mkdir(exist_ok=True)
    shutil.copy2(STATIC_DIR / "tables.js", docs_out / "js" / "tables.js")
    return package


def _zip_write(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    zf.writestr(info, data)


def _zip_package(base: Path, descriptor: dict, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w") as zf:
        _zip_write(zf, "datapackage.json", (base / "datapackage.json").read_bytes())
        for r in sorted(descriptor["resources"], key=lambda r: r["path"]):
            _zip_write(zf, r["path"], (base / r["path"]).read_bytes())


def _zip_study_csv(base: Path, descriptor: dict, package: EvidencePackage, study_id: str, target: Path) -> None:
    """One CSV per table with only this study's rows, header kept, lines as in the package."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w") as zf:
        for r in descriptor["resources"]:
            name = r["name"]
            lines = (base / r["path"]).read_text(encoding="utf-8").splitlines(keepends=True)
            rows = package.tables[name]
            if name in (
                "interventions",
                "regimens",
                "regimen_components",
                "comparisons",
                "comparison_pairs",
                "certainty",
            ):
                continue
            keep = [lines[0]]
            # Row i of the table is line i+1 of the file only for files without embedded newlines; fall back
            # to the csv module when the counts disagree.
            if len(lines) - 1 != len(rows):
                import csv
                import io

                out = io.StringIO()
                with (base / r["path"]).open(encoding="utf-8", newline="") as fh:
                    reader = csv.reader(fh)
                    writer = csv.writer(out, lineterminator="\n")
                    writer.writerow(next(reader))
                    for row, rec in zip(rows, reader, strict=False):
                        if package.study_of(row) == study_id:
                            writer.writerow(rec)
                data = out.getvalue()
            else:
                keep += [line for row, line in zip(rows, lines[1:], strict=True) if package.study_of(row) == study_id]
                data = "".join(keep)
            if data.count("\n") > 1:
                _zip_write(zf, r["path"], data.encode("utf-8"))


def _engine_config(docs_dir: Path, site_dir: Path, package: EvidencePackage, work: Path) -> Path:
    config = {
        "INHERIT": str(paths.MKDOCS_YML),
        "docs_dir": str(docs_dir),
        "site_dir": str(site_dir),
        "theme": {"name": "material", "custom_dir": str(paths.TEMPLATES_DIR / "overrides")},
        "extra": {"data_version": package.info.version, "data_date": package.info.date},
    }
    path = work / "mkdocs.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=True), encoding="utf-8")
    return path


def run_engine(config_file: Path) -> None:
    """Build with mkdocs in-process (strict: any warning fails the build)."""
    import logging

    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    logging.getLogger("mkdocs").setLevel(logging.ERROR)
    cfg = load_config(config_file=str(config_file), strict=True)
    build(cfg)


def build_site(package_path: Path, out: Path) -> tuple[Report, EvidencePackage]:
    """Validate and build into `out`, atomically. Raises BuildError (site untouched) on any failure."""
    from livingevidence.checks import validate_package

    report = validate_package(package_path)
    if not report.valid:
        raise BuildError("validation failed:\n" + report.to_text())
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    paths.BUILD_DIR.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=paths.BUILD_DIR, prefix="work-") as work_s:
        work = Path(work_s)
        docs_dir = work / "docs"
        site_tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.new-"))
        try:
            try:
                package = generate(package_path, docs_dir, report)
            except BuildError:
                raise
            except Exception as exc:
                raise BuildError(f"generating pages failed: {type(exc).__name__}: {exc}") from exc
            try:
                run_engine(_engine_config(docs_dir, site_tmp, package, work))
            except BaseException as exc:  # mkdocs raises SystemExit/Abort on strict warnings
                raise BuildError(f"the site engine (mkdocs) failed: {type(exc).__name__}: {exc}") from exc
            _swap(site_tmp, out)
        finally:
            if site_tmp.exists():
                shutil.rmtree(site_tmp, ignore_errors=True)
    return report, package


def _swap(new: Path, out: Path) -> None:
    old = out.parent / f".{out.name}.old"
    if old.exists():
        shutil.rmtree(old)
    if out.exists():
        out.rename(old)
    new.rename(out)
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)


def run_build(package: Path, out: Path) -> int:
    """`build.py build`: exit 0 on success, 1 when validation or a build stage failed (site untouched)."""
    start = time.perf_counter()
    try:
        report, pkg = build_site(package, out)
    except BuildError as exc:
        print(f"build failed, {out} left as it was: {exc}", file=sys.stderr)
        return 1
    pages = sum(1 for _ in out.rglob("*.html"))
    print(
        f"built {pages} pages for data version {pkg.info.version} into {out} in {time.perf_counter() - start:.1f} s "
        f"({len(report.warnings)} data-check warnings, listed on data/checks/)"
    )
    return 0


def run_serve(package: Path, port: int) -> int:
    """`build.py serve`: build, serve site/ on localhost, rebuild when data, templates or docs change."""
    out = paths.SITE_DIR
    if run_build(package, out) != 0 and not out.exists():
        return 1
    watched = [paths.descriptor_in(package).parent, paths.TEMPLATES_DIR, paths.DOCS_DIR, paths.MKDOCS_YML]

    def snapshot() -> dict[Path, float]:
        files: dict[Path, float] = {}
        for w in watched:
            for f in [w] if w.is_file() else w.rglob("*"):
                if f.is_file():
                    files[f] = f.stat().st_mtime
        return files

    handler = partial(_QuietHandler, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"serving {out} on http://127.0.0.1:{port}/ (Ctrl+C stops); rebuilding when data changes")
    seen = snapshot()
    try:
        while True:
            time.sleep(1.0)
            now = snapshot()
            if now != seen:
                seen = now
                run_build(package, out)  # a failed rebuild keeps serving the last good site
    except KeyboardInterrupt:
        server.shutdown()
    return 0


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass
