"""A no-op translation marker for the domain.

The domain may not import Django, yet every user-facing message must be
marked for translation. ``_`` returns its argument unchanged; its only job is
to be seen: ``makemessages`` runs xgettext, which picks up ``_()`` calls as a
gettext keyword, so every message written as ``_("...")`` here lands in the
catalogue. Source strings are English msgids with named placeholders
(``"{actual}"``). The web layer translates ``finding.message`` with gettext at
render time and then formats it with ``finding.params``.
"""


def _(message: str) -> str:
    """Mark ``message`` for translation; return it unchanged."""
    return message
