import json
import uuid
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase
from rest_framework.authtoken.models import Token
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework.views import APIView

from tabulation.models import (
    AcceptedRecord,
    RecordEntry,
    StationRound,
)
from tabulation.selectors.stations import round_version
from tabulation.services.roles import clerk_assign
from tests.factories import UserFactory, record_values
from tests.second_factor import SecondFactorAPIClient
from tests.views.entry_setup import VOTES, entry_setup, form_data, stored_counts, submit

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


def test_every_endpoint_answers_401_without_credentials_and_403_without_csrf() -> None:
    setup = entry_setup()
    entry = submit(setup, setup.clerk1).entry
    urls = [
        ("get", f"/api/v1/elections/{setup.election.slug}/stations/"),
        ("post", entries_url(setup)),
        ("post", f"{entries_url(setup)}{entry.pk}/withdraw/"),
    ]
    session = APIClient(enforce_csrf_checks=True)
    session.force_login(setup.clerk1)
    before = stored_counts()

    for method, url in urls:
        anonymous = getattr(APIClient(), method)(url, body(), format="json")
        assert anonymous.status_code == 401, url
        assert anonymous.json()["detail"]
        if method == "post":
            no_csrf = session.post(url, body(), format="json")
            assert no_csrf.status_code == 403, url
            assert no_csrf.json()["detail"]
    assert stored_counts() == before


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


# --- An idempotency key reused with another body ------------------------------------------

KEY_REUSED = "This submission key was already used for a different record; reload the form."


def test_a_key_reused_with_a_different_body_is_409_and_the_stored_entry_stays() -> None:
    setup = entry_setup()
    client = token_client(setup.clerk1)
    key = uuid.uuid4().hex
    first = client.post(entries_url(setup), body(), format="json", HTTP_IDEMPOTENCY_KEY=key)
    before = stored_counts()

    changed = body(
        votes=[
            {"ballot_number": 1, "votes": 301},
            {"ballot_number": 2, "votes": 199},
            {"ballot_number": 3, "votes": 88},
        ]
    )
    again = client.post(
        entries_url(setup),
        changed,
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert first.status_code == 201
    assert again.status_code == 409
    assert again.json() == {
        "errors": [{"code": "idempotency_key", "field": None, "message": KEY_REUSED}]
    }
    assert stored_counts() == before
    entry = RecordEntry.objects.get()
    assert dict(entry.votes.values_list("electoral_list__ballot_number", "votes")) == VOTES


def test_the_same_body_again_with_its_key_still_answers_200() -> None:
    setup = entry_setup()
    client = token_client(setup.clerk1)
    key = uuid.uuid4().hex
    client.post(entries_url(setup), body(), format="json", HTTP_IDEMPOTENCY_KEY=key)

    # The same record, the votes in another order and as a mapping.
    again = client.post(
        entries_url(setup),
        body(votes={"3": 88, "2": 200, "1": 300}),
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )

    assert again.status_code == 200
    assert RecordEntry.objects.count() == 1


def test_the_form_sent_again_with_other_figures_shows_the_refusal() -> None:
    """The form's hidden key, posted again (the browser's back button) with
    other figures: refused with the message, not "stored" over the old ones."""
    setup = entry_setup()
    client = Client()
    client.force_login(setup.clerk1)
    url = f"/en/entry/{setup.election.slug}/{setup.station.code}/"
    # The form as it was rendered: its key and the round's version then.
    rendered = {"idempotency_key": uuid.uuid4().hex, "round_version": round_version(setup.round)}
    assert client.post(url, form_data(**rendered)).status_code == 302
    before = stored_counts()

    page = client.post(url, form_data(**rendered, ballots_invalid="13", ballots_valid="587"))

    assert page.status_code == 409
    assert KEY_REUSED in page.content.decode()
    assert stored_counts() == before


# --- Bodies too deep or too large ---------------------------------------------------------


def post_raw(client: APIClient, url: str, raw: bytes, **headers: Any) -> Any:
    return client.generic("POST", url, raw, content_type="application/json", **headers)


def test_json_nested_2000_deep_is_a_400_parse_error_and_nothing_is_stored() -> None:
    setup = entry_setup()
    before = stored_counts()
    deep = b'{"votes": ' + b"[" * 2000 + b"]" * 2000 + b"}"

    response = post_raw(token_client(setup.clerk1), entries_url(setup), deep)

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["code"] == "too_deep"
    assert error["field"] is None and error["message"]
    assert stored_counts() == before


def test_brackets_inside_strings_are_not_nesting() -> None:
    setup = entry_setup()
    note = '\\"' + "[" * 40 + '\\"' + "{" * 40

    response = token_client(setup.clerk1).post(entries_url(setup), body(note=note), format="json")

    assert response.status_code == 201


def test_a_five_megabyte_body_is_a_413_in_the_error_shape_and_nothing_is_stored() -> None:
    setup = entry_setup()
    before = stored_counts()
    large = json.dumps(body(note="x" * 5 * 1024 * 1024)).encode()

    response = post_raw(token_client(setup.clerk1), entries_url(setup), large)

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    [error] = response.json()["errors"]
    assert (error["code"], error["field"]) == ("too_large", None)
    assert stored_counts() == before


def test_a_body_just_over_the_api_limit_is_a_413() -> None:
    setup = entry_setup()
    large = json.dumps(body(note="x" * 64 * 1024)).encode()

    response = post_raw(token_client(setup.clerk1), entries_url(setup), large)

    assert response.status_code == 413
    assert response.json()["errors"][0]["code"] == "too_large"


def test_a_body_over_djangos_own_limit_is_a_413_in_json_too(settings: Any) -> None:
    """The parser keeps DATA_UPLOAD_MAX_MEMORY_SIZE too, when it is the lower."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    setup = entry_setup()
    client = APIClient()
    client.force_login(setup.clerk1)  # a session: the CSRF check reads request.POST
    large = json.dumps(body(note="x" * 4096)).encode()

    response = post_raw(client, entries_url(setup), large)

    assert response.status_code == 413
    assert response.json()["errors"][0]["code"] == "too_large"
    assert RecordEntry.objects.count() == 0


def test_json_that_does_not_parse_is_a_400_in_the_documented_shape() -> None:
    setup = entry_setup()

    response = post_raw(token_client(setup.clerk1), entries_url(setup), b'{"votes": [1, 2,')

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["code"], error["field"]) == ("parse_error", None)
    assert error["message"]


def test_the_decision_api_refuses_deep_and_large_bodies_the_same_way() -> None:
    setup = entry_setup()
    client = SecondFactorAPIClient(setup.member)
    url = f"/api/v1/elections/{setup.election.slug}/stations/{setup.station.code}/decisions/"

    deep = post_raw(client, url, b'{"kind": "annul", "x": ' + b"[" * 2000 + b"]" * 2000 + b"}")
    large = post_raw(client, url, json.dumps({"kind": "annul", "x": "x" * 5_000_000}).encode())

    assert (deep.status_code, deep.json()["errors"][0]["code"]) == (400, "too_deep")
    assert (large.status_code, large.json()["errors"][0]["code"]) == (413, "too_large")


class ReadsTheWholeBody(APIView):
    """A view with DRF's own JSONParser, which reads ``request.body``: there
    Django itself refuses a body over DATA_UPLOAD_MAX_MEMORY_SIZE."""

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []
    parser_classes = [JSONParser]

    def post(self, request: Any) -> Response:
        return Response(request.data)


def test_djangos_request_data_too_big_answers_413_in_the_error_shape(settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    request = APIRequestFactory().post("/api/v1/anything/", {"x": "x" * 4096}, format="json")

    response = ReadsTheWholeBody.as_view()(request)

    assert response.status_code == 413
    [error] = response.data["errors"]
    assert (error["code"], error["field"]) == ("too_large", None)


# --- The schema ------------------------------------------------------------------------------


def test_the_schema_marks_the_required_fields_and_documents_every_answer(tmp_path: Any) -> None:
    path = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))

    schema = yaml.safe_load(path.read_text())
    components = schema["components"]["schemas"]
    request = components["EntryRequest"]
    # RULES.md E1: these may be blank on the paper (C1, C2, C4, C5)...
    blank_allowed = {"registered", "turned_out", "ballots_in_box", "ballots_valid"}
    assert all(request["properties"][name]["nullable"] for name in blank_allowed)
    # ...the others, and every list's votes, must be there.
    assert set(request["required"]) == {
        "ballots_received",
        "ballots_unused",
        "ballots_invalid",
        "control_sheet_ok",
        "board_signatures",
        "votes",
    }
    assert set(components["EntryVote"]["required"]) == {"ballot_number", "votes"}
    assert "nullable" not in components["EntryVote"]["properties"]["votes"]
    entries = "/api/v1/elections/{slug}/stations/{code}/entries/"
    answers = {
        ("/api/v1/elections/{slug}/stations/", "get"): {"200", "401", "404", "429"},
        (entries, "post"): {"200", "201", "400", "401", "403", "404", "409", "413", "415", "429"},
        (f"{entries}{{entry_id}}/withdraw/", "post"): {"200", "401", "403", "404", "409", "429"},
    }
    for (url, method), statuses in answers.items():
        assert set(schema["paths"][url][method]["responses"]) == statuses, url
    errors = "#/components/schemas/Errors"
    create = schema["paths"][entries]["post"]["responses"]
    for status_code in ("400", "409", "413", "415"):
        assert create[status_code]["content"]["application/json"]["schema"]["$ref"] == errors
    assert set(schema["paths"][entries]["post"]["requestBody"]["content"]) == {"application/json"}
