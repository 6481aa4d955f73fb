"""A hostile but valid data package: every free-text field of tests/fixtures/valid/ holds an attack payload.

``make_hostile_package(dest)`` copies the valid fixture and rewrites it: every string cell that has no enum or
pattern constraint (titles, labels, notes, sources, descriptions, ...) gets a payload, and the fields whose
pattern still lets hostile text through (URL, DOI) get payloads that match their pattern. The descriptor's
free text (package title and description, licence, resource titles and descriptions, field descriptions) gets
payloads too. Every payload carries a unique marker ``XSS<n>`` and, where it would run code, calls
``alert(<n>)``, so a test can say which cell leaked.

Control characters other than tab and newline, and the right-to-left override U+202E, are not planted: the
validator rejects them (rule ``control-character``; tests/test_validate_limits.py). Right-to-left text, the
bidirectional embeddings and isolates, emoji, zero-width and combining characters are planted.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path
from typing import Any

VALID = Path(__file__).resolve().parent / "fixtures" / "valid"

#: Payload templates; ``N`` is replaced by the cell's number. Ordered roughly from short to long.
PAYLOADS: tuple[str, ...] = (
    "<script>alert(N)</script>XSSN",
    '"><img src=x onerror=alert(N)>XSSN',
    "' onmouseover='alert(N)' x='XSSN",
    "javascript:alert(N)//XSSN",
    "{{7*7}} {% if 1 %}XSSN{% endif %} ${7*7} #{7*7}",
    "[XSSN](javascript:alert(N)) ![XSSN](https://evil.example/N.png)",
    "</textarea></title></style></noscript></script><svg onload=alert(N)>XSSN",
    "\u2067XSSN evil\u2069 \u202bمرحبا שלום\u202c 🧪👩\u200d⚕️ 𝔘𝔫𝔦 e\u0301\u200b",
    '*em* _u_ `c` # h {: #XSSN .x onclick="alert(N)" } XSSN',
    "<!-- XSSN --> ]]> &amp; &lt;b&gt; &#x3C;i&#x3E; \\ XSSN",
    "<a href=\"javascript:alert(N)\">XSSN</a> <a href='data:text/html,x'>d</a>",
    "line one\nline two <b>XSSN</b>\n\nnew paragraph\n# heading",
    "[r]: javascript:alert(N)\n[XSSN][r] [XSSN](<javascript:alert(N)>)",
    "<https://evil.example/XSSN> <javascript:alert(N)> https://evil.example/XSSN",
    "<style>body{display:none}</style><link rel=stylesheet href=//evil.example>XSSN",
    "| a | b |\n|---|---|\n| XSSN | <iframe src=javascript:alert(N)> |",
    "<details open ontoggle=alert(N)>XSSN</details><math><mi xlink:href=javascript:alert(N)>",
    "\tXSSN\t'\"`<>&%00%3Cscript%3E</div></td></tr></table></figure>",
    "!!python/object/apply:os.system ['echo XSSN'] \n--- \ndescription: XSSN",
)
#: Short payloads for fields with a small maxLength.
SHORT_PAYLOADS: tuple[str, ...] = ("<script>alert(N)</script>", "<svg onload=alert(N)>", "'\"><b>XSSN", "XSSN")

#: Payloads that fit the patterns of the URL and DOI fields (the pattern allows any non-space character).
URL_PAYLOAD = 'https://evil.example/"><script>alert(N)</script>?q=<b>XSSN'
DOI_PAYLOAD = '10.1234/"onmouseover="alert(N)"><img/src=x/onerror=alert(N)>XSSN'


class _Counter:
    def __init__(self) -> None:
        self.n = 0

    def payload(self, max_length: int | None, long: bool = True) -> str:
        """The next payload that fits ``max_length`` (marker numbers count up across the package)."""
        self.n += 1
        pool = PAYLOADS if long else SHORT_PAYLOADS
        for offset in range(len(pool)):
            text = pool[(self.n + offset) % len(pool)].replace("N", str(self.n))
            if max_length is None or len(text) <= max_length:
                return text
        for short in SHORT_PAYLOADS:
            text = short.replace("N", str(self.n))
            if max_length is None or len(text) <= max_length:
                return text
        return str(self.n)[: max_length or None]


#: Free-text fields that hold codes other tables refer to (a label's value is the code it gives words to):
#: a payload there would only unlink the label, not reach a page.
CODE_FIELDS = {("labels", "value")}


def _free_text(field: dict[str, Any], table: str = "") -> bool:
    constraints = field.get("constraints") or {}
    if (table, field.get("name")) in CODE_FIELDS:
        return False
    return field.get("type", "string") == "string" and "enum" not in constraints and "pattern" not in constraints


def make_hostile_package(dest: Path) -> Path:
    """Write the hostile package into ``dest/hostile`` and return its directory."""
    target = dest / "hostile"
    shutil.copytree(VALID, target)
    descriptor = json.loads((target / "datapackage.json").read_text(encoding="utf-8"))
    counter = _Counter()
    descriptor["title"] = counter.payload(None)
    descriptor["description"] = counter.payload(None)
    descriptor["licenses"][0]["title"] = counter.payload(None)
    descriptor["licenses"][0]["name"] = "[CC-BY](javascript:alert(0)) <b>XSS0</b>"
    descriptor["contributors"][0]["title"] = counter.payload(None)
    descriptor["keywords"] = [counter.payload(None)]
    for resource in descriptor["resources"]:
        resource["title"] = counter.payload(None)
        resource["description"] = counter.payload(None)
        fields = resource["schema"]["fields"]
        for field in fields:
            field["description"] = counter.payload(None)
        path = target / resource["path"]
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
        header, body = rows[0], rows[1:]
        by_name = {f["name"]: f for f in fields}
        for row in body:
            for i, name in enumerate(header):
                field = by_name[name]
                constraints = field.get("constraints") or {}
                if name == "url" and row[i]:
                    row[i] = URL_PAYLOAD.replace("N", str(counter.n))
                elif name == "doi" and row[i]:
                    row[i] = DOI_PAYLOAD.replace("N", str(counter.n))
                elif _free_text(field, resource["name"]) and (
                    row[i] or constraints.get("required") or counter.n % 2 == 0
                ):
                    row[i] = counter.payload(constraints.get("maxLength"), long=name != "short_label")
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows([header, *body])
        path.write_text(out.getvalue(), encoding="utf-8")
    (target / "datapackage.json").write_text(json.dumps(descriptor, indent=2, ensure_ascii=False), encoding="utf-8")
    return target


def payload_markers(package: Path) -> set[str]:
    """Every ``XSS<n>`` marker planted in the package (to check that the text reaches the pages)."""
    import re

    text = "".join(p.read_text(encoding="utf-8") for p in sorted(package.iterdir()) if p.is_file())
    return set(re.findall(r"XSS\d+", text))
