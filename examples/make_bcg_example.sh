#!/usr/bin/env bash
# Rebuild examples/bcg-vaccine from its extraction sheet: init + import, then the topic's description and scope
# (tests/test_example_topic.py checks that the committed package is what these commands give).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
export SOURCE_DATE_EPOCH=1796083200   # 2026-12-01, the example's date
sheet=$(mktemp)
cp examples/bcg-vaccine/extraction-sheet.csv "$sheet"
rm -rf examples/bcg-vaccine
"$PY" build.py init examples/bcg-vaccine --title "BCG vaccine against tuberculosis" \
  --maintainers "Living evidence generator maintainers (example topic)"
cp "$sheet" examples/bcg-vaccine/extraction-sheet.csv
"$PY" build.py import examples/bcg-vaccine/extraction-sheet.csv --project examples/bcg-vaccine \
  --extracted-by "metafor's dat.bcg (public data set)"
"$PY" - <<'PYEOF'
import json
p = "examples/bcg-vaccine/datapackage/datapackage.json"
d = json.load(open(p, encoding="utf-8"))
d["topic"]["description"] = (
    "An example summary made with `build.py init` and `build.py import` from a classic public data set: 13 trials "
    "of BCG vaccination against tuberculosis (Colditz et al. 1994, JAMA 271:698), as distributed with R's metafor "
    "package (dat.bcg). It shows the generator on a topic that is not the first one; it is not kept up to date."
)
d["topic"]["scope"] = {
    "population": "Participants of the 13 BCG vaccine trials in dat.bcg (1948-1980)",
    "interventions": "BCG vaccine vs no vaccine",
    "outcomes": "Tuberculosis cases",
    "designs": "Randomised and quasi-randomised (alternate or systematic allocation) trials",
}
d["keywords"] = ["living evidence", "example", "BCG vaccine", "tuberculosis"]
open(p, "w", encoding="utf-8").write(json.dumps(d, indent=2, ensure_ascii=False) + "\n")
PYEOF
rm -f "$sheet"
