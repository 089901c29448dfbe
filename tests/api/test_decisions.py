"""The commission's decisions through the API (docs/api.md): each endpoint's
effect on the round, the decision row and the audit trail; each refusal with
its status and code; and that a refused request stores nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.utils import timezone, translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tabulation.models import (
    AcceptedRecord,
    AuditEvent,
    Decision,
    Finding,
    Objection,
    RecordEntry,
    ResultSnapshot,
    StationRound,
)
from tabulation.selectors.accounts import second_factor_needed
from tabulation.selectors.stations import round_version
from tabulation.services.records import record_submit
from tabulation.services.roles import clerk_assign
from tabulation.services.tabulation import election_tabulate
from tests.factories import UserFactory, record_values
from tests.second_factor import SecondFactorAPIClient, next_code, verified_login
from tests.views.entry_setup import PASSWORD, VOTES, EntrySetup, entry_setup, submit

pytestmark = pytest.mark.django_db


# --- Helpers -----------------------------------------------------------------------


def token_client(user: Any) -> APIClient:
    """A token client; a member's sends a fresh authenticator code each time."""
    if second_factor_needed(user):
        return SecondFactorAPIClient(user)
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def decisions_url(setup: EntrySetup, code: str | None = None, slug: str | None = None) -> str:
    return (
        f"/api/v1/elections/{slug or setup.election.slug}/stations/"
        f"{code or setup.station.code}/decisions/"
    )


def objections_url(setup: EntrySetup) -> str:
    return f"/api/v1/elections/{setup.election.slug}/objections/"


def objection_decision_url(setup: EntrySetup, objection_id: int) -> str:
    return f"{objections_url(setup)}{objection_id}/decision/"


def lots_url(setup: EntrySetup) -> str:
    return f"/api/v1/elections/{setup.election.slug}/lots/"


def stored() -> tuple[int, int, int, int, int]:
    """What a decision writes: a refused request leaves all of it as it was."""
    return (
        Decision.objects.count(),
        # The refusal itself is audited (auth.refused); nothing else may be.
        AuditEvent.objects.exclude(action="auth.refused").count(),
        AcceptedRecord.objects.count(),
        StationRound.objects.count(),
        Objection.objects.count(),
    )


def post(user: Any, url: str, body: Any, **headers: Any) -> Any:
    return token_client(user).post(url, body, format="json", **headers)


def codes(response: Any) -> list[tuple[str, str | None]]:
    return [(error["code"], error["field"]) for error in response.json()["errors"]]


def differing(setup: EntrySetup) -> None:
    """Two entries that differ (W6): the station waits for a reconciliation."""
    submit(setup, setup.clerk1)
    submit(setup, setup.clerk2, votes={1: 301, 2: 200, 3: 87})
    setup.round.refresh_from_db()
    assert setup.round.status == StationRound.Status.ENTRIES_DIFFER


def held_by_r1(setup: EntrySetup) -> None:
    """Two equal entries, more ballots in the box than voters turned out (R1)."""
    submit(setup, setup.clerk1, turned_out=590)
    submit(setup, setup.clerk2, turned_out=590)
    setup.round.refresh_from_db()
    assert setup.round.status == StationRound.Status.HELD


def held_by_s1(setup: EntrySetup) -> None:
    """The votes add up to 589 while valid ballots are 588 (S1)."""
    votes = {1: 301, 2: 200, 3: 88}
    submit(setup, setup.clerk1, votes=votes)
    submit(setup, setup.clerk2, votes=votes)
    setup.round.refresh_from_db()
    assert setup.round.status == StationRound.Status.HELD


def correction(**values: Any) -> dict[str, Any]:
    return {
        "kind": "correct",
        "values": record_values(**values),
        "votes": {str(number): votes for number, votes in VOTES.items()},
        "reason": "The ballots of list 1 were recounted: 300.",
    }


def annulment(days: int = 7, **overrides: Any) -> dict[str, Any]:
    return {
        "kind": "annul",
        "ground": "R1",
        "voting_date": (timezone.localdate() + timedelta(days=days)).isoformat(),
        "reason": "More ballots in the box than voters: Art. 116.",
    } | overrides


def published(setup: EntrySetup) -> ResultSnapshot:
    submit(setup, setup.clerk1)
    submit(setup, setup.clerk2)
    snapshot = election_tabulate(election_id=setup.election.pk)
    assert snapshot is not None
    return snapshot


def tied() -> EntrySetup:
    """Two lists with equal votes for the last of three seats: lots are drawn."""
    setup = entry_setup("single")
    setup.election.seats = 3
    setup.election.save()
    record_submit(
        actor=setup.clerk1,
        station=setup.station,
        values=record_values(),
        votes=[(1, 294), (2, 147), (3, 147)],
        idempotency_key=uuid.uuid4().hex,
    )
    snapshot = election_tabulate(election_id=setup.election.pk)
    assert snapshot is not None and snapshot.payload["lots_required"] == [2, 3]
    return setup


def assert_decision(data: dict[str, Any], setup: EntrySetup, kind: str) -> Decision:
    """The answer is the stored decision, field by field."""
    decision = Decision.objects.get(pk=data["id"])
    assert decision.kind == data["kind"] == kind
    assert decision.decided_by == setup.member
    assert data["decided_by"] == setup.member.username
    assert data["reason"] == decision.reason
    assert data["payload"] == decision.payload
    assert data["decided_at"]
    return decision


# --- Reconcile ---------------------------------------------------------------------


def test_a_member_keeps_one_entry_and_the_record_is_accepted() -> None:
    setup = entry_setup()
    differing(setup)

    response = post(
        setup.member,
        decisions_url(setup),
        {"kind": "reconcile", "keep_entry_number": 2, "reason": "The paper says 301 and 87."},
    )

    assert response.status_code == 201
    data = response.json()
    decision = assert_decision(data, setup, "reconcile")
    assert data["station"] == setup.station.code
    assert data["round"]["number"] == 1
    assert data["round"]["status"] == "accepted"
    assert data["payload"]["kept_entry_number"] == 2
    setup.round.refresh_from_db()
    assert setup.round.status == StationRound.Status.ACCEPTED
    accepted = AcceptedRecord.objects.get(round=setup.round)
    assert accepted.source == "reconciliation"
    assert accepted.votes.get(electoral_list__ballot_number=1).votes == 301
    event = AuditEvent.objects.get(action="decision.reconcile")
    assert event.reason == "The paper says 301 and 87."
    assert event.after["decision"] == decision.pk
    assert event.actor == setup.member
    assert event.station_code == setup.station.code


def test_a_member_returns_the_station_for_entry_again() -> None:
    setup = entry_setup()
    differing(setup)

    response = post(
        setup.member,
        decisions_url(setup),
        {"kind": "reconcile", "return_for_entry": True, "reason": "Both entries are wrong."},
    )

    assert response.status_code == 201
    assert response.json()["round"]["status"] == "awaiting"
    setup.round.refresh_from_db()
    assert setup.round.status == StationRound.Status.AWAITING
    assert not RecordEntry.objects.filter(round=setup.round, superseded_at__isnull=True).exists()
    assert AuditEvent.objects.filter(action="decision.reconcile").count() == 1


@pytest.mark.parametrize(
    "choice",
    [
        {},
        {"keep_entry_number": 1, "return_for_entry": True},
        {"return_for_entry": False},
        {"return_for_entry": "yes"},
        {"keep_entry_number": 3},
    ],
)
def test_a_reconciliation_must_choose_exactly_one_way(choice: dict[str, Any]) -> None:
    setup = entry_setup()
    differing(setup)
    before = stored()

    response = post(
        setup.member, decisions_url(setup), {"kind": "reconcile", "reason": "x", **choice}
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["message"]
    assert stored() == before


def test_reconciling_entries_that_agree_is_a_conflict_of_state() -> None:
    setup = entry_setup()
    submit(setup, setup.clerk1)
    submit(setup, setup.clerk2)
    before = stored()

    response = post(
        setup.member,
        decisions_url(setup),
        {"kind": "reconcile", "keep_entry_number": 1, "reason": "Why not."},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 409
    assert response.json()["errors"] == [
        {
            "code": "refused",
            "field": None,
            "message": f"Station {setup.station.code} is accepted: this decision is not "
            "possible now.",
        }
    ]
    assert stored() == before


def test_a_member_who_typed_an_entry_is_refused_by_four_eyes() -> None:
    setup = entry_setup()
    clerk_assign(actor=None, user=setup.member, election=setup.election, station=setup.station)
    submit(setup, setup.member)
    submit(setup, setup.clerk2, votes={1: 301, 2: 200, 3: 87})
    before = stored()

    response = post(
        setup.member,
        decisions_url(setup),
        {"kind": "reconcile", "keep_entry_number": 1, "reason": "Mine is right."},
    )

    assert response.status_code == 409
    assert codes(response) == [("own_entry", None)]
    assert stored() == before


# --- Correct -----------------------------------------------------------------------


def test_a_correction_clears_s1_and_the_station_counts() -> None:
    setup = entry_setup()
    held_by_s1(setup)

    response = post(setup.member, decisions_url(setup), correction())

    assert response.status_code == 201
    data = response.json()
    decision = assert_decision(data, setup, "correct")
    assert data["round"]["status"] == "accepted"
    assert data["payload"]["before"]["votes"]["1"] == 301
    assert data["payload"]["after"]["votes"]["1"] == 300
    setup.round.refresh_from_db()
    assert setup.round.status == StationRound.Status.ACCEPTED
    live = AcceptedRecord.objects.get(round=setup.round, superseded_at__isnull=True)
    assert (live.source, live.decision) == ("decision", decision)
    assert live.votes.get(electoral_list__ballot_number=1).votes == 300
    s1 = Finding.objects.get(round=setup.round, code="S1")
    assert (s1.status, s1.resolved_by) == ("resolved", decision)
    event = AuditEvent.objects.get(action="decision.correct")
    assert event.after["resolved"] == ["S1"]


def test_a_correction_takes_the_entry_apis_list_of_votes_too() -> None:
    setup = entry_setup()
    held_by_s1(setup)
    body = correction()
    body["votes"] = [{"ballot_number": number, "votes": votes} for number, votes in VOTES.items()]

    response = post(setup.member, decisions_url(setup), body)

    assert response.status_code == 201
    assert response.json()["round"]["status"] == "accepted"


def test_a_correction_with_input_errors_is_422_and_stores_nothing() -> None:
    setup = entry_setup()
    held_by_s1(setup)
    before = stored()

    response = post(
        setup.member,
        decisions_url(setup),
        correction(ballots_invalid="twelve"),
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 422
    assert codes(response) == [("E1", "ballots_invalid")]
    assert response.json()["errors"][0]["message"]
    assert stored() == before
    setup.round.refresh_from_db()
    assert setup.round.status == StationRound.Status.HELD


def test_a_list_not_on_the_ballot_is_e2() -> None:
    setup = entry_setup()
    held_by_s1(setup)
    body = correction()
    body["votes"]["7"] = 0
    before = stored()

    response = post(setup.member, decisions_url(setup), body)

    assert response.status_code == 422
    assert "E2" in {code for code, _field in codes(response)}
    assert stored() == before


@pytest.mark.parametrize(
    ("change", "field"),
    [({"values": [1, 2]}, "values"), ({"votes": "many"}, "votes"), ({"values": None}, "values")],
)
def test_a_correction_whose_shape_is_wrong_is_400(change: dict[str, Any], field: str) -> None:
    setup = entry_setup()
    held_by_s1(setup)
    before = stored()

    response = post(setup.member, decisions_url(setup), correction() | change)

    assert response.status_code == 400
    assert [error_field for _code, error_field in codes(response)] == [field]
    assert stored() == before


def test_a_station_still_being_entered_cannot_be_corrected() -> None:
    setup = entry_setup()
    submit(setup, setup.clerk1)
    before = stored()

    response = post(setup.member, decisions_url(setup), correction())

    assert response.status_code == 409
    assert codes(response) == [("refused", None)]
    assert stored() == before


def test_a_stale_round_version_is_a_conflict() -> None:
    setup = entry_setup()
    held_by_s1(setup)
    before = stored()

    response = post(
        setup.member,
        decisions_url(setup),
        correction() | {"round_version": "2000-01-01T00:00:00+00:00"},
    )

    assert response.status_code == 409
    assert codes(response) == [("conflict", None)]
    assert stored() == before
    current = post(
        setup.member,
        decisions_url(setup),
        correction() | {"round_version": round_version(setup.round)},
    )
    assert current.status_code == 201


# --- Acknowledge -------------------------------------------------------------------


def test_acknowledging_a_warning_dismisses_it() -> None:
    setup = entry_setup()
    votes = {1: 300, 2: 200, 3: 80}  # 20 invalid ballots of 600: W2
    submit(setup, setup.clerk1, votes=votes, ballots_invalid=20, ballots_valid=580)
    submit(setup, setup.clerk2, votes=votes, ballots_invalid=20, ballots_valid=580)
    w2 = Finding.objects.get(round=setup.round, code="W2", status="open")

    response = post(
        setup.member,
        decisions_url(setup),
        {"kind": "acknowledge", "finding": w2.pk, "reason": "The board explained them."},
    )

    assert response.status_code == 201
    data = response.json()
    decision = assert_decision(data, setup, "dismiss_warning")
    assert data["payload"] == {"finding": w2.pk, "code": "W2"}
    assert data["round"]["status"] == "accepted"
    w2.refresh_from_db()
    assert (w2.status, w2.resolved_by) == ("dismissed", decision)
    assert AuditEvent.objects.filter(action="decision.dismiss_warning").count() == 1


def test_an_annulment_ground_cannot_be_acknowledged() -> None:
    setup = entry_setup()
    held_by_r1(setup)
    r1 = Finding.objects.get(round=setup.round, code="R1")
    before = stored()

    response = post(
        setup.member,
        decisions_url(setup),
        {"kind": "acknowledge", "finding": r1.pk, "reason": "Looks fine."},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 409
    assert response.json()["errors"][0]["message"] == (
        "R1 cannot be acknowledged: the commission corrects or annuls."
    )
    assert stored() == before
    assert Finding.objects.get(pk=r1.pk).status == "open"


def test_a_finding_of_another_station_is_400() -> None:
    setup = entry_setup()
    held_by_r1(setup)
    r1 = Finding.objects.get(round=setup.round, code="R1")
    before = stored()

    response = post(
        setup.member,
        decisions_url(setup, code=setup.outsider_station.code),
        {"kind": "acknowledge", "finding": r1.pk, "reason": "x"},
    )

    assert response.status_code == 400
    assert codes(response) == [("does_not_exist", "finding")]
    assert stored() == before


# --- Annul -------------------------------------------------------------------------


def test_annulling_opens_round_two() -> None:
    setup = entry_setup()
    held_by_r1(setup)

    response = post(setup.member, decisions_url(setup), annulment(7))

    assert response.status_code == 201
    data = response.json()
    decision = assert_decision(data, setup, "annul_and_order_repeat")
    assert data["round"]["number"] == 1
    assert data["round"]["status"] == "annulled"
    assert data["payload"]["ground"] == "R1"
    assert data["payload"]["repeat_round"] == 2
    setup.round.refresh_from_db()
    assert setup.round.status == StationRound.Status.ANNULLED
    repeat = StationRound.objects.get(station=setup.station, number=2)
    assert (repeat.status, repeat.ordered_by) == ("awaiting", decision)
    assert repeat.voting_date == timezone.localdate() + timedelta(days=7)
    event = AuditEvent.objects.get(action="decision.annul_and_order_repeat")
    assert event.after["repeat_round"] == 2


@pytest.mark.parametrize("days", [0, -1, 11])
def test_a_repeat_vote_outside_ten_days_is_409(days: int) -> None:
    setup = entry_setup()
    held_by_r1(setup)
    before = stored()

    response = post(setup.member, decisions_url(setup), annulment(days), HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 409
    [error] = response.json()["errors"]
    assert error["code"] == "refused"
    assert "within 10 days" in error["message"]
    assert stored() == before


def test_a_ground_the_round_does_not_have_is_409() -> None:
    setup = entry_setup()
    held_by_r1(setup)
    before = stored()

    response = post(
        setup.member,
        decisions_url(setup),
        annulment(3, ground="R2"),
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 409
    assert response.json()["errors"][0]["message"].startswith("R2 is not a ground")
    assert stored() == before


@pytest.mark.parametrize("voting_date", ["next week", "2026-13-01", None, 20261208])
def test_a_date_that_is_no_date_is_400(voting_date: Any) -> None:
    setup = entry_setup()
    held_by_r1(setup)
    before = stored()

    response = post(setup.member, decisions_url(setup), annulment(voting_date=voting_date))

    assert response.status_code == 400
    assert [field for _code, field in codes(response)] == ["voting_date"]
    assert stored() == before


# --- What every decision needs -------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "code"), [(None, "required"), ("", "blank"), ("   \n", "blank")]
)
def test_a_decision_without_a_reason_is_400(reason: str | None, code: str) -> None:
    setup = entry_setup()
    held_by_r1(setup)
    body = annulment()
    if reason is None:
        del body["reason"]
    else:
        body["reason"] = reason
    before = stored()

    response = post(setup.member, decisions_url(setup), body, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"code": code, "field": "reason", "message": "Give the reason for the decision."}
    ]
    assert stored() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "approve", "reason": "x"}, "kind"),
        ({"reason": "x"}, "kind"),
        ([1, 2], None),
        ("annul", None),
    ],
)
def test_an_unknown_kind_or_a_body_that_is_no_object_is_400(body: Any, field: Any) -> None:
    setup = entry_setup()
    held_by_r1(setup)
    before = stored()

    response = post(setup.member, decisions_url(setup), body)

    assert response.status_code == 400
    assert [error_field for _code, error_field in codes(response)] == [field]
    assert stored() == before


def test_malformed_json_is_400_in_the_same_shape() -> None:
    setup = entry_setup()
    held_by_r1(setup)

    response = token_client(setup.member).post(
        decisions_url(setup), "{not json", content_type="application/json"
    )

    assert response.status_code == 400
    assert codes(response) == [("parse_error", None)]
    form = token_client(setup.member).post(decisions_url(setup), {"kind": "annul"})
    assert form.status_code == 415
    assert codes(form) == [("unsupported_media_type", None)]


def test_the_api_answers_in_the_language_the_client_asks_for() -> None:
    setup = entry_setup()
    submit(setup, setup.clerk1)
    submit(setup, setup.clerk2)

    for language in ("en", "sr-latn", "sr"):
        response = post(
            setup.member,
            decisions_url(setup),
            {"kind": "reconcile", "keep_entry_number": 1, "reason": "x"},
            HTTP_ACCEPT_LANGUAGE=language,
        )
        with translation.override(language):
            expected = translation.gettext(
                "Station {station} is {status}: this decision is not possible now."
            ).format(station=setup.station.code, status="accepted")
        assert response.status_code == 409
        assert response.json()["errors"][0]["message"] == expected
        assert "Accept-Language" in response["Vary"]
    not_object = post(setup.member, decisions_url(setup), [1], HTTP_ACCEPT_LANGUAGE="sr-latn")
    assert not_object.json()["errors"][0]["message"] == "Telo zahteva mora biti JSON objekat."


# --- Who may decide ----------------------------------------------------------------


def endpoints(setup: EntrySetup) -> list[tuple[str, dict[str, Any]]]:
    return [
        (decisions_url(setup), annulment()),
        (
            objections_url(setup),
            {
                "filed_at": timezone.now().isoformat(),
                "filed_by": "An observer",
                "subject": "result",
                "grounds": "x",
            },
        ),
        (objection_decision_url(setup, 1), {"upheld": False, "reason": "x"}),
        (lots_url(setup), {"lots_drawn": [2, 3], "reason": "x"}),
    ]


def test_a_clerk_gets_403_everywhere_and_nothing_is_stored() -> None:
    setup = entry_setup()
    held_by_r1(setup)
    before = stored()

    for url, body in endpoints(setup):
        response = post(setup.clerk1, url, body)
        assert response.status_code == 403, url
        assert response.json()["detail"]
    assert stored() == before


def test_anonymous_requests_get_401_everywhere() -> None:
    setup = entry_setup()
    held_by_r1(setup)
    before = stored()

    for url, body in endpoints(setup):
        response = APIClient().post(url, body, format="json")
        assert response.status_code == 401, url
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert wrong.post(decisions_url(setup), annulment(), format="json").status_code == 401
    assert stored() == before


def test_a_member_logged_in_with_a_session_decides_once_the_second_factor_is_proved() -> None:
    setup = entry_setup(passwords=True)
    held_by_r1(setup)
    client = APIClient()
    assert client.login(username=setup.member.username, password=PASSWORD)

    refused = client.post(decisions_url(setup), annulment(), format="json")
    assert refused.status_code == 403
    assert "X-OTP" in refused.json()["detail"]
    assert not Decision.objects.exists()

    verified_login(client, setup.member)
    response = client.post(decisions_url(setup), annulment(), format="json")

    assert response.status_code == 201
    assert Decision.objects.get().decided_by == setup.member


def test_a_member_s_token_needs_a_current_authenticator_code_used_once() -> None:
    setup = entry_setup()
    held_by_r1(setup)
    client = SecondFactorAPIClient(setup.member)
    before = stored()

    def annul(code: str) -> Any:
        return client.post(decisions_url(setup), annulment(), format="json", HTTP_X_OTP=code)

    for code in ("", "abcdefgh", "12345"):
        response = annul(code)
        assert response.status_code == 403, code
        assert "X-OTP" in response.json()["detail"]
    assert stored() == before

    code = next_code(client.device)
    assert annul(code).status_code == 201
    # The same code again (a replayed request) is refused, and so is a wrong
    # one; each wrong code makes the device wait longer before the next try.
    assert annul(code).status_code == 403
    wrong = f"{(int(next_code(client.device)) + 1) % 1_000_000:06d}"
    assert annul(wrong).status_code == 403
    assert Decision.objects.count() == 1


def test_an_unknown_election_station_or_objection_is_404() -> None:
    setup = entry_setup()
    held_by_r1(setup)
    before = stored()

    assert post(setup.member, decisions_url(setup, code="NO-SUCH"), annulment()).status_code == 404
    assert post(setup.member, decisions_url(setup, slug="no-such"), annulment()).status_code == 404
    body = {"upheld": True, "reason": "x"}
    assert post(setup.member, objection_decision_url(setup, 999999), body).status_code == 404
    assert (
        post(setup.member, "/api/v1/elections/no-such/lots/", {"lots_drawn": [1], "reason": "x"})
    ).status_code == 404
    assert stored() == before


def test_the_acting_member_is_always_the_requests_user() -> None:
    setup = entry_setup()
    held_by_r1(setup)
    other = UserFactory(username="someone-else")

    response = post(
        setup.member, decisions_url(setup), annulment() | {"decided_by": other.pk, "actor": 1}
    )

    assert response.status_code == 201
    assert Decision.objects.get().decided_by == setup.member
    assert AuditEvent.objects.filter(action="decision.annul_and_order_repeat").count() == 1


# --- Objections ----------------------------------------------------------------------


def objection_body(**overrides: Any) -> dict[str, Any]:
    return {
        "filed_at": timezone.now().isoformat(),
        "filed_by": "Lista 2, by its representative",
        "subject": "station",
        "grounds": "A voter not in the excerpt was allowed to vote.",
    } | overrides


def test_an_objection_is_registered_and_upheld() -> None:
    setup = entry_setup()
    published(setup)

    registered = post(
        setup.member, objections_url(setup), objection_body(station=setup.station.code)
    )

    assert registered.status_code == 201
    data = registered.json()
    objection = Objection.objects.get(pk=data["id"])
    assert data["station"] == setup.station.code
    assert (data["subject"], data["status"], data["decision"]) == ("station", "open", None)
    assert data["registered_by"] == setup.member.username
    assert objection.registered_by == setup.member
    assert AuditEvent.objects.filter(action="objection.register").count() == 1

    decided = post(
        setup.member,
        objection_decision_url(setup, objection.pk),
        {"upheld": True, "reason": "Confirmed by the board."},
    )

    assert decided.status_code == 201
    decision = assert_decision(decided.json(), setup, "objection_decided")
    assert decided.json()["payload"] == {"objection": objection.pk, "outcome": "upheld"}
    assert decided.json()["station"] == setup.station.code
    assert decided.json()["round"] is None
    objection.refresh_from_db()
    assert (objection.status, objection.decided_by) == ("upheld", decision)
    assert AuditEvent.objects.filter(action="decision.objection_decided").count() == 1

    before = stored()
    again = post(
        setup.member,
        objection_decision_url(setup, objection.pk),
        {"upheld": False, "reason": "Again."},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert again.status_code == 409
    assert again.json()["errors"][0]["message"] == "This objection is already decided."
    assert stored() == before


def test_an_objection_against_a_decision_names_it() -> None:
    setup = entry_setup()
    held_by_r1(setup)
    annulled = post(setup.member, decisions_url(setup), annulment()).json()

    response = post(
        setup.member,
        objections_url(setup),
        objection_body(subject="decision", decision=annulled["id"], filed_by="Lista 1"),
    )

    assert response.status_code == 201
    assert response.json()["decision"] == annulled["id"]
    assert Objection.objects.get().decision_id == annulled["id"]


def test_an_objection_after_72_hours_is_409(monkeypatch: pytest.MonkeyPatch) -> None:
    setup = entry_setup()
    four_days_ago = timezone.now() - timedelta(days=4)
    with monkeypatch.context() as clock:
        clock.setattr(timezone, "now", lambda: four_days_ago)
        snapshot = published(setup)
    assert snapshot.created_at == four_days_ago
    before = stored()

    response = post(
        setup.member,
        objections_url(setup),
        objection_body(subject="result"),
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 409
    assert codes(response) == [("refused", None)]
    assert "72 hours" in response.json()["errors"][0]["message"]
    assert stored() == before


def test_an_objection_before_any_result_is_409() -> None:
    setup = entry_setup()
    before = stored()

    response = post(setup.member, objections_url(setup), objection_body(subject="result"))

    assert response.status_code == 409
    assert stored() == before


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({}, ("required", "station")),
        ({"station": "NO-SUCH"}, ("does_not_exist", "station")),
        ({"subject": "decision"}, ("required", "decision")),
        ({"subject": "decision", "decision": 999999}, ("does_not_exist", "decision")),
        ({"subject": "everything"}, ("invalid_choice", "subject")),
        ({"filed_by": "  "}, ("blank", "filed_by")),
        ({"filed_at": "yesterday"}, ("invalid", "filed_at")),
    ],
)
def test_an_incomplete_objection_is_400(overrides: dict[str, Any], error: tuple[str, str]) -> None:
    setup = entry_setup()
    published(setup)
    before = stored()

    response = post(setup.member, objections_url(setup), objection_body(**overrides))

    assert response.status_code == 400
    assert codes(response) == [error]
    assert stored() == before


def test_a_station_of_another_election_is_not_found_in_the_objection() -> None:
    setup = entry_setup()
    other = entry_setup()
    published(setup)
    before = stored()

    response = post(setup.member, objections_url(setup), objection_body(station=other.station.code))

    assert response.status_code == 400
    assert codes(response) == [("does_not_exist", "station")]
    assert stored() == before


@pytest.mark.parametrize("upheld", [None, "yes", 1])
def test_an_objection_decision_needs_a_true_or_false(upheld: Any) -> None:
    setup = entry_setup()
    published(setup)
    objection = post(setup.member, objections_url(setup), objection_body(subject="result")).json()
    body: dict[str, Any] = {"reason": "x"}
    if upheld is not None:
        body["upheld"] = upheld
    before = stored()

    response = post(setup.member, objection_decision_url(setup, objection["id"]), body)

    assert response.status_code == 400
    assert [field for _code, field in codes(response)] == ["upheld"]
    assert stored() == before


# --- The drawing of lots ----------------------------------------------------------------


def test_a_drawing_of_lots_is_recorded() -> None:
    setup = tied()

    response = post(
        setup.member, lots_url(setup), {"lots_drawn": [3, 2], "reason": "Drawn in session."}
    )

    assert response.status_code == 201
    data = response.json()
    assert_decision(data, setup, "drawing_of_lots")
    assert (data["station"], data["round"]) == (None, None)
    assert data["payload"] == {"lots_required": [2, 3], "lots_drawn": [3, 2]}
    assert AuditEvent.objects.filter(action="decision.drawing_of_lots").count() == 1
    after = election_tabulate(election_id=setup.election.pk)
    assert after is not None
    assert after.payload["lots_required"] == []


@pytest.mark.parametrize("drawn", [[2], [2, 2], [2, 3, 1]])
def test_a_drawing_that_does_not_name_every_tied_list_once_is_409(drawn: list[int]) -> None:
    setup = tied()
    before = stored()

    response = post(
        setup.member,
        lots_url(setup),
        {"lots_drawn": drawn, "reason": "x"},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 409
    assert "once each" in response.json()["errors"][0]["message"]
    assert stored() == before


@pytest.mark.parametrize(
    ("drawn", "field"),
    [
        ([], "lots_drawn"),
        ("3, 2", "lots_drawn"),
        ([3, "two"], "lots_drawn[1]"),
        ([0], "lots_drawn[0]"),
    ],
)
def test_a_drawing_that_is_no_list_of_ballot_numbers_is_400(drawn: Any, field: str) -> None:
    setup = tied()
    before = stored()

    response = post(setup.member, lots_url(setup), {"lots_drawn": drawn, "reason": "x"})

    assert response.status_code == 400
    assert [error_field for _code, error_field in codes(response)] == [field]
    assert stored() == before


# --- The schema ------------------------------------------------------------------------


def test_openapi_schema_documents_every_answer_of_the_decisions_api(tmp_path: Any) -> None:
    path = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))

    schema = yaml.safe_load(path.read_text())
    common = {"201", "400", "401", "403", "404", "409", "415", "429"}
    answers = {
        "/api/v1/elections/{slug}/stations/{code}/decisions/": common | {"422"},
        "/api/v1/elections/{slug}/objections/": common,
        "/api/v1/elections/{slug}/objections/{objection_id}/decision/": common,
        "/api/v1/elections/{slug}/lots/": common,
    }
    for url, statuses in answers.items():
        assert set(schema["paths"][url]["post"]["responses"]) == statuses, url
    request = schema["components"]["schemas"]["StationDecisionRequest"]
    assert set(request["discriminator"]["mapping"]) == {
        "reconcile",
        "correct",
        "acknowledge",
        "annul",
    }
    assert set(schema["components"]["schemas"]["Decision"]["required"]) == {
        "id",
        "kind",
        "station",
        "round",
        "reason",
        "payload",
        "decided_at",
        "decided_by",
    }


# --- Arbitrary input never breaks the API -------------------------------------------

JSON_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=10),
    st.sampled_from(["12\x00", "Београд", "🗳️", "١٢", "R1", "2026-12-05"]),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.sampled_from(["1", "2", "x", "ballots_valid"]), st.integers(), max_size=2),
)
FIELDS = (
    "reason",
    "keep_entry_number",
    "return_for_entry",
    "values",
    "votes",
    "finding",
    "ground",
    "voting_date",
    "round_version",
    "extra",
)


class DecisionFuzzTests(HypothesisTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.setup = entry_setup()
        held_by_s1(cls.setup)

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        kind=st.one_of(
            st.sampled_from(["reconcile", "correct", "acknowledge", "annul"]), JSON_VALUES
        ),
        fields=st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES, max_size=5),
    )
    def test_arbitrary_bodies_never_fail_and_a_refusal_stores_nothing(
        self, kind: Any, fields: dict[str, Any]
    ) -> None:
        before = stored()

        response = post(self.setup.member, decisions_url(self.setup), {"kind": kind, **fields})

        assert response.status_code in (201, 400, 409, 422)
        if response.status_code >= 400:
            assert stored() == before
            assert response.json()["errors"]
