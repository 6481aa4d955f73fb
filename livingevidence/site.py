"""Run the whole build: validate, analyse, write pages, run the site engine, swap the site into place.

A failed stage never touches the published site: everything is written into a fresh temporary directory
next to the output, and only a complete build is renamed into place.
"""

from __future__ import annotations

import calendar
import contextlib
import csv
import dataclasses
import datetime
import http.server
import io
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import yaml

from livingevidence import paths, sitedir
from livingevidence.analysis.synthesis import synthesise_all
from livingevidence.charts import write_assets
from livingevidence.downloads import spreadsheet_safe_csv
from livingevidence.load import load_package, package_info, read_descriptor
from livingevidence.model import EvidencePackage, PackageInfo
from livingevidence.pages.common import Page, problems_by_study
from livingevidence.pages.comparison import comparison_json, comparison_page, comparisons_index
from livingevidence.pages.evidence_map import evidence_map
from livingevidence.pages.glossary import glossary_page
from livingevidence.pages.headline import key_findings
from livingevidence.pages.indexes import api_index, data_pages, dump, home_page, regimen_pages, studies_index
from livingevidence.pages.render import render
from livingevidence.pages.search_terms import term_index
from livingevidence.pages.study import GLOBAL_TABLES, study_page, study_rows
from livingevidence.project import Project
from livingevidence.release.context import ReleaseContext, ReleaseOptions, engine_overrides
from livingevidence.report import Report
from livingevidence.safety import UnsafePath, contained, read_package_file

STATIC_DIR = Path(__file__).parent / "static"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: the same data gives byte-identical zips


class BuildError(Exception):
    """A stage failed; the message says which and why."""


class DocsWriter:
    """Writes the site engine's input under `root`, touching a file only when its bytes change.

    Unchanged files keep their modification time, so a rebuild with the same data rewrites nothing and a
    change to one study rewrites only the pages whose content changes. `remove_stale()` deletes files that
    this build did not produce (a study that was removed), so the directory always equals one build's output.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.produced: set[str] = set()
        self.written: list[str] = []
        self.unchanged = 0
        self.removed: list[str] = []

    def _target(self, rel: str) -> Path:
        """root/rel, refused (BuildError) unless it stays inside root: a page, download or citation file named
        after an id or a version of the data can never be written anywhere else."""
        try:
            target = contained(self.root, rel)
        except UnsafePath as exc:
            raise BuildError(str(exc)) from exc
        if target.is_symlink():  # never write through a link, wherever it points
            target.unlink()
        return target

    def write_bytes(self, rel: str, data: bytes) -> None:
        """Write `data` to root/rel unless the file already holds exactly these bytes."""
        target = self._target(rel)
        self.produced.add(rel)
        try:
            if target.stat().st_size == len(data) and target.read_bytes() == data:
                self.unchanged += 1
                return
        except FileNotFoundError:
            target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        self.written.append(rel)

    def write_text(self, rel: str, text: str) -> None:
        """Write UTF-8 text (see write_bytes)."""
        self.write_bytes(rel, text.encode("utf-8"))

    def copy(self, source: Path, rel: str) -> None:
        """Copy one file's bytes (see write_bytes)."""
        self.write_bytes(rel, Path(source).read_bytes())

    def copy_tree(self, source: Path) -> None:
        """Copy every file under `source` to the same relative path under root."""
        for path in sorted(Path(source).rglob("*")):
            if path.is_file():
                self.copy(path, path.relative_to(source).as_posix())

    def claim(self, rel: str) -> None:
        """Record a file written by someone else (it is then not stale)."""
        self._target(rel)
        self.produced.add(rel)

    def remove_stale(self) -> list[str]:
        """Delete files under root that this build did not produce; return their relative paths."""
        if not self.root.is_dir():
            return []
        for path in sorted(self.root.rglob("*"), reverse=True):
            rel = path.relative_to(self.root).as_posix()
            if path.is_file() and rel not in self.produced:
                path.unlink()
                self.removed.append(rel)
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
        return self.removed


def generate(
    package_path: Path,
    docs_out: Path,
    report: Report,
    *,
    writer: DocsWriter | None = None,
    clock: StageClock | None = None,
    release: ReleaseOptions | None = None,
    project: Project | None = None,
) -> EvidencePackage:
    """Write every page, chart asset, JSON file and download into docs_out (the site engine's input).

    Every page gets its citation (front matter read by templates/overrides/main.html) and its static
    citation files; the what's-new pages and feed.xml come from the release history (`release` says
    whether this build becomes a version snapshot, and where the site lives).

    Only files whose bytes change are written, and files this build does not produce are removed (see
    DocsWriter). `clock`, when given, records the stages load, analyse, render (page contexts, chart specs
    and Markdown) and write.
    """
    clock = clock or StageClock()
    project = project or Project.at()
    overrides = (str(project.templates_dir),) if project.templates_dir else ()
    release = release or ReleaseOptions()
    if release.config_path is None:
        release = dataclasses.replace(release, config_path=project.mkdocs_yml)
    out = writer or DocsWriter(docs_out)
    package = load_package(package_path)
    descriptor = read_descriptor(package_path)
    base = paths.descriptor_in(package_path).parent
    clock.lap("load")
    problems = problems_by_study(package, report.warnings)
    syntheses = synthesise_all(package)
    clock.lap("analyse")
    rel_ctx = ReleaseContext(package, package_path, descriptor, release)
    docs_in = project.docs_dir
    for doc in sorted(docs_in.rglob("*")) if docs_in.is_dir() else ():  # hand-written pages, with citations
        if doc.is_file():
            rel = doc.relative_to(docs_in).as_posix()
            data = _read_inside(docs_in, rel)  # a link out of docs/ is never published
            if doc.suffix == ".md":
                out.write_text(rel, rel_ctx.annotate(rel, data.decode("utf-8")))
            else:
                out.write_bytes(rel, data)
    zip_name = f"{package.info.name}-{package.info.version}.zip"

    def all_pages() -> Iterator[Page]:
        # One page at a time: its context is built, rendered, written and dropped (at 5,000 studies holding
        # every context and every rendered page at once took gigabytes).
        yield studies_index(package)
        yield comparisons_index(package, syntheses)
        for sid, s in package.studies.items():
            yield study_page(package, s, problems.get(sid, []))
        for cid, comparison in package.comparisons.items():
            page = comparison_page(package, comparison, syntheses[cid], history=rel_ctx.history(cid))
            page.data_files[f"api/comparisons/{cid}.json"] = comparison_json(package, comparison, syntheses[cid])
            yield page
        yield from regimen_pages(package)
        from livingevidence.checks import RULES

        rules = [
            {"id": r.id, "layer": r.layer, "severity": r.severity, "description": r.description} for r in RULES.values()
        ]
        # The public data-checks page lists what the papers printed (layer 3); notices about the package
        # itself (a missing label, an unread column) are for its maintainers and stay in `validate`.
        paper_slips = [w for w in report.warnings if RULES[w.rule].layer == 3]
        yield from data_pages(package, descriptor, paper_slips, rules, zip_name)
        yield home_page(
            package, evidence_map(package, syntheses), rel_ctx.home_whats_new(), key_findings(package, syntheses)
        )
        yield glossary_page(package)
        yield from rel_ctx.pages()

    for page in all_pages():
        try:
            text = rel_ctx.annotate(page.path, render(page.template, overrides=overrides, **page.context))
        except Exception as exc:  # a template error names the page and the template
            raise BuildError(f"rendering {page.path} with templates/{page.template} failed: {exc}") from exc
        started = time.perf_counter()
        out.write_text(page.path, text)
        for rel, obj in page.data_files.items():
            out.write_text(rel, dump(obj))
        clock.split("write", time.perf_counter() - started)
    clock.lap("render")
    out.write_text("api/index.json", dump(api_index(package)))
    out.write_text("search/terms.json", dump(term_index(package, syntheses)))  # the tables' words, for the search box
    per_study_csv = _study_csv_lines(base, descriptor, package)
    for sid in package.studies:
        rows = study_rows(package, sid)
        out.write_text(f"api/studies/{sid}.json", dump({"id": sid, "version": package.info.version, "tables": rows}))
        out.write_bytes(f"downloads/studies/{sid}.zip", _zip_bytes(per_study_csv.get(sid, {})))
    out.write_bytes(f"downloads/{zip_name}", _zip_package(base, descriptor))
    out.write_bytes("downloads/datapackage.json", _read_inside(base, paths.descriptor_in(package_path).name))
    for written in write_assets(docs_out):
        out.claim(written.relative_to(docs_out).as_posix())
    out.copy(STATIC_DIR / "site.css", "assets/site.css")
    out.copy(STATIC_DIR / "tables.js", "js/tables.js")
    for rel, text in rel_ctx.files().items():  # cite/<page>.bib|.ris|.json and feed.xml
        out.write_text(rel, text)
    out.remove_stale()
    clock.lap("write")
    return package


class StageClock:
    """Seconds per build stage: `lap(name)` adds the time since the previous lap (or since `start()`).

    The benchmark subclasses it to record peak memory per stage as well.
    """

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self.last = time.perf_counter()

    def start(self) -> None:
        """Begin timing the next stage now."""
        self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        """Close the stage `name`."""
        now = time.perf_counter()
        self.timings[name] = self.timings.get(name, 0.0) + now - self.last
        self.last = now

    def split(self, name: str, seconds: float) -> None:
        """Book `seconds` of the running stage to `name` instead (work interleaved with another stage)."""
        self.timings[name] = self.timings.get(name, 0.0) + seconds
        self.last += seconds


def _zip_write(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    zf.writestr(info, data)


def _zip_bytes(files: dict[str, str]) -> bytes:
    """A deterministic zip of {name: text} in the given order."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, text in files.items():
            _zip_write(zf, name, text.encode("utf-8"))
    return buffer.getvalue()


def _read_inside(base: Path, rel: str) -> bytes:
    """A file of the package (or of docs/): inside its folder and within the size limit, else BuildError."""
    try:
        return read_package_file(base, rel)
    except UnsafePath as exc:
        raise BuildError(f"refusing to read {rel}: {exc}") from exc


def _zip_package(base: Path, descriptor: dict) -> bytes:
    """The whole package as a zip: datapackage.json as entered, each CSV table made safe to open in a
    spreadsheet (see downloads.spreadsheet_safe_csv)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        _zip_write(zf, "datapackage.json", _read_inside(base, "datapackage.json"))
        for r in sorted(descriptor["resources"], key=lambda r: r["path"]):
            text = _read_inside(base, r["path"]).decode("utf-8")
            _zip_write(zf, r["path"], spreadsheet_safe_csv(text).encode("utf-8"))
    return buffer.getvalue()


def _study_csv_lines(base: Path, descriptor: dict, package: EvidencePackage) -> dict[str, dict[str, str]]:
    """study_id -> {csv path: that study's rows of the table, header kept, lines as in the package}.

    Each file is read once (not once per study). Tables that belong to the package as a whole are left
    out, and so are tables without a row for the study.
    """
    out: dict[str, dict[str, str]] = {sid: {} for sid in package.studies}
    for r in descriptor["resources"]:
        name = r["name"]
        if name in GLOBAL_TABLES:
            continue
        rows = package.tables[name]
        text = spreadsheet_safe_csv(_read_inside(base, r["path"]).decode("utf-8"))
        lines = text.splitlines(keepends=True)
        grouped: dict[str, list[str]] = {}
        # Row i of the table is line i+1 of the file only for files without embedded newlines; fall back
        # to the csv module when the counts disagree.
        if len(lines) - 1 != len(rows):
            reader = csv.reader(io.StringIO(text, newline=""))
            header = _csv_line(next(reader))
            for row, rec in zip(rows, reader, strict=False):
                grouped.setdefault(package.study_of(row), [header]).append(_csv_line(rec))
        else:
            for row, line in zip(rows, lines[1:], strict=True):
                grouped.setdefault(package.study_of(row), [lines[0]]).append(line)
        for sid, kept in grouped.items():
            if sid in out:
                out[sid][r["path"]] = "".join(kept)
    return out


def _csv_line(record: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(record)
    return buffer.getvalue()


#: The site engines that can build the site from the same mkdocs.yml. mkdocs (with mkdocs-material) is the
#: default; Zensical is mkdocs-material's announced successor (see README, "Site engine").
ENGINES = ("mkdocs", "zensical")


def engine_config(
    docs_dir: Path,
    site_dir: Path,
    info: PackageInfo,
    config_path: Path,
    relative: bool = False,
    release: ReleaseOptions | None = None,
    project: Project | None = None,
) -> Path:
    """Write the engine's config: it INHERITs mkdocs.yml and adds the generated docs, output and data version.

    `relative` writes docs_dir and site_dir relative to the config's folder (Zensical 0.0.x panics on
    absolute ones). `release` adds the version selector and site_url of a versioned build.
    """
    where = (lambda p: os.path.relpath(p, config_path.parent)) if relative else str
    project = project or Project.at()
    config = {
        "INHERIT": str(project.mkdocs_yml),
        "docs_dir": where(docs_dir),
        "site_dir": where(site_dir),
        "theme": {"name": "material", "custom_dir": str(_theme_dir(project, config_path.parent))},
        "extra": {"data_version": info.version, "data_date": info.date},
    }
    overrides = engine_overrides(release, info.version)
    config["extra"].update(overrides.pop("extra", {}))
    config.update(overrides)
    config_path.write_text(yaml.safe_dump(config, sort_keys=True), encoding="utf-8")
    return config_path


def _theme_dir(project: Project, work: Path) -> Path:
    """The theme overrides: the generator's, with a project's own templates/overrides/ laid over them."""
    generator = paths.TEMPLATES_DIR / "overrides"
    own = project.templates_dir / "overrides" if project.templates_dir else None
    if own is None or not own.is_dir():
        return generator
    merged = work / "theme-overrides"
    shutil.rmtree(merged, ignore_errors=True)
    shutil.copytree(generator, merged)
    shutil.copytree(own, merged, dirs_exist_ok=True, symlinks=True)
    return merged


def run_engine(config_file: Path) -> None:
    """Build with mkdocs in-process (strict: any warning fails the build)."""
    import logging

    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    logging.getLogger("mkdocs").setLevel(logging.ERROR)
    cfg = load_config(config_file=str(config_file), strict=True)
    with data_date_epoch(cfg["extra"].get("data_date")):
        build(cfg)


@contextlib.contextmanager
def data_date_epoch(data_date: str | None) -> Iterator[None]:
    """Set SOURCE_DATE_EPOCH to midnight UTC of the data version's date while the engine runs, so the dates it
    writes (sitemap.xml lastmod, the sitemap.xml.gz header) come from the data, never from the build machine's
    clock or an outside SOURCE_DATE_EPOCH: the same data builds the same bytes on any day."""
    saved = os.environ.get("SOURCE_DATE_EPOCH")
    if data_date:
        when = datetime.date.fromisoformat(data_date[:10])
        os.environ["SOURCE_DATE_EPOCH"] = str(calendar.timegm(when.timetuple()))
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = saved


def zensical_missing() -> str | None:
    """Why Zensical cannot run here, or None when it is installed."""
    import importlib.util

    if importlib.util.find_spec("zensical") is None:
        return "Zensical is not installed: `.venv/bin/pip install zensical` (it is optional; mkdocs is the default)"
    return None


def run_zensical(config_file: Path) -> None:
    """Build with Zensical in a subprocess (it runs in Rust and calls back into Python); strict mode.

    Zensical wants docs_dir and site_dir inside the directory of its config file (its project root), so the
    config is written under .build/, next to the generated docs.
    """
    missing = zensical_missing()
    if missing:
        raise BuildError(missing)
    result = subprocess.run(
        [sys.executable, "-m", "zensical", "build", "--strict", "-f", str(config_file)],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise BuildError(f"zensical exited with {result.returncode}:\n{tail}")


#: Dependencies whose version can change the generated docs or the validation report.
_DIGEST_DISTRIBUTIONS = ("jinja2", "markdown-it-py", "altair", "vl-convert-python", "frictionless", "numpy", "scipy")


#: Modules that never shape the generated docs (editing the benchmark must not invalidate a build).
# The tools (init, import, synth, bench) are not stages of the build: their code does not shape the site.
_NOT_OUTPUT_CODE = Path(__file__).parent / "tools"


def input_digest(package_path: Path, extra: str = "", project: Project | None = None) -> str:
    """A digest of everything that decides the generated docs and the validation report.

    Every file of the package's folder (tables, descriptor, release history), mkdocs.yml (citation settings),
    the hand-written docs, the templates, this package's code and static files, the versions of the
    libraries that shape the output, and `extra` (e.g. the release options). Equal digests, equal output.
    """
    import hashlib
    import importlib.metadata

    h = hashlib.sha256()
    base = paths.descriptor_in(package_path).parent
    code = Path(__file__).parent
    project = project or Project.at()
    h.update(str(project.mkdocs_yml).encode() + b"\0" + _digest_bytes(project.root, project.mkdocs_yml) + b"\0")
    folders = [(base, ""), (project.docs_dir, ""), (paths.TEMPLATES_DIR, ""), (code, ".py"), (STATIC_DIR, "")]
    if project.templates_dir:
        folders.append((project.templates_dir, ""))
    for folder, suffix in folders:
        for f in _tree_files(Path(folder), suffix):
            h.update(str(f).encode() + b"\0")
            h.update(_digest_bytes(Path(folder), f))
            h.update(b"\0")
    for dist in _DIGEST_DISTRIBUTIONS:
        try:
            h.update(f"{dist}={importlib.metadata.version(dist)};".encode())
        except importlib.metadata.PackageNotFoundError:
            h.update(f"{dist}=none;".encode())
    h.update(sys.version.encode() + extra.encode())
    return h.hexdigest()


def _tree_files(folder: Path, suffix: str = "") -> list[Path]:
    """Every file below `folder` (links included, link targets not entered), sorted; without __pycache__ and
    the modules that never shape the output."""
    out: list[Path] = []
    for top, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = [d for d in dirs if d != "__pycache__" and Path(top) / d != _NOT_OUTPUT_CODE]
        out += [Path(top) / f for f in files if f.endswith(suffix)]
        # A link to a folder is not walked (os.walk does not follow it), but is hashed as a link.
        out += [Path(top) / d for d in dirs if os.path.islink(os.path.join(top, d))]
    return sorted(out)


def _digest_bytes(folder: Path, f: Path) -> bytes:
    """What the digest hashes for one file: its bytes when it is a regular file inside `folder` within the size
    limit; for anything else a marker, without reading it (a link to a 3 GB file costs nothing)."""
    try:
        marker = b"<link " + os.readlink(f).encode(errors="surrogateescape") + b">" if f.is_symlink() else b""
        return marker + read_package_file(folder, f.relative_to(folder).as_posix())
    except UnsafePath as exc:
        return marker + f"<refused: {exc}>".encode()
    except (OSError, ValueError):
        return b"<missing>"


def _stamp_path(docs: Path) -> Path:
    return docs.parent / f".{docs.name}.stamp"


def _manifest(docs: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for p in docs.rglob("*"):
        if p.is_file():
            st = p.stat()
            out[p.relative_to(docs).as_posix()] = (st.st_size, st.st_mtime_ns)
    return out


def _cached_build(docs: Path, digest: str) -> Report | None:
    """The validation report of the build that wrote `docs`, if its inputs had this digest and `docs` is
    untouched since; else None."""
    import pickle

    try:
        stamp = pickle.loads(_stamp_path(docs).read_bytes())
    except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError, ValueError, TypeError):
        return None
    if not isinstance(stamp, dict) or stamp.get("digest") != digest:
        return None
    if not docs.is_dir() or _manifest(docs) != stamp.get("manifest"):
        return None
    report = stamp.get("report")
    return report if isinstance(report, Report) else None


def _save_stamp(docs: Path, digest: str, report: Report) -> None:
    import pickle

    data = pickle.dumps({"digest": digest, "manifest": _manifest(docs), "report": report})
    tmp = _stamp_path(docs).with_name(_stamp_path(docs).name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(_stamp_path(docs))


class _LazyTables(dict):
    """The tables of a package, read on first use (an up-to-date build does not need them)."""

    def __init__(self, package_path: Path) -> None:
        super().__init__()
        self._path: Path | None = package_path

    def _load(self) -> None:
        if self._path is not None:
            path, self._path = self._path, None
            dict.update(self, load_package(path).tables)

    def __getitem__(self, key: str) -> list:
        self._load()
        return dict.__getitem__(self, key)

    def __iter__(self):  # type: ignore[no-untyped-def]
        self._load()
        return dict.__iter__(self)

    def __len__(self) -> int:
        self._load()
        return dict.__len__(self)

    def __contains__(self, key: object) -> bool:
        self._load()
        return dict.__contains__(self, key)

    def get(self, key: str, default: object = None) -> object:
        self._load()
        return dict.get(self, key, default)

    def keys(self):  # type: ignore[no-untyped-def]
        self._load()
        return dict.keys(self)

    def values(self):  # type: ignore[no-untyped-def]
        self._load()
        return dict.values(self)

    def items(self):  # type: ignore[no-untyped-def]
        self._load()
        return dict.items(self)


def prepare_docs(
    package_path: Path,
    docs: Path,
    *,
    clock: StageClock | None = None,
    writer: DocsWriter | None = None,
    release: ReleaseOptions | None = None,
    reuse: bool = True,
    project: Project | None = None,
) -> tuple[Report, EvidencePackage, bool]:
    """Validate and generate the site engine's input into `docs`; return (report, package, reused).

    With `reuse`, when the inputs (see input_digest) are those of the build that last wrote `docs` and
    `docs` is untouched since, nothing is validated, read or written: the previous validation report is
    returned with `reused` True (the package's tables are then read only if a caller asks for them).
    Raises BuildError when the data are invalid or a page fails to render.
    """
    from livingevidence.checks import validate_package

    clock = clock or StageClock()
    clock.start()
    project = project or Project.at()
    release = release or ReleaseOptions()
    if release.config_path is None:
        release = dataclasses.replace(release, config_path=project.mkdocs_yml)
    digest = input_digest(package_path, repr(release), project) if reuse else ""
    cached = _cached_build(docs, digest) if reuse else None
    if cached is not None:
        clock.lap("validate")
        info = package_info(read_descriptor(package_path))
        return cached, EvidencePackage(info=info, tables=_LazyTables(package_path)), True
    _stamp_path(docs).unlink(missing_ok=True)
    report = validate_package(package_path)
    clock.lap("validate")
    if not report.valid:
        raise BuildError("validation failed:\n" + report.to_text())
    try:
        package = generate(package_path, docs, report, writer=writer, clock=clock, release=release, project=project)
    except BuildError:
        raise
    except Exception as exc:
        raise BuildError(f"generating pages failed: {type(exc).__name__}: {exc}") from exc
    if reuse:
        _save_stamp(docs, digest, report)
    return report, package, False


def build_site(
    package_path: Path,
    out: Path,
    *,
    engine: str = "mkdocs",
    docs_dir: Path | None = None,
    clock: StageClock | None = None,
    writer: DocsWriter | None = None,
    release: ReleaseOptions | None = None,
    project: Project | None = None,
) -> tuple[Report, EvidencePackage]:
    """Validate and build into `out`, atomically. Raises BuildError (site untouched) on any failure.

    The engine's input (generated Markdown, JSON, downloads) goes to `docs_dir`, which persists between
    builds and is rewritten file by file only where bytes change; by default it is .build/docs for the
    default output (site/) and a temporary directory otherwise. `clock` records the stages validate, load,
    analyse, render, write and engine. `release` makes the build a version snapshot (see build.py deploy).
    """
    if engine not in ENGINES:
        raise BuildError(f"unknown site engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if engine == "zensical" and zensical_missing():
        raise BuildError(str(zensical_missing()))
    clock = clock or StageClock()
    out = Path(out).resolve()
    project = project or Project.at()
    if not project.mkdocs_yml.is_file():
        raise BuildError(f"{project.root} has no mkdocs.yml: a project needs one (build.py init DIR writes it)")
    if docs_dir is None and out == project.site_dir.resolve():
        docs_dir = project.generated_docs_dir
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        project.build_dir.mkdir(exist_ok=True)
        sitedir.clean_stale(project.build_dir, out)  # debris of killed builds
        with tempfile.TemporaryDirectory(dir=project.build_dir, prefix="work-") as work_s:
            work = Path(work_s)
            with sitedir.work_lock(work):
                return _build_in(work, package_path, out, engine, docs_dir, clock, writer, release, project)
    except OSError as exc:  # a read-only or full disk, a folder that cannot be created: a message, no traceback
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        raise BuildError(f"cannot write the build{where}: {exc.strerror or exc}") from exc


def _build_in(
    work: Path,
    package_path: Path,
    out: Path,
    engine: str,
    docs_dir: Path | None,
    clock: StageClock,
    writer: DocsWriter | None,
    release: ReleaseOptions | None,
    project: Project,
) -> tuple[Report, EvidencePackage]:
    """The build proper, in the locked work folder `work` (see build_site)."""
    docs = Path(docs_dir) if docs_dir is not None else work / "docs"
    report, package, _ = prepare_docs(
        package_path, docs, clock=clock, writer=writer, release=release, reuse=docs_dir is not None, project=project
    )
    # Named after the work folder, so that clean_stale knows whose it is.
    site_tmp = out.parent / f".{out.name}.new-{work.name.removeprefix('work-')}"
    site_tmp.mkdir()
    try:
        clock.start()
        try:
            if engine == "mkdocs":
                run_engine(
                    engine_config(docs, site_tmp, package.info, work / "mkdocs.yml", release=release, project=project)
                )
            else:
                # Zensical's project root is its config file's folder: it must hold docs and site.
                root = Path(os.path.commonpath([docs.resolve(), work.resolve()]))
                engine_site = work / "site"
                config = engine_config(
                    docs,
                    engine_site,
                    package.info,
                    root / f".{work.name}.zensical.yml",
                    relative=True,
                    release=release,
                    project=project,
                )
                try:
                    run_zensical(config)
                finally:
                    config.unlink(missing_ok=True)
                site_tmp.rmdir()
                shutil.move(engine_site, site_tmp)
        except BaseException as exc:  # mkdocs raises SystemExit/Abort on strict warnings
            raise BuildError(f"the site engine ({engine}) failed: {type(exc).__name__}: {exc}") from exc
        clock.lap("engine")
        _swap(site_tmp, out)
    finally:
        if site_tmp.exists():
            shutil.rmtree(site_tmp, ignore_errors=True)
    return report, package


def _swap(new: Path, out: Path) -> None:
    """Put the finished site into place in one atomic exchange (see sitedir); make it world-readable first.
    On failure the previous site stays where it was and BuildError says why."""
    try:
        sitedir.normalise_modes(new)
        sitedir.swap_into_place(new, out)
    except OSError as exc:
        raise BuildError(f"swapping the new site into {out} failed: {type(exc).__name__}: {exc}") from exc


def run_build(package: Path, out: Path, engine: str = "mkdocs", project: Project | None = None) -> int:
    """`build.py build`: exit 0 on success, 1 when validation or a build stage failed (site untouched)."""
    start = time.perf_counter()
    try:
        report, pkg = build_site(package, out, engine=engine, project=project)
    except BuildError as exc:
        print(f"build failed, {out} left as it was: {exc}", file=sys.stderr)
        return 1
    pages = sum(1 for _ in out.rglob("*.html"))
    print(
        f"built {pages} pages for data version {pkg.info.version} into {out} in {time.perf_counter() - start:.1f} s "
        f"({len(report.warnings)} data-check warnings, listed on data/checks/)"
    )
    return 0


def run_serve(package: Path, port: int, project: Project | None = None) -> int:
    """`build.py serve`: build, serve site/ on localhost, rebuild when data, templates or docs change."""
    project = project or Project.at()
    out = project.site_dir
    if run_build(package, out, project=project) != 0 and not out.exists():
        return 1
    watched = [paths.descriptor_in(package).parent, paths.TEMPLATES_DIR, project.docs_dir, project.mkdocs_yml]
    if project.templates_dir:
        watched.append(project.templates_dir)

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
                run_build(package, out, project=project)  # a failed rebuild keeps serving the last good site
    except KeyboardInterrupt:
        server.shutdown()
    return 0


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass
