"""Names in the script of the page: Serbian Cyrillic pages transliterate.

Names (lists, municipalities, stations, candidates) are published once, in
Latin script; the Cyrillic pages (Django language code ``sr``) show them in
Cyrillic. Serbian transliteration is one-to-one letter by letter (lj, nj, dž
included), so no name needs a second spelling in the data.
"""

from typing import Any

import cyrtranslit
from django import template
from django.utils.translation import get_language

register = template.Library()

CYRILLIC_LANGUAGE = "sr"


@register.filter
def in_script(value: Any) -> str:
    """``value`` in the script of the current language. Not marked safe: the
    template escapes the result, so markup in a name is never transliterated
    into broken entities or let through."""
    if value is None:
        return ""
    text = str(value)
    if get_language() == CYRILLIC_LANGUAGE:
        return cyrtranslit.to_cyrillic(text, "sr")
    return text
