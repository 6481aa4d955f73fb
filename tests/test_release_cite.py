"""Citations: every built page has the meta tags, JSON-LD and its downloads; the BibTeX, RIS and CSL-JSON
files parse; CITATION.cff and .zenodo.json are valid and follow the data version; no DOI is made up."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from livingevidence import paths
from livingevidence.load import read_descriptor
from livingevidence.release.cite import CitationConfig, Citations, load_config, page_title, split_front_matter
from tests.test_release_deploy import _parse

VERSION = read_descriptor(paths.DATAPACKAGE_DIR)["version"]
DATE = str(read_descriptor(paths.DATAPACKAGE_DIR)["created"])[:10]

# CSL-JSON (citation-style-language/schema, csl-data.json v1.0): the item types and the variables this
# project writes, with their kinds, as the specification defines them.
CSL_TYPES = {
    "article", "article-journal", "article-magazine", "article-newspaper", "bill", "book", "broadcast",
    "chapter", "classic", "collection", "dataset", "document", "entry", "entry-dictionary",
    "entry-encyclopedia", "event", "figure", "graphic", "hearing", "interview", "legal_case", "legislation",
    "manuscript", "map", "motion_picture", "musical_score", "pamphlet", "paper-conference", "patent",
    "performance", "periodical", "personal_communication", "post", "post-weblog", "regulation", "report",
    "review", "review-book", "software", "song", "speech", "standard", "thesis", "treaty", "webpage",
}  # fmt: skip
CSL_STRINGS = {"id", "title", "container-title", "publisher", "note", "URL", "DOI", "language", "version"}
CSL_NAMES = {"author", "editor"}
CSL_DATES = {"issued", "accessed"}


def _bibtex_entries(text: str) -> list[tuple[str, str, dict[str, str]]]:
    """A small BibTeX reader: @type{key, field = {braced} | "quoted" | bare, ...}, braces balanced."""
    entries = []
    i = 0
    while (at := text.find("@", i)) >= 0:
        m = re.compile(r"@(\w+)\s*\{\s*([^,\s]+)\s*,").match(text, at)
        assert m, f"bad entry head at {at}"
        kind, key, j = m.group(1).lower(), m.group(2), m.end()
        fields: dict[str, str] = {}
        while True:
            fm = re.compile(r"\s*(\w+)\s*=\s*").match(text, j)
            if not fm:
                break
            name, j = fm.group(1).lower(), fm.end()
            if text[j] == "{":
                depth, start = 0, j
                while True:
                    if text[j] == "\\":
                        j += 2
                        continue
                    depth += {"{": 1, "}": -1}.get(text[j], 0)
                    j += 1
                    if depth == 0:
                        break
                value = text[start + 1 : j - 1]
            else:
                vm = re.compile(r"[A-Za-z0-9]+").match(text, j)
                assert vm, f"bad value for {name}"
                value, j = vm.group(0), vm.end()
            fields[name] = value
            j = re.compile(r"\s*,?").match(text, j).end()
        end = re.compile(r"\s*\}").match(text, j)
        assert end, f"entry {key} not closed"
        entries.append((kind, key, fields))
        i = end.end()
    return entries


def _check_ris(text: str) -> dict[str, list[str]]:
    lines = text.split("\r\n")
    assert lines[-1] == "" and lines[-2] == "ER  - ", "an RIS record ends with 'ER  - ' and CRLF"
    tags: dict[str, list[str]] = {}
    for line in lines[:-1]:
        m = re.fullmatch(r"([A-Z][A-Z0-9])  - (.*)", line)
        assert m, f"bad RIS line {line!r}"
        tags.setdefault(m.group(1), []).append(m.group(2))
    assert lines[0].startswith("TY  - ")
    return tags


def _check_csl(items: object) -> None:
    assert isinstance(items, list) and items
    for item in items:
        assert isinstance(item, dict)
        assert isinstance(item.get("id"), str) and item["id"]
        assert item.get("type") in CSL_TYPES
        for key, value in item.items():
            if key == "type":
                continue
            if key in CSL_STRINGS:
                assert isinstance(value, str), key
            elif key in CSL_NAMES:
                assert isinstance(value, list) and value
                for name in value:
                    assert set(name) <= {"family", "given", "literal", "suffix", "dropping-particle"}
                    assert name.get("literal") or name.get("family")
            elif key in CSL_DATES:
                parts = value["date-parts"]
                assert 1 <= len(parts) <= 2 and all(1 <= len(p) <= 3 for p in parts)
                assert all(isinstance(x, int) for p in parts for x in p)
            else:
                raise AssertionError(f"{key} is not a CSL variable this check knows")


def _pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if p.name != "404.html")


def test_every_page_has_meta_tags_jsonld_and_feed_link(built_site: Path) -> None:
    pages = _pages(built_site)
    assert len(pages) >= 25
    for page in pages:
        p = _parse(page)
        where = page.relative_to(built_site)
        for tag in (
            "citation_title",
            "citation_author",
            "citation_publication_date",
            "citation_online_date",
            "citation_publisher",
            "citation_version",
        ):
            assert p.meta.get(tag), f"{where}: {tag} missing"
        assert p.meta["citation_author"] == list(load_config().authors)
        assert p.meta["citation_version"] == [VERSION]
        assert p.meta["citation_publication_date"] == [DATE.replace("-", "/")]
        assert "citation_doi" not in p.meta  # the configuration carries no DOI: none is shown
        assert "citation_public_url" not in p.meta  # no site_url: no absolute address to give
        assert len(p.alternate) == 1 and p.alternate[0].endswith("feed.xml")
        ld = json.loads(p.jsonld[0])
        assert ld["@context"] == "https://schema.org"
        assert ld["@type"] in ("WebPage", "Dataset")
        text = page.read_text(encoding="utf-8")
        assert 'class="le-cite"' in text and f"data version {VERSION}" in text
        aside = re.search(r'<aside class="le-version".*?</aside>', text, re.S)
        assert aside and "DOI" not in aside.group(0)


def test_dataset_on_the_data_page(built_site: Path) -> None:
    ld = json.loads(_parse(built_site / "data" / "index.html").jsonld[0])
    assert ld["@type"] == "Dataset" and ld["version"] == VERSION and ld["datePublished"] == DATE
    assert ld["license"] == "https://creativecommons.org/licenses/by/4.0/"
    urls = [d["contentUrl"] for d in ld["distribution"]]
    assert urls == [f"../downloads/hcc-second-line-living-evidence-{VERSION}.zip", "../downloads/datapackage.json"]
    for url in urls:
        assert (built_site / "data" / url).resolve().is_file()


def test_citation_files_parse(built_site: Path) -> None:
    pages = _pages(built_site)
    for page in pages:
        rel = page.parent.relative_to(built_site).as_posix()
        slug = "index" if rel == "." else rel.replace("/", "-")
        title = _parse(page).meta["citation_title"][0]
        bib = (built_site / "cite" / f"{slug}.bib").read_text(encoding="utf-8")
        [(kind, key, fields)] = _bibtex_entries(bib)
        assert kind == "misc" and key.endswith(slug) and VERSION in key
        assert {"author", "title", "year", "month", "version", "note"} <= set(fields)
        assert fields["author"] == "{Living evidence HCC project maintainers}"
        assert fields["year"] == DATE[:4] and fields["version"] == VERSION
        assert "url" not in fields and "doi" not in fields
        ris = _check_ris((built_site / "cite" / f"{slug}.ris").read_bytes().decode("utf-8"))
        assert ris["TY"] in (["ELEC"], ["DATA"]) and ris["ET"] == [VERSION] and ris["TI"] == [title]
        assert ris["DA"] == [DATE.replace("-", "/")] and "DO" not in ris
        csl = json.loads((built_site / "cite" / f"{slug}.json").read_text(encoding="utf-8"))
        _check_csl(csl)
        assert csl[0]["title"] == title and csl[0]["version"] == VERSION
        assert csl[0]["issued"] == {"date-parts": [[int(x) for x in DATE.split("-")]]}


def test_citation_text_and_formats_with_a_site_url_and_doi() -> None:
    config = CitationConfig(
        title="A & B: {living} summary",
        authors=("Maintainers of X", "Y_Z team"),
        publisher="X project",
        site_url="https://example.org/x/",
        doi="10.1234/placeholder-for-tests",
    )
    c = Citations(config, version="2.1.0", date="2027-03-04", package_title="pkg", zip_name="pkg-2.1.0.zip")
    pc = c.cite("studies/a.md", "Smith et al.")
    assert pc.snapshot_url == "https://example.org/x/2.1.0/studies/a/"
    assert pc.text == (
        "Maintainers of X; Y_Z team. (2027). Smith et al. In: A & B: {living} summary (data version 2.1.0, "
        "2027-03-04). X project. https://example.org/x/2.1.0/studies/a/. https://doi.org/10.1234/placeholder-for-tests"
    )
    [(_, _, fields)] = _bibtex_entries(c.bibtex(pc))
    assert fields["author"] == r"{Maintainers of X} and {Y\_Z team}"
    assert fields["howpublished"].startswith(r"A \& B: \textbraceleft{}living\textbraceright{} summary")
    assert (
        fields["url"] == "https://example.org/x/2.1.0/studies/a/" and fields["doi"] == r"10.1234/placeholder-for-tests"
    )
    ris = _check_ris(c.ris(pc))
    assert ris["AU"] == ["Maintainers of X", "Y_Z team"] and ris["DO"] == ["10.1234/placeholder-for-tests"]
    _check_csl(c.csl(pc))
    home = c.cite("index.md", "ignored")
    assert home.title == "A & B: {living} summary" and home.slug == "index"
    with pytest.raises(ValueError):
        c.cite("studies-a.md", "clash")  # 'studies/a/' and 'studies-a/' would share cite/studies-a.*


def test_front_matter_round_trip() -> None:
    config = CitationConfig(title="T", authors=("M",), publisher="M")
    c = Citations(config, version="1.0.0", date="2026-01-02", package_title="p")
    text = '---\ndescription: "x: y"\n---\n\n# Li et al\\. {: #li }\n\nBody </script> here\n'
    out = c.annotate("studies/li.md", text)
    meta, body = split_front_matter(out)
    assert meta["description"] == "x: y" and body == text.split("---\n", 2)[2]
    assert meta["le_cite"]["title"] == "Li et al." and meta["le_cite"]["slug"] == "studies-li"
    assert "<" not in meta["le_cite"]["jsonld"]
    assert page_title("intro\n# A *b* &amp; c\n") == "A b & c"


# --- CITATION.cff and .zenodo.json ---------------------------------------------------------------------------


def test_citation_cff_is_valid_and_follows_the_data() -> None:
    cff = yaml.safe_load((paths.ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    # The CFF 1.2.0 required keys and the formats the schema gives them.
    assert cff["cff-version"] == "1.2.0"
    assert {"message", "title", "authors"} <= set(cff)
    assert all(isinstance(a, dict) and (a.get("name") or a.get("family-names")) for a in cff["authors"])
    assert cff["type"] in ("dataset", "software")
    assert cff["version"] == VERSION and str(cff["date-released"]) == DATE
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(cff["date-released"]))
    assert [a["name"] for a in cff["authors"]] == list(load_config().authors)
    assert "doi" not in cff  # none yet; never invented


@pytest.mark.skipif(shutil.which("cffconvert") is None, reason="cffconvert is not installed (see README)")
def test_cffconvert_validates() -> None:
    result = subprocess.run(
        ["cffconvert", "--validate", "-i", str(paths.ROOT / "CITATION.cff")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_zenodo_json() -> None:
    z = json.loads((paths.ROOT / ".zenodo.json").read_text(encoding="utf-8"))
    assert z["upload_type"] == "dataset"
    assert z["version"] == VERSION and z["publication_date"] == DATE
    assert [c["name"] for c in z["creators"]] == list(load_config().authors)
    assert z["license"] == "cc-by-4.0" and z["access_right"] == "open"
    assert "doi" not in z
