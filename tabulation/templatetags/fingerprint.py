"""The election's fingerprint drawn as SVG on the server (docs/fingerprint.md).

The page needs no script and no inline style (the CSP forbids both): each
bin is a ``<rect>`` whose shade is an SVG attribute, with a ``<title>`` that
says its count, and the figure has a title and a description for screen
readers; the page also gives the non-empty bins as a table. Floats appear
here only as drawing coordinates: the counts come as published.
"""

from __future__ import annotations

import math
from typing import Any

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext

register = template.Library()

PLOT = 400  # the plot's side in SVG units
LEFT, BOTTOM, TOP, RIGHT = 52, 44, 10, 12  # room for the axes' labels
TICKS = (0, 25, 50, 75, 100)
FILL = "#1f4e9a"
CORNER_STROKE = "#a00000"
# Shades from light to dark; a bin's shade grows with the logarithm of its
# count, as in the paper's figures, so one crowded bin does not wash out the rest.
SHADES = ("0.35", "0.5", "0.65", "0.8", "1")


def _shade(count: int, most: int) -> str:
    if most <= 1:
        return SHADES[-1]
    level = int((len(SHADES) - 1) * math.log(count) / math.log(most))
    return SHADES[level]


def bin_range(index: int, bins: int) -> tuple[int, int]:
    """The percentages a bin spans (5 % bins: whole numbers)."""
    return (100 * index // bins, 100 * (index + 1) // bins)


def fingerprint_cells(area: dict[str, Any], bins: int) -> list[dict[str, Any]]:
    """The non-empty bins, turnout then share ascending: what the table says."""
    cells = []
    for turnout_bin, row in enumerate(area.get("counts") or ()):
        for share_bin, stations in enumerate(row):
            if stations:
                cells.append(
                    {
                        "turnout": turnout_bin,
                        "share": share_bin,
                        "turnout_range": bin_range(turnout_bin, bins),
                        "share_range": bin_range(share_bin, bins),
                        "stations": stations,
                        # Ready-made for the table: whole numbers, no grouping.
                        "turnout_label": "{}–{} %".format(*bin_range(turnout_bin, bins)),
                        "share_label": "{}–{} %".format(*bin_range(share_bin, bins)),
                    }
                )
    return cells


register.simple_tag(fingerprint_cells)


@register.simple_tag
def flagged_rows(fingerprint: dict[str, Any], document: dict[str, Any]) -> list[dict[str, Any]]:
    """The stations to look at, each with its municipality's name from the
    document (one lookup, not a loop over the municipalities per row)."""
    names = {item["code"]: item["name"] for item in document.get("municipalities") or ()}
    return [
        {**row, "municipality_name": names.get(row.get("municipality"), "")}
        for row in fingerprint.get("flagged") or ()
    ]


def _cell_title(cell: dict[str, Any], leader: Any) -> str:
    return ngettext(
        "%(count)s station: turnout %(t_from)s–%(t_to)s %%, list %(list)s %(s_from)s–%(s_to)s %%",
        "%(count)s stations: turnout %(t_from)s–%(t_to)s %%, list %(list)s %(s_from)s–%(s_to)s %%",
        cell["stations"],
    ) % {
        "count": cell["stations"],
        "t_from": cell["turnout_range"][0],
        "t_to": cell["turnout_range"][1],
        "list": leader,
        "s_from": cell["share_range"][0],
        "s_to": cell["share_range"][1],
    }


def _axes(leader: Any) -> SafeString:
    """The frame, the ticks at 0, 25, 50, 75 and 100 % and the axes' titles."""
    bottom = TOP + PLOT
    ticks = format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="middle">{}</text>'
        '<text x="{}" y="{}" text-anchor="end" dominant-baseline="middle">{}</text>',
        (
            (
                LEFT + PLOT * tick / 100,
                bottom + 16,
                tick,
                LEFT - 6,
                bottom - PLOT * tick / 100,
                tick,
            )
            for tick in TICKS
        ),
    )
    return format_html(
        '<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="#767676"/>'
        '<g font-size="12" fill="#333">{}'
        '<text x="{}" y="{}" text-anchor="middle">{}</text>'
        '<text x="{}" y="{}" text-anchor="middle" transform="rotate(-90 {} {})">{}</text></g>',
        LEFT,
        TOP,
        PLOT,
        PLOT,
        ticks,
        LEFT + PLOT / 2,
        bottom + 36,
        gettext("Turnout (%)"),
        14,
        TOP + PLOT / 2,
        14,
        TOP + PLOT / 2,
        gettext("Share of list %(list)s in valid votes (%%)") % {"list": leader},
    )


@register.simple_tag
def fingerprint_svg(
    area: dict[str, Any], bins: int, corner: dict[str, Any], figure_id: str = "fingerprint"
) -> SafeString:
    """The histogram: turnout left to right, the leading list's share bottom
    to top, one shaded square a non-empty bin; the extreme corner outlined."""
    cells = fingerprint_cells(area, bins)
    leader = area.get("leader") or "–"
    most = max((cell["stations"] for cell in cells), default=0)
    side = PLOT / bins
    squares = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" fill-opacity="{}" '
        'data-stations="{}"><title>{}</title></rect>',
        (
            (
                f"{LEFT + cell['turnout'] * side:.1f}",
                f"{TOP + (bins - 1 - cell['share']) * side:.1f}",
                f"{side:.1f}",
                f"{side:.1f}",
                FILL,
                _shade(cell["stations"], most),
                cell["stations"],
                _cell_title(cell, leader),
            )
            for cell in cells
        ),
    )
    corner_left = LEFT + PLOT * int(corner["turnout_percent"]) / 100
    corner_height = PLOT * (100 - int(corner["share_percent"])) / 100
    outline = format_html(
        '<rect class="fingerprint-corner" x="{}" y="{}" width="{}" height="{}" fill="none" '
        'stroke="{}" stroke-width="2" stroke-dasharray="4 3"><title>{}</title></rect>',
        f"{corner_left:.1f}",
        TOP,
        f"{LEFT + PLOT - corner_left:.1f}",
        f"{corner_height:.1f}",
        CORNER_STROKE,
        gettext("The extreme corner: turnout of %(turnout)s %% or more, %(share)s %% or more")
        % {"turnout": corner["turnout_percent"], "share": corner["share_percent"]},
    )
    stations = int(area.get("stations") or 0)
    description = ngettext(
        "%(count)s counted polling station, each placed by its turnout and the share of "
        "list %(list)s in its valid votes; a darker square holds more stations. "
        "The table below gives every square's count.",
        "%(count)s counted polling stations, each placed by its turnout and the share of "
        "list %(list)s in its valid votes; a darker square holds more stations. "
        "The table below gives every square's count.",
        stations,
    ) % {"count": stations, "list": leader}
    return format_html(
        '<svg class="fingerprint" viewBox="0 0 {} {}" role="img" '
        'aria-labelledby="{}-title {}-desc" xmlns="http://www.w3.org/2000/svg">'
        '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>{}{}{}</svg>',
        LEFT + PLOT + RIGHT,
        TOP + PLOT + BOTTOM,
        figure_id,
        figure_id,
        figure_id,
        gettext("Fingerprint: turnout against the leading list's share, station by station"),
        figure_id,
        description,
        _axes(leader),
        squares,
        outline,
    )
