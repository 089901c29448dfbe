"""Template filters for the commission's pages: the names of the progress
columns and work queues, in the reader's language."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

PROGRESS_LABELS = {
    "awaiting": _("awaiting"),
    "one_entry": _("one entry"),
    "entries_differ": _("entries differ"),
    "accepted": _("counted"),
    "held": _("held"),
    "repeat_pending": _("repeat vote pending"),
    "annulled": _("annulled"),
}

QUEUE_TITLES = {
    "entries_differ": _("Entries that differ (W6)"),
    "held": _("Held stations (open R, U or S)"),
    "warnings": _("Warnings and minor errors to acknowledge (C, W)"),
    "objections": _("Objections open"),
    "repeat_votes": _("Repeat votes ordered"),
    "ties": _("Ties waiting for a drawing of lots"),
}


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """``mapping[key]``, or None: templates cannot index by a variable."""
    try:
        return mapping[key]
    except (KeyError, IndexError, TypeError):
        return None


@register.filter
def subtract(value: Any, other: Any) -> int:
    return int(value or 0) - int(other or 0)


@register.filter
def progress_label(column: str) -> str:
    return str(PROGRESS_LABELS.get(column, column))


@register.filter
def queue_title(name: str) -> str:
    return str(QUEUE_TITLES.get(name, name))
