"""Make the Serbian Cyrillic catalogue from the Latin one, then compile all.

Serbian has two scripts with a one-to-one mapping, so the Cyrillic catalogue
is never written by hand: it is the Latin one transliterated, which keeps the
two from drifting apart. Placeholders (`%(name)s`, `{name}`), HTML tags and
acronyms in capitals (CSV, JSON, API) stay as they are. `make messages` runs
this after `makemessages`; the compiled .mo files are committed so that a
fresh clone needs no gettext tools.
"""

import re
from pathlib import Path

import cyrtranslit
import polib
from django.conf import settings
from django.core.management.base import BaseCommand

LOCALE_DIR = Path(settings.LOCALE_PATHS[0])
# Check codes (R1, W6) and file names (RULES.md, results.json) stay Latin:
# the pages and the files show them so.
KEEP = re.compile(
    r"%\([^)]*\)[sd]|%[sd]|\{[^}]*\}|<[^>]*>|&\w+;|\b[A-Z]{2,}\b|https?://\S+"
    r"|\b[ECRSUW][0-9]\b|\b[\w-]+\.(?:md|json|csv|pdf|html)\b"
)


def to_cyrillic(text: str) -> str:
    """Transliterate Serbian Latin to Cyrillic, leaving the KEEP spans alone."""
    pieces, last = [], 0
    for match in KEEP.finditer(text):
        pieces.append(cyrtranslit.to_cyrillic(text[last : match.start()], "sr"))
        pieces.append(match.group())
        last = match.end()
    pieces.append(cyrtranslit.to_cyrillic(text[last:], "sr"))
    return "".join(pieces)


def cyrillic_catalogue(latin: polib.POFile) -> polib.POFile:
    cyrillic = polib.POFile(wrapwidth=latin.wrapwidth)
    cyrillic.metadata = {**latin.metadata, "Language": "sr"}
    for entry in latin:
        copy = polib.POEntry(
            msgid=entry.msgid,
            msgid_plural=entry.msgid_plural,
            msgctxt=entry.msgctxt,
            msgstr=to_cyrillic(entry.msgstr),
            msgstr_plural={k: to_cyrillic(v) for k, v in entry.msgstr_plural.items()},
            occurrences=entry.occurrences,
            flags=entry.flags,
        )
        cyrillic.append(copy)
    return cyrillic


class Command(BaseCommand):
    help = "Write the Serbian Cyrillic catalogue from the Latin one and compile every catalogue."

    def handle(self, *args: object, **options: object) -> None:
        latin_path = LOCALE_DIR / "sr_Latn" / "LC_MESSAGES" / "django.po"
        cyrillic_path = LOCALE_DIR / "sr" / "LC_MESSAGES" / "django.po"
        cyrillic_path.parent.mkdir(parents=True, exist_ok=True)
        cyrillic_catalogue(polib.pofile(str(latin_path))).save(str(cyrillic_path))
        for po_path in sorted(LOCALE_DIR.glob("*/LC_MESSAGES/django.po")):
            catalogue = polib.pofile(str(po_path))
            catalogue.save_as_mofile(str(po_path.with_suffix(".mo")))
            done = catalogue.percent_translated()
            self.stdout.write(f"{po_path.relative_to(LOCALE_DIR)}: {done} % translated")
