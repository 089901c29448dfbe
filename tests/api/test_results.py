"""The public read API: contract, caching headers, 404s, no database, schema."""

from datetime import datetime
from typing import Any

import pytest
import yaml
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from django.utils.http import http_date

from tabulation.api.results import PublicReadThrottle
from tabulation.selectors.audit import audit_head
from tests.published import (  # noqa: F401 - fixtures
    SLUG,
    NoviGrad,
    novi_grad_fixture,
    publish_dir_fixture,
    publish_version_2,
    published_fixture,
    station_enter,
    tabulate_and_publish,
)

pytestmark = pytest.mark.django_db

RESULTS_URL = f"/api/v1/elections/{SLUG}/results/"


def get_json(client: Client, url: str, **headers: str) -> Any:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    return response.json()


def test_elections_list_names_each_published_election(client: Client, published: Any) -> None:
    assert get_json(client, "/api/v1/elections/") == [
        {
            "slug": SLUG,
            "name": "Skupština Novog Grada",
            "date": "2024-06-02",
            "seats": 25,
            "status": "provisional",
        }
    ]


def test_elections_list_is_empty_before_anything_is_published(
    client: Client,
    publish_dir: Any,
) -> None:
    assert get_json(client, "/api/v1/elections/") == []


def test_api_root_links_every_public_endpoint(client: Client, publish_dir: Any) -> None:
    root = get_json(client, "/api/v1/")

    assert root["version"] == "v1"
    assert root["links"] == {
        "elections": "http://testserver/api/v1/elections/",
        "election": "http://testserver/api/v1/elections/{slug}/",
        "results": "http://testserver/api/v1/elections/{slug}/results/",
        "snapshots": "http://testserver/api/v1/elections/{slug}/snapshots/",
        "snapshot": "http://testserver/api/v1/elections/{slug}/snapshots/{version}/",
        "mandates": "http://testserver/api/v1/elections/{slug}/mandates/",
        "station": "http://testserver/api/v1/elections/{slug}/stations/{code}/",
        "schema": "http://testserver/api/v1/schema/",
        "docs": "http://testserver/api/v1/docs/",
    }


def test_election_detail_gives_its_rules_its_latest_snapshot_and_links(
    client: Client, published: Any
) -> None:
    election = get_json(client, f"/api/v1/elections/{SLUG}/")

    assert election == {
        "slug": SLUG,
        "name": "Skupština Novog Grada",
        "date": "2024-06-02",
        "seats": 25,
        "threshold_percent": "3",
        "minority_bonus_percent": "35",
        "status": "provisional",
        "version": 1,
        "published_at": published[0]["published_at"],
        "stations": {"counted": 4, "total": 6},
        "links": {
            "results": f"http://testserver/api/v1/elections/{SLUG}/results/",
            "snapshots": f"http://testserver/api/v1/elections/{SLUG}/snapshots/",
            "mandates": f"http://testserver/api/v1/elections/{SLUG}/mandates/",
            "station": f"http://testserver/api/v1/elections/{SLUG}/stations/{{code}}/",
        },
    }
    for url in election["links"].values():
        if "{" not in url:
            assert client.get(url).status_code == 200, url


def test_results_carry_the_latest_snapshot_totals(client: Client, published: Any) -> None:
    results = get_json(client, RESULTS_URL)

    assert results["status"] == "provisional"
    assert results["version"] == 1
    assert results["published_at"] == published[0]["published_at"]
    assert results["stations"] == {
        "counted": 4,
        "total": 6,
        "held": 1,
        "annulled": 0,
        "awaiting": 1,
    }
    assert results["registered"] == {"counted": 4900, "total": 7000}
    assert (results["voted"], results["invalid"], results["valid"]) == (3051, 60, 2991)
    assert results["threshold_votes"] == "91.53"
    assert results["settled"] is False
    # The audit chain's head as it stood when the snapshot was stored.
    assert results["audit_head"] == audit_head().head_hash


def test_results_lists_give_votes_share_seats_and_threshold(client: Client, published: Any) -> None:
    lists = get_json(client, RESULTS_URL)["lists"]

    picked = [
        {
            key: item[key]
            for key in (
                "ballot_number",
                "name",
                "minority",
                "votes",
                "percent",
                "seats",
                "passed_threshold",
            )
        }
        for item in lists
    ]
    assert picked == [
        {
            "ballot_number": 1,
            "name": "Srbija ne sme da stane",
            "minority": False,
            "votes": 1580,
            "percent": "51.79",
            "seats": 13,
            "passed_threshold": True,
        },
        {
            "ballot_number": 2,
            "name": "Kreni-Promeni",
            "minority": False,
            "votes": 860,
            "percent": "28.19",
            "seats": 7,
            "passed_threshold": True,
        },
        {
            "ballot_number": 3,
            "name": "Biramo Beograd",
            "minority": False,
            "votes": 465,
            "percent": "15.24",
            "seats": 4,
            "passed_threshold": True,
        },
        {
            "ballot_number": 4,
            "name": "Ruska stranka",
            "minority": True,
            "votes": 86,
            "percent": "2.82",
            "seats": 1,
            "passed_threshold": False,
        },
    ]


def test_results_municipalities_give_votes_by_ballot_number(client: Client, published: Any) -> None:
    municipalities = get_json(client, RESULTS_URL)["municipalities"]

    assert [item["code"] for item in municipalities] == ["vozdovac", "zvezdara", "cukarica"]
    vozdovac = municipalities[0]
    assert vozdovac["name"] == "Voždovac"
    assert vozdovac["registered"] == 2100
    assert vozdovac["turned_out"] == 1247
    assert vozdovac["voted"] == 1243
    assert vozdovac["valid"] == 1218
    assert vozdovac["votes"] == {"1": 650, "2": 330, "3": 205, "4": 33}
    # Zvezdara: one of its two stations still awaits its record.
    assert municipalities[1]["votes"] == {"1": 410, "2": 300, "3": 120, "4": 28}


def test_snapshots_list_every_version_oldest_first(
    client: Client, published: Any, novi_grad: NoviGrad
) -> None:
    publish_version_2(novi_grad)

    snapshots = get_json(client, f"/api/v1/elections/{SLUG}/snapshots/")

    assert [(item["version"], item["status"]) for item in snapshots] == [
        (1, "provisional"),
        (2, "provisional"),
    ]
    assert snapshots[0]["url"] == f"http://testserver/api/v1/elections/{SLUG}/snapshots/1/"


def test_an_earlier_snapshot_stays_readable_by_version(
    client: Client, published: Any, novi_grad: NoviGrad
) -> None:
    publish_version_2(novi_grad)

    assert get_json(client, RESULTS_URL)["version"] == 2
    earlier = get_json(client, f"/api/v1/elections/{SLUG}/snapshots/1/")
    assert earlier["version"] == 1
    assert earlier["stations"]["counted"] == 4
    assert get_json(client, f"/api/v1/elections/{SLUG}/snapshots/2/")["stations"]["counted"] == 5


def test_station_gives_its_counted_record_and_status(client: Client, published: Any) -> None:
    station = get_json(client, f"/api/v1/elections/{SLUG}/stations/vozdovac-002/")

    assert station["election"] == SLUG
    assert station["version"] == 1
    assert station["status"] == "counted"
    assert station["municipality"] == "vozdovac"
    record = {
        key: station[key]
        for key in (
            "registered",
            "ballots_received",
            "ballots_unused",
            "turned_out",
            "ballots_in_box",
            "ballots_invalid",
            "ballots_valid",
            "control_sheet_ok",
            "board_signatures",
        )
    }
    assert record == {
        "registered": 900,
        "ballots_received": 900,
        "ballots_unused": 349,
        "turned_out": 553,
        "ballots_in_box": 551,
        "ballots_invalid": 11,
        "ballots_valid": 540,
        "control_sheet_ok": True,
        "board_signatures": 5,
    }
    assert station["votes"] == {"1": 260, "2": 170, "3": 95, "4": 15}
    assert station["findings"] == []
    assert station["decisions"] == []


def test_a_station_not_counted_has_a_status_and_no_figures(client: Client, published: Any) -> None:
    station = get_json(client, f"/api/v1/elections/{SLUG}/stations/cukarica-002/")

    assert station["status"] == "held"
    assert station["ballots_in_box"] is None
    assert station["votes"] == {}
    assert station["findings"][0]["code"] == "R1"
    assert station["registered_in_register"] == 1100  # known before any record


def test_an_annulled_round_gives_the_decision_and_a_new_round(
    client: Client, published: Any, novi_grad: NoviGrad
) -> None:
    publish_version_2(novi_grad)

    station = get_json(client, f"/api/v1/elections/{SLUG}/stations/cukarica-002/")

    assert (station["status"], station["round"]) == ("awaiting", 2)
    assert [decision["kind"] for decision in station["decisions"]] == ["annul_and_order_repeat"]
    [earlier] = station["earlier_rounds"]
    assert (earlier["round"], earlier["ground"], earlier["ballots_in_box"]) == (1, "R1", 727)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/elections/no-such-election/",
        "/api/v1/elections/no-such-election/results/",
        "/api/v1/elections/no-such-election/snapshots/",
        f"/api/v1/elections/{SLUG}/snapshots/99/",
        f"/api/v1/elections/{SLUG}/stations/no-such-station/",
        "/api/v1/elections/no-such-election/stations/vozdovac-001/",
    ],
)
def test_unknown_election_version_or_station_is_404(
    client: Client, published: Any, url: str
) -> None:
    response = client.get(url)

    assert response.status_code == 404
    assert "detail" in response.json()


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/elections/",
        f"/api/v1/elections/{SLUG}/",
        RESULTS_URL,
        f"/api/v1/elections/{SLUG}/snapshots/",
        f"/api/v1/elections/{SLUG}/snapshots/1/",
        f"/api/v1/elections/{SLUG}/stations/vozdovac-001/",
    ],
)
def test_repeated_request_with_the_etag_gets_304(client: Client, published: Any, url: str) -> None:
    first = client.get(url)
    assert first["ETag"]
    published_at = datetime.fromisoformat(published[0]["published_at"])
    assert first["Last-Modified"] == http_date(int(published_at.timestamp()))
    assert first["Cache-Control"] == "public, max-age=5"

    again = client.get(url, headers={"If-None-Match": first["ETag"]})

    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]


def test_a_new_snapshot_changes_the_etag(
    client: Client, published: Any, novi_grad: NoviGrad
) -> None:
    old = client.get(RESULTS_URL)["ETag"]
    publish_version_2(novi_grad)

    response = client.get(RESULTS_URL, headers={"If-None-Match": old})

    assert response.status_code == 200
    assert response.json()["version"] == 2
    assert response["ETag"] != old


def test_results_are_read_from_the_files_when_the_cache_is_empty(
    client: Client, published: Any
) -> None:
    cache.clear()  # a restarted Redis

    assert get_json(client, RESULTS_URL)["version"] == 1
    assert [
        item["version"] for item in get_json(client, f"/api/v1/elections/{SLUG}/snapshots/")
    ] == [1]
    assert get_json(client, f"/api/v1/elections/{SLUG}/stations/zvezdara-001/")["votes"]["2"] == 300


def test_read_api_makes_no_database_query(
    client: Client, published: Any, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(0):
        for url in (
            "/api/v1/",
            "/api/v1/elections/",
            f"/api/v1/elections/{SLUG}/",
            RESULTS_URL,
            f"/api/v1/elections/{SLUG}/snapshots/",
            f"/api/v1/elections/{SLUG}/snapshots/1/",
            f"/api/v1/elections/{SLUG}/stations/vozdovac-001/",
        ):
            assert client.get(url).status_code == 200


def test_a_client_over_the_rate_is_throttled(
    client: Client, published: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(PublicReadThrottle, "rate", "2/min")

    statuses = [client.get(RESULTS_URL).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


def test_openapi_schema_validates_and_documents_the_read_api(tmp_path: Any) -> None:
    path = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))

    schema = yaml.safe_load(path.read_text())
    assert {
        "/api/v1/",
        "/api/v1/elections/",
        "/api/v1/elections/{slug}/",
        "/api/v1/elections/{slug}/results/",
        "/api/v1/elections/{slug}/snapshots/",
        "/api/v1/elections/{slug}/snapshots/{version}/",
        "/api/v1/elections/{slug}/stations/{code}/",
    } <= set(schema["paths"])
    results = schema["components"]["schemas"]["PublishedResults"]
    assert {
        "status",
        "version",
        "published_at",
        "stations",
        "registered",
        "voted",
        "invalid",
        "valid",
        "threshold_votes",
        "settled",
        "audit_head",
        "lists",
        "municipalities",
    } <= set(results["required"])


def test_a_real_tabulation_reads_back_through_the_api_and_the_page(
    client: Client, publish_dir: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Integration with the writing side: records accepted, the tabulation run
    (which publishes), then the API and the page show what it counted."""
    import random

    from tabulation.services import tabulation as tabulation_service
    from tests.factories_records import random_votes, record_accept
    from tests.factories_records import small_election as election_in_database

    monkeypatch.setattr(tabulation_service, "tabulation_enqueue", lambda election_id: True)
    made = election_in_database(municipalities=3, stations_per_municipality=2, minority=(4,))
    rng = random.Random(7)
    accepted = {}
    for station in made.stations[:-1]:  # the last station still awaits its record
        votes = random_votes(rng, made.lists, station.registered)
        record_accept(made.rounds[station.code], votes)
        accepted[station.code] = votes

    assert tabulation_service.tabulation_run(election_id=made.election.pk) == "done"

    slug = made.election.slug
    results = get_json(client, f"/api/v1/elections/{slug}/results/")
    assert results["version"] == 1
    assert results["stations"]["counted"] == 5
    assert results["stations"]["total"] == 6
    assert {item["ballot_number"]: item["votes"] for item in results["lists"]} == {
        electoral_list.ballot_number: sum(
            votes[electoral_list.ballot_number] for votes in accepted.values()
        )
        for electoral_list in made.lists
    }
    assert sum(item["seats"] for item in results["lists"]) == made.election.seats
    first = made.stations[0]
    station = get_json(client, f"/api/v1/elections/{slug}/stations/{first.code}/")
    assert station["status"] == "counted"
    assert station["votes"] == {
        str(number): count for number, count in accepted[first.code].items()
    }
    assert (
        get_json(client, f"/api/v1/elections/{slug}/stations/{made.stations[-1].code}/")["status"]
        == "awaiting"
    )
    assert [item["slug"] for item in get_json(client, "/api/v1/elections/")] == [slug]
    page = client.get(f"/results/{slug}/")
    assert page.status_code == 200
    assert page.content.decode().count("<circle ") == made.election.seats


def test_a_successful_read_does_not_vary_by_language(client, published) -> None:
    response = client.get("/api/v1/elections/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert "Accept-Language" not in response.get("Vary", "")
