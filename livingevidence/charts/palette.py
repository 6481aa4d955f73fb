"""Colours: one colour per regimen across the whole site, and the response-category scheme.

Regimen colours come from the Okabe-Ito palette (Okabe & Ito 2008; Wong, Nature Methods 2011), which stays
distinguishable for the common colour-vision deficiencies. Okabe-Ito's black is left out (it vanishes on
mkdocs-material's dark "slate" background) and replaced by the palette's customary ninth colour, grey #999999.
The order puts the colours that read best on BOTH white and the slate background first; the light ones
(orange, sky blue, grey, yellow) come last. Every dot drawn in a regimen colour also gets a thin outline in
the text colour of the current theme (see `theme.py`), so even yellow on white stays visible.
"""

from __future__ import annotations

from collections.abc import Iterable

#: Okabe-Ito without black, most contrasting on white and on #1e2129 first. Eight distinct colours.
OKABE_ITO: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#999999",  # grey (Okabe-Ito's ninth colour, used instead of black)
    "#F0E442",  # yellow
)

#: Tumour response categories, best to worst, and their colours: a blue-grey-red diverging scheme taken from
#: ColorBrewer's colour-blind-safe RdBu (complete and partial response blue, stable disease neutral grey,
#: progression red), so the order also reads from lightness alone.
RESPONSE_CATEGORIES: tuple[str, ...] = ("CR", "PR", "SD", "PD")
RESPONSE_COLOURS: tuple[str, ...] = ("#2166AC", "#92C5DE", "#D4D4D4", "#D6604D")
#: Text colour drawn on top of each response colour (chosen for contrast >= 4.5:1 on that fill).
RESPONSE_TEXT_COLOURS: tuple[str, ...] = ("#FFFFFF", "#1A1A1A", "#1A1A1A", "#1A1A1A")
RESPONSE_NAMES: dict[str, str] = {
    "CR": "Complete response",
    "PR": "Partial response",
    "SD": "Stable disease",
    "PD": "Progressive disease",
}


def regimen_colours(regimen_ids: Iterable[str]) -> dict[str, str]:
    """Map each regimen id to its site-wide colour.

    Pass ALL regimen ids of the data package, in the package's order (regimens.csv row order): the colour
    depends only on the position of the id in that list, so the same id gets the same colour on every page
    and a regimen added at the end of the table does not recolour the others. Duplicate ids keep their first
    position. Up to eight regimens get eight distinct colours; from the ninth on, colours repeat (the charts
    then still tell arms apart by their labels, and the adverse-event chart also by marker shape).
    """
    colours: dict[str, str] = {}
    for regimen_id in regimen_ids:
        if regimen_id not in colours:
            colours[regimen_id] = OKABE_ITO[len(colours) % len(OKABE_ITO)]
    return colours


def colour_scale(mapping: dict[str, str]) -> tuple[list[str], list[str]]:
    """Split a `regimen_colours` mapping into the `(colour_domain, colour_range)` lists the specs take."""
    return list(mapping), list(mapping.values())
