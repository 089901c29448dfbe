import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tabulation.models import (
    AcceptedRecord,
    RecordEntry,
    StationRound,
)
from tabulation.services.roles import clerk_assign
from tests.factories import UserFactory, record_values
from tests.views.entry_setup import VOTES, entry_setup, stored_counts, submit

pytestmark = pytest.mark.django_db


def entries_url(setup, station=None) -> str:
    station = station or setup.station
    return f"/api/v1/elections/{setup.election.slug}/stations/{station.code}/entries/"


def token_client(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def body(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = dict(record_values())
    data["votes"] = [{"ballot_number": number, "votes": votes} for number, votes in VOTES.items()]
    data.update(overrides)
    return data


def test_a_clerk_enters_a_record_through_the_api() -> None:
    setup = entry_setup()

    response = token_client(setup.clerk1).post(entries_url(setup), body(), format="json")

    assert response.status_code == 201
    data = response.json()
    assert data["station"] == setup.station.code
    assert data["entry"]["entry_number"] == 1
    assert data["entry"]["values"]["ballots_valid"] == 588
    assert data["entry"]["votes"] == [
        {"ballot_number": 1, "votes": 300},
        {"ballot_number": 2, "votes": 200},
        {"ballot_number": 3, "votes": 88},
    ]
    assert data["round"]["status"] == "first_entry"
    assert data["findings"] == []


def test_a_retry_with_the_same_idempotency_key_returns_the_stored_entry() -> None:
    setup = entry_setup()
    client = token_client(setup.clerk1)
    key = uuid.uuid4().hex

    first = client.post(entries_url(setup), body(), format="json", HTTP_IDEMPOTENCY_KEY=key)
    again = client.post(entries_url(setup), body(), format="json", HTTP_IDEMPOTENCY_KEY=key)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert RecordEntry.objects.count() == 1


def test_input_errors_come_back_with_code_field_and_message() -> None:
    setup = entry_setup()
    before = stored_counts()

    response = token_client(setup.clerk1).post(
        entries_url(setup), body(ballots_invalid=-1, board_signatures="pet"), format="json"
    )

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {(error["code"], error["field"]) for error in errors} == {
        ("E1", "ballots_invalid"),
        ("E1", "board_signatures"),
    }
    assert all(error["message"] for error in errors)
    assert stored_counts() == before


@pytest.mark.parametrize(
    ("accept_language", "message"),
    [
        ("en", "Invalid ballots must be a whole number, 0 or more; got -1."),
        ("sr-Latn", "„Nevažeći glasački listići”: upišite ceo broj, 0 ili veći; uneto je: -1."),
        ("sr", "„Неважећи гласачки листићи”: упишите цео број, 0 или већи; унето је: -1."),
        ("", "„Nevažeći glasački listići”: upišite ceo broj, 0 ili veći; uneto je: -1."),
    ],
)
def test_the_api_answers_in_the_language_the_client_asks_for(accept_language, message) -> None:
    setup = entry_setup()

    response = token_client(setup.clerk1).post(
        entries_url(setup),
        body(ballots_invalid=-1),
        format="json",
        HTTP_ACCEPT_LANGUAGE=accept_language,
    )

    assert response.status_code == 400
    assert [error["message"] for error in response.json()["errors"]] == [message]
    assert "Accept-Language" in response["Vary"]


def test_findings_are_returned_with_code_fields_expected_actual_and_message() -> None:
    setup = entry_setup()

    response = token_client(setup.clerk1).post(
        entries_url(setup), body(turned_out=590), format="json"
    )

    assert response.status_code == 201
    assert response.json()["findings"] == [
        {
            "code": "R1",
            "category": "R",
            "fields": ["ballots_in_box", "turned_out"],
            "expected": 590,
            "actual": 600,
            # The API speaks the default language, Serbian Latin.
            "message": "Broj glasačkih listića u glasačkoj kutiji (600) veći je od broja "
            "birača koji su izašli na izbore (590).",
        }
    ]


def test_double_entry_through_the_api_is_accepted() -> None:
    setup = entry_setup()
    token_client(setup.clerk1).post(entries_url(setup), body(), format="json")

    response = token_client(setup.clerk2).post(entries_url(setup), body(), format="json")

    assert response.status_code == 201
    assert response.json()["round"]["status"] == "accepted"
    assert AcceptedRecord.objects.filter(round=setup.round).exists()


def test_the_same_clerk_twice_and_a_stale_version_are_conflicts() -> None:
    setup = entry_setup()
    client = token_client(setup.clerk1)
    first = client.post(entries_url(setup), body(), format="json").json()

    twice = client.post(entries_url(setup), body(), format="json")
    stale = token_client(setup.clerk2).post(
        entries_url(setup), body(round_version="2000-01-01T00:00:00+00:00"), format="json"
    )

    assert twice.status_code == 409
    assert twice.json()["errors"][0]["code"] == "same_clerk"
    assert stale.status_code == 409
    assert stale.json()["errors"][0]["code"] == "conflict"
    current = token_client(setup.clerk2).post(
        entries_url(setup), body(round_version=first["round"]["version"]), format="json"
    )
    assert current.status_code == 201


def test_the_clerk_lists_their_stations_and_withdraws_an_entry() -> None:
    setup = entry_setup()
    client = token_client(setup.clerk1)
    entry = client.post(entries_url(setup), body(), format="json").json()["entry"]

    withdrawn = client.post(f"{entries_url(setup)}{entry['id']}/withdraw/")
    stations = client.get(f"/api/v1/elections/{setup.election.slug}/stations/")

    assert withdrawn.status_code == 200
    assert withdrawn.json()["state"] == "awaiting"
    assert [row["code"] for row in stations.json()] == [setup.station.code]


# --- The permission matrix --------------------------------------------------------


def test_anonymous_requests_get_401() -> None:
    setup = entry_setup()

    response = APIClient().post(entries_url(setup), body(), format="json")

    assert response.status_code == 401
    assert RecordEntry.objects.count() == 0


def test_a_station_outside_the_assignment_is_404_for_reading_and_writing() -> None:
    setup = entry_setup()
    client = token_client(setup.clerk1)

    response = client.post(entries_url(setup, setup.outsider_station), body(), format="json")

    assert response.status_code == 404
    assert RecordEntry.objects.count() == 0
    neighbour = UserFactory(username="clerk-neighbour")
    clerk_assign(
        actor=None, user=neighbour, election=setup.election, station=setup.outsider_station
    )
    other = submit(setup, neighbour, station=setup.outsider_station)
    withdraw = f"{entries_url(setup, setup.outsider_station)}{other.entry.pk}/withdraw/"
    assert client.post(withdraw).status_code == 404
    # Another clerk's entry on the clerk's own station is not theirs either.
    mine = submit(setup, setup.clerk2)
    assert client.post(f"{entries_url(setup)}{mine.entry.pk}/withdraw/").status_code == 404


def test_staff_without_an_assignment_get_404_and_cannot_name_a_clerk() -> None:
    setup = entry_setup()
    setup.member.is_superuser = True
    setup.member.save()

    response = token_client(setup.member).post(
        entries_url(setup), body(clerk=setup.clerk1.pk), format="json"
    )

    assert response.status_code == 404
    assert RecordEntry.objects.count() == 0


# --- Arbitrary input never breaks the API -------------------------------------------

JSON_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=10),
    st.sampled_from(["12\x00", "Београд", "🗳️", "١٢"]),
    st.lists(st.integers(), max_size=2),
)
KEYS = (
    "registered",
    "ballots_received",
    "ballots_unused",
    "turned_out",
    "ballots_in_box",
    "ballots_invalid",
    "ballots_valid",
    "control_sheet_ok",
    "board_signatures",
    "round_version",
    "correct",
    "extra",
)
VOTE_ITEMS = st.lists(
    st.one_of(
        st.fixed_dictionaries(
            {
                "ballot_number": st.one_of(st.integers(-3, 6), st.text(max_size=3)),
                "votes": JSON_VALUES,
            }
        ),
        JSON_VALUES,
    ),
    max_size=5,
)


class ApiFuzzTests(HypothesisTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.setup = entry_setup()

    @settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        overrides=st.dictionaries(st.sampled_from(KEYS), JSON_VALUES, max_size=5),
        votes=st.one_of(st.none(), VOTE_ITEMS, JSON_VALUES),
        key=st.one_of(st.none(), st.text(max_size=70)),
    )
    def test_arbitrary_bodies_never_fail_and_a_refusal_stores_nothing(
        self, overrides: dict[str, Any], votes: Any, key: str | None
    ) -> None:
        client = token_client(self.setup.clerk1)
        data = body() | overrides
        if votes is not None:
            data["votes"] = votes
        headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key.replace("\x00", "")}
        before = stored_counts()

        try:
            response = client.post(entries_url(self.setup), data, format="json", **headers)
        except ValueError:
            # A header the test client itself refuses to send (e.g. a newline).
            return

        assert response.status_code in (200, 201, 400, 409, 422)
        if response.status_code >= 400:
            assert stored_counts() == before
            assert response.json()["errors"]
        elif response.status_code == 201:
            RecordEntry.objects.filter(superseded_at__isnull=True).update(
                superseded_at="2000-01-01T00:00:00Z"
            )
            StationRound.objects.filter(pk=self.setup.round.pk).update(status="awaiting")
