"""The public results pages and open data: what a reader sees, in three languages."""

import csv
import io
import json
import re
from datetime import date, timedelta
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import translation

from tabulation.domain.hemicycle import hemicycle, row_count
from tabulation.selectors.published import published_memo_clear
from tabulation.services import tabulation as tabulation_service
from tabulation.services.decisions import station_annul
from tabulation.services.publishing import snapshot_publish
from tabulation.services.roles import ensure_roles
from tabulation.services.tabulation import tabulation_compute
from tabulation.templatetags.results import percent_of
from tabulation.templatetags.script import in_script
from tabulation.views import results as results_views
from tests.annulment_setup import Annulment, annul, counted_election
from tests.factories import UserFactory
from tests.factories_records import record_accept
from tests.factories_records import small_election as election_in_database
from tests.published import (  # noqa: F401 - fixtures
    SLUG,
    NoviGrad,
    novi_grad_fixture,
    publish_dir_fixture,
    publish_version_2,
    publish_version_3,
    published_fixture,
    station_enter,
    tabulate_and_publish,
)

pytestmark = pytest.mark.django_db

PAGE = f"/results/{SLUG}/"


def page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def text_of(html: str) -> str:
    """The visible words of a page, tags and runs of white space removed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_results_page_shows_banner_progress_lists_and_threshold(
    client: Client, published: Any
) -> None:
    html = page(client, PAGE)
    text = text_of(html)

    assert '<html lang="sr-Latn">' in html
    assert "Skupština Novog Grada" in text
    assert "presek 1" in text  # snapshot 1
    assert "4 od 6" in text  # stations counted
    assert "4.900 od 7.000" in text  # registered voters covered
    assert "62,43 %" in text  # turnout so far
    assert "91,53 glasova" in text and "najmanje 92 glasova" in text
    assert "1.580" in text and "51,79 %" in text
    assert "nacionalna manjina" in text
    assert "mogu se promeniti" in text  # list 3's seats are not settled yet


def test_results_page_tables_are_real_tables(client: Client, published: Any) -> None:
    html = page(client, PAGE)

    # The lists, the municipalities and the fingerprint's table alternative.
    assert html.count("<caption>") == 3
    assert '<th scope="col"' in html and '<th scope="row"' in html


def test_hemicycle_draws_one_titled_seat_per_seat_in_list_colours(
    client: Client, published: Any
) -> None:
    html = page(client, PAGE)

    svg = re.search(r"<svg class=\"hemicycle\".*?</svg>", html, re.S)
    assert svg is not None
    seats = re.findall(r'<circle [^>]*fill="(#[0-9a-f]{6})"><title>([^<]+)</title>', svg.group(0))
    assert len(seats) == 25
    assert [colour for colour, _title in seats].count("#7a4fa0") == 1
    assert ("#7a4fa0", "Ruska stranka: 1 mandat") in seats
    assert seats.count(("#1f4e9a", "Srbija ne sme da stane: 13 mandata")) == 13


def test_cyrillic_page_shows_names_in_cyrillic(client: Client, published: Any) -> None:
    html = page(client, f"/sr{PAGE}")

    assert '<html lang="sr-Cyrl">' in html
    assert "Скупштина Новог Града" in html
    assert "Руска странка" in html
    assert "Вождовац" in html and "Чукарица" in html
    assert "Voždovac" not in html


def test_english_page_keeps_latin_names_and_english_grouping(
    client: Client, published: Any
) -> None:
    html = page(client, f"/en{PAGE}")

    assert '<html lang="en">' in html
    assert "Voždovac" in html
    assert "4,900 of 7,000" in text_of(html)


def test_language_links_lead_to_the_same_page_in_each_language(
    client: Client, published: Any
) -> None:
    html = page(client, PAGE)

    assert f'href="/sr{PAGE}"' in html and f'href="/en{PAGE}"' in html


def test_pending_repeat_vote_is_noted(client: Client, published: Any, novi_grad: NoviGrad) -> None:
    publish_version_2(novi_grad)

    text = text_of(page(client, PAGE))

    assert "Ponavljanje glasanja predstoji na 1 biračkom mestu" in text
    assert "cukarica-002" in text


def test_municipality_table_gives_turnout_the_leader_and_each_lists_share(
    client: Client, published: Any
) -> None:
    html = page(client, PAGE)
    body = municipality_rows(html, "vozdovac")
    first = text_of(body.split("</tr>")[0]).split()

    # counted of all, registered, turnout, the leader (number and name), the lead
    assert first[:7] == ["Voždovac", "2", "/", "2", "2.100", "59,38", "%"]
    assert first[7:] == ["1.", "Srbija", "ne", "sme", "da", "stane", "320"]
    # the row under it: each list's share of voters who voted
    shares = dict(re.findall(r'<li data-list="(\d+)">.*?</abbr> ([^<]*)</li>', body))
    assert shares == {"1": "52,29 %", "2": "26,55 %", "3": "16,49 %", "4": "2,65 %"}


def municipality_rows(html: str, code: str) -> str:
    """The rows of one municipality in the results page's table."""
    body = re.search(
        rf'<tbody class="municipality" data-municipality="{code}">(.*?)</tbody>', html, re.S
    )
    assert body is not None, code
    return body.group(1)


def test_a_municipality_with_nothing_counted_shows_dashes_not_zeros(
    client: Client, novi_grad: NoviGrad
) -> None:
    with mock.patch.object(tabulation_service, "tabulation_enqueue", return_value=True):
        station_enter(novi_grad, "vozdovac-001")
    tabulate_and_publish(novi_grad)

    html = page(client, f"/en{PAGE}")

    body = municipality_rows(html, "zvezdara")
    # counted of all, registered, turnout, leader, lead: nothing counted, no share
    assert text_of(body).split() == ["Zvezdara", "0", "/", "2", "2,300", "–", "–", "–"]
    assert "<li" not in body  # no row of shares
    assert "0.00" not in text_of(municipality_rows(html, "cukarica"))
    municipality = text_of(page(client, f"/en{PAGE}municipalities/zvezdara/"))
    assert "Voters who turned out –" in municipality
    assert "0.00" not in municipality
    # Each station's registered voters are known from the register.
    assert "Gimnazija Zvezdara Awaiting the record 1,000 – – –" in municipality


def test_municipality_page_lists_every_station(client: Client, published: Any) -> None:
    text = text_of(page(client, f"{PAGE}municipalities/cukarica/"))

    assert "Čukarica" in text
    assert "OŠ „Žarko Zrenjanin“" in text
    assert "Mesna zajednica Banovo brdo" in text
    assert "Zadržano do odluke komisije" in text  # held for a commission decision


def test_station_page_shows_every_field_findings_and_decisions(
    client: Client, published: Any
) -> None:
    text = text_of(page(client, f"{PAGE}stations/vozdovac-002/"))

    for label, value in [
        ("Birači upisani u birački spisak", "900"),
        ("Primljeni glasački listići", "900"),
        ("Neupotrebljeni glasački listići", "349"),
        ("Birači koji su izašli na izbore", "553"),
        ("Glasački listići u glasačkoj kutiji", "551"),
        ("Nevažeći glasački listići", "11"),
        ("Važeći glasački listići", "540"),
        ("Kontrolni list ispravan", "da"),
        ("Članovi biračkog odbora koji su potpisali zapisnik", "5"),
    ]:
        assert f"{label} {value}" in text
    assert "Provere nisu utvrdile ništa u ovom zapisniku." in text


def test_held_then_annulled_station_page_shows_its_finding_and_the_decision(
    client: Client, published: Any, novi_grad: NoviGrad
) -> None:
    held = text_of(page(client, f"/en{PAGE}stations/cukarica-002/"))
    assert "Status: Held for a commission decision · round 1" in held
    assert "Registered voters 1,100" in held  # from the register: no record counted
    # The finding's own words, as it was raised (every version says the same).
    assert "R1 727 ballots in the box, but only 722 voters turned out." in held

    publish_version_2(novi_grad)

    annulled = text_of(page(client, f"/en{PAGE}stations/cukarica-002/"))
    assert "Status: Awaiting the record · round 2" in annulled
    assert "Round 1: annulled ( R1 )" in annulled
    assert "Annulment and repeat vote ordered" in annulled
    assert "Ballots in the box exceed voters who turned out (Art. 116)." in annulled


@pytest.mark.parametrize(
    "url",
    [
        "/results/no-such-election/",
        f"{PAGE}municipalities/no-such-place/",
        f"{PAGE}stations/no-such-station/",
        f"{PAGE}v9/",
        f"{PAGE}data/passwords.csv",
    ],
)
def test_unknown_election_place_version_or_file_is_404(
    client: Client, published: Any, url: str
) -> None:
    assert client.get(url).status_code == 404


def test_page_answers_304_to_a_reader_holding_this_snapshot(client: Client, published: Any) -> None:
    first = client.get(PAGE)
    assert first["Cache-Control"] == "public, max-age=5"

    again = client.get(PAGE, headers={"If-None-Match": first["ETag"]})

    assert again.status_code == 304


def test_page_etag_differs_by_language(client: Client, published: Any) -> None:
    assert client.get(PAGE)["ETag"] != client.get(f"/sr{PAGE}")["ETag"]


def test_version_endpoint_and_live_fragment_follow_the_latest_snapshot(
    client: Client, published: Any, novi_grad: NoviGrad
) -> None:
    first = client.get(f"{PAGE}version/")
    assert first.json()["version"] == 1
    assert (
        client.get(f"{PAGE}version/", headers={"If-None-Match": first["ETag"]}).status_code == 304
    )

    document, _stations = publish_version_2(novi_grad)

    assert client.get(f"{PAGE}version/", headers={"If-None-Match": first["ETag"]}).json() == {
        "version": 2,
        "status": "provisional",
        "published_at": document["published_at"],
    }
    fragment = page(client, f"{PAGE}live/")
    assert "<html" not in fragment
    assert 'id="results-lists" data-live-part' in fragment
    assert "1.910" in fragment  # list 1 with five stations counted


def test_latest_page_polls_and_an_earlier_one_does_not(
    client: Client, published: Any, novi_grad: NoviGrad
) -> None:
    publish_version_2(novi_grad)

    assert f'data-poll-url="/results/{SLUG}/version/"' in page(client, PAGE)
    earlier = page(client, f"{PAGE}v1/")
    assert "data-poll-url" not in earlier
    assert "Ovo je presek 1, ranije objavljen." in earlier  # an earlier snapshot


def test_pages_work_without_the_database(
    client: Client, published: Any, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(0):
        for url in (
            "/results/",
            PAGE,
            f"/sr{PAGE}",
            f"{PAGE}live/",
            f"{PAGE}version/",
            f"{PAGE}municipalities/vozdovac/",
            f"{PAGE}stations/vozdovac-001/",
            f"{PAGE}data/",
            f"{PAGE}data/stations.csv",
        ):
            assert client.get(url).status_code == 200, url


# --- Open data ---------------------------------------------------------------


def test_open_data_page_links_every_file_of_every_snapshot(
    client: Client, published: Any, novi_grad: NoviGrad
) -> None:
    publish_version_2(novi_grad)

    html = page(client, f"{PAGE}data/")

    for name in ("totals.csv", "municipalities.csv", "stations.json", "results.json"):
        assert f'href="/results/{SLUG}/data/{name}"' in html
        assert f'href="/results/{SLUG}/data/v1/{name}"' in html
    assert "Rečnik podataka" in html  # the data dictionary


def test_totals_csv_has_one_row_per_list(client: Client, published: Any) -> None:
    response = client.get(f"{PAGE}data/totals.csv")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [
        (row["ballot_number"], row["votes"], row["percent"], row["seats"], row["passed_threshold"])
        for row in rows
    ] == [
        ("1", "1580", "51.79", "13", "true"),
        ("2", "860", "28.19", "7", "true"),
        ("3", "465", "15.24", "4", "true"),
        ("4", "86", "2.82", "1", "false"),
    ]


def test_municipalities_csv_has_votes_in_list_columns(client: Client, published: Any) -> None:
    content = client.get(f"{PAGE}data/municipalities.csv").content.decode()

    first = next(csv.DictReader(io.StringIO(content)))
    assert first["code"] == "vozdovac"
    assert (first["list_1"], first["list_4"], first["turnout_percent"]) == ("650", "33", "59.38")


def test_stations_files_of_an_earlier_snapshot_stay_as_published(
    client: Client, published: Any, novi_grad: NoviGrad
) -> None:
    publish_version_2(novi_grad)

    earlier = list(
        csv.DictReader(io.StringIO(client.get(f"{PAGE}data/v1/stations.csv").content.decode()))
    )
    latest = json.loads(client.get(f"{PAGE}data/stations.json").content)

    assert {row["code"]: row["status"] for row in earlier}["zvezdara-002"] == "awaiting"
    assert {row["code"]: row["ballots_in_box"] for row in earlier}["zvezdara-002"] == ""
    assert {row["code"]: row["status"] for row in latest}["zvezdara-002"] == "counted"


# --- Presentation helpers ------------------------------------------------------


def test_in_script_transliterates_only_on_cyrillic_pages() -> None:
    with translation.override("sr"):
        assert in_script("Čukarica – Džep, Ljig, Njegoševa") == "Чукарица – Џеп, Љиг, Његошева"
    with translation.override("sr-latn"):
        assert in_script("Čukarica") == "Čukarica"
    with translation.override("en"):
        assert in_script(None) == ""


def test_a_share_on_the_page_rounds_as_published_and_nothing_counted_is_a_dash() -> None:
    with translation.override("en"):
        assert percent_of(1, 8) == "12.50"
        assert percent_of(2, 3) == "66.67"
        assert percent_of(1, 800) == "0.13"  # 0.125 rounds up, as share_percent does
        assert percent_of(0, 0) == "–"  # no voter counted yet: no share, not 0.00
        assert percent_of(None, 10) == "–"


@pytest.mark.parametrize("seats", [[1], [13, 7, 4, 1], [64, 21, 14, 10, 1], [250]])
def test_hemicycle_places_every_seat_once_on_the_half_disc(seats: list[int]) -> None:
    chamber = hemicycle(seats)

    assert len(chamber.seats) == sum(seats)
    assert [
        sum(1 for seat in chamber.seats if seat.group == index) for index in range(len(seats))
    ] == seats
    assert all(seat.y >= -1e-9 and seat.x**2 + seat.y**2 <= 1 + 1e-9 for seat in chamber.seats)
    assert len({(round(seat.x, 6), round(seat.y, 6)) for seat in chamber.seats}) == sum(seats)


def test_hemicycle_gives_each_list_a_wedge_from_left_to_right() -> None:
    chamber = hemicycle([64, 21, 14, 10, 1])

    groups = [seat.group for seat in chamber.seats]
    assert groups == sorted(groups)  # seats come in angle order, lists in ballot order
    assert chamber.seats[0].x < 0 < chamber.seats[-1].x
    assert row_count(110) == 7 and row_count(25) == 3
    assert hemicycle([]).seats == ()


# --- An annulled round and the repeat vote ---------------------------------------


@pytest.fixture(name="annulled")
def annulled_fixture(publish_dir: Any) -> Annulment:
    """Round 1 of a counted station annulled on R4, repeat vote on 8 Dec 2026,
    tabulated and published the way tabulation does."""
    with mock.patch.object(tabulation_service, "tabulation_enqueue", return_value=True):
        made = counted_election()
        annul(made)
        outcome = tabulation_compute(election_id=made.setup.election.pk)
    snapshot_publish(snapshot=outcome.snapshot, stations=outcome.stations)
    published_memo_clear()
    return made


def test_station_page_shows_the_annulled_round_below_the_current_one(
    client: Client, annulled: Annulment
) -> None:
    html = page(client, f"/en/results/{annulled.slug}/stations/{annulled.code}/")
    text = text_of(html)

    # The current round: round 2, awaiting the repeat vote's record.
    assert "Status: Awaiting the record · round 2" in text
    assert text.index("Status: Awaiting") < text.index("Round 1: annulled")
    heading = re.search(r'<h2 id="round-1-heading">(.*?)</h2>', html, re.S)
    assert heading is not None
    assert re.sub(r"<[^>]+>", "", heading.group(1)) == (
        "Round 1: annulled (R4), repeat vote on 12/08/2026"
    )
    assert (
        '<abbr title="A person not in the excerpt of the register was allowed to vote">R4</abbr>'
        in html
    )
    assert "Not counted." in text
    assert "The polling board's record of round 1 (not counted)" in text
    section = text[text.index("Round 1: annulled") : text.index("Commission decisions")]
    for label, value in [
        ("Registered voters", "1,000"),
        ("Ballots received", "1,010"),
        ("Unused ballots", "410"),
        ("Voters who turned out", "601"),
        ("Ballots in the box", "600"),
        ("Invalid ballots", "12"),
        ("Valid ballots", "588"),
        ("Control sheet in order", "yes"),
        ("Board members who signed", "5"),
    ]:
        assert f"{label} {value}" in section
    assert "Votes for each list in round 1 (not counted)" in section
    assert "1 Lista 1 300" in section and "2 Lista 2 200" in section and "3 Lista 3 88" in section
    assert "Findings in round 1" in section and "R4" in section
    # The current round has no figures yet but its registered voters.
    current = text[: text.index("Round 1: annulled")]
    assert "Ballots in the box –" in current
    assert "Registered voters 1,000" in current
    assert "Annulment and repeat vote ordered" in text  # the decision, under decisions


def test_station_page_in_serbian_shows_round_one_figures_with_the_paper_labels(
    client: Client, annulled: Annulment
) -> None:
    text = text_of(page(client, f"/results/{annulled.slug}/stations/{annulled.code}/"))

    assert "Glasački listići u glasačkoj kutiji 600" in text
    assert "Glasački listići u glasačkoj kutiji –" in text  # round 2
    assert "8.12.2026." in text  # the repeat vote's date, in the Serbian short format


def test_results_page_names_the_pending_repeat_vote_and_its_date(
    client: Client, annulled: Annulment
) -> None:
    html = page(client, f"/en/results/{annulled.slug}/")
    text = text_of(html)

    assert "A repeat vote is pending at 1 polling station:" in text
    assert f"{annulled.code} (round 2, voting on 12/08/2026)" in text
    assert f'href="/en/results/{annulled.slug}/stations/{annulled.code}/"' in html
    # Round 1's votes are in no total: list 1 has only the other station's 100.
    row = re.search(r'<tr data-list="1">.*?</tr>', html, re.S)
    assert row is not None
    assert '<td class="num" data-figure="votes">100</td>' in row.group(0)
    assert "1 of 2" in text  # stations counted


def test_results_page_lists_at_most_ten_repeat_votes_the_soonest_first(
    client: Client, publish_dir: Any
) -> None:
    """12 stations annulled, repeat votes from tomorrow (the 12th station) to
    the tenth day (the first three): ten are named, the soonest first."""
    today = date.today()
    with mock.patch.object(tabulation_service, "tabulation_enqueue", return_value=True):
        made = election_in_database(municipalities=1, stations_per_municipality=12, lists=3)
        member = commission_member(made.election.slug)
        for number, station in enumerate(made.stations, start=1):
            record_accept(made.rounds[station.code], {1: 300, 2: 200, 3: 88})
            station_annul(
                actor=member,
                station=station,
                ground="R4",
                voting_date=today + timedelta(days=min(10, 13 - number)),
                reason="An unlisted voter was let vote (Art. 115).",
                today=today,
            )
    tabulate_and_publish_election(made.election)

    html = page(client, f"/en/results/{made.election.slug}/")

    notice = re.search(r'<div class="notice" id="repeat-votes">.*?</div>', html, re.S)
    assert notice is not None
    listed = re.findall(r"stations/[a-z0-9-]+-(\d{3})/", notice.group(0))
    assert listed[:9] == [f"{number:03d}" for number in range(12, 3, -1)]
    assert len(listed) == 10 and listed[9] in {"001", "002", "003"}
    text = text_of(notice.group(0))
    assert "Repeat votes are pending at 12 polling stations:" in text
    tomorrow = (today + timedelta(days=1)).strftime("%m/%d/%Y")
    assert f"-m1-012 (round 2, voting on {tomorrow})" in text
    assert "…and 2 more polling stations." in text
    assert f'href="/en/results/{made.election.slug}/data/"' in notice.group(0)


def commission_member(slug: str) -> Any:
    ensure_roles()
    member = UserFactory(username=f"member-{slug}")
    member.groups.add(Group.objects.get(name="commission member"))
    return member


def tabulate_and_publish_election(election: Any) -> None:
    outcome = tabulation_compute(election_id=election.pk)
    snapshot_publish(snapshot=outcome.snapshot, stations=outcome.stations)
    published_memo_clear()


def test_open_data_page_lists_the_earlier_rounds_file(client: Client, annulled: Annulment) -> None:
    html = page(client, f"/en/results/{annulled.slug}/data/")

    assert f'href="/en/results/{annulled.slug}/data/earlier_rounds.csv"' in html
    assert f'href="/en/results/{annulled.slug}/data/v1/earlier_rounds.csv"' in html
    assert "one row per annulled round of a polling station" in html


def test_open_data_earlier_rounds_csv_has_the_annulled_round(
    client: Client, annulled: Annulment
) -> None:
    response = client.get(f"/results/{annulled.slug}/data/earlier_rounds.csv")

    assert response.status_code == 200
    [row] = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert (row["code"], row["round"], row["status"], row["counted"], row["ground"]) == (
        annulled.code,
        "1",
        "annulled",
        "false",
        "R4",
    )
    assert row["repeat_voting_date"] == "2026-12-08"
    assert (row["ballots_in_box"], row["list_1"], row["list_2"], row["list_3"]) == (
        "600",
        "300",
        "200",
        "88",
    )


def test_every_kind_of_decision_has_a_public_label() -> None:
    from tabulation.models import Decision
    from tabulation.views.results import DECISION_KINDS

    assert set(DECISION_KINDS) == set(Decision.Kind.values)


def test_no_page_template_carries_an_inline_style_the_csp_would_block() -> None:
    """The Content-Security-Policy allows no inline style: list colours are
    SVG fills, which it allows."""
    from pathlib import Path

    from django.conf import settings

    templates = Path(settings.BASE_DIR) / "templates"
    offending = [
        str(path.relative_to(templates))
        for path in templates.rglob("*.html")
        if 'style="' in path.read_text(encoding="utf-8")
    ]
    assert offending == []


# --- Snapshots: the newest few, and an index of every one ---------------------------


@pytest.fixture(name="three_snapshots")
def three_snapshots_fixture(
    published: Any, novi_grad: NoviGrad, monkeypatch: pytest.MonkeyPatch
) -> NoviGrad:
    """Snapshots 1 to 3, with pages of two and the newest two named: the
    sizes of a whole night (529 snapshots, 50 a page), made small."""
    publish_version_2(novi_grad)
    publish_version_3(novi_grad)
    monkeypatch.setattr(results_views, "RECENT_SNAPSHOTS", 2)
    monkeypatch.setattr(results_views, "SNAPSHOTS_PER_PAGE", 2)
    return novi_grad


def test_results_page_names_the_newest_snapshots_and_links_the_index(
    client: Client, three_snapshots: NoviGrad
) -> None:
    html = page(client, f"/en{PAGE}")

    earlier = html[html.index('id="earlier-heading"') :]
    assert re.findall(r'href="/en/results/novi-grad-2024/v(\d+)/"', earlier) == ["3", "2"]
    assert '<a href="/en/results/novi-grad-2024/snapshots/">Every published snapshot (3)' in earlier


def test_open_data_page_gives_the_newest_snapshots_files_and_links_the_index(
    client: Client, three_snapshots: NoviGrad
) -> None:
    html = page(client, f"/en{PAGE}data/")

    assert re.findall(r'href="/en/results/novi-grad-2024/data/v(\d+)/totals.csv"', html) == [
        "3",
        "2",
    ]
    assert 'href="/en/results/novi-grad-2024/snapshots/"' in html


def test_snapshot_index_pages_through_every_snapshot_newest_first(
    client: Client, three_snapshots: NoviGrad
) -> None:
    first = page(client, f"/en{PAGE}snapshots/")
    second = page(client, f"/en{PAGE}snapshots/?page=2")

    versions = r'<th scope="row"><a href="/en/results/novi-grad-2024/v(\d+)/">'
    assert re.findall(versions, first) == ["3", "2"]
    assert re.findall(versions, second) == ["1"]
    assert "3 snapshots have been published" in text_of(first)
    assert "Snapshots, page 2 of 2" in text_of(second)
    assert 'href="?page=2" rel="next"' in first and 'href="?page=1" rel="prev"' in second
    # Every file of every snapshot stays a link.
    for name in ("results.json", "stations.csv", "totals.csv"):
        assert f'href="/en/results/novi-grad-2024/data/v1/{name}"' in second
        assert client.get(f"/en{PAGE}data/v1/{name}").status_code == 200
    # A page past the end shows the last one; an index is no more than its pages.
    assert re.findall(versions, page(client, f"/en{PAGE}snapshots/?page=9")) == ["1"]


def test_snapshot_index_is_cacheable_per_page_and_reads_no_database(
    client: Client, three_snapshots: NoviGrad, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(0):
        first = client.get(f"{PAGE}snapshots/")
        second = client.get(f"{PAGE}snapshots/?page=2")

    assert first["ETag"] != second["ETag"]
    again = client.get(f"{PAGE}snapshots/?page=2", headers={"If-None-Match": second["ETag"]})
    assert again.status_code == 304


def test_turnout_says_so_far_until_every_station_is_counted(published: Any) -> None:
    document, _stations = published
    everything = {**document, "stations": {**document["stations"], "counted": 6, "total": 6}}

    with translation.override("en"):
        partly = text_of(results_views.live_html(document).decode())
        whole = text_of(results_views.live_html(everything).decode())

    assert document["stations"]["counted"] == 4
    assert "Turnout so far" in partly
    assert "Turnout so far" not in whole and "Turnout 62.43 %" in whole
