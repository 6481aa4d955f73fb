"""Untrusted pull requests (issue 11), as a property: whatever a pull request does to ids, resource paths,
descriptor fields and the release history, validate + generate never writes outside its folders, never opens a
socket, and either succeeds or fails with a located message (file and rule, or a build error saying what).

Each example edits a fresh copy of the tiny fixture package; the site engine is not run (it only reads the
generated docs), so an example takes a fraction of a second.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from livingevidence import paths
from livingevidence.checks import validate_package
from livingevidence.site import BuildError, generate
from tests.untrusted import copy_fixture, drop_constraints, edit_descriptor, outside, rename_id, watch, write_releases

IDS = ["fixture-a", "fixture-b", "x", "x-y", "tace-x", "add-y", "xy-vs-x", "fa-xy", "fa-psm"]
HOSTILE_TEXT = [
    "../x",
    "../../../../tmp/x/config",
    "/abs/path",
    "a/b",
    "..",
    ".",
    "x" * 120,
    "a b",
    "é",
    "",
    "CON",
    "a\\b",
    "%2e%2e",
    "=cmd|x",
    "\u202eabc",
]
PATHS = ["../x.csv", "/etc/hostname", "a/../../b.csv", "sub/x.csv", "http://127.0.0.1:9/x.csv", "..\\x.csv", "", "."]
DESCRIPTOR_EDITS = {
    "profile": ["http://127.0.0.1:9/p.json", "/etc/hostname", "data-package", "tabular-data-package", 7],
    "name": ["../x", "a/b", "ok-name", ""],
    "version": ["../1.0.0", "1.0.0/../..", "1.0", "2.0.0"],
    "created": ["2026-02-30T00:00:00Z", "x", "2026-01-01"],
    "$schema": ["http://127.0.0.1:9/s.json"],
    "title": ["<b>t</b>", "}} @misc{x,", ""],
}
VERSIONS = ["1.0.0", "../../docs/about", "../../../../../tmp/le-escape/about", "0.9.0", "1.0", "x/y", "9.9.9"]
DATES = ["2026-01-20", "2025-02-30", "20260101", "x"]


def _text() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=10))


def _release() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "version": st.one_of(st.sampled_from(VERSIONS), _text()),
            "date": st.sampled_from(DATES),
            "previous": st.sampled_from([None, "0.9.0", "../x"]),
            "summary": _text(),
            "bump": st.sampled_from(["initial", "minor", "evil"]),
            "changes": st.sampled_from(
                [{}, {"studies_added": [{"study_id": "../x", "label": "L", "rows": {}}]}, {"pooled": "x"}]
            ),
        }
    )


MUTATION = st.one_of(
    st.tuples(
        st.just("id"),
        st.sampled_from(IDS),
        st.one_of(st.from_regex(r"[a-z0-9]{1,8}(-[a-z0-9]{1,8})?", fullmatch=True), _text()),
    ),
    st.tuples(st.just("path"), st.integers(0, 19), st.sampled_from(PATHS)),
    st.sampled_from([("descriptor", k, v) for k, values in DESCRIPTOR_EDITS.items() for v in values]),
    st.tuples(st.just("releases"), st.one_of(st.lists(_release(), max_size=2), _text())),
)


def _apply(pkg: Path, mutation: tuple[Any, ...]) -> None:
    kind = mutation[0]
    if kind == "id":
        rename_id(pkg, mutation[1], mutation[2])
    elif kind == "path":
        edit_descriptor(pkg, lambda d: d["resources"][mutation[1]].__setitem__("path", mutation[2]))
    elif kind == "descriptor":
        edit_descriptor(pkg, lambda d: d.__setitem__(mutation[1], mutation[2]))
    else:
        write_releases(pkg, mutation[1])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutations=st.lists(MUTATION, max_size=3), relax=st.booleans())
def test_no_pull_request_escapes_the_build(mutations: list[tuple[Any, ...]], relax: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="le-property-") as tmp:
        root = Path(tmp)
        pkg = copy_fixture(root)
        if relax:  # the schema no longer protects the ids: the generator's own rules must
            names = {f for r in json.loads((pkg / "datapackage.json").read_text())["resources"]
                     for f in (x["name"] for x in r["schema"]["fields"]) if f.endswith("_id")}  # fmt: skip
            drop_constraints(pkg, names, ("pattern", "maxLength", "required"))
        for mutation in mutations:
            _apply(pkg, mutation)
        docs = root / "out" / "docs"
        with watch(block_sockets=True) as w:
            report = validate_package(pkg)
            failure = None
            event("valid" if report.valid else "refused")
            if report.valid:
                try:
                    generate(pkg, docs, report)
                except BuildError as exc:
                    failure = str(exc)
        assert w.sockets == [], w.sockets
        assert outside(w.writes, docs.parent, paths.BUILD_DIR / "cache") == [], w.writes
        for p in report.errors:
            assert p.file and p.rule and p.message and p.hint, p
        if failure is not None:
            assert failure.strip() and "Traceback" not in failure
