"""The read API once the results are certified: the official document's keys,
earlier official versions, the councillors by list, and the schema."""

from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.test import Client

from tests.published import (  # noqa: F401 - fixtures
    CERTIFIERS,
    SLUG,
    NoviGrad,
    certify,
    novi_grad_fixture,
    publish_dir_fixture,
    published_fixture,
    reopen_and_correct,
)
from tests.views.test_official_results import (  # noqa: F401 - fixtures
    certified_fixture,
    election_with_a_list_without_seats,
    official_of,
)

RESULTS_URL = f"/api/v1/elections/{SLUG}/results/"
MANDATES_URL = f"/api/v1/elections/{SLUG}/mandates/"


def get_json(client: Client, url: str, **headers: str) -> Any:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    return response.json()


@pytest.mark.django_db
def test_official_results_carry_the_certification_and_the_proceedings(
    client: Client, certified: NoviGrad
) -> None:
    results = get_json(client, RESULTS_URL)
    certification = certified.election.certifications.get()

    assert (results["status"], results["version"]) == ("official", 4)
    certified_at = certification.confirmed_at.isoformat()
    assert results["certified_at"] == certified_at
    assert results["certified_by"] == CERTIFIERS
    assert results["certification"] == {
        "certifies_version": 3,
        "official_version": 1,
        "proposed_at": certification.proposed_at.isoformat(),
        "certified_at": certified_at,
        "certified_by": CERTIFIERS,
    }
    assert set(results["proceedings"]) == {"decisions", "objections"}
    assert results["proceedings"]["decisions"][0]["kind"] == "annul_and_order_repeat"
    assert results["lists"][0]["mandates"][:2] == [
        {"position": 1, "name": "Ana Đorđević"},
        {"position": 2, "name": "Ljubomir Njegovan"},
    ]


@pytest.mark.django_db
def test_a_provisional_document_has_no_certification_keys(client: Client, published: Any) -> None:
    results = get_json(client, RESULTS_URL)

    assert results["status"] == "provisional"
    assert not {"certified_at", "certified_by", "certification", "proceedings"} & set(results)
    assert [len(item["mandates"]) for item in results["lists"]] == [13, 7, 4, 1]


@pytest.mark.django_db
def test_the_first_official_version_stays_readable_after_a_second(
    client: Client, certified: NoviGrad
) -> None:
    first = client.get(f"/api/v1/elections/{SLUG}/snapshots/4/").content
    reopen_and_correct(certified)
    certify(certified, certifiers=["Ana Babić", "Cvijeta Dimić"])

    assert client.get(f"/api/v1/elections/{SLUG}/snapshots/4/").content == first
    assert get_json(client, RESULTS_URL)["certification"]["official_version"] == 2
    snapshots = get_json(client, f"/api/v1/elections/{SLUG}/snapshots/")
    assert [(item["version"], item["status"]) for item in snapshots] == [
        (1, "provisional"),
        (2, "provisional"),
        (3, "provisional"),
        (4, "official"),
        (5, "provisional"),
        (6, "official"),
    ]


# --- GET /api/v1/elections/{slug}/mandates/ ----------------------------------------


@pytest.mark.django_db
def test_mandates_give_the_elected_councillors_by_list(client: Client, certified: NoviGrad) -> None:
    mandates = get_json(client, MANDATES_URL)

    assert {key: mandates[key] for key in mandates if key != "lists"} == {
        "election": SLUG,
        "version": 4,
        "status": "official",
        "published_at": official_of(certified)["published_at"],
        "certified_at": official_of(certified)["certified_at"],
        "certified_by": CERTIFIERS,
    }
    assert [
        (item["ballot_number"], item["name"], item["seats"], len(item["mandates"]))
        for item in mandates["lists"]
    ] == [
        (1, "Srbija ne sme da stane", 13, 13),
        (2, "Kreni-Promeni", 7, 7),
        (3, "Biramo Beograd", 4, 4),
        (4, "Ruska stranka", 1, 1),
    ]
    assert mandates["lists"][2]["mandates"] == [
        {"position": 1, "name": "Žarko Čolić"},
        {"position": 2, "name": "Kandidat 2, lista 3"},
        {"position": 4, "name": "Kandidat 4, lista 3"},
        {"position": 5, "name": "Kandidat 5, lista 3"},
    ]


@pytest.mark.django_db
def test_mandates_leave_out_a_list_without_seats(client: Client, publish_dir: Path) -> None:
    slug = election_with_a_list_without_seats()

    lists = get_json(client, f"/api/v1/elections/{slug}/mandates/")["lists"]

    assert [item["ballot_number"] for item in lists] == [1, 2]


@pytest.mark.django_db
def test_provisional_mandates_say_so_and_name_no_certifier(client: Client, published: Any) -> None:
    mandates = get_json(client, MANDATES_URL)

    assert mandates["status"] == "provisional"
    assert (mandates["certified_at"], mandates["certified_by"]) == (None, [])
    assert mandates["lists"][0]["mandates"][0] == {"position": 1, "name": "Ana Đorđević"}


@pytest.mark.django_db
def test_mandates_follow_the_latest_snapshot_with_etag_and_304(
    client: Client, certified: NoviGrad
) -> None:
    first = client.get(MANDATES_URL)
    assert first["ETag"] == f'"{SLUG}-v4-mandates"'
    assert first["Cache-Control"] == "public, max-age=5"
    assert first["Access-Control-Allow-Origin"] == "*"
    assert client.get(MANDATES_URL, headers={"If-None-Match": first["ETag"]}).status_code == 304

    reopen_and_correct(certified)

    again = client.get(MANDATES_URL, headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 200
    assert again.json()["version"] == 5


def test_mandates_of_an_unknown_election_are_404(client: Client, publish_dir: Path) -> None:
    response = client.get("/api/v1/elections/no-such-election/mandates/")

    assert response.status_code == 404
    assert "detail" in response.json()


@pytest.mark.django_db
def test_official_reads_make_no_database_query(
    client: Client, certified: NoviGrad, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(0):
        for url in (RESULTS_URL, MANDATES_URL, f"/api/v1/elections/{SLUG}/snapshots/4/"):
            assert client.get(url).status_code == 200, url


# --- The schema ---------------------------------------------------------------------


def test_schema_documents_the_official_keys_and_the_mandates_endpoint(tmp_path: Path) -> None:
    path = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))

    schema = yaml.safe_load(path.read_text())
    components = schema["components"]["schemas"]
    results = components["PublishedResults"]["properties"]
    assert {"certified_at", "certified_by", "certification", "proceedings"} <= set(results)
    assert "official" in str(results["status"])
    certification = components["PublishedCertification"]
    assert set(certification["required"]) == {
        "certifies_version",
        "official_version",
        "proposed_at",
        "certified_at",
        "certified_by",
    }
    assert set(components["PublishedProceedings"]["properties"]) == {"decisions", "objections"}
    assert "mandates" in components["PublishedListResult"]["required"]
    assert set(components["PublishedMandate"]["required"]) == {"position", "name"}
    mandates = schema["paths"]["/api/v1/elections/{slug}/mandates/"]["get"]
    assert mandates["operationId"] == "elections_mandates_retrieve"
    assert {"200", "304", "404", "429"} <= set(mandates["responses"])
    assert set(components["PublishedMandates"]["required"]) >= {"status", "lists", "certified_at"}
