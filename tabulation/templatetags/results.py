"""Formatting for the results pages: counts, shares, findings and the hemicycle.

Counts are shown with the grouping of the page's language (1.234.567 in
Serbian, 1,234,567 in English), shares with its decimal separator. A share
worked out here is rounded by the domain's one rule (``share_percent``:
Decimal, half-up, from integers): no float ever touches a published figure.
"""

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from django import template
from django.utils import numberformat
from django.utils.formats import get_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext, ngettext

from tabulation.domain.codes import CHECKS
from tabulation.domain.exact import share_percent
from tabulation.domain.hemicycle import hemicycle
from tabulation.templatetags.script import in_script

register = template.Library()

_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
NEUTRAL_COLOUR = "#767676"  # grey with 4.5:1 contrast on white


@lru_cache(maxsize=16)
def _notation(language: str | None) -> tuple[str, Any, str]:
    """The decimal separator, grouping and thousands separator of ``language``.
    Looked up once a language rather than three times a figure, as
    ``number_format`` does: a municipality's page has thousands of figures,
    and publishing renders every page in each language (services/site_pages.py)."""
    return (
        get_format("DECIMAL_SEPARATOR", language, use_l10n=True),
        get_format("NUMBER_GROUPING", language, use_l10n=True),
        get_format("THOUSAND_SEPARATOR", language, use_l10n=True),
    )


def _number(value: int | Decimal, decimal_pos: int | None = None) -> str:
    """``number_format(value, decimal_pos, force_grouping=True)``, the same text."""
    decimal_separator, grouping, thousands = _notation(get_language())
    return numberformat.format(
        value,
        decimal_separator,
        decimal_pos,
        grouping,
        thousands,
        force_grouping=True,
        use_l10n=True,
    )


@register.filter
def count(value: Any) -> str:
    """A whole number with the language's thousands grouping; blank stays blank."""
    if value is None or value == "":
        return "–"
    return _number(int(value))


@register.filter
def share(value: Any) -> str:
    """A published decimal string ("40.00") in the language's notation ("40,00")."""
    if value is None or value == "":
        return "–"
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    places = max(0, -int(number.as_tuple().exponent))
    return _number(number, decimal_pos=places)


@register.simple_tag
def percent_of(part: Any, whole: Any) -> str:
    """``part`` / ``whole`` as a localised percentage, for tables that publish
    counts only (a list's share in a municipality), rounded as every
    published share is (``share_percent``). A share of nothing counted
    (``whole`` 0) is no figure yet: "–", not 0,00."""
    if part is None or whole is None or not int(whole):
        return "–"
    return share(share_percent(int(part), int(whole)))


@register.filter
def votes_for(votes: dict[str, int] | None, ballot_number: Any) -> Any:
    """The votes of one list from a ``{"<ballot number>": votes}`` mapping."""
    if not votes:
        return None
    return votes.get(str(ballot_number))


@register.filter
def colour(value: Any) -> str:
    """A list's colour if it is a plain ``#rrggbb``, else a neutral grey."""
    text = str(value or "")
    return text if _COLOUR.match(text) else NEUTRAL_COLOUR


@register.simple_tag
def check_title(code: str) -> str:
    """The translated title of a check code from the catalogue."""
    info = CHECKS.get(code)
    return gettext(info.title) if info else code


@register.simple_tag
def finding_message(finding: dict[str, Any]) -> str:
    """A published finding's message in the page's language: the English
    template is the msgid, then its parameters are filled in."""
    message = finding.get("message") or ""
    if not message:
        return check_title(str(finding.get("code", "")))
    try:
        return gettext(message).format(**dict(finding.get("params") or {}))
    except (KeyError, IndexError, ValueError):
        return gettext(message)


@register.simple_tag
def hemicycle_svg(lists: list[dict[str, Any]], caption_id: str = "seats-caption") -> SafeString:
    """The seats as an SVG half-circle, one dot per seat in its list's colour,
    each with a <title> naming the list, so a screen reader can read it."""
    winners = [item for item in lists if item.get("seats")]
    chamber = hemicycle([int(item["seats"]) for item in winners])
    # Fit the outer row's dots, not only their centres, inside the drawing.
    width, padding, dot = 400, 4, chamber.dot_radius
    scale = (width / 2 - padding) / (1 + dot)
    height = round((1 + 2 * dot) * scale + 2 * padding)
    centre_x, base_y = width / 2, height - padding - dot * scale

    def seat_title(item: dict[str, Any]) -> str:
        seats = int(item["seats"])
        return ngettext("%(name)s: %(seats)s seat", "%(name)s: %(seats)s seats", seats) % {
            "name": in_script(item["name"]),
            "seats": seats,
        }

    titles = [seat_title(item) for item in winners]
    circles = format_html_join(
        "",
        '<circle cx="{}" cy="{}" r="{}" fill="{}"><title>{}</title></circle>',
        (
            (
                f"{centre_x + seat.x * scale:.2f}",
                f"{base_y - seat.y * scale:.2f}",
                f"{chamber.dot_radius * scale:.2f}",
                colour(winners[seat.group].get("colour")),
                titles[seat.group],
            )
            for seat in chamber.seats
            if seat.group is not None
        ),
    )
    total = sum(int(item["seats"]) for item in winners)
    label = ngettext("Seats: %(total)s in all", "Seats: %(total)s in all", total) % {"total": total}
    return format_html(
        '<svg class="hemicycle" viewBox="0 0 {} {}" role="img" aria-labelledby="{}" '
        'xmlns="http://www.w3.org/2000/svg"><title id="{}">{}</title>{}</svg>',
        width,
        height,
        f"{caption_id}-svg",
        f"{caption_id}-svg",
        label,
        circles,
    )


@register.filter
def iso_datetime(value: Any) -> datetime | Any:
    """An ISO 8601 timestamp from a published document as a datetime, so the
    ``date`` filter shows it in the page's language and time zone."""
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return value
