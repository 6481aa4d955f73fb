"""Untrusted pull requests (issue 11), citation files: hostile titles and names round-trip through real parsers.

A study label is a page title, and page titles go into every page's BibTeX, RIS and CSL-JSON file. A label ending
in ``}}, url = "https://evil.example/phish"`` used to give a .bib entry with the attacker's url, ``Li} et al.``
truncated an entry (BibTeX counts every brace, escaped or not). Each file is parsed here by a well-kept parser
(bibtexparser, rispy, json): one entry, exactly the fields the serializer writes, and the text as given (white
space folded to single spaces, control characters dropped).
"""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livingevidence.release.cite import CitationConfig, Citations, one_line

bibtexparser = pytest.importorskip("bibtexparser")
rispy = pytest.importorskip("rispy")

HOSTILE = [
    'Li et al.}}, url = "https://evil.example/phish"',
    "Li} et al.",
    "{Li et al.",
    "Li et al.}} @misc{evil, title={owned}}",
    r"back\slash \} \{ \\ \end{document}",
    "50% of #1 & $x_2^3$ ~ @home",
    "two\nlines\r\nand\rmore\u2028here",
    "ctrl \x00\x07\x1b\x7f\x85 chars",
    "TY  - JOUR\r\nUR  - https://evil.example\nER  - ",
    "\u202etxt.exe",
    "\"quoted\" and 'single'",
    "}{" * 20,
    "",
]

# The inverse of the serializer's escapes, for the round trip (BibTeX parsers keep LaTeX as written).
_UNESCAPE = {
    r"\textbackslash{}": "\\",
    r"\textbraceleft{}": "{",
    r"\textbraceright{}": "}",
    r"\textasciitilde{}": "~",
    r"\textasciicircum{}": "^",
    r"\&": "&",
    r"\%": "%",
    r"\$": "$",
    r"\#": "#",
    r"\_": "_",
}
_UNESCAPE_RE = re.compile("|".join(re.escape(k) for k in sorted(_UNESCAPE, key=len, reverse=True)))


def _latex_text(value: str) -> str:
    return _UNESCAPE_RE.sub(lambda m: _UNESCAPE[m.group()], value)


def _citations(title: str, author: str = "Maintainers") -> tuple[Citations, object]:
    config = CitationConfig(
        title=f"Summary {title}",
        authors=(author, "Second Team"),
        publisher=f"Publisher {title}",
        site_url="https://example.org/{x}/",
        doi="10.1234/test",
    )
    c = Citations(config, version="1.2.3", date="2026-02-03", package_title="P")
    page = c.cite("studies/x.md", title)
    return c, page


def _bib_fields(text: str) -> dict[str, str]:
    library = bibtexparser.parse_string(text)
    assert library.failed_blocks == [], [b.error for b in library.failed_blocks]
    assert len(library.entries) == 1 and not library.strings and not library.preambles
    return {f.key: f.value for f in library.entries[0].fields}


@pytest.mark.parametrize("title", HOSTILE)
def test_bibtex_round_trip(title: str) -> None:
    c, page = _citations(title)
    text = c.bibtex(page)
    fields = _bib_fields(text)
    assert set(fields) == {"author", "title", "howpublished", "year", "month", "date", "version", "publisher", "url",
                           "doi", "note"}  # fmt: skip
    assert fields["url"] == "https://example.org/%7Bx%7D/1.2.3/studies/x/"  # never the attacker's
    assert _latex_text(fields["title"]) == "{" + one_line(title) + "}"
    assert _latex_text(fields["publisher"]) == one_line(f"Publisher {title}")
    assert text.count("{") == text.count("}")
    assert all(line.startswith(("@misc{", "  ", "}")) for line in text.splitlines()), text


@pytest.mark.parametrize("author", HOSTILE[:6])
def test_bibtex_author_names_stay_one_name(author: str) -> None:
    c, page = _citations("T", author=author or "x")
    fields = _bib_fields(c.bibtex(page))
    names = [_latex_text(n) for n in re.findall(r"\{((?:[^{}]|\{\})*)\}", fields["author"])]
    assert names[-1] == "Second Team" and _latex_text(fields["author"]).count(" and ") >= 1


@pytest.mark.parametrize("title", HOSTILE)
def test_ris_round_trip(title: str) -> None:
    c, page = _citations(title)
    text = c.ris(page)
    [entry] = rispy.loads(text)
    assert entry["type_of_reference"] == "ELEC"
    assert entry["title"] == one_line(title) or (not one_line(title) and "title" not in entry)
    assert entry["urls"] == ["https://example.org/{x}/1.2.3/studies/x/"]
    assert entry["authors"] == ["Maintainers", "Second Team"]
    tags = [line[:2] for line in text.split("\r\n") if line]
    assert tags == ["TY", "AU", "AU", "TI", "T2", "PY", "DA", "ET", "PB", "UR", "DO", "N1", "LA", "ER"]


@pytest.mark.parametrize("title", HOSTILE)
def test_csl_json_round_trip(title: str) -> None:
    c, _ = _citations(title)
    text = c.files()["cite/studies-x.json"]
    [item] = json.loads(text)
    assert item["title"] == title and item["URL"] == "https://example.org/{x}/1.2.3/studies/x/"


@settings(max_examples=60, deadline=None)
@given(title=st.text(max_size=60), author=st.text(min_size=1, max_size=20))
def test_any_text_round_trips(title: str, author: str) -> None:
    c, page = _citations(title, author)
    fields = _bib_fields(c.bibtex(page))
    assert _latex_text(fields["title"]) == "{" + one_line(title) + "}"
    [entry] = rispy.loads(c.ris(page))
    assert entry.get("title", "") == one_line(title)
    assert json.loads(json.dumps(c.csl(page)))[0]["title"] == title
