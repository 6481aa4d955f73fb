"""The generator names no topic: the first topic's words live in its data package and docs only."""

from __future__ import annotations

import re

from livingevidence import paths

# The list: the first topic's disease, drugs, procedure and response criteria.
TOPIC_WORDS = re.compile(r"hepatocellular|regorafenib|lenvatinib|sorafenib|mRECIST|RECIST|TACE|HCC|BCLC", re.I)
SUFFIXES = {".py", ".j2", ".js", ".html", ".json", ".csv", ".yml", ".md"}


def test_no_topic_word_in_generator_code_or_templates() -> None:
    hits = []
    for folder in (paths.ROOT / "livingevidence", paths.TEMPLATES_DIR):
        for path in sorted(folder.rglob("*")):
            if path.suffix not in SUFFIXES or "__pycache__" in path.parts or not path.is_file():
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if TOPIC_WORDS.search(line):
                    hits.append(f"{path.relative_to(paths.ROOT)}:{number}: {line.strip()[:100]}")
    assert not hits, "topic words in the generator:\n" + "\n".join(hits)


def test_the_check_can_fail() -> None:
    assert TOPIC_WORDS.search("TACE + regorafenib") and not TOPIC_WORDS.search("Procedure X + Synthinib")
