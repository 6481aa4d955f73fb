"""The Atom feed of data releases (RFC 4287), built from the release history alone.

Ids are ``urn:uuid:`` names derived from the package name and version (uuid5), so they never change, with
or without a configured site URL. Each entry links to the what's-new page of its release inside that
release's snapshot, which never changes either.
"""

from __future__ import annotations

import uuid
from typing import Any
from xml.etree import ElementTree as ET

from livingevidence.release.cite import CitationConfig

ATOM = "http://www.w3.org/2005/Atom"
NAMESPACE = uuid.UUID("5b0c7c2e-3c39-4a8e-9d4f-6f1d1bb0c1a7")  # this project's uuid5 namespace for feed ids


def feed_id(package_name: str, version: str | None = None) -> str:
    """A permanent id for the feed (version None) or for one release's entry."""
    name = package_name if version is None else f"{package_name}/{version}"
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, name)}"


def _timestamp(date: str) -> str:
    return f"{date}T00:00:00Z"


def release_href(version: str, *, site_url: str | None, prefix: str) -> str:
    """The what's-new page of `version` inside its own snapshot, seen from the feed's location."""
    rel = f"{version}/whats-new/{version}/"
    if site_url:
        return site_url + rel
    return prefix + rel


def atom_feed(
    releases: list[dict[str, Any]],
    config: CitationConfig,
    *,
    package_name: str,
    package_title: str,
    link_prefix: str = "",
    versioned: bool = True,
) -> str:
    """The feed as XML text. `link_prefix` is the path from the feed's folder to the site root (e.g. '../'
    for a feed inside a version's folder); without versions (a local build) entries link to
    'whats-new/<version>/' beside the feed."""
    ET.register_namespace("", ATOM)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        el = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            el.text = text
        return el

    feed = ET.Element(f"{{{ATOM}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": "en"})
    sub(feed, "id", feed_id(package_name))
    sub(feed, "title", f"{config.title}: data releases")
    sub(
        feed,
        "subtitle",
        f"Releases of the data package '{package_title}': studies added, values corrected, results moved.",
    )
    sub(feed, "updated", _timestamp(max((r["date"] for r in releases), default="1970-01-01")))
    author = sub(feed, "author")
    sub(author, "name", "; ".join(config.authors))
    sub(feed, "generator", "livingevidence")
    if config.site_url:
        sub(feed, "link", rel="self", type="application/atom+xml", href=config.site_url + "feed.xml")
        sub(feed, "link", rel="alternate", type="text/html", href=config.site_url)
    for r in releases:
        entry = sub(feed, "entry")
        sub(entry, "id", feed_id(package_name, r["version"]))
        sub(entry, "title", f"Data version {r['version']}")
        sub(entry, "updated", _timestamp(r["date"]))
        sub(entry, "published", _timestamp(r["date"]))
        if versioned or config.site_url:
            href = release_href(r["version"], site_url=config.site_url, prefix=link_prefix)
        else:
            href = f"whats-new/{r['version']}/"
        sub(entry, "link", rel="alternate", type="text/html", href=href)
        sub(entry, "summary", r.get("summary") or f"Data version {r['version']}.")
    ET.indent(feed, space=" ")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode") + "\n"
