"""The results page and open data once the results are certified (RULES.md
section 5): the official banner, the commission's documents, the elected
councillors, mandates.csv, and earlier official versions kept as published.

The small election of tests/published.py, counted, tabulated and certified by
two members through the certification service, which stores and publishes the
official snapshot; a reopening and a correction through the commission's
services, and a second certification.
"""

import csv
import io
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format
from django.utils.timezone import localtime

from tabulation.models import Candidate, ElectoralList
from tabulation.selectors.open_data import OPEN_DATA_FILES
from tabulation.selectors.published import published_memo_clear
from tabulation.services import tabulation as tabulation_service
from tabulation.services.publishing import snapshot_publish
from tests.browser.conftest import browser  # noqa: F401 - fixture
from tests.browser.test_commission_browser import DESKTOP, PHONE, check_widths, screenshot_dir
from tests.factories_records import record_accept
from tests.factories_records import small_election as election_in_database
from tests.published import (  # noqa: F401 - fixtures
    SEATS,
    SLUG,
    NoviGrad,
    certify,
    novi_grad_fixture,
    publish,
    publish_dir_fixture,
    publish_version_1,
    publish_version_2,
    publish_version_3,
    published_fixture,
    reopen_and_correct,
)

PAGE = f"/results/{SLUG}/"


def page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def text_of(html: str) -> str:
    """The visible words of a page, tags and runs of white space removed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def part(html: str, element_id: str) -> str:
    """The element with ``element_id`` (a div or section), as HTML."""
    found = re.search(
        rf'<(div|section) id="{element_id}"[^>]*>.*?</\1>\s*(?=<(?:div|section|p) id=|$)',
        html,
        re.S,
    )
    assert found is not None, element_id
    return found.group(0)


def councillors_of(html: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """Each list of the councillors' section: its heading, then (place, name) pairs."""
    section = part(html, "results-councillors")
    lists = re.findall(r"<h3[^>]*>(.*?)</h3>\s*<ol[^>]*>(.*?)</ol>", section, re.S)
    return [
        (
            " ".join(text_of(heading).split()),
            re.findall(r'<li value="(\d+)">([^<]*)</li>', items),
        )
        for heading, items in lists
    ]


def route(name: str, version: int | None = None) -> str:
    """The URL of one of the commission's documents (tabulation/views/results_urls.py)."""
    if version is None:
        return reverse(name, kwargs={"slug": SLUG})
    return reverse(f"{name}-version", kwargs={"slug": SLUG, "version": version})


def certified_election(made: NoviGrad) -> NoviGrad:
    """Snapshots 1 to 3, provisional (every station counted in 3); snapshot 4
    certifies 3: official version 1."""
    publish_version_1(made)
    publish_version_2(made)
    publish_version_3(made)
    certify(made)
    return made


def official_of(made: NoviGrad, index: int = -1) -> dict[str, Any]:
    """The ``index``th snapshot published (the latest by default)."""
    return made.snapshots[index][0]


def when(stamp: str, language: str = "en") -> str:
    """A published timestamp as the page shows it in ``language``."""
    with translation.override(language):
        return date_format(localtime(datetime.fromisoformat(stamp)), "DATETIME_FORMAT")


@pytest.fixture(name="certified")
def certified_fixture(novi_grad: NoviGrad) -> NoviGrad:
    return certified_election(novi_grad)


# --- The official banner -----------------------------------------------------------


@pytest.mark.django_db
def test_official_page_says_who_certified_when_and_which_versions(
    client: Client, certified: NoviGrad
) -> None:
    html = page(client, f"/en{PAGE}")
    banner = part(html, "results-banner")
    text = " ".join(text_of(banner).split())

    assert 'class="banner banner-official"' in banner
    assert "Official results · snapshot 4" in text
    assert "Official version 1, certifying provisional snapshot 3." in text
    certified_at = official_of(certified)["certified_at"]
    assert (
        f"Certified on {when(certified_at)} by Milica Petrović and Đorđe Ljubičić, "
        "members of the commission."
    ) in text
    assert f'data-certified-at="{certified_at}"' in banner
    assert "Provisional results" not in text and "may still change" not in text


@pytest.mark.django_db
def test_official_banner_in_serbian_gives_the_date_and_the_names_in_the_page_script(
    client: Client, certified: NoviGrad
) -> None:
    latin = " ".join(text_of(part(page(client, PAGE), "results-banner")).split())
    cyrillic = " ".join(text_of(part(page(client, f"/sr{PAGE}"), "results-banner")).split())

    assert when(official_of(certified)["certified_at"], "sr-latn") in latin
    assert "Milica Petrović" in latin and "Đorđe Ljubičić" in latin
    assert "Милица Петровић" in cyrillic and "Ђорђе Љубичић" in cyrillic
    assert "Milica" not in cyrillic


@pytest.mark.django_db
def test_official_banner_links_the_total_report_and_the_mandates_decision(
    client: Client, certified: NoviGrad
) -> None:
    html = page(client, f"/en{PAGE}")
    banner = part(html, "results-banner")
    documents = re.search(r'<ul class="documents">.*?</ul>', banner, re.S)
    assert documents is not None

    assert re.findall(r'<a href="([^"]+)"', documents.group(0)) == [
        route("results:report"),
        route("results:report-pdf"),
        route("results:mandates"),
        route("results:mandates-pdf"),
    ]
    assert route("results:report") == f"/en/results/{SLUG}/report/"
    assert " ".join(text_of(documents.group(0)).split()) == (
        "Total report on the election results ( PDF ) "
        "Decision on the assignment of mandates ( PDF )"
    )
    assert documents.group(0).count('type="application/pdf"') == 2


@pytest.mark.django_db
def test_provisional_page_keeps_its_banner_links_the_provisional_report_only(
    client: Client, published: Any
) -> None:
    html = page(client, f"/en{PAGE}")
    banner = part(html, "results-banner")
    text = text_of(banner)

    assert 'class="banner banner-provisional"' in banner
    assert "Provisional results" in text and "may still change" in text
    assert "Certified" not in text and "Official" not in text
    assert f'href="{route("results:report")}">Provisional total report</a>' in banner
    assert f'href="{route("results:report-pdf")}" type="application/pdf"' in banner
    assert f'href="{route("results:mandates")}"' not in banner  # no decision yet
    # No councillors while provisional: the seats may still change.
    assert "Elected councillors" not in html
    assert "Ana Đorđević" not in html
    assert '<div id="results-councillors" data-live-part>' in html  # for the live swap


@pytest.mark.django_db
def test_official_banner_without_a_certification_block_uses_the_top_level_keys(
    client: Client, certified: NoviGrad
) -> None:
    """A document published before the ``certification`` block existed."""
    document, stations = certified.snapshots[-1]
    legacy = {key: value for key, value in document.items() if key != "certification"}
    publish(legacy, stations)

    text = " ".join(text_of(part(page(client, f"/en{PAGE}"), "results-banner")).split())

    certified_at = when(document["certified_at"])
    assert f"Certified on {certified_at} by Milica Petrović and Đorđe Ljubičić" in text
    assert "certifying provisional snapshot" not in text


# --- The elected councillors ------------------------------------------------------


@pytest.mark.django_db
def test_official_page_lists_each_lists_councillors_in_ballot_then_list_order(
    client: Client, certified: NoviGrad
) -> None:
    councillors = councillors_of(page(client, f"/en{PAGE}"))

    assert [heading for heading, _names in councillors] == [
        "1. Srbija ne sme da stane (13 seats)",
        "2. Kreni-Promeni (7 seats)",
        "3. Biramo Beograd (4 seats)",
        "4. Ruska stranka (1 seat)",
    ]
    first, second, third, fourth = (names for _heading, names in councillors)
    assert first[:3] == [
        ("1", "Ana Đorđević"),
        ("2", "Ljubomir Njegovan"),
        ("3", "Kandidat 3, lista 1"),
    ]
    assert len(first) == 13 and first[-1] == ("13", "Kandidat 13, lista 1")
    assert second[0] == ("1", "Džejla Šćekić") and len(second) == 7
    # The withdrawn third candidate is skipped; the place on the list is kept.
    assert third == [
        ("1", "Žarko Čolić"),
        ("2", "Kandidat 2, lista 3"),
        ("4", "Kandidat 4, lista 3"),
        ("5", "Kandidat 5, lista 3"),
    ]
    assert fourth == [("1", "Ivan Petrov")]


@pytest.mark.django_db
def test_cyrillic_page_names_the_councillors_in_cyrillic(
    client: Client, certified: NoviGrad
) -> None:
    html = page(client, f"/sr{PAGE}")
    councillors = councillors_of(html)

    assert councillors[0][0].startswith("1. Србија не сме да стане")
    assert councillors[0][1][:2] == [("1", "Ана Ђорђевић"), ("2", "Љубомир Његован")]
    assert councillors[1][1][0] == ("1", "Џејла Шћекић")
    assert councillors[2][1][0] == ("1", "Жарко Чолић")
    section = part(html, "results-councillors")
    assert "Ana" not in section and "Đorđević" not in section


@pytest.mark.django_db
def test_latin_page_names_the_councillors_as_published(client: Client, certified: NoviGrad) -> None:
    councillors = councillors_of(page(client, PAGE))

    assert councillors[0][1][0] == ("1", "Ana Đorđević")
    assert councillors[1][1][0] == ("1", "Džejla Šćekić")


@pytest.mark.django_db
def test_the_live_fragment_carries_the_official_banner_and_the_councillors(
    client: Client, certified: NoviGrad
) -> None:
    fragment = page(client, f"/en{PAGE}live/")

    assert "<html" not in fragment
    assert "Official version 1, certifying provisional snapshot 3." in fragment
    assert '<div id="results-councillors" data-live-part>' in fragment
    assert "Ana Đorđević" in fragment


@pytest.mark.django_db
def test_official_pages_work_without_the_database(
    client: Client, certified: NoviGrad, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(0):
        for url in (PAGE, f"/sr{PAGE}", f"{PAGE}live/", f"{PAGE}data/", f"{PAGE}data/mandates.csv"):
            assert client.get(url).status_code == 200, url


# --- A reopening and a second certification ---------------------------------------


@pytest.fixture(name="recertified")
def recertified_fixture(certified: NoviGrad) -> NoviGrad:
    """After snapshot 4 (official version 1), a decision reopens the count
    and a correction makes provisional snapshot 5; then snapshot 6 certifies
    5 (official version 2)."""
    reopen_and_correct(certified)
    certify(certified, certifiers=["Jovana Ilić", "Dragan Marković"])
    return certified


@pytest.mark.django_db
def test_a_reopened_result_is_provisional_and_points_to_the_earlier_official_one(
    client: Client, certified: NoviGrad
) -> None:
    reopen_and_correct(certified)

    html = page(client, f"/en{PAGE}")

    assert 'class="banner banner-provisional"' in part(html, "results-banner")
    notice = re.search(r'<p class="notice" id="reopened">.*?</p>', html, re.S)
    assert notice is not None
    assert "certified as official in snapshot 4" in text_of(notice.group(0))
    assert f'href="/en/results/{SLUG}/v4/"' in notice.group(0)
    assert "Elected councillors" not in html


@pytest.mark.django_db
def test_the_second_official_version_is_the_latest_and_the_first_stays_published(
    client: Client, recertified: NoviGrad
) -> None:
    latest = " ".join(text_of(part(page(client, f"/en{PAGE}"), "results-banner")).split())
    first = page(client, f"/en{PAGE}v4/")
    earlier = " ".join(text_of(part(first, "results-banner")).split())

    assert "Official version 2, certifying provisional snapshot 5." in latest
    assert "Jovana Ilić and Dragan Marković" in latest
    assert "Official version 1, certifying provisional snapshot 3." in earlier
    assert "Milica Petrović and Đorđe Ljubičić" in earlier
    assert "This is snapshot 4, an earlier publication." in text_of(first)
    assert councillors_of(first)[0][1][0] == ("1", "Ana Đorđević")
    # An earlier snapshot links its own documents, not the latest ones.
    banner = part(first, "results-banner")
    for name in (
        "results:report",
        "results:report-pdf",
        "results:mandates",
        "results:mandates-pdf",
    ):
        assert f'href="{route(name, 4)}"' in banner
        assert f'href="{route(name)}"' not in banner


@pytest.mark.django_db
def test_official_version_one_stays_downloadable_byte_for_byte(
    client: Client, certified: NoviGrad
) -> None:
    folder = Path(settings.PUBLISH_DIR) / SLUG / "snapshots" / "4"
    before_files = {name: (folder / name).read_bytes() for name in OPEN_DATA_FILES}
    before = {name: client.get(f"{PAGE}data/v4/{name}").content for name in OPEN_DATA_FILES}
    latest_before = client.get(f"{PAGE}data/mandates.csv").content

    reopen_and_correct(certified)
    certify(certified, certifiers=["Jovana Ilić", "Dragan Marković"])

    after = {name: client.get(f"{PAGE}data/v4/{name}").content for name in OPEN_DATA_FILES}
    assert after == before
    assert {name: (folder / name).read_bytes() for name in OPEN_DATA_FILES} == before_files
    assert before["mandates.csv"] == before_files["mandates.csv"] == latest_before
    assert b'"official_version":1' in after["results.json"]
    assert b'"official_version":2' in client.get(f"{PAGE}data/results.json").content


# --- mandates.csv -----------------------------------------------------------------


@pytest.mark.django_db
def test_mandates_csv_has_one_row_per_councillor(client: Client, certified: NoviGrad) -> None:
    response = client.get(f"{PAGE}data/mandates.csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Access-Control-Allow-Origin"] == "*"
    content = response.content.decode()
    assert content.startswith("ballot_number,list,position,name\n")
    rows = list(csv.DictReader(io.StringIO(content)))
    assert len(rows) == SEATS
    assert rows[0] == {
        "ballot_number": "1",
        "list": "Srbija ne sme da stane",
        "position": "1",
        "name": "Ana Đorđević",
    }
    assert [row["ballot_number"] for row in rows] == ["1"] * 13 + ["2"] * 7 + ["3"] * 4 + ["4"]
    assert [(row["position"], row["name"]) for row in rows if row["ballot_number"] == "3"] == [
        ("1", "Žarko Čolić"),
        ("2", "Kandidat 2, lista 3"),
        ("4", "Kandidat 4, lista 3"),
        ("5", "Kandidat 5, lista 3"),
    ]
    assert rows[-1] == {
        "ballot_number": "4",
        "list": "Ruska stranka",
        "position": "1",
        "name": "Ivan Petrov",
    }


@pytest.mark.django_db
def test_mandates_csv_is_published_with_every_snapshot_as_the_site_serves_it(
    client: Client, certified: NoviGrad
) -> None:
    top = Path(settings.PUBLISH_DIR) / SLUG

    for version in (1, 2, 3, 4):
        published = (top / "snapshots" / str(version) / "mandates.csv").read_bytes()
        assert client.get(f"{PAGE}data/v{version}/mandates.csv").content == published
    assert (top / "mandates.csv").read_bytes() == (top / "snapshots/4/mandates.csv").read_bytes()


@pytest.mark.django_db
def test_mandates_csv_of_a_list_without_seats_has_no_row(client: Client, publish_dir: Path) -> None:
    slug = election_with_a_list_without_seats()

    content = client.get(f"/results/{slug}/data/mandates.csv").content.decode()

    assert {row["ballot_number"] for row in csv.DictReader(io.StringIO(content))} == {"1", "2"}


def election_with_a_list_without_seats() -> str:
    """One station counted: lists 1 and 2 win the seats, list 3 has no vote."""
    with mock.patch.object(tabulation_service, "tabulation_enqueue", return_value=True):
        made = election_in_database(
            municipalities=1, stations_per_municipality=1, lists=3, candidates_per_list=10
        )
        record_accept(made.rounds[made.stations[0].code], {1: 400, 2: 150, 3: 0})
    outcome = tabulation_service.tabulation_compute(election_id=made.election.pk)
    assert outcome.snapshot is not None
    snapshot_publish(snapshot=outcome.snapshot, stations=outcome.stations)
    published_memo_clear()
    return made.election.slug


@pytest.mark.django_db
def test_open_data_page_marks_provisional_mandates_and_explains_the_file(
    client: Client, certified: NoviGrad
) -> None:
    html = page(client, f"/en{PAGE}data/")

    rows = dict(re.findall(r'<tr data-snapshot="(\w+)">(.*?)</tr>', html, re.S))
    assert f'href="/en/results/{SLUG}/data/mandates.csv"' in rows["latest"]
    assert "mandates.csv</a> <span" not in rows["latest"]  # official: not marked
    assert "mandates.csv</a> <span" not in rows["4"]
    for version in ("1", "2", "3"):
        assert f'href="/en/results/{SLUG}/data/v{version}/mandates.csv"' in rows[version]
        assert 'mandates.csv</a> <span class="small">(provisional)</span>' in rows[version]
    dictionary = html[html.index('id="dictionary-mandates"') :]
    assert "Provisional snapshots: only who would take the seats" in text_of(dictionary)
    for column in ("ballot_number", "list", "position", "name"):
        assert f"<code>{column}</code>" in dictionary
    assert "certified_at, certified_by, certification, proceedings" in html


# --- On a phone -------------------------------------------------------------------


@pytest.mark.django_db
def test_official_page_does_not_scroll_sideways_on_a_phone(
    browser: Any,  # noqa: F811 - the fixture imported above
    live_server: Any,
    novi_grad: NoviGrad,
    tmp_path: Path,
) -> None:
    """At 420 px and at 1280 px, in Cyrillic, with a long list name and a
    long councillor's name (photographed as the commission's pages are)."""
    first = ElectoralList.objects.get(election=novi_grad.election, ballot_number=1)
    first.name = "Aleksandar Vučić – Beograd sutra, Srbija ne sme da stane"
    first.save(update_fields=["name"])
    Candidate.objects.filter(electoral_list=first, position=2).update(
        name="Aleksandra-Katarina Milošević-Vukašinović"
    )
    certified_election(novi_grad)
    browser.get(f"{live_server.url}/sr{PAGE}")
    assert "Александра-Катарина Милошевић-Вукашиновић" in browser.page_source
    problems: list[str] = []

    shots = check_widths(browser, screenshot_dir(tmp_path), "results-official", problems)

    assert problems == []
    assert [path.name for path in shots] == [
        f"results-official-{PHONE}.png",
        f"results-official-{DESKTOP}.png",
    ]
