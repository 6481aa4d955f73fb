"""`build.py deploy`: two data versions into a local git repository's gh-pages branch.

Both snapshots exist; the first one's files are byte-identical after the second deploy (same git tree);
latest points at the second; versions.json (mike's format) lists both; a same-version rebuild changes
nothing, a code-only change replaces latest/ only, an older version is refused, and so is a deploy without
the site's address. Every page of a snapshot carries the citation meta tags, JSON-LD, its absolute snapshot
address (canonical link, citation files) and the feed link, and its links resolve inside the branch; each
version's sitemap lists its pages and the branch root has a sitemap index.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse
from xml.etree import ElementTree as ET

import pytest

from livingevidence.cli import main
from livingevidence.release import cite
from livingevidence.release.deploy import DeployError, deploy
from livingevidence.release.diff import diff_packages
from livingevidence.release.history import record_release
from tests.release_helpers import fixture_versions, git, init_repo

SITE = "https://example.org/hcc/"
TEST_DOI = "10.1234/placeholder-for-tests"  # a test value: the real configuration carries no DOI


def _tree(repo: Path, rev: str) -> str:
    return git(repo, "rev-parse", rev).strip()


def _extract(repo: Path, branch: str, dest: Path) -> Path:
    data = (
        __import__("subprocess")
        .run(["git", "-C", str(repo), "archive", "--format=tar", branch], capture_output=True, check=True)
        .stdout
    )
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(dest, filter="data")
    return dest


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, list[str]] = {}
        self.links: list[str] = []
        self.alternate: list[str] = []
        self.jsonld: list[str] = []
        self.canonical: list[str] = []
        self.latest: list[str] = []
        self._in_ld = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "meta" and a.get("name", "").startswith("citation_"):
            self.meta.setdefault(a["name"], []).append(a.get("content", ""))
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag == "link" and a.get("rel") == "alternate" and a.get("type") == "application/atom+xml":
            self.alternate.append(a["href"])
        if tag == "link" and a.get("rel") in ("canonical", "latest-version"):
            (self.canonical if a["rel"] == "canonical" else self.latest).append(a["href"])
        self._in_ld = tag == "script" and a.get("type") == "application/ld+json"

    def handle_data(self, data: str) -> None:
        if self._in_ld:
            self.jsonld.append(data)
            self._in_ld = False


def _parse(path: Path) -> _Page:
    p = _Page()
    p.feed(path.read_text(encoding="utf-8"))
    return p


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Try 1.0.0 without a site URL (refused), deploy it, then 1.1.0 (with a DOI); record what happened."""
    tmp = tmp_path_factory.mktemp("deploy")
    v1, v2 = fixture_versions(tmp)
    record_release(v1, diff_packages(None, v1))
    record_release(v2, diff_packages(None, v1))
    record_release(v2, diff_packages(v1, v2))
    repo = init_repo(tmp / "pages")
    with pytest.raises(DeployError) as refused:
        deploy(v1, repo=repo)
    branches_after_refusal = git(repo, "branch", "--list").strip()
    first = deploy(v1, repo=repo, site_url=SITE)
    tree_v1 = _tree(repo, "gh-pages:1.0.0")
    commits_1 = git(repo, "rev-list", "--count", "gh-pages").strip()

    real = cite.read_site_config
    mp = pytest.MonkeyPatch()

    def with_doi(path: Path = cite.paths.MKDOCS_YML) -> dict:
        cfg = real(path)
        cfg.setdefault("extra", {}).setdefault("citation", {})["doi"] = TEST_DOI
        return cfg

    mp.setattr(cite, "read_site_config", with_doi)
    try:
        second = deploy(v2, repo=repo, site_url=SITE)
        again = deploy(v2, repo=repo, site_url=SITE)
    finally:
        mp.undo()
    commits_2 = git(repo, "rev-list", "--count", "gh-pages").strip()
    site = _extract(repo, "gh-pages", tmp / "checkout")
    return dict(
        v1=v1, v2=v2, repo=repo, first=first, second=second, again=again, tree_v1=tree_v1, site=site,
        commits=(commits_1, commits_2), refused=str(refused.value), branches_after_refusal=branches_after_refusal,
    )  # fmt: skip


def test_both_snapshots_and_latest(deployed: dict) -> None:
    repo, site = deployed["repo"], deployed["site"]
    assert deployed["first"].status == "published" and deployed["second"].status == "published"
    for version in ("1.0.0", "1.1.0", "latest"):
        assert (site / version / "index.html").is_file()
        assert (site / version / "studies" / "li-trp-tr" / "index.html").is_file()
    assert not (site / "1.0.0" / "studies" / "ma-rego-pd1").exists()  # 1.0.0 did not have this study
    assert (site / "1.1.0" / "studies" / "ma-rego-pd1" / "index.html").is_file()
    # The first snapshot is byte-identical after the second deploy: the same git tree.
    assert _tree(repo, "gh-pages:1.0.0") == deployed["tree_v1"]
    # latest is a copy of the newest version.
    assert _tree(repo, "gh-pages:latest") == _tree(repo, "gh-pages:1.1.0")


def test_versions_json_is_mikes_format(deployed: dict) -> None:
    from mike.versions import Versions

    raw = json.loads((deployed["site"] / "versions.json").read_text(encoding="utf-8"))
    assert raw == [
        {"version": "1.1.0", "title": "1.1.0", "aliases": ["latest"]},
        {"version": "1.0.0", "title": "1.0.0", "aliases": []},
    ]
    assert [str(v.version) for v in Versions.loads(json.dumps(raw))] == ["1.1.0", "1.0.0"]
    root = (deployed["site"] / "index.html").read_text(encoding="utf-8")
    assert 'http-equiv="refresh" content="0; url=latest/"' in root and "<script" not in root
    assert (deployed["site"] / ".nojekyll").exists()
    # The selector is switched on in deployed pages (and only there).
    page = (deployed["site"] / "1.1.0" / "index.html").read_text(encoding="utf-8")
    assert '"provider": "mike"' in page


def test_same_version_same_bytes_changes_nothing(deployed: dict) -> None:
    assert deployed["again"].status == "unchanged", deployed["again"].message
    assert deployed["commits"][1] == str(int(deployed["commits"][0]) + 1)


def test_old_version_is_refused_and_code_change_moves_latest_only(deployed: dict, tmp_path: Path) -> None:
    repo, v1, v2 = deployed["repo"], deployed["v1"], deployed["v2"]
    before = git(repo, "rev-parse", "gh-pages").strip()
    with pytest.raises(DeployError, match="already published and is not the newest"):
        deploy(v1, repo=repo, site_url=SITE)
    assert main(["deploy", "--package", str(v1), "--repo", str(repo), "--site-url", SITE]) == 1
    assert git(repo, "rev-parse", "gh-pages").strip() == before
    # Same data version, different rendering (here: another site address): old snapshots keep their
    # bytes, latest/ gets the new build.
    tree_110 = _tree(repo, "gh-pages:1.1.0")
    result = deploy(v2, repo=repo, site_url="https://example.org/moved/")
    assert result.status == "latest-updated" and result.differing
    assert _tree(repo, "gh-pages:1.1.0") == tree_110
    assert _tree(repo, "gh-pages:1.0.0") == deployed["tree_v1"]
    assert _tree(repo, "gh-pages:latest") != tree_110


def _pages(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.html") if p.name != "404.html")


def test_every_page_is_citable(deployed: dict) -> None:
    site = deployed["site"]
    pages = _pages(site / "1.1.0")
    assert len(pages) >= 25
    for page in pages:
        rel = page.parent.relative_to(site / "1.1.0").as_posix()
        url_path = "" if rel == "." else rel + "/"
        p = _parse(page)
        where = page.relative_to(site)
        for tag in (
            "citation_title",
            "citation_author",
            "citation_publication_date",
            "citation_online_date",
            "citation_publisher",
            "citation_version",
            "citation_public_url",
            "citation_doi",
        ):
            assert p.meta.get(tag), f"{where}: {tag} missing"
        assert p.meta["citation_author"] == ["Living evidence HCC project maintainers"]
        assert p.meta["citation_publication_date"] == ["2026/12/01"]
        assert p.meta["citation_public_url"] == [f"{SITE}1.1.0/{url_path}"]
        assert p.canonical == [f"{SITE}1.1.0/{url_path}"]
        assert p.latest == [f"{SITE}latest/{url_path}"]
        assert p.meta["citation_doi"] == [TEST_DOI]
        assert p.alternate == ["../" * (url_path.count("/") + 1) + "feed.xml"]  # the root feed, on any host
        assert len(p.jsonld) == 1
        ld = json.loads(p.jsonld[0])
        assert ld["@context"] == "https://schema.org" and ld["version"] == "1.1.0"
        assert ld["exampleOfWork"]["url"] == f"{SITE}latest/{url_path}"
        if ld["@type"] == "WebPage":
            assert ld["url"] == f"{SITE}1.1.0/{url_path}"
        html = page.read_text(encoding="utf-8")
        assert f"https://doi.org/{TEST_DOI}" in html
        box = re.search(r'<details class="le-cite"[^>]*>.*?</details>', html, re.S).group(0)
        assert f'<a href="{SITE}1.1.0/{url_path}">' in box and f'<a href="{SITE}latest/{url_path}">' in box
        slug = url_path.strip("/").replace("/", "-") or "index"
        for ext in ("bib", "ris", "json"):
            assert (site / "1.1.0" / "cite" / f"{slug}.{ext}").is_file(), f"{where}: cite/{slug}.{ext}"
    data = json.loads(_parse(site / "1.1.0" / "data" / "index.html").jsonld[0])
    assert data["@type"] == "Dataset"
    assert {d["contentUrl"] for d in data["distribution"]} == {
        f"{SITE}1.1.0/downloads/hcc-second-line-living-evidence-1.1.0.zip",
        f"{SITE}1.1.0/downloads/datapackage.json",
    }


def test_a_deploy_without_a_site_url_is_refused_with_the_fix(deployed: dict, capsys) -> None:
    message = deployed["refused"]
    assert "no address (site_url)" in message and "nothing was deployed" in message
    assert "site_url: https://<owner>.github.io/<repository>/" in message and "--site-url URL" in message
    assert deployed["branches_after_refusal"] == ""  # nothing committed, no branch made
    assert main(["deploy", "--package", str(deployed["v2"]), "--repo", str(deployed["repo"]), "--site-url", ""]) == 1
    err = capsys.readouterr().err
    assert err.startswith("deploy refused: the site has no address") and "Traceback" not in err
    with pytest.raises(DeployError, match="not an absolute http"):
        deploy(deployed["v2"], repo=deployed["repo"], site_url="example.org/hcc")


def test_every_citation_file_carries_the_absolute_snapshot_url(deployed: dict) -> None:
    site = deployed["site"]
    for version in ("1.0.0", "1.1.0"):
        pages = _pages(site / version)
        for page in pages:
            rel = page.parent.relative_to(site / version).as_posix()
            url_path = "" if rel == "." else rel + "/"
            slug = url_path.strip("/").replace("/", "-") or "index"
            snapshot, latest = f"{SITE}{version}/{url_path}", f"{SITE}latest/{url_path}"
            bib = (site / version / "cite" / f"{slug}.bib").read_text(encoding="utf-8")
            assert re.search(r"^  url\s+= \{" + re.escape(snapshot) + r"\},$", bib, re.M), (version, slug)
            ris = (site / version / "cite" / f"{slug}.ris").read_bytes().decode("utf-8").split("\r\n")
            assert f"UR  - {snapshot}" in ris, (version, slug)
            csl = json.loads((site / version / "cite" / f"{slug}.json").read_text(encoding="utf-8"))
            assert csl[0]["URL"] == snapshot and latest in csl[0]["note"], (version, slug)
            text = re.search(r'<p class="le-cite-text">(.*?)</p>', page.read_text(encoding="utf-8"), re.S)
            assert f"{snapshot}." in text.group(1), (version, slug)


def test_each_version_has_a_sitemap_of_its_pages_and_the_root_an_index(deployed: dict) -> None:
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    site = deployed["site"]
    for version in ("1.0.0", "1.1.0"):
        locs = {e.text for e in ET.parse(site / version / "sitemap.xml").getroot().findall("s:url/s:loc", ns)}
        expected = set()
        for page in _pages(site / version):
            rel = page.parent.relative_to(site / version).as_posix()
            expected.add(f"{SITE}{version}/" + ("" if rel == "." else rel + "/"))
        assert locs == expected, sorted(locs ^ expected)[:5]
    index = ET.parse(site / "sitemap.xml").getroot()
    assert index.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}sitemapindex"
    assert [e.text for e in index.findall("s:sitemap/s:loc", ns)] == [
        f"{SITE}1.1.0/sitemap.xml",
        f"{SITE}1.0.0/sitemap.xml",
    ]


def test_snapshot_links_resolve_in_the_branch(deployed: dict) -> None:
    """A snapshot's relative links (and its feed link) resolve inside the branch, from its own folder."""
    site = deployed["site"]
    broken = []
    for page in _pages(site / "1.0.0"):
        p = _parse(page)
        base = "http://host/" + page.relative_to(site).as_posix()
        for href in p.links + p.alternate:
            url = urlparse(href)
            if url.scheme or href.startswith("#") or href.startswith("mailto:"):
                continue
            target = site / unquote(urlparse(urljoin(base, href)).path).lstrip("/")
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.relative_to(site)} -> {href}")
    assert broken == [], broken[:20]
    study = _parse(site / "1.0.0" / "studies" / "li-trp-tr" / "index.html")
    assert study.alternate == ["../../../feed.xml"]
    assert study.meta["citation_public_url"] == [f"{SITE}1.0.0/studies/li-trp-tr/"]
    html = (site / "1.0.0" / "studies" / "li-trp-tr" / "index.html").read_text(encoding="utf-8")
    assert f'<a href="{SITE}1.0.0/studies/li-trp-tr/"><code>{SITE}1.0.0/studies/li-trp-tr/</code>' in html
    assert "relative to the site" not in html and "not set" not in html


def test_root_feed_lists_both_releases(deployed: dict) -> None:
    ns = {"a": "http://www.w3.org/2005/Atom"}
    feed = ET.parse(deployed["site"] / "feed.xml").getroot()
    entries = feed.findall("a:entry", ns)
    assert [e.find("a:title", ns).text for e in entries] == ["Data version 1.1.0", "Data version 1.0.0"]
    assert entries[0].find("a:link", ns).get("href") == f"{SITE}1.1.0/whats-new/1.1.0/"
