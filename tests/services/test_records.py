import uuid
from unittest import mock

import pytest

from tabulation.models import (
    AcceptedRecord,
    AuditEvent,
    Finding,
    RecordEntry,
    StationRound,
)
from tabulation.selectors.stations import round_version
from tabulation.services.records import (
    InputRefused,
    KeyReused,
    RoundChanged,
    RoundClosed,
    SameClerk,
    StationNotAllowed,
    entry_withdraw,
    record_submit,
)
from tabulation.services.tabulation import election_tabulate
from tests.factories import record_values
from tests.views.entry_setup import VOTES, entry_setup, stored_counts, submit

pytestmark = pytest.mark.django_db


def test_first_entry_is_stored_with_its_votes_and_audit_event_and_waits() -> None:
    setup = entry_setup()

    result = submit(setup, setup.clerk1)

    setup.round.refresh_from_db()
    assert result.created
    assert setup.round.status == StationRound.Status.FIRST_ENTRY
    assert result.entry.entry_number == 1
    assert dict(result.entry.votes.values_list("electoral_list__ballot_number", "votes")) == VOTES
    assert result.findings == ()
    event = AuditEvent.objects.get(action="record.submit")
    assert event.actor == setup.clerk1
    assert event.station_code == setup.station.code
    assert event.after["status"] == "first_entry"
    assert event.after["votes"] == {"1": 300, "2": 200, "3": 88}


def test_equal_entries_by_two_clerks_make_the_accepted_record() -> None:
    setup = entry_setup()
    first = submit(setup, setup.clerk1)

    second = submit(setup, setup.clerk2)

    setup.round.refresh_from_db()
    assert setup.round.status == StationRound.Status.ACCEPTED
    accepted = AcceptedRecord.objects.get(round=setup.round)
    assert accepted.source == AcceptedRecord.Source.DOUBLE_ENTRY
    assert (accepted.first_entry, accepted.second_entry) == (first.entry, second.entry)
    assert accepted.ballots_valid == 588
    assert dict(accepted.votes.values_list("electoral_list__ballot_number", "votes")) == VOTES


def test_different_entries_open_a_reconciliation_with_w6() -> None:
    setup = entry_setup()
    submit(setup, setup.clerk1)

    second = submit(setup, setup.clerk2, votes={1: 301, 2: 200, 3: 87})

    setup.round.refresh_from_db()
    assert setup.round.status == StationRound.Status.ENTRIES_DIFFER
    assert not AcceptedRecord.objects.filter(round=setup.round).exists()
    w6 = Finding.objects.get(round=setup.round, code="W6", status="open")
    assert w6.entry == second.entry
    assert w6.fields == ["votes[1]", "votes[3]"]
    assert "W6" in [finding.code for finding in second.findings]


def test_second_entry_by_the_same_clerk_is_refused() -> None:
    setup = entry_setup()
    submit(setup, setup.clerk1)
    before = stored_counts()

    with pytest.raises(SameClerk):
        submit(setup, setup.clerk1)

    assert stored_counts() == before
    setup.round.refresh_from_db()
    assert setup.round.status == StationRound.Status.FIRST_ENTRY


def test_the_same_idempotency_key_twice_stores_one_entry() -> None:
    setup = entry_setup()
    key = uuid.uuid4().hex
    first = submit(setup, setup.clerk1, key=key)
    before = stored_counts()

    again = submit(setup, setup.clerk1, key=key)

    assert not again.created
    assert again.entry == first.entry
    assert stored_counts() == before


def test_a_key_used_by_another_clerk_is_refused() -> None:
    setup = entry_setup()
    key = uuid.uuid4().hex
    submit(setup, setup.clerk1, key=key)

    with pytest.raises(KeyReused):
        submit(setup, setup.clerk2, key=key)


def test_a_stale_round_version_is_refused_and_nothing_is_stored() -> None:
    setup = entry_setup()
    seen = round_version(setup.round)
    submit(setup, setup.clerk2)  # someone else enters meanwhile
    before = stored_counts()

    with pytest.raises(RoundChanged):
        record_submit(
            actor=setup.clerk1,
            station=setup.station,
            values=record_values(),
            votes=list(VOTES.items()),
            idempotency_key=uuid.uuid4().hex,
            round_version_seen=seen,
        )

    assert stored_counts() == before


def test_input_errors_come_back_field_by_field_and_nothing_is_stored() -> None:
    setup = entry_setup()
    before = stored_counts()

    with pytest.raises(InputRefused) as refused:
        record_submit(
            actor=setup.clerk1,
            station=setup.station,
            values=record_values(ballots_invalid="-4", ballots_unused="12a", registered=10**12),
            votes=[(1, "300"), (2, ""), (9, 5)],
            idempotency_key=uuid.uuid4().hex,
        )

    found = {(finding.code, finding.fields[0]) for finding in refused.value.findings}
    assert found == {
        ("E1", "registered"),
        ("E1", "ballots_unused"),
        ("E1", "ballots_invalid"),
        ("E1", "votes[2]"),
        ("E1", "votes[3]"),
        ("E2", "votes[9]"),
    }
    assert stored_counts() == before


def test_law_findings_are_stored_with_the_entry_and_hold_the_accepted_record() -> None:
    setup = entry_setup()
    # 600 ballots in the box, but only 590 voters turned out: R1 (Art. 116).
    first = submit(setup, setup.clerk1, turned_out=590)

    assert [finding.code for finding in first.findings] == ["R1"]
    stored = Finding.objects.get(round=setup.round, code="R1")
    assert stored.entry == first.entry
    assert (stored.expected, stored.actual, stored.category) == (590, 600, "R")

    submit(setup, setup.clerk2, turned_out=590)

    setup.round.refresh_from_db()
    assert setup.round.status == StationRound.Status.HELD
    assert AcceptedRecord.objects.filter(round=setup.round).exists()
    assert Finding.objects.filter(round=setup.round, code="R1", status="open").count() == 1


def test_minor_errors_and_warnings_do_not_hold_the_record() -> None:
    setup = entry_setup()
    # The record says 990 registered, the register 1,000: C1 (Art. 109).
    submit(setup, setup.clerk1, registered=990)
    submit(setup, setup.clerk2, registered=990)

    setup.round.refresh_from_db()
    assert setup.round.status == StationRound.Status.ACCEPTED
    assert Finding.objects.filter(round=setup.round, code="C1", status="open").exists()


def test_a_single_entry_election_accepts_one_entry() -> None:
    setup = entry_setup(entry_mode="single")

    submit(setup, setup.clerk1)

    setup.round.refresh_from_db()
    assert setup.round.status == StationRound.Status.ACCEPTED
    assert AcceptedRecord.objects.get(round=setup.round).source == "single_entry"


def test_a_station_outside_the_assignment_is_e3_and_nothing_is_stored() -> None:
    setup = entry_setup()
    before = stored_counts()

    with pytest.raises(StationNotAllowed):
        submit(setup, setup.clerk1, station=setup.outsider_station)
    with pytest.raises(StationNotAllowed):
        submit(setup, setup.member)

    assert stored_counts() == before


def test_withdrawn_entry_stays_superseded_and_the_station_awaits_again() -> None:
    setup = entry_setup()
    first = submit(setup, setup.clerk1, turned_out=590)

    entry_withdraw(actor=setup.clerk1, entry=first.entry)

    first.entry.refresh_from_db()
    setup.round.refresh_from_db()
    assert first.entry.superseded_at is not None
    assert setup.round.status == StationRound.Status.AWAITING
    assert Finding.objects.get(code="R1").status == "dismissed"
    assert AuditEvent.objects.filter(action="record.withdraw").count() == 1

    redo = submit(setup, setup.clerk1)
    assert redo.entry.entry_number == 1
    assert RecordEntry.objects.filter(round=setup.round).count() == 2


def test_correcting_an_entry_supersedes_it_and_can_settle_a_difference() -> None:
    setup = entry_setup()
    typo = submit(setup, setup.clerk1, votes={1: 310, 2: 200, 3: 88})
    submit(setup, setup.clerk2)

    corrected = record_submit(
        actor=setup.clerk1,
        station=setup.station,
        values=record_values(),
        votes=list(VOTES.items()),
        idempotency_key=uuid.uuid4().hex,
        correct_own=True,
    )

    typo.entry.refresh_from_db()
    setup.round.refresh_from_db()
    assert typo.entry.superseded_by == corrected.entry
    assert corrected.entry.entry_number == 1
    assert setup.round.status == StationRound.Status.ACCEPTED
    assert Finding.objects.get(code="W6").status == "resolved"


def test_an_accepted_record_cannot_be_withdrawn_or_entered_again() -> None:
    setup = entry_setup()
    first = submit(setup, setup.clerk1)
    submit(setup, setup.clerk2)

    with pytest.raises(RoundClosed):
        entry_withdraw(actor=setup.clerk1, entry=first.entry)
    with pytest.raises(RoundClosed):
        record_submit(
            actor=setup.clerk1,
            station=setup.station,
            values=record_values(),
            votes=list(VOTES.items()),
            idempotency_key=uuid.uuid4().hex,
            correct_own=True,
        )


def test_a_record_that_arrives_after_the_deadline_answers_its_u2_and_is_counted() -> None:
    setup = entry_setup()
    Finding.objects.create(round=setup.round, code="U2", category="U")

    submit(setup, setup.clerk1)
    submit(setup, setup.clerk2)

    setup.round.refresh_from_db()
    assert setup.round.status == StationRound.Status.ACCEPTED
    assert Finding.objects.get(round=setup.round, code="U2").status == Finding.Status.RESOLVED


def test_acceptance_enqueues_tabulation_after_commit(django_capture_on_commit_callbacks) -> None:
    setup = entry_setup()
    submit(setup, setup.clerk1)

    with (
        mock.patch("tabulation.tasks.tabulate.apply_async") as apply_async,
        django_capture_on_commit_callbacks(execute=True),
    ):
        submit(setup, setup.clerk2)

    apply_async.assert_called_once()
    assert apply_async.call_args.args[0] == (setup.election.pk,)


# --- Two people at once (PostgreSQL: real row locks) ---------------------------------


def run_together(*calls):
    """Run the calls in threads released at the same moment; results or errors."""
    import threading

    from django.db import connection

    barrier = threading.Barrier(len(calls))
    outcomes: list[object] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            barrier.wait()
            outcomes[index] = calls[index]()
        except Exception as error:
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_two_clerks_at_once_make_one_first_and_one_second_entry(require_postgresql) -> None:
    setup = entry_setup()

    outcomes = run_together(
        lambda: submit(setup, setup.clerk1), lambda: submit(setup, setup.clerk2)
    )

    assert sorted(outcome.entry.entry_number for outcome in outcomes) == [1, 2]
    setup.round.refresh_from_db()
    assert setup.round.status == StationRound.Status.ACCEPTED
    assert AcceptedRecord.objects.filter(round=setup.round).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_key_sent_twice_at_once_stores_one_entry(require_postgresql) -> None:
    setup = entry_setup()
    key = uuid.uuid4().hex

    outcomes = run_together(
        lambda: submit(setup, setup.clerk1, key=key), lambda: submit(setup, setup.clerk1, key=key)
    )

    assert sorted(outcome.created for outcome in outcomes) == [False, True]
    assert RecordEntry.objects.count() == 1


def test_a_blank_box_is_counted_as_completed_and_the_entries_keep_the_blank() -> None:
    """C4 (Art. 109): the box is completed as invalid + valid for the count;
    before, the blank summed as 0 and the threshold base came out short."""
    setup = entry_setup()
    submit(setup, setup.clerk1, ballots_in_box=None)
    submit(setup, setup.clerk2, ballots_in_box=None)

    setup.round.refresh_from_db()
    assert setup.round.status == StationRound.Status.ACCEPTED
    accepted = AcceptedRecord.objects.get(round=setup.round)
    assert accepted.ballots_in_box == 600  # 12 invalid + 588 valid
    assert set(RecordEntry.objects.values_list("ballots_in_box", flat=True)) == {None}
    assert Finding.objects.get(round=setup.round, code="C4").status == "open"
    snapshot = election_tabulate(election_id=setup.election.pk)
    assert snapshot is not None
    assert snapshot.payload["voted"] == 600


# --- An idempotency key reused with another record --------------------------------------


@pytest.mark.parametrize(
    ("changed", "overrides"),
    [
        ("a field", {"ballots_invalid": 13, "ballots_valid": 587}),
        ("a blank", {"turned_out": None}),
        ("the votes", {"votes": {1: 301, 2: 199, 3: 88}}),
        ("a list left out", {"votes": {1: 300, 2: 288}}),
        ("the control sheet", {"control_sheet_ok": False}),
    ],
)
def test_a_key_reused_for_a_different_record_is_refused_and_nothing_is_stored(
    changed: str, overrides: dict
) -> None:
    setup = entry_setup()
    key = uuid.uuid4().hex
    first = submit(setup, setup.clerk1, key=key)
    before = stored_counts()

    with pytest.raises(KeyReused) as refused:
        submit(setup, setup.clerk1, key=key, **overrides)

    assert refused.value.message == (
        "This submission key was already used for a different record; reload the form."
    ), changed
    assert stored_counts() == before
    assert list(RecordEntry.objects.all()) == [first.entry]
    setup.round.refresh_from_db()
    assert setup.round.status == StationRound.Status.FIRST_ENTRY


def test_a_key_reused_for_the_same_record_typed_as_text_returns_the_stored_entry() -> None:
    """A retry of a form post: strings this time, the same record all the same."""
    setup = entry_setup()
    key = uuid.uuid4().hex
    first = submit(setup, setup.clerk1, key=key)
    before = stored_counts()

    again = record_submit(
        actor=setup.clerk1,
        station=setup.station,
        values={name: str(value) for name, value in record_values(control_sheet_ok="da").items()},
        votes=[(str(number), str(votes)) for number, votes in reversed(VOTES.items())],
        idempotency_key=key,
    )

    assert not again.created
    assert again.entry == first.entry
    assert stored_counts() == before


@pytest.mark.django_db(transaction=True)
def test_a_locked_round_never_blocks_the_tabulation_s_findings_on_it(require_postgresql) -> None:
    """The deadlock CI met: a member held a round and waited for the election
    row, while the tabulation held the election row and inserted a finding on
    that round (whose foreign key check waited for the member). A round's lock
    must leave the election alone and let a finding point at the round."""
    import threading

    from django.db import connection, transaction

    from tabulation.models import Election

    setup = entry_setup()
    held = threading.Event()
    release = threading.Event()

    def member() -> None:
        try:
            with transaction.atomic():
                StationRound.objects.locked().select_related("station__election").get(
                    pk=setup.round.pk
                )
                held.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=member)
    thread.start()
    try:
        assert held.wait(10)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            Election.objects.select_for_update(no_key=True).get(pk=setup.election.pk)
            finding = Finding.objects.create(
                round=setup.round, code="W1", category=Finding.Category.WARNING
            )
    finally:
        release.set()
        thread.join()

    assert Finding.objects.filter(pk=finding.pk, round=setup.round).exists()
