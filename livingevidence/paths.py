"""Where things live. Imports nothing from the package, so every module can use it."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATAPACKAGE_DIR = ROOT / "datapackage"
DESCRIPTOR = DATAPACKAGE_DIR / "datapackage.json"
TEMPLATES_DIR = ROOT / "templates"
DOCS_DIR = ROOT / "docs"
MKDOCS_YML = ROOT / "mkdocs.yml"
SITE_DIR = ROOT / "site"
# Generated Markdown and assets are written here, never into docs/ (docs/ holds hand-written pages only).
BUILD_DIR = ROOT / ".build"
GENERATED_DOCS_DIR = BUILD_DIR / "docs"


def descriptor_in(package: Path) -> Path:
    """Return the datapackage.json for a package given as a directory or a descriptor path."""
    package = Path(package)
    return package / "datapackage.json" if package.is_dir() else package
