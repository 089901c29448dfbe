"""The catalogues: Serbian Latin complete, Cyrillic made from it, .mo files
current, and each language reaching the pages.

The Cyrillic catalogue is generated (`manage.py compile_translations`), so a
failure here about it means the Latin catalogue changed and the command was
not run, never that the Cyrillic file needs a hand edit.
"""

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

LOCALE_DIR = Path(settings.LOCALE_PATHS[0])
LATIN = LOCALE_DIR / "sr_Latn" / "LC_MESSAGES" / "django.po"
CYRILLIC = LOCALE_DIR / "sr" / "LC_MESSAGES" / "django.po"
ENGLISH = LOCALE_DIR / "en" / "LC_MESSAGES" / "django.po"
CATALOGUES = [LATIN, CYRILLIC, ENGLISH]

SERBIAN_PLURALS = (
    "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && "
    "(n%100<10 || n%100>=20) ? 1 : 2);"
)
# What a translation must carry over unchanged: printf and brace
# placeholders, a literal %% and HTML tags.
PLACEHOLDER = re.compile(r"%\([^)]+\)[sd]|%[sd]|%%|\{[^{}]*\}|<[^<>]+>")
# What may stay in Latin letters on a Cyrillic page: the placeholders above,
# HTML entities and acronyms in capitals (CSV, JSON, API, UTF, ID).
LATIN_ALLOWED = re.compile(
    PLACEHOLDER.pattern
    + r"|&\w+;|\b[A-Z]{2,}\b|\b[ECRSUW][0-9]\b|\b[\w-]+\.(?:md|json|csv|pdf|html)\b"
)
LATIN_LETTER = re.compile(r"[A-Za-z]")


def entries(path: Path) -> list[polib.POEntry]:
    return [entry for entry in polib.pofile(str(path)) if not entry.obsolete]


def translations(entry: polib.POEntry) -> list[str]:
    if entry.msgid_plural:
        return [entry.msgstr_plural[index] for index in sorted(entry.msgstr_plural)]
    return [entry.msgstr]


def placeholders(text: str) -> Counter[str]:
    return Counter(PLACEHOLDER.findall(text))


def entry_id(entry: polib.POEntry) -> str:
    return entry.msgid[:60]


# --- The catalogues ------------------------------------------------------------


def test_headers_name_the_language_and_its_plural_forms() -> None:
    for path, language, plurals in [
        (LATIN, "sr_Latn", SERBIAN_PLURALS),
        (CYRILLIC, "sr", SERBIAN_PLURALS),
        (ENGLISH, "en", "nplurals=2; plural=(n != 1);"),
    ]:
        catalogue = polib.pofile(str(path))
        assert catalogue.metadata["Language"] == language, path
        assert catalogue.metadata["Content-Type"] == "text/plain; charset=UTF-8", path
        assert catalogue.metadata["Plural-Forms"] == plurals, path
        assert not catalogue.metadata_is_fuzzy, path


@pytest.mark.parametrize("entry", entries(LATIN), ids=entry_id)
def test_every_latin_message_is_translated_and_not_fuzzy(entry: polib.POEntry) -> None:
    assert "fuzzy" not in entry.flags
    if entry.msgid_plural:
        assert sorted(entry.msgstr_plural) == [0, 1, 2]
    assert all(text.strip() for text in translations(entry))


@pytest.mark.parametrize("path", [LATIN, CYRILLIC], ids=["sr_Latn", "sr"])
def test_translations_keep_the_placeholders_of_the_source(path: Path) -> None:
    wrong = []
    for entry in entries(path):
        sources = [entry.msgid] if not entry.msgid_plural else [entry.msgid_plural] * 3
        for source, text in zip(sources, translations(entry), strict=True):
            if placeholders(text) != placeholders(source):
                wrong.append((entry.msgid, text))
    assert wrong == []


def ending(text: str) -> str:
    return text[-1:] if text[-1:] in {".", ":", "!", "?", "\n"} else ""


def test_translations_keep_the_end_of_the_source() -> None:
    """A full stop, colon or newline ends the msgstr exactly when it ends the msgid."""
    wrong = []
    for entry in entries(LATIN):
        for text in translations(entry):
            if ending(text) != ending(entry.msgid):
                wrong.append((entry.msgid, text))
    assert wrong == []


def test_the_cyrillic_catalogue_has_the_latin_messages() -> None:
    latin = {(entry.msgctxt, entry.msgid) for entry in entries(LATIN)}
    cyrillic = {(entry.msgctxt, entry.msgid) for entry in entries(CYRILLIC)}

    assert cyrillic == latin


def test_the_cyrillic_catalogue_has_no_latin_letters_but_placeholders_and_acronyms() -> None:
    latin_left = []
    for entry in entries(CYRILLIC):
        for text in translations(entry):
            if LATIN_LETTER.search(LATIN_ALLOWED.sub("", text)):
                latin_left.append(text)
    assert latin_left == []


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda path: path.parts[-3])
def test_compiled_catalogue_matches_its_po_file(path: Path) -> None:
    source = polib.pofile(str(path))
    compiled = polib.mofile(str(path.with_suffix(".mo")))

    def messages(catalogue: polib.POFile | polib.MOFile) -> dict[object, list[str]]:
        return {
            (entry.msgctxt, entry.msgid, entry.msgid_plural): translations(entry)
            for entry in catalogue
            if not entry.obsolete and "fuzzy" not in entry.flags and all(translations(entry))
        }

    assert messages(compiled) == messages(source)
    assert compiled.metadata.get("Plural-Forms") == source.metadata.get("Plural-Forms")


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (1, "Lista: 1 mandat"),
        (3, "Lista: 3 mandata"),
        (11, "Lista: 11 mandata"),
        (21, "Lista: 21 mandat"),
        (25, "Lista: 25 mandata"),
    ],
)
def test_serbian_plural_forms_choose_the_right_word(count: int, expected: str) -> None:
    with translation.override("sr-latn"):
        text = translation.ngettext(
            "%(name)s: %(seats)s seat", "%(name)s: %(seats)s seats", count
        ) % {"name": "Lista", "seats": count}

    assert text == expected


# --- The pages -------------------------------------------------------------------


@pytest.fixture
def language_kept() -> Iterator[None]:
    """A request to /en/ leaves English active in the thread, and later tests
    that reverse() a URL would get /en/ ones: put the language back."""
    with translation.override(translation.get_language()):
        yield


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "label", "lang"),
    [
        # The lang attribute names the script (BCP 47), as on every page.
        ("/", "Rezultati izbora", "sr-Latn"),
        ("/sr/", "Резултати избора", "sr-Cyrl"),
        ("/en/", "Election results", "en"),
    ],
)
def test_home_page_speaks_the_language_of_its_address(
    client: Client, language_kept: None, url: str, label: str, lang: str
) -> None:
    response = client.get(url)

    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{lang}">' in html
    assert f"<h1>{label}</h1>" in html
    assert f"<title>{label}</title>" in html
