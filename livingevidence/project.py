"""A summary project: the folder that holds one living evidence summary, apart from the generator.

A project folder holds its data package (``datapackage/``), its site configuration (``mkdocs.yml``), its
hand-written pages (``docs/``) and, optionally, template overrides (``templates/``: page templates
``*.md.j2`` and theme overrides in ``templates/overrides/``). The build writes only inside it: ``.build/``
(generated pages, caches) and ``site/``. This repository is itself a project (the first topic); every
command takes ``--project DIR`` for another one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from livingevidence import paths


@dataclass(frozen=True)
class Project:
    """Where one summary keeps its package, configuration, pages and output."""

    root: Path

    @classmethod
    def at(cls, root: Path | str | None = None) -> Project:
        """The project in ``root`` (default: this repository), as an absolute path."""
        return cls(Path(root).resolve() if root is not None else paths.ROOT)

    @property
    def package_dir(self) -> Path:
        return self.root / "datapackage"

    @property
    def descriptor(self) -> Path:
        return self.package_dir / "datapackage.json"

    @property
    def mkdocs_yml(self) -> Path:
        return self.root / "mkdocs.yml"

    @property
    def docs_dir(self) -> Path:
        return self.root / "docs"

    @property
    def templates_dir(self) -> Path | None:
        """The project's own page templates, or None: the generator's are used (the generator's own
        folder is not an override of itself)."""
        own = self.root / "templates"
        return own if own.is_dir() and own.resolve() != paths.TEMPLATES_DIR.resolve() else None

    @property
    def site_dir(self) -> Path:
        return self.root / "site"

    @property
    def build_dir(self) -> Path:
        return self.root / ".build"

    @property
    def generated_docs_dir(self) -> Path:
        return self.build_dir / "docs"

    @property
    def is_generator(self) -> bool:
        """True for this repository's own project (the first topic)."""
        return self.root.resolve() == paths.ROOT.resolve()
