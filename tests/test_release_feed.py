"""The Atom feed of releases (site/feed.xml) is valid RFC 4287: required elements, ids, timestamps, links;
and the release history it is built from."""

from __future__ import annotations

import itertools
import re
from datetime import datetime
from pathlib import Path
from xml.etree import ElementTree as ET

from livingevidence import paths
from livingevidence.release.cite import CitationConfig
from livingevidence.release.feed import atom_feed, feed_id
from livingevidence.release.history import load_releases

A = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$")  # an absolute IRI (RFC 3987 scheme ":" ...)


def validate_atom(text: str) -> ET.Element:
    """Check the RFC 4287 rules a feed must meet; return the root."""
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?>')
    feed = ET.fromstring(text)
    assert feed.tag == f"{A}feed"

    def one(el: ET.Element, tag: str) -> ET.Element:
        found = el.findall(f"{A}{tag}")
        assert len(found) == 1, f"{el.tag} must contain exactly one {tag}, has {len(found)}"
        return found[0]

    for tag in ("id", "title", "updated"):
        one(feed, tag)
    assert URI.match(one(feed, "id").text or "")
    assert RFC3339.match(one(feed, "updated").text or "")
    datetime.fromisoformat((one(feed, "updated").text or "").replace("Z", "+00:00"))
    entries = feed.findall(f"{A}entry")
    feed_author = feed.findall(f"{A}author")
    ids = set()
    for entry in entries:
        for tag in ("id", "title", "updated"):
            one(entry, tag)
        eid = one(entry, "id").text or ""
        assert URI.match(eid) and eid not in ids
        ids.add(eid)
        assert RFC3339.match(one(entry, "updated").text or "")
        assert feed_author or entry.findall(f"{A}author"), "every entry needs an author (or the feed one)"
        links = entry.findall(f"{A}link")
        alternates = [link for link in links if link.get("rel", "alternate") == "alternate"]
        assert entry.findall(f"{A}content") or alternates, "an entry without content needs an alternate link"
        assert len({(link.get("type"), link.get("hreflang")) for link in alternates}) == len(alternates)
        assert all(link.get("href") for link in links)
    for author in feed_author:
        assert one(author, "name").text
    return feed


def test_built_feed_is_valid_and_linked(built_site: Path) -> None:
    text = (built_site / "feed.xml").read_text(encoding="utf-8")
    feed = validate_atom(text)
    releases = load_releases(paths.DATAPACKAGE_DIR)
    entries = feed.findall(f"{A}entry")
    assert len(entries) == len(releases) >= 1
    for entry, release in zip(entries, releases, strict=True):
        assert entry.find(f"{A}title").text == f"Data version {release['version']}"
        assert entry.find(f"{A}updated").text == f"{release['date']}T00:00:00Z"
        href = entry.find(f"{A}link").get("href")
        assert (built_site / href / "index.html").is_file(), href  # relative to the feed, inside this build
    assert feed.find(f"{A}updated").text == f"{releases[0]['date']}T00:00:00Z"
    # The home page links the feed in its head.
    assert '<link rel="alternate" type="application/atom+xml" title="Data releases" href="feed.xml">' in (
        built_site / "index.html"
    ).read_text(encoding="utf-8")


def test_feed_with_site_url_and_two_releases() -> None:
    config = CitationConfig(title="T & co", authors=("M1", "M2"), publisher="M", site_url="https://example.org/s/")
    releases = [
        {"version": "1.1.0", "date": "2026-12-01", "summary": "Adds <Smith> & others."},
        {"version": "1.0.0", "date": "2026-11-22", "summary": "First release."},
    ]
    text = atom_feed(releases, config, package_name="pkg", package_title="P")
    feed = validate_atom(text)
    links = {link.get("rel"): link.get("href") for link in feed.findall(f"{A}link")}
    assert links == {"self": "https://example.org/s/feed.xml", "alternate": "https://example.org/s/"}
    entry = feed.findall(f"{A}entry")[0]
    assert entry.find(f"{A}link").get("href") == "https://example.org/s/1.1.0/whats-new/1.1.0/"
    assert entry.find(f"{A}summary").text == "Adds <Smith> & others."  # escaped in XML, intact when parsed
    assert entry.find(f"{A}id").text == feed_id("pkg", "1.1.0") != feed_id("pkg", "1.0.0")
    # Ids do not depend on where the site lives.
    other = atom_feed(releases, CitationConfig(title="T", authors=("M",), publisher="M"), package_name="pkg",
                      package_title="P")  # fmt: skip
    assert validate_atom(other).findall(f"{A}entry")[0].find(f"{A}id").text == feed_id("pkg", "1.1.0")
    empty = validate_atom(atom_feed([], config, package_name="pkg", package_title="P"))
    assert empty.findall(f"{A}entry") == []


def test_release_history_file_is_complete() -> None:
    """releases.json records the current data version, so the feed and what's-new pages need no git."""
    from livingevidence.load import read_descriptor

    descriptor = read_descriptor(paths.DATAPACKAGE_DIR)
    releases = load_releases(paths.DATAPACKAGE_DIR)
    assert releases[0]["version"] == descriptor["version"]
    assert releases[0]["date"] == str(descriptor["created"])[:10]
    assert releases[-1]["previous"] is None
    for newer, older in itertools.pairwise(releases):
        assert newer["previous"] == older["version"] and newer["date"] > older["date"]
