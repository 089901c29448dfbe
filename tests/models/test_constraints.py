"""Invariants that the database itself enforces (house rule 6)."""

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from tabulation.models import AcceptedRecord, AcceptedVote, Finding, RecordEntryVote
from tests.factories import (
    CandidateFactory,
    DecisionFactory,
    ElectionFactory,
    ElectoralListFactory,
    MunicipalityFactory,
    PollingStationFactory,
    RecordEntryFactory,
    StationRoundFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@contextmanager
def refused() -> Iterator[None]:
    """The database refuses the write (in a savepoint, so the test goes on)."""
    with pytest.raises(IntegrityError), transaction.atomic():
        yield


@pytest.mark.parametrize(
    "field",
    [
        "registered",
        "ballots_received",
        "ballots_unused",
        "turned_out",
        "ballots_in_box",
        "ballots_invalid",
        "ballots_valid",
        "board_signatures",
    ],
)
def test_a_negative_count_is_refused(field: str) -> None:
    with refused():
        RecordEntryFactory(**{field: -1})


def test_blank_fields_are_stored_as_none() -> None:
    entry = RecordEntryFactory(registered=None, turned_out=None, control_sheet_ok=None)
    entry.refresh_from_db()

    assert (entry.registered, entry.turned_out, entry.control_sheet_ok) == (None, None, None)


def test_negative_votes_are_refused() -> None:
    entry = RecordEntryFactory()
    electoral_list = ElectoralListFactory(election=entry.round.station.election)

    with refused():
        RecordEntryVote.objects.create(entry=entry, electoral_list=electoral_list, votes=-5)


def test_a_list_has_one_vote_row_per_entry() -> None:
    entry = RecordEntryFactory()
    electoral_list = ElectoralListFactory(election=entry.round.station.election)
    RecordEntryVote.objects.create(entry=entry, electoral_list=electoral_list, votes=5)

    with refused():
        RecordEntryVote.objects.create(entry=entry, electoral_list=electoral_list, votes=6)


def test_a_second_live_entry_of_the_same_clerk_for_a_round_is_refused() -> None:
    first = RecordEntryFactory(entry_number=1)

    with refused():
        RecordEntryFactory(round=first.round, clerk=first.clerk, entry_number=2)


def test_a_superseded_entry_makes_room_for_the_clerks_new_one() -> None:
    first = RecordEntryFactory(entry_number=1)
    # Marking a superseded row is the one update an entry ever gets.
    type(first).objects.filter(pk=first.pk).update(superseded_at=timezone.now())

    again = RecordEntryFactory(round=first.round, clerk=first.clerk, entry_number=1)

    assert again.pk != first.pk


def test_two_live_first_entries_for_a_round_are_refused() -> None:
    first = RecordEntryFactory(entry_number=1)

    with refused():
        RecordEntryFactory(round=first.round, entry_number=1)


def test_entry_number_is_first_or_second() -> None:
    with refused():
        RecordEntryFactory(entry_number=3)


def test_the_idempotency_key_is_unique() -> None:
    first = RecordEntryFactory()

    with refused():
        RecordEntryFactory(idempotency_key=first.idempotency_key)


def test_a_second_accepted_record_for_a_round_is_refused() -> None:
    entry = RecordEntryFactory()
    AcceptedRecord.objects.create(round=entry.round, source="single_entry", first_entry=entry)

    with refused():
        AcceptedRecord.objects.create(round=entry.round, source="single_entry", first_entry=entry)


def test_an_accepted_record_from_double_entry_names_both_entries() -> None:
    entry = RecordEntryFactory()

    with refused():
        AcceptedRecord.objects.create(round=entry.round, source="double_entry", first_entry=entry)


def test_accepted_votes_are_one_row_per_list() -> None:
    entry = RecordEntryFactory()
    accepted = AcceptedRecord.objects.create(
        round=entry.round, source="single_entry", first_entry=entry
    )
    electoral_list = ElectoralListFactory(election=entry.round.station.election)
    AcceptedVote.objects.create(accepted_record=accepted, electoral_list=electoral_list, votes=1)

    with refused():
        AcceptedVote.objects.create(
            accepted_record=accepted, electoral_list=electoral_list, votes=2
        )


def test_ballot_numbers_are_unique_per_election_and_at_least_one() -> None:
    first = ElectoralListFactory(ballot_number=1)
    ElectoralListFactory(ballot_number=1)  # another election: fine

    with refused():
        ElectoralListFactory(election=first.election, ballot_number=1)
    with refused():
        ElectoralListFactory(ballot_number=0)


def test_candidate_positions_are_unique_per_list() -> None:
    first = CandidateFactory(position=1)

    with refused():
        CandidateFactory(electoral_list=first.electoral_list, position=1)


def test_station_codes_are_unique_per_election() -> None:
    first = PollingStationFactory(code="zemun-001")
    PollingStationFactory(code="zemun-001")  # another election: fine

    with refused():
        PollingStationFactory(
            code="zemun-001",
            municipality=MunicipalityFactory(election=first.election),
        )


@pytest.mark.parametrize(
    "values",
    [
        {"seats": 0},
        {"threshold_percent": Decimal("100.01")},
        {"threshold_percent": Decimal("-1")},
        {"minority_bonus_percent": Decimal("101")},
        {"entry_mode": "triple"},
        {"status": "unknown"},
    ],
)
def test_election_settings_out_of_range_are_refused(values: dict[str, object]) -> None:
    with refused():
        ElectionFactory(**values)


def test_a_station_has_one_live_round() -> None:
    first = StationRoundFactory(number=1)

    with refused():
        StationRoundFactory(station=first.station, number=2)


def test_an_annulled_round_makes_room_for_the_repeat_vote() -> None:
    first = StationRoundFactory(number=1, status="annulled")

    repeat = StationRoundFactory(station=first.station, number=2)

    assert repeat.number == 2


def test_a_finding_code_belongs_to_its_category() -> None:
    round_ = StationRoundFactory()
    Finding.objects.create(round=round_, code="R1", category="R")

    with refused():
        Finding.objects.create(round=round_, code="W2", category="R")


def test_the_same_open_finding_is_not_raised_twice() -> None:
    round_ = StationRoundFactory()
    Finding.objects.create(round=round_, code="R1", category="R")

    with refused():
        Finding.objects.create(round=round_, code="R1", category="R")


def test_a_resolved_finding_needs_a_resolution_time() -> None:
    with refused():
        Finding.objects.create(
            round=StationRoundFactory(), code="W2", category="W", status="resolved"
        )


def test_a_decision_needs_a_reason_and_a_round_when_about_a_station() -> None:
    with refused():
        DecisionFactory(reason="")
    with refused():
        DecisionFactory(kind="annul_and_order_repeat", round=None)


def test_rows_in_use_cannot_be_deleted() -> None:
    entry = RecordEntryFactory(clerk=UserFactory(username="clerk-x"))

    with pytest.raises(ProtectedError):
        entry.round.station.delete()
    with pytest.raises(ProtectedError):
        entry.clerk.delete()


def _accepted_with_a_vote() -> tuple[AcceptedRecord, AcceptedVote]:
    entry = RecordEntryFactory()
    accepted = AcceptedRecord.objects.create(
        round=entry.round, source="single_entry", first_entry=entry, turned_out=500
    )
    electoral_list = ElectoralListFactory(election=entry.round.station.election)
    vote = AcceptedVote.objects.create(
        accepted_record=accepted, electoral_list=electoral_list, votes=7
    )
    return accepted, vote


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE tabulation_acceptedvote SET votes = votes + 1",
        "UPDATE tabulation_acceptedrecord SET turned_out = 501",
        "UPDATE tabulation_acceptedrecord SET round_id = round_id",  # fine: unchanged
    ],
)
def test_an_accepted_record_and_its_votes_never_change_once_stored(sql: str) -> None:
    """Tabulation keeps a record's figures by its id from one run to the next
    (migration 0009): the database refuses to change them in place."""
    accepted, vote = _accepted_with_a_vote()

    if "round_id = round_id" in sql:
        with connection.cursor() as cursor:
            cursor.execute(sql)
    else:
        with (
            pytest.raises(DatabaseError, match="tabulation_accepted"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
    assert AcceptedVote.objects.get(pk=vote.pk).votes == 7
    assert AcceptedRecord.objects.get(pk=accepted.pk).turned_out == 500


def test_a_correction_may_still_mark_an_accepted_record_superseded() -> None:
    accepted, _vote = _accepted_with_a_vote()
    accepted.superseded_at = timezone.now()
    accepted.save(update_fields=["superseded_at"])

    accepted.refresh_from_db()
    assert accepted.superseded_at is not None
    with refused_by_trigger():
        AcceptedRecord.objects.filter(pk=accepted.pk).update(ballots_valid=1)


@contextmanager
def refused_by_trigger() -> Iterator[None]:
    with (
        pytest.raises(DatabaseError, match="tabulation_acceptedrecord"),
        transaction.atomic(),
    ):
        yield
