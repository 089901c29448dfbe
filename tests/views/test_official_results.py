"""The results page and open data once the results are certified (RULES.md
section 5): the official banner, the commission's documents, the elected
councillors, mandates.csv, and earlier official versions kept as published.

Official snapshots are stored as certification stores them (a
``ResultSnapshot`` of kind official) and published by ``snapshot_publish``;
the documents are the small election of tests/published.py with the keys an
official document adds (docs/results-format.md).
"""

import csv
import io
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tabulation.models import Election, ResultSnapshot
from tabulation.selectors.open_data import OPEN_DATA_FILES
from tabulation.selectors.published import published_memo_clear
from tabulation.services.publishing import snapshot_publish
from tests.browser.conftest import browser  # noqa: F401 - fixture
from tests.browser.test_commission_browser import DESKTOP, PHONE, check_widths, screenshot_dir
from tests.factories import ElectionFactory
from tests.published import (  # noqa: F401 - fixtures
    SEATS,
    SLUG,
    publish,
    publish_dir_fixture,
    small_election,
)

PAGE = f"/results/{SLUG}/"
CERTIFIERS = ["Milica Petrović", "Đorđe Ljubičić"]
CERTIFIED_AT = "2024-06-07T10:30:00+00:00"  # 12:30 in Belgrade
# The head of each list by name; the rest are "Kandidat <position>, lista <n>".
NAMED = {
    (1, 1): "Ana Đorđević",
    (1, 2): "Ljubomir Njegovan",
    (2, 1): "Džejla Šćekić",
    (3, 1): "Žarko Čolić",
    (4, 1): "Ivan Petrov",
}
# List 3's third candidate withdrew: the seats go to positions 1, 2, 4 and 5.
WITHDRAWN = {(3, 3)}


def candidate_name(ballot_number: int, position: int) -> str:
    return NAMED.get((ballot_number, position), f"Kandidat {position}, lista {ballot_number}")


def mandates_for(ballot_number: int, seats: int) -> list[dict[str, Any]]:
    positions = (
        position for position in range(1, seats + 10) if (ballot_number, position) not in WITHDRAWN
    )
    return [
        {"position": position, "name": candidate_name(ballot_number, position)}
        for position, _seat in zip(positions, range(seats), strict=False)
    ]


def provisional_document(version: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Snapshot ``version`` of the small election, provisional, with the
    mandates the count gives so far (every document carries them)."""
    document, stations = small_election(min(version, 2))
    document.update(
        version=version,
        published_at=f"2024-06-0{2 + version}T10:00:00+00:00",
        inputs_hash=f"{version:064x}",
        audit_head=f"{version + 1000:064x}",
        audit_count=100 + version,
    )
    for item in document["lists"]:
        item["mandates"] = mandates_for(item["ballot_number"], item["seats"])
    return document, stations


def official_document(
    version: int,
    *,
    certifies_version: int,
    official_version: int = 1,
    certified_by: list[str] | None = None,
    certified_at: str = CERTIFIED_AT,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """An official document as certification stores it: a provisional
    document's keys plus the certification's (docs/results-format.md)."""
    document, stations = provisional_document(version)
    certified_by = list(certified_by or CERTIFIERS)
    document.update(
        status="official",
        # Stored after the provisional snapshot of the same number would be.
        published_at=document["published_at"].replace("T10:", "T12:"),
        settled=True,
        pending_repeat_votes=[],
        certified_at=certified_at,
        certified_by=certified_by,
        certification={
            "certifies_version": certifies_version,
            "official_version": official_version,
            "proposed_at": "2024-06-07T09:00:00+00:00",
            "certified_at": certified_at,
            "certified_by": certified_by,
        },
        proceedings={
            "decisions": [
                {
                    "kind": "annul_and_order_repeat",
                    "station": "cukarica-002",
                    "reason": "Ballots in the box exceed voters who turned out (Art. 116).",
                    "decided_at": "2024-06-03T10:00:00+02:00",
                }
            ],
            "objections": [],
        },
    )
    for item in document["lists"]:
        item["settled"] = True
    return document, stations


def store_and_publish(
    election: Election, made: tuple[dict[str, Any], list[dict[str, Any]]]
) -> ResultSnapshot:
    """Store the snapshot as tabulation or certification does, and publish it."""
    document, stations = made
    snapshot = ResultSnapshot.objects.create(
        election=election,
        version=document["version"],
        kind=document["status"],
        inputs_hash=document["inputs_hash"],
        payload=document,
        audit_head=document["audit_head"],
        audit_count=document["audit_count"],
    )
    snapshot_publish(snapshot=snapshot, stations=stations)
    published_memo_clear()
    return snapshot


@pytest.fixture(name="election")
def election_fixture(db: None, publish_dir: Path) -> Election:
    return ElectionFactory(
        slug=SLUG, name="Skupština Novog Grada", date=date(2024, 6, 2), seats=SEATS
    )


@pytest.fixture(name="certified")
def certified_fixture(election: Election) -> Election:
    """Provisional snapshots 1 and 2; snapshot 3 certifies 2 (official version 1)."""
    store_and_publish(election, provisional_document(1))
    store_and_publish(election, provisional_document(2))
    store_and_publish(election, official_document(3, certifies_version=2))
    return election


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


# --- The official banner -----------------------------------------------------------


@pytest.mark.django_db
def test_official_page_says_who_certified_when_and_which_versions(
    client: Client, certified: Election
) -> None:
    html = page(client, f"/en{PAGE}")
    banner = part(html, "results-banner")
    text = " ".join(text_of(banner).split())

    assert 'class="banner banner-official"' in banner
    assert "Official results · snapshot 3" in text
    assert "Official version 1, certifying provisional snapshot 2." in text
    assert (
        "Certified on June 7, 2024, 12:30 p.m. by Milica Petrović and Đorđe Ljubičić, "
        "members of the commission."
    ) in text
    assert f'data-certified-at="{CERTIFIED_AT}"' in banner
    assert "Provisional results" not in text and "may still change" not in text


@pytest.mark.django_db
def test_official_banner_in_serbian_gives_the_date_and_the_names_in_the_page_script(
    client: Client, certified: Election
) -> None:
    latin = " ".join(text_of(part(page(client, PAGE), "results-banner")).split())
    cyrillic = " ".join(text_of(part(page(client, f"/sr{PAGE}"), "results-banner")).split())

    assert "7. jun 2024. 12:30" in latin
    assert "Milica Petrović" in latin and "Đorđe Ljubičić" in latin
    assert "Милица Петровић" in cyrillic and "Ђорђе Љубичић" in cyrillic
    assert "Milica" not in cyrillic


@pytest.mark.django_db
def test_official_banner_links_the_total_report_and_the_mandates_decision(
    client: Client, certified: Election
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
    client: Client, election: Election
) -> None:
    store_and_publish(election, provisional_document(1))

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
    client: Client, election: Election
) -> None:
    document, stations = official_document(1, certifies_version=1)
    del document["certification"]
    store_and_publish(election, (document, stations))

    text = " ".join(text_of(part(page(client, f"/en{PAGE}"), "results-banner")).split())

    assert "Certified on June 7, 2024, 12:30 p.m. by Milica Petrović and Đorđe Ljubičić" in text
    assert "certifying provisional snapshot" not in text


# --- The elected councillors ------------------------------------------------------


@pytest.mark.django_db
def test_official_page_lists_each_lists_councillors_in_ballot_then_list_order(
    client: Client, certified: Election
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
    client: Client, certified: Election
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
def test_latin_page_names_the_councillors_as_published(client: Client, certified: Election) -> None:
    councillors = councillors_of(page(client, PAGE))

    assert councillors[0][1][0] == ("1", "Ana Đorđević")
    assert councillors[1][1][0] == ("1", "Džejla Šćekić")


@pytest.mark.django_db
def test_the_live_fragment_carries_the_official_banner_and_the_councillors(
    client: Client, certified: Election
) -> None:
    fragment = page(client, f"/en{PAGE}live/")

    assert "<html" not in fragment
    assert "Official version 1, certifying provisional snapshot 2." in fragment
    assert '<div id="results-councillors" data-live-part>' in fragment
    assert "Ana Đorđević" in fragment


@pytest.mark.django_db
def test_official_pages_work_without_the_database(
    client: Client, certified: Election, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(0):
        for url in (PAGE, f"/sr{PAGE}", f"{PAGE}live/", f"{PAGE}data/", f"{PAGE}data/mandates.csv"):
            assert client.get(url).status_code == 200, url


# --- A reopening and a second certification ---------------------------------------


@pytest.fixture(name="recertified")
def recertified_fixture(certified: Election) -> Election:
    """After snapshot 3 (official version 1), a decision reopens the count:
    provisional snapshot 4; then snapshot 5 certifies 4 (official version 2)."""
    store_and_publish(certified, provisional_document(4))
    store_and_publish(
        certified,
        official_document(
            5,
            certifies_version=4,
            official_version=2,
            certified_by=["Jovana Ilić", "Dragan Marković"],
            certified_at="2024-06-12T08:00:00+00:00",
        ),
    )
    return certified


@pytest.mark.django_db
def test_a_reopened_result_is_provisional_and_points_to_the_earlier_official_one(
    client: Client, certified: Election
) -> None:
    store_and_publish(certified, provisional_document(4))

    html = page(client, f"/en{PAGE}")

    assert 'class="banner banner-provisional"' in part(html, "results-banner")
    notice = re.search(r'<p class="notice" id="reopened">.*?</p>', html, re.S)
    assert notice is not None
    assert "certified as official in snapshot 3" in text_of(notice.group(0))
    assert f'href="/en/results/{SLUG}/v3/"' in notice.group(0)
    assert "Elected councillors" not in html


@pytest.mark.django_db
def test_the_second_official_version_is_the_latest_and_the_first_stays_published(
    client: Client, recertified: Election
) -> None:
    latest = " ".join(text_of(part(page(client, f"/en{PAGE}"), "results-banner")).split())
    first = page(client, f"/en{PAGE}v3/")
    earlier = " ".join(text_of(part(first, "results-banner")).split())

    assert "Official version 2, certifying provisional snapshot 4." in latest
    assert "Jovana Ilić and Dragan Marković" in latest
    assert "Official version 1, certifying provisional snapshot 2." in earlier
    assert "Milica Petrović and Đorđe Ljubičić" in earlier
    assert "This is snapshot 3, an earlier publication." in text_of(first)
    assert councillors_of(first)[0][1][0] == ("1", "Ana Đorđević")
    # An earlier snapshot links its own documents, not the latest ones.
    banner = part(first, "results-banner")
    for name in (
        "results:report",
        "results:report-pdf",
        "results:mandates",
        "results:mandates-pdf",
    ):
        assert f'href="{route(name, 3)}"' in banner
        assert f'href="{route(name)}"' not in banner


@pytest.mark.django_db
def test_official_version_one_stays_downloadable_byte_for_byte(
    client: Client, certified: Election
) -> None:
    folder = Path(settings.PUBLISH_DIR) / SLUG / "snapshots" / "3"
    before_files = {name: (folder / name).read_bytes() for name in OPEN_DATA_FILES}
    before = {name: client.get(f"{PAGE}data/v3/{name}").content for name in OPEN_DATA_FILES}
    latest_before = client.get(f"{PAGE}data/mandates.csv").content

    store_and_publish(certified, provisional_document(4))
    store_and_publish(
        certified,
        official_document(
            5,
            certifies_version=4,
            official_version=2,
            certified_by=["Jovana Ilić", "Dragan Marković"],
        ),
    )

    after = {name: client.get(f"{PAGE}data/v3/{name}").content for name in OPEN_DATA_FILES}
    assert after == before
    assert {name: (folder / name).read_bytes() for name in OPEN_DATA_FILES} == before_files
    assert before["mandates.csv"] == before_files["mandates.csv"] == latest_before
    assert b'"official_version":1' in after["results.json"]
    assert b'"official_version":2' in client.get(f"{PAGE}data/results.json").content


# --- mandates.csv -----------------------------------------------------------------


@pytest.mark.django_db
def test_mandates_csv_has_one_row_per_councillor(client: Client, certified: Election) -> None:
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
    client: Client, certified: Election
) -> None:
    top = Path(settings.PUBLISH_DIR) / SLUG

    for version in (1, 2, 3):
        published = (top / "snapshots" / str(version) / "mandates.csv").read_bytes()
        assert client.get(f"{PAGE}data/v{version}/mandates.csv").content == published
    assert (top / "mandates.csv").read_bytes() == (top / "snapshots/3/mandates.csv").read_bytes()


@pytest.mark.django_db
def test_mandates_csv_of_a_list_without_seats_has_no_row(
    client: Client, election: Election
) -> None:
    document, stations = official_document(1, certifies_version=1)
    document["lists"][3].update(seats=0, mandates=[])
    document["inputs_hash"] = f"{999:064x}"  # other inputs, another result
    store_and_publish(election, (document, stations))

    rows = list(
        csv.DictReader(io.StringIO(client.get(f"{PAGE}data/mandates.csv").content.decode()))
    )

    assert {row["ballot_number"] for row in rows} == {"1", "2", "3"}


@pytest.mark.django_db
def test_open_data_page_marks_provisional_mandates_and_explains_the_file(
    client: Client, certified: Election
) -> None:
    html = page(client, f"/en{PAGE}data/")

    rows = {
        version: row
        for version, row in re.findall(
            r'<tr><th scope="row">(?:<a [^>]*>Snapshot )?(\w+)(?:</a>)?</th>(.*?)</tr>', html, re.S
        )
    }
    assert f'href="/en/results/{SLUG}/data/mandates.csv"' in rows["latest"]
    assert "mandates.csv</a> <span" not in rows["latest"]  # official: not marked
    assert "mandates.csv</a> <span" not in rows["3"]
    for version in ("1", "2"):
        assert f'href="/en/results/{SLUG}/data/v{version}/mandates.csv"' in rows[version]
        assert 'mandates.csv</a> <span class="small">(provisional)</span>' in rows[version]
    dictionary = html[html.index('id="dictionary-mandates"') :]
    assert "Provisional snapshots: only who would take the seats" in text_of(dictionary)
    for column in ("ballot_number", "list", "position", "name"):
        assert f"<code>{column}</code>" in dictionary
    assert "certified_at, certified_by, certification, proceedings" in html


# --- On a phone -------------------------------------------------------------------


def test_official_page_does_not_scroll_sideways_on_a_phone(
    browser: Any,  # noqa: F811 - the fixture imported above
    live_server: Any,
    publish_dir: Path,
    tmp_path: Path,
) -> None:
    """At 420 px and at 1280 px, in Cyrillic, with a long list name and a
    long councillor's name (photographed as the commission's pages are)."""
    document, stations = official_document(1, certifies_version=1)
    document["lists"][0]["name"] = "Aleksandar Vučić – Beograd sutra, Srbija ne sme da stane"
    document["lists"][0]["mandates"][1]["name"] = "Aleksandra-Katarina Milošević-Vukašinović"
    publish(document, stations)
    browser.get(f"{live_server.url}/sr{PAGE}")
    assert "Александра-Катарина Милошевић-Вукашиновић" in browser.page_source
    problems: list[str] = []

    shots = check_widths(browser, screenshot_dir(tmp_path), "results-official", problems)

    assert problems == []
    assert [path.name for path in shots] == [
        f"results-official-{PHONE}.png",
        f"results-official-{DESKTOP}.png",
    ]
