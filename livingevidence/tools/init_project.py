"""`build.py init DIR --title TITLE`: start a new living evidence summary in its own project folder.

The folder gets a valid data package (the generator's table schemas, generic labels, an empty outcome
vocabulary and no study), `mkdocs.yml`, hand-written pages with placeholders to fill, CI workflows, a
README with the two commands, and what a first release needs (an empty release history, CITATION.cff,
.zenodo.json). Nothing is written outside DIR, and an existing non-empty DIR is refused.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import jinja2

from livingevidence import paths
from livingevidence.project import Project

SKELETON = Path(__file__).resolve().parent.parent / "skeleton"
# Tables a new summary starts with; the generator's catalogue (skeleton/tables.json) has the others
# (tumour response, landmark rates, prognostic factors, subgroup medians) for topics that report them.
DEFAULT_TABLES = (
    "studies",
    "interventions",
    "regimens",
    "regimen_components",
    "arms",
    "populations",
    "population_arms",
    "population_attributes",
    "outcomes",
    "labels",
    "comparisons",
    "comparison_pairs",
    "effects",
    "binary_outcomes",
    "continuous_outcomes",
    "survival",
    "adverse_events",
    "baseline",
    "certainty",
    "risk_of_bias",
    "indirectness",
    "extraction_notes",
)
MAX_TITLE = 200


class InitError(Exception):
    """A reason the project cannot be started, said in one line."""


def slug(text: str, limit: int = 60) -> str:
    """'Magnesium after MI' -> 'magnesium-after-mi' (ASCII letters and digits, hyphen-separated)."""
    out = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit].strip("-")
    return out or "summary"


def _today() -> str:
    """The creation date: SOURCE_DATE_EPOCH when set (reproducible), else today (UTC)."""
    import os

    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = datetime.fromtimestamp(int(epoch), UTC) if epoch and epoch.isdigit() else datetime.now(UTC)
    return when.strftime("%Y-%m-%d")


def _generator_source() -> tuple[str, str]:
    """The generator's GitHub repository (owner/name) and commit, for the workflows; placeholders if unknown."""
    try:
        url = subprocess.run(
            ["git", "-C", str(paths.ROOT), "remote", "get-url", "origin"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
        ref = subprocess.run(
            ["git", "-C", str(paths.ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        url = ref = ""
    found = re.match(r"^(?:https://github\.com/|git@github\.com:)([\w.-]+/[\w.-]+?)(?:\.git)?$", url)
    repository = found.group(1) if found else "OWNER/livingevidence"
    return repository, ref if re.fullmatch(r"[0-9a-f]{40}", ref) else "main"


def _descriptor(title: str, maintainers: str, created: str) -> dict:
    tables = json.loads((SKELETON / "tables.json").read_text(encoding="utf-8"))
    return {
        "profile": "tabular-data-package",
        "name": slug(title),
        "title": f"{title}: living evidence data package",
        "description": f"Study-level data of the living evidence summary '{title}'. Every number carries its "
        "location in the source paper.",
        "version": "0.1.0",
        "created": f"{created}T00:00:00Z",
        "licenses": [
            {
                "name": "CC-BY-4.0",
                "path": "https://creativecommons.org/licenses/by/4.0/",
                "title": "Creative Commons Attribution 4.0",
            }
        ],
        "contributors": [{"title": maintainers, "role": "author"}],
        "keywords": ["living evidence"],
        "topic": {
            "title": title,
            "description": f"A living evidence summary of {title}.",
            "scope": {"population": "", "interventions": "", "outcomes": "", "designs": ""},
            "maintainers": [maintainers],
        },
        # How pooled numbers are computed (see docs/methods.md); a change here changes every pooled result.
        "analysis": {"tau2_method": "REML", "ci_method": "hksj-adhoc", "pi_type": "metafor"},
        "resources": [tables[name] for name in DEFAULT_TABLES],
    }


def _environment() -> jinja2.Environment:
    from livingevidence.pages.render import md_escape

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(SKELETON / "project"),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["yaml_str"] = lambda v: json.dumps(str(v), ensure_ascii=False)
    env.filters["md_escape"] = md_escape
    return env


def project_files(title: str, maintainers: str, created: str) -> dict[str, str]:
    """Every file of a new project: relative path -> text."""
    descriptor = _descriptor(title, maintainers, created)
    files: dict[str, str] = {
        "datapackage/datapackage.json": json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n"
    }
    for resource in descriptor["resources"]:
        header = ",".join(f["name"] for f in resource["schema"]["fields"]) + "\n"
        files[f"datapackage/{resource['path']}"] = header
    files["datapackage/labels.csv"] = (SKELETON / "labels.csv").read_text(encoding="utf-8")
    files["datapackage/releases.json"] = json.dumps({"releases": []}, indent=1) + "\n"
    repository, ref = _generator_source()
    values = dict(
        title=title,
        site_name=f"Living evidence: {title}",
        description=f"A living evidence summary of {title}.",
        maintainers=maintainers,
        key_prefix=f"livingevidence-{slug(title, 30)}",
        generator_repository=repository,
        generator_ref=ref,
    )
    env = _environment()
    for template, target in (
        ("mkdocs.yml.j2", "mkdocs.yml"),
        ("README.md.j2", "README.md"),
        ("docs/about.md.j2", "docs/about.md"),
        ("docs/methods.md.j2", "docs/methods.md"),
        ("docs/contribute.md.j2", "docs/contribute.md"),
        ("docs/cite.md.j2", "docs/cite.md"),
        ("workflows/validate.yml.j2", ".github/workflows/validate.yml"),
        ("workflows/deploy.yml.j2", ".github/workflows/deploy.yml"),
    ):
        files[target] = env.get_template(template).render(**values)
    files[".gitignore"] = (SKELETON / "project" / "gitignore").read_text(encoding="utf-8")
    files["CITATION.cff"] = _citation_cff(title, maintainers, created)
    files[".zenodo.json"] = json.dumps(
        {
            "title": f"Living evidence: {title}",
            "upload_type": "dataset",
            "description": f"Data package and site of the living evidence summary '{title}'.",
            "creators": [{"name": maintainers}],
            "license": "CC-BY-4.0",
            "version": "0.1.0",
        },
        indent=2,
        ensure_ascii=False,
    )
    return files


def _citation_cff(title: str, maintainers: str, created: str) -> str:
    q = lambda v: json.dumps(v, ensure_ascii=False)  # noqa: E731 - a JSON string is a valid YAML string
    return (
        "cff-version: 1.2.0\n"
        "message: Cite the versioned snapshot of the page you read; this is the summary as a whole.\n"
        "type: dataset\n"
        f"title: {q('Living evidence: ' + title)}\n"
        f"authors:\n  - name: {q(maintainers)}\n"
        "version: 0.1.0\n"
        f"date-released: {q(created)}\n"
        "license: CC-BY-4.0\n"
    )


def init_project(directory: Path, title: str, maintainers: str = "") -> Project:
    """Write a new project into ``directory`` (created; it must not hold files yet) and return it."""
    title = " ".join(title.split())
    if not title or len(title) > MAX_TITLE or any(ord(c) < 32 for c in title):
        raise InitError(f"--title must be 1 to {MAX_TITLE} printable characters")
    maintainers = " ".join((maintainers or f"{title} maintainers").split())
    directory = Path(directory)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise InitError(f"{directory} already exists and is not an empty folder; choose a new folder")
    files = project_files(title, maintainers, _today())
    root = directory.resolve()
    for rel, text in files.items():
        target = (root / rel).resolve()
        if root not in target.parents:  # the names are ours, but a project never writes outside its folder
            raise InitError(f"refusing to write {rel} outside {directory}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return Project.at(root)


def run_init(directory: Path, title: str, maintainers: str = "") -> int:
    """`build.py init DIR --title T`: exit 0, or 1 with a one-line reason."""
    try:
        project = init_project(directory, title, maintainers)
    except (InitError, OSError) as exc:
        print(f"init: {exc}", file=sys.stderr)
        return 1
    print(f"started a living evidence summary in {project.root}")
    print(f"  next: python build.py import SHEET.csv --project {directory}")
    print(f"        python build.py build --project {directory}")
    return 0
