"""The commission's decisions: their effect on the round, on the next
snapshot and in the audit trail, and every refusal (RULES.md sections 2, 4, 5)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from unittest import mock

import pytest
from django.utils import timezone

from tabulation.models import (
    AcceptedRecord,
    AuditEvent,
    Decision,
    Election,
    Finding,
    Objection,
    RecordEntry,
    ResultSnapshot,
    StationRound,
    TabulationState,
)
from tabulation.services.decisions import (
    DecisionRefused,
    OwnEntry,
    entries_reconcile,
    finding_acknowledge,
    lots_draw,
    objection_decide,
    objection_register,
    record_correct,
    station_annul,
)
from tabulation.services.records import InputRefused, NotPermitted, RoundChanged, record_submit
from tabulation.services.tabulation import election_tabulate
from tests.factories import UserFactory, record_values
from tests.views.entry_setup import VOTES, entry_setup, submit

pytestmark = pytest.mark.django_db

TODAY = date(2026, 12, 1)


def decision_rows() -> tuple[int, int, int, int]:
    """What a decision writes: a refused one must leave all four as they were."""
    return (
        Decision.objects.count(),
        AuditEvent.objects.count(),
        AcceptedRecord.objects.count(),
        StationRound.objects.count(),
    )


def held_by_r1(setup):  # type: ignore[no-untyped-def]
    """Two equal entries whose box holds more ballots than voters turned out (R1)."""
    submit(setup, setup.clerk1, turned_out=590)
    submit(setup, setup.clerk2, turned_out=590)
    setup.round.refresh_from_db()
    assert setup.round.status == StationRound.Status.HELD


def held_by_s1(setup):  # type: ignore[no-untyped-def]
    """The votes add up to 589 while valid ballots are 588 (S1)."""
    votes = {1: 301, 2: 200, 3: 88}
    submit(setup, setup.clerk1, votes=votes)
    submit(setup, setup.clerk2, votes=votes)
    setup.round.refresh_from_db()
    assert setup.round.status == StationRound.Status.HELD
    return votes


def counted_votes(election: Election) -> dict[str, int]:
    snapshot = ResultSnapshot.objects.filter(election=election).order_by("-version").first()
    assert snapshot is not None
    return {str(item["ballot_number"]): item["votes"] for item in snapshot.payload["lists"]}


# --- Reconciliation (W6) ------------------------------------------------------------


def test_staff_keep_one_entry_and_the_record_is_accepted() -> None:
    setup = entry_setup()
    submit(setup, setup.clerk1)
    second = submit(setup, setup.clerk2, votes={1: 301, 2: 200, 3: 87})

    decision = entries_reconcile(
        actor=setup.member,
        round=setup.round,
        keep_entry=second.entry,
        reason="The paper record says 301 and 87.",
    )

    setup.round.refresh_from_db()
    assert setup.round.status == StationRound.Status.ACCEPTED
    accepted = AcceptedRecord.objects.get(round=setup.round)
    assert accepted.source == "reconciliation"
    assert accepted.first_entry == second.entry
    assert accepted.votes.get(electoral_list__ballot_number=1).votes == 301
    w6 = Finding.objects.get(code="W6")
    assert (w6.status, w6.resolved_by) == ("resolved", decision)
    assert RecordEntry.objects.get(entry_number=1).superseded_by == second.entry
    assert decision.kind == "reconcile"
    assert decision.payload["kept_entry_number"] == 2
    event = AuditEvent.objects.get(action="decision.reconcile")
    assert event.reason == "The paper record says 301 and 87."
    assert event.after["status"] == "accepted"
    election_tabulate(election_id=setup.election.pk)
    assert counted_votes(setup.election) == {"1": 301, "2": 200, "3": 87}


def test_staff_return_the_station_for_entry_again() -> None:
    setup = entry_setup()
    submit(setup, setup.clerk1)
    submit(setup, setup.clerk2, votes={1: 301, 2: 200, 3: 87})

    entries_reconcile(
        actor=setup.member, round=setup.round, return_for_entry=True, reason="Both wrong."
    )

    setup.round.refresh_from_db()
    assert setup.round.status == StationRound.Status.AWAITING
    assert not RecordEntry.objects.filter(round=setup.round, superseded_at__isnull=True).exists()
    submit(setup, setup.clerk2)
    submit(setup, setup.clerk1)
    setup.round.refresh_from_db()
    assert setup.round.status == StationRound.Status.ACCEPTED


def test_a_clerk_may_not_reconcile() -> None:
    setup = entry_setup()
    submit(setup, setup.clerk1)
    second = submit(setup, setup.clerk2, votes={1: 301, 2: 200, 3: 87})
    before = decision_rows()

    with pytest.raises(NotPermitted):
        entries_reconcile(
            actor=setup.clerk1, round=setup.round, keep_entry=second.entry, reason="mine"
        )
    assert decision_rows() == before


def test_reconciling_a_station_whose_entries_agree_is_refused() -> None:
    setup = entry_setup()
    first = submit(setup, setup.clerk1)
    submit(setup, setup.clerk2)
    before = decision_rows()

    with pytest.raises(DecisionRefused, match="not possible now"):
        entries_reconcile(
            actor=setup.member, round=setup.round, keep_entry=first.entry, reason="Why not."
        )
    assert decision_rows() == before


# --- Four eyes and reasons --------------------------------------------------------------


def test_a_member_who_typed_an_entry_may_not_decide_on_that_station() -> None:
    setup = entry_setup()
    # The member is also a clerk of this station, and typed its first entry.
    setup.member.groups.add(*setup.clerk1.groups.all())
    from tabulation.services.roles import clerk_assign

    clerk_assign(actor=None, user=setup.member, election=setup.election, station=setup.station)
    submit(setup, setup.member)
    second = submit(setup, setup.clerk2, votes={1: 301, 2: 200, 3: 87})
    before = decision_rows()

    with pytest.raises(OwnEntry, match="four eyes"):
        entries_reconcile(
            actor=setup.member, round=setup.round, keep_entry=second.entry, reason="Mine is right."
        )
    assert decision_rows() == before


@pytest.mark.parametrize("reason", ["", "   ", "\n"])
def test_a_decision_without_a_reason_is_refused(reason: str) -> None:
    setup = entry_setup()
    held_by_r1(setup)
    before = decision_rows()

    with pytest.raises(DecisionRefused, match="reason"):
        station_annul(
            actor=setup.member,
            station=setup.station,
            ground="R1",
            voting_date=TODAY + timedelta(days=7),
            reason=reason,
            today=TODAY,
        )
    assert decision_rows() == before


# --- Correction (Art. 109, 110) ----------------------------------------------------------


def test_a_correction_after_inspection_clears_s1_and_the_station_counts() -> None:
    setup = entry_setup()
    held_by_s1(setup)
    election_tabulate(election_id=setup.election.pk)
    assert counted_votes(setup.election) == {"1": 0, "2": 0, "3": 0}

    decision = record_correct(
        actor=setup.member,
        round=setup.round,
        values=record_values(control_sheet_ok="yes"),
        votes=list({1: 300, 2: 200, 3: 88}.items()),
        reason="The ballots of list 1 were recounted: 300.",
    )

    setup.round.refresh_from_db()
    assert setup.round.status == StationRound.Status.ACCEPTED
    live = AcceptedRecord.objects.get(round=setup.round, superseded_at__isnull=True)
    assert (live.source, live.decision) == ("decision", decision)
    old = AcceptedRecord.objects.get(round=setup.round, superseded_at__isnull=False)
    assert old.superseded_by == live
    assert old.votes.get(electoral_list__ballot_number=1).votes == 301  # nothing overwritten
    s1 = Finding.objects.get(round=setup.round, code="S1")
    assert (s1.status, s1.resolved_by) == ("resolved", decision)
    event = AuditEvent.objects.get(action="decision.correct")
    assert event.after["resolved"] == ["S1"]
    assert event.after["before"]["votes"]["1"] == 301
    assert event.after["after"]["votes"]["1"] == 300
    election_tabulate(election_id=setup.election.pk)
    assert counted_votes(setup.election) == {"1": 300, "2": 200, "3": 88}


def test_a_correction_that_still_does_not_add_up_keeps_the_station_held() -> None:
    setup = entry_setup()
    held_by_s1(setup)

    record_correct(
        actor=setup.member,
        round=setup.round,
        values=record_values(control_sheet_ok="yes"),
        votes=list({1: 302, 2: 200, 3: 88}.items()),
        reason="Recounted; still one too many.",
    )

    setup.round.refresh_from_db()
    assert setup.round.status == StationRound.Status.HELD
    assert Finding.objects.get(round=setup.round, code="S1", status="open").expected == 588


def test_a_correction_with_input_errors_stores_nothing() -> None:
    setup = entry_setup()
    held_by_s1(setup)
    before = decision_rows()

    with pytest.raises(InputRefused) as refused:
        record_correct(
            actor=setup.member,
            round=setup.round,
            values=record_values(ballots_invalid="twelve", control_sheet_ok="yes"),
            votes=list(VOTES.items()),
            reason="Typed badly.",
        )
    assert [finding.code for finding in refused.value.findings] == ["E1"]
    assert decision_rows() == before


def test_a_station_still_being_entered_cannot_be_corrected() -> None:
    setup = entry_setup()
    submit(setup, setup.clerk1)
    before = decision_rows()

    with pytest.raises(DecisionRefused, match="not possible now"):
        record_correct(
            actor=setup.member,
            round=setup.round,
            values=record_values(control_sheet_ok="yes"),
            votes=list(VOTES.items()),
            reason="Too early.",
        )
    assert decision_rows() == before


# --- Acknowledging a warning ----------------------------------------------------------------


def test_acknowledging_a_warning_dismisses_it_and_keeps_the_station_counted() -> None:
    setup = entry_setup()
    # 20 invalid ballots of 600 in the box: W2 (at or above 3 %).
    votes = {1: 300, 2: 200, 3: 80}
    submit(setup, setup.clerk1, votes=votes, ballots_invalid=20, ballots_valid=580)
    submit(setup, setup.clerk2, votes=votes, ballots_invalid=20, ballots_valid=580)
    w2 = Finding.objects.get(round=setup.round, code="W2", status="open")

    decision = finding_acknowledge(
        actor=setup.member, finding=w2, reason="The board explained the invalid ballots."
    )

    w2.refresh_from_db()
    setup.round.refresh_from_db()
    assert (w2.status, w2.resolved_by) == ("dismissed", decision)
    assert setup.round.status == StationRound.Status.ACCEPTED
    assert decision.payload == {"finding": w2.pk, "code": "W2"}
    assert AuditEvent.objects.filter(action="decision.dismiss_warning").count() == 1


def test_an_annulment_ground_cannot_be_acknowledged_away() -> None:
    setup = entry_setup()
    held_by_r1(setup)
    r1 = Finding.objects.get(round=setup.round, code="R1")
    before = decision_rows()

    with pytest.raises(DecisionRefused, match="cannot be acknowledged"):
        finding_acknowledge(actor=setup.member, finding=r1, reason="Looks fine to me.")
    assert decision_rows() == before
    assert Finding.objects.get(pk=r1.pk).status == "open"


# --- Annulment and the repeat vote ------------------------------------------------------------


def test_annulling_opens_round_two_and_round_one_is_never_counted() -> None:
    setup = entry_setup()
    held_by_r1(setup)

    decision = station_annul(
        actor=setup.member,
        station=setup.station,
        ground="R1",
        voting_date=TODAY + timedelta(days=7),
        reason="More ballots in the box than voters: Art. 116.",
        today=TODAY,
    )

    setup.round.refresh_from_db()
    assert setup.round.status == StationRound.Status.ANNULLED
    repeat = StationRound.objects.get(station=setup.station, number=2)
    assert (repeat.status, repeat.ordered_by, repeat.voting_date) == (
        "awaiting",
        decision,
        TODAY + timedelta(days=7),
    )
    assert decision.payload["held_by"] == "2026-12-11"
    assert Finding.objects.get(round=setup.round, code="R1").status == "resolved"
    event = AuditEvent.objects.get(action="decision.annul_and_order_repeat")
    assert event.after["repeat_round"] == 2

    # The repeat vote's record is entered like any other, into round 2.
    submit(setup, setup.clerk1, votes={1: 250, 2: 250, 3: 88})
    submit(setup, setup.clerk2, votes={1: 250, 2: 250, 3: 88})
    repeat.refresh_from_db()
    assert repeat.status == StationRound.Status.ACCEPTED
    election_tabulate(election_id=setup.election.pk)
    assert counted_votes(setup.election) == {"1": 250, "2": 250, "3": 88}
    assert RecordEntry.objects.filter(round=setup.round).count() == 2  # round 1 kept


@pytest.mark.parametrize("days", [0, -1, 11, 30])
def test_a_repeat_vote_outside_ten_days_of_the_order_is_refused(days: int) -> None:
    setup = entry_setup()
    held_by_r1(setup)
    before = decision_rows()

    with pytest.raises(DecisionRefused, match="within 10 days"):
        station_annul(
            actor=setup.member,
            station=setup.station,
            ground="R1",
            voting_date=TODAY + timedelta(days=days),
            reason="Art. 116.",
            today=TODAY,
        )
    assert decision_rows() == before


def test_a_ground_the_round_does_not_have_is_refused() -> None:
    setup = entry_setup()
    held_by_r1(setup)
    before = decision_rows()

    with pytest.raises(DecisionRefused, match="R2 is not a ground"):
        station_annul(
            actor=setup.member,
            station=setup.station,
            ground="R2",
            voting_date=TODAY + timedelta(days=3),
            reason="The control sheet.",
            today=TODAY,
        )
    assert decision_rows() == before


def test_a_record_never_received_is_annulled_on_u2_with_the_ground_recorded() -> None:
    setup = entry_setup()

    decision = station_annul(
        actor=setup.member,
        station=setup.station,
        ground="U2",
        voting_date=TODAY + timedelta(days=1),
        reason="The board never delivered the record.",
        today=TODAY,
    )

    u2 = Finding.objects.get(round=setup.round, code="U2")
    assert (u2.status, u2.resolved_by) == ("resolved", decision)
    assert StationRound.objects.get(station=setup.station, number=2).status == "awaiting"


def test_u4_is_a_ground_only_after_an_s_finding_called_for_inspection() -> None:
    setup = entry_setup()
    held_by_r1(setup)
    with pytest.raises(DecisionRefused, match="U4 is not a ground"):
        station_annul(
            actor=setup.member,
            station=setup.station,
            ground="U4",
            voting_date=TODAY + timedelta(days=2),
            reason="Gross errors.",
            today=TODAY,
        )

    other = entry_setup()
    held_by_s1(other)
    decision = station_annul(
        actor=other.member,
        station=other.station,
        ground="U4",
        voting_date=TODAY + timedelta(days=2),
        reason="The material cannot explain the votes.",
        today=TODAY,
    )
    assert Finding.objects.get(round=other.round, code="U4").resolved_by == decision


def test_an_annulled_round_cannot_be_annulled_twice_from_a_stale_page() -> None:
    setup = entry_setup()
    held_by_r1(setup)
    from tabulation.selectors.stations import round_version

    version = round_version(setup.round)
    station_annul(
        actor=setup.member,
        station=setup.station,
        ground="R1",
        voting_date=TODAY + timedelta(days=7),
        reason="Art. 116.",
        today=TODAY,
        round_version_seen=version,
    )
    before = decision_rows()
    with pytest.raises(RoundChanged, match="reload the page"):
        station_annul(
            actor=setup.member,
            station=setup.station,
            ground="R1",
            voting_date=TODAY + timedelta(days=7),
            reason="Again.",
            today=TODAY,
            round_version_seen=version,
        )
    assert decision_rows() == before


# --- Decisions stop once the results are certified ---------------------------------------------


def test_no_decision_is_taken_on_a_certified_election() -> None:
    setup = entry_setup()
    held_by_r1(setup)
    Election.objects.filter(pk=setup.election.pk).update(status=Election.Status.CERTIFIED)
    before = decision_rows()

    with pytest.raises(DecisionRefused, match="certified"):
        station_annul(
            actor=setup.member,
            station=setup.station,
            ground="R1",
            voting_date=TODAY + timedelta(days=7),
            reason="Art. 116.",
            today=TODAY,
        )
    assert decision_rows() == before


# --- A drawing of lots ------------------------------------------------------------


def tied_election():  # type: ignore[no-untyped-def]
    """Two lists with equal votes competing for the last seat of an odd number."""
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
    assert snapshot is not None
    return setup, snapshot


def test_a_drawing_of_lots_settles_the_tie_in_the_next_snapshot() -> None:
    setup, snapshot = tied_election()
    assert snapshot.payload["lots_required"] == [2, 3]

    decision = lots_draw(
        actor=setup.member, election=setup.election, lots_drawn=[3, 2], reason="Drawn in session."
    )

    assert decision.payload == {"lots_required": [2, 3], "lots_drawn": [3, 2]}
    after = election_tabulate(election_id=setup.election.pk)
    assert after is not None
    seats = {item["ballot_number"]: item["seats"] for item in after.payload["lists"]}
    assert after.payload["lots_required"] == []
    assert seats[3] == 1 and seats[2] == 0


@pytest.mark.parametrize("drawn", [[2], [2, 2], [2, 3, 1], [4, 2]])
def test_a_drawing_that_does_not_name_every_tied_list_once_is_refused(drawn: list[int]) -> None:
    setup, _snapshot = tied_election()
    before = decision_rows()

    with pytest.raises(DecisionRefused, match="once each"):
        lots_draw(actor=setup.member, election=setup.election, lots_drawn=drawn, reason="x")
    assert decision_rows() == before


def test_no_drawing_when_nothing_is_tied() -> None:
    setup = entry_setup()
    submit(setup, setup.clerk1)
    submit(setup, setup.clerk2)
    election_tabulate(election_id=setup.election.pk)

    with pytest.raises(DecisionRefused, match="needs no drawing"):
        lots_draw(actor=setup.member, election=setup.election, lots_drawn=[1], reason="x")


# --- Objections ---------------------------------------------------------------------


def published(setup):  # type: ignore[no-untyped-def]
    submit(setup, setup.clerk1)
    submit(setup, setup.clerk2)
    snapshot = election_tabulate(election_id=setup.election.pk)
    assert snapshot is not None
    return snapshot


def test_an_objection_is_registered_and_upheld() -> None:
    setup = entry_setup()
    snapshot = published(setup)
    filed_at = snapshot.created_at + timedelta(hours=5)

    objection = objection_register(
        actor=setup.member,
        election=setup.election,
        filed_at=filed_at,
        filed_by="Lista 2, by its representative",
        subject=Objection.Subject.STATION,
        station=setup.station,
        grounds="A voter not in the excerpt was allowed to vote.",
        now=filed_at + timedelta(minutes=10),
    )
    decision = objection_decide(
        actor=setup.member, objection=objection, upheld=True, reason="Confirmed by the board."
    )

    objection.refresh_from_db()
    assert (objection.status, objection.decided_by) == ("upheld", decision)
    assert decision.payload == {"objection": objection.pk, "outcome": "upheld"}
    assert AuditEvent.objects.filter(action="objection.register").count() == 1
    assert AuditEvent.objects.filter(action="decision.objection_decided").count() == 1
    with pytest.raises(DecisionRefused, match="already decided"):
        objection_decide(actor=setup.member, objection=objection, upheld=False, reason="again")


def test_an_objection_after_72_hours_is_refused() -> None:
    setup = entry_setup()
    snapshot = published(setup)
    late = snapshot.created_at + timedelta(hours=72, minutes=1)
    before = Objection.objects.count(), AuditEvent.objects.count()

    with pytest.raises(DecisionRefused, match="72 hours"):
        objection_register(
            actor=setup.member,
            election=setup.election,
            filed_at=late,
            filed_by="An observer",
            subject=Objection.Subject.RESULT,
            grounds="Too late.",
            now=late,
        )
    assert (Objection.objects.count(), AuditEvent.objects.count()) == before


def test_an_objection_before_any_result_is_refused() -> None:
    setup = entry_setup()
    with pytest.raises(DecisionRefused, match="nothing to object to"):
        objection_register(
            actor=setup.member,
            election=setup.election,
            filed_at=timezone.now(),
            filed_by="An observer",
            subject=Objection.Subject.RESULT,
            grounds="Early.",
        )


def test_an_objection_against_a_decision_runs_from_that_decision() -> None:
    setup = entry_setup()
    held_by_r1(setup)
    election_tabulate(election_id=setup.election.pk)
    annulment = station_annul(
        actor=setup.member,
        station=setup.station,
        ground="R1",
        voting_date=TODAY + timedelta(days=7),
        reason="Art. 116.",
        today=TODAY,
    )
    filed_at = annulment.decided_at + timedelta(hours=71)

    objection = objection_register(
        actor=setup.member,
        election=setup.election,
        filed_at=filed_at,
        filed_by="Lista 1",
        subject=Objection.Subject.DECISION,
        decision=annulment,
        grounds="The count was right.",
        now=filed_at,
    )
    assert objection.decision == annulment


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("filed_by", "  ", "who filed"),
        ("grounds", "", "grounds"),
        ("subject", "everything", "against"),
    ],
)
def test_an_incomplete_objection_is_refused(field: str, value: str, message: str) -> None:
    setup = entry_setup()
    snapshot = published(setup)
    arguments = {
        "filed_by": "An observer",
        "grounds": "Something.",
        "subject": Objection.Subject.RESULT,
        field: value,
    }
    with pytest.raises(DecisionRefused, match=message):
        objection_register(
            actor=setup.member,
            election=setup.election,
            filed_at=snapshot.created_at + timedelta(hours=1),
            now=snapshot.created_at + timedelta(hours=1),
            **arguments,
        )
    assert Objection.objects.count() == 0


def test_a_clerk_can_register_no_objection() -> None:
    setup = entry_setup()
    snapshot = published(setup)
    outsider = UserFactory()
    for actor in (setup.clerk1, outsider):
        with pytest.raises(NotPermitted):
            objection_register(
                actor=actor,
                election=setup.election,
                filed_at=snapshot.created_at,
                filed_by="me",
                subject=Objection.Subject.RESULT,
                grounds="x",
            )


# --- Every decision asks for the next result ------------------------------------------


def _returned(setup):  # type: ignore[no-untyped-def]
    submit(setup, setup.clerk1)
    submit(setup, setup.clerk2, votes={1: 301, 2: 200, 3: 87})
    return lambda: entries_reconcile(
        actor=setup.member, round=setup.round, return_for_entry=True, reason="Both wrong."
    )


def _acknowledged(setup):  # type: ignore[no-untyped-def]
    votes = {1: 300, 2: 200, 3: 80}
    submit(setup, setup.clerk1, votes=votes, ballots_invalid=20, ballots_valid=580)
    submit(setup, setup.clerk2, votes=votes, ballots_invalid=20, ballots_valid=580)
    w2 = Finding.objects.get(round=setup.round, code="W2", status="open")
    return lambda: finding_acknowledge(actor=setup.member, finding=w2, reason="Explained.")


def _objection_decided(setup):  # type: ignore[no-untyped-def]
    snapshot = published(setup)
    filed_at = snapshot.created_at + timedelta(hours=1)
    objection = objection_register(
        actor=setup.member,
        election=setup.election,
        filed_at=filed_at,
        filed_by="Lista 2",
        subject=Objection.Subject.STATION,
        station=setup.station,
        grounds="A voter not in the excerpt was allowed to vote.",
        now=filed_at + timedelta(minutes=1),
    )
    return lambda: objection_decide(
        actor=setup.member, objection=objection, upheld=False, reason="Not proven."
    )


@pytest.mark.parametrize("prepared", [_returned, _acknowledged, _objection_decided])
def test_every_decision_asks_for_a_tabulation(prepared, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    """A decision changes what the result reads (a station's status, its open
    findings, the objections): the certification page calls the result
    behind until a run includes it, so the decision must ask for that run
    rather than leave it to the sweep (which does not look at decisions)."""
    setup = entry_setup()
    decide = prepared(setup)
    with mock.patch(
        "tabulation.services.tabulation.tabulation_enqueue", return_value=True
    ) as enqueue:
        TabulationState.objects.filter(pk=setup.election.pk).update(pending=False)
        with django_capture_on_commit_callbacks(execute=True):
            decide()

    enqueue.assert_called_once_with(setup.election.pk)
