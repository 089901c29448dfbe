"""The language switcher of every page: the same page in each language, as links.

Links, not a form: they work without JavaScript and without a form post
(nothing for the Content-Security-Policy to allow, no CSRF token, so a
public page stays cacheable), and every language version of a page is a URL
of its own that a reader can share.
"""

from typing import Any

from django import template
from django.conf import settings
from django.urls import translate_url
from django.utils.translation import get_language

register = template.Library()


# Each language named in its own script, so a reader finds theirs whatever
# the page's language is (not translated on purpose).
LANGUAGE_NAMES = {"sr-latn": "Latinica", "sr": "Ћирилица", "en": "English"}
# BCP 47 tags for the lang attribute: Django's "sr" is the Cyrillic script.
HTML_LANG = {"sr-latn": "sr-Latn", "sr": "sr-Cyrl", "en": "en"}


@register.simple_tag
def html_lang() -> str:
    language = get_language() or "sr-latn"
    return HTML_LANG.get(language, language)


@register.simple_tag(takes_context=True)
def language_links(context: template.Context) -> list[dict[str, Any]]:
    """This page in every language: plain links, so switching works without
    JS or a form post, and every language version is a cacheable URL."""
    # A page rendered without a request (one that is also published as a
    # file, views/results.py) names its own address: the same for every reader.
    path = context.get("page_path")
    if path is None:
        request = context.get("request")
        path = request.get_full_path() if request is not None else "/"
    current = get_language()
    return [
        {
            "code": code,
            "name": LANGUAGE_NAMES.get(code, name),
            "lang": HTML_LANG.get(code, code),
            "url": translate_url(path, code),
            "current": code == current,
        }
        for code, name in settings.LANGUAGES
    ]
