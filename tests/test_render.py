"""render.html_table against the Jinja macro it replaced: the same bytes for any table."""

from __future__ import annotations

import jinja2
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from livingevidence.pages.common import Table
from livingevidence.pages.render import html_table

# The `table` macro of templates/partials/macros.j2 as it was before html_table, verbatim but for what was
# added since: the data-search-exclude attribute (tables stay out of the search index), the table's kind as a
# class, and empty cells without a label (on phones they are hidden, not shown as a label without a value).
REFERENCE_MACRO = """{% macro table(t) -%}
<div class="le-table-wrap" markdown="0" data-search-exclude>
<table class="le-table{% if t.sortable %} le-sortable{% endif %}{% if t.kind %} le-{{ t.kind }}{% endif %}"\
{% if t.id %} id="{{ t.id }}"{% endif %}>
{% if t.caption %}<caption>{{ t.caption }}</caption>{% endif %}
<thead><tr>{% for h in t.headers %}<th scope="col">{{ h }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in t.rows %}
<tr>{% for cell in row %}{% if loop.first %}<th scope="row">{{ cell }}</th>{% elif cell in ("", None) %}\
<td class="le-empty"></td>{% else %}<td data-label="{{ t.headers[loop.index0] }}">{{ cell }}</td>{% endif %}\
{% endfor %}</tr>
{% endfor %}
</tbody>
</table>
</div>
{%- endmacro %}{{ table(t) }}"""

_ENV = jinja2.Environment(
    autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True
)
_REFERENCE = _ENV.from_string(REFERENCE_MACRO.replace("\\\n", ""))

_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
_cell = st.one_of(
    _text,
    st.none(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    _text.map(lambda s: Markup(f'<a href="x">{Markup.escape(s)}</a>')),
)


@st.composite
def tables(draw: st.DrawFn) -> Table:
    width = draw(st.integers(0, 5))
    headers = draw(st.lists(_text, min_size=width, max_size=width))
    rows = draw(st.lists(st.lists(_cell, min_size=0, max_size=width), max_size=6))
    return Table(
        headers=headers,
        rows=rows,
        caption=draw(_text),
        sortable=draw(st.booleans()),
        id=draw(st.sampled_from(["", "t1"])),
        kind=draw(st.sampled_from(["", "pairs"])),
    )


@settings(max_examples=300, deadline=None)
@given(tables())
def test_html_table_is_byte_identical_to_the_macro(t: Table) -> None:
    assert str(html_table(t)) == _REFERENCE.render(t=t)


def test_html_table_escapes_every_cell_and_header() -> None:
    t = Table(headers=["<h>", "b"], rows=[["<script>", "a&b"]], caption='"c"', id="x")
    out = str(html_table(t))
    assert "<script>" not in out and "&lt;script&gt;" in out and "a&amp;b" in out
    assert 'data-label="b"' in out and "&lt;h&gt;" in out and "&#34;c&#34;" in out


def test_a_link_built_in_python_stays_a_link() -> None:
    out = str(html_table(Table(headers=["a"], rows=[[Markup('<a href="/s/">S</a>')]])))
    assert '<th scope="row"><a href="/s/">S</a></th>' in out
