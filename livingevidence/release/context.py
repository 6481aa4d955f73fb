"""What one build needs from the release side: citations, what's-new pages, comparison histories, the feed
and the site engine's version settings. site.py creates one `ReleaseContext` per build."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markupsafe import Markup

from livingevidence import paths
from livingevidence.model import EvidencePackage
from livingevidence.pages.common import Page, Table
from livingevidence.release.cite import CitationConfig, Citations, load_config
from livingevidence.release.feed import atom_feed
from livingevidence.release.history import comparison_history, load_releases, releases_up_to


@dataclass(frozen=True)
class ReleaseOptions:
    """How a build is published.

    site_url: the site's root address (where versions live as sub-folders); None or "" reads mkdocs.yml's
        `site_url` (when that is unset too, snapshot paths are relative to the site's root).
    versioned: True when the build becomes a version snapshot (`build.py deploy`): the version selector is
        on and links to snapshots and the feed leave the version's folder. False for `build.py build` and
        previews, which have no other versions to select.
    """

    site_url: str | None = None
    versioned: bool = False
    # The project's mkdocs.yml, whose extra.citation names the summary's authors (default: this repository's).
    config_path: Path | None = None


def engine_overrides(options: ReleaseOptions | None, version: str, config: CitationConfig | None = None) -> dict:
    """Settings the site engine's config adds to mkdocs.yml for this build."""
    options = options or ReleaseOptions()
    config = config or load_config(options.site_url, options.config_path or paths.MKDOCS_YML)
    out: dict[str, Any] = {}
    if options.versioned:
        # mkdocs-material's version selector (mike's versions.json one level up); canonical URLs point at
        # the snapshot of this version.
        out["extra"] = {"version": {"provider": "mike", "default": "latest", "alias": True}}
        if config.site_url:
            out["site_url"] = f"{config.site_url}{version}/"
    else:
        # No versions.json beside an unversioned build: the selector would request one and get a 404.
        out["extra"] = {"version": None}
        if config.site_url:
            out["site_url"] = config.site_url
    return out


class ReleaseContext:
    """Citations, release history and feed for one build of one data version."""

    def __init__(
        self, package: EvidencePackage, package_path: Path, descriptor: dict, options: ReleaseOptions | None = None
    ) -> None:
        self.options = options or ReleaseOptions()
        self.config = load_config(self.options.site_url, self.options.config_path or paths.MKDOCS_YML)
        self.package = package
        info = package.info
        self.releases = releases_up_to(load_releases(package_path), info.version)
        self.current = next((r for r in self.releases if r.get("version") == info.version), None)
        self.citations = Citations(
            self.config,
            version=info.version,
            date=info.date,
            package_title=info.title,
            package_description=info.description,
            keywords=tuple(descriptor.get("keywords", [])),
            zip_name=f"{info.name}-{info.version}.zip",
            versioned=self.options.versioned,
        )

    def annotate(self, md_path: str, text: str) -> str:
        """The page's Markdown with its citation in the front matter."""
        return self.citations.annotate(md_path, text)

    def pages(self) -> list[Page]:
        """The what's-new index and one page per release up to this version."""
        from livingevidence.pages.whats_new import whats_new_pages

        return whats_new_pages(self.package, self.releases)

    def home_whats_new(self) -> Table:
        """The home page's table: the diff against the previous release, or the first release's studies."""
        from livingevidence.pages.evidence_map import whats_new

        return whats_new(self.package, self.current)

    def history(self, comparison_id: str) -> list[Markup]:
        """The history lines of one comparison page."""
        from livingevidence.pages.whats_new import comparison_history_items

        return comparison_history_items(
            comparison_history(self.releases, comparison_id), f"comparisons/{comparison_id}.md", self.package
        )

    def feed(self) -> str:
        """feed.xml for the root of this build."""
        return atom_feed(
            self.releases,
            self.config,
            package_name=self.package.info.name,
            package_title=self.package.info.title,
            link_prefix="../",
            versioned=self.options.versioned,
        )

    def files(self) -> dict[str, str]:
        """Static files written beside the pages: citation downloads and the feed."""
        return {**self.citations.files(), "feed.xml": self.feed()}
