"""Benchmark: time per chart spec once the templates are built. Run `python -m tests.chart_bench`.

Not a test (timings depend on the machine); the target is well under 1 ms per chart including the JSON for
the data attribute, against 30-90 ms for building the same chart with Altair each time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from livingevidence.charts import chart_html_attrs, regimen_colours
from tests import chart_examples as ex

N = 100


def _time(build: Callable[[], dict[str, Any]], n: int = N) -> tuple[float, float]:
    """(ms per spec, ms per spec + JSON) over `n` builds."""
    start = time.perf_counter()
    for _ in range(n):
        build()
    spec_only = (time.perf_counter() - start) / n * 1000
    start = time.perf_counter()
    for _ in range(n):
        chart_html_attrs(build())
    with_json = (time.perf_counter() - start) / n * 1000
    return spec_only, with_json


def main() -> None:
    """Print the first (template-building) call and the average of N later calls for each chart kind."""
    colours = regimen_colours(ex.REGIMEN_IDS)
    domain, range_ = list(colours), list(colours.values())
    for name, build in ex.builders(domain, range_).items():
        start = time.perf_counter()
        build()
        first = (time.perf_counter() - start) * 1000
        spec_ms, json_ms = _time(build)
        print(
            f"{name:16s} first call {first:7.1f} ms   then {spec_ms:.3f} ms/spec, {json_ms:.3f} ms with JSON ({N} runs)"
        )


if __name__ == "__main__":
    main()
