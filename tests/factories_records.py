"""Accepted records straight into the tables, for the tests of tabulation.

Record entry (services/records.py) is written in parallel; tabulation only
reads what it leaves behind: a round in status ``accepted`` with its
``AcceptedRecord`` and ``AcceptedVote`` rows. These helpers write exactly
that, one transaction per record, and ask for a tabulation on commit the
way record entry does.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from unittest import mock

from django.core.cache import cache
from django.db import transaction

from tabulation import models
from tabulation.services import tabulation as tabulation_service
from tabulation.services.tabulation import tabulation_request
from tests.factories import (
    CandidateFactory,
    ElectionFactory,
    ElectoralListFactory,
    MunicipalityFactory,
    PollingStationFactory,
    StationRoundFactory,
    UserFactory,
)


@dataclass
class SmallElection:
    election: models.Election
    municipalities: list[models.Municipality]
    stations: list[models.PollingStation]
    lists: list[models.ElectoralList]
    rounds: dict[str, models.StationRound] = field(default_factory=dict)  # by station code


def small_election(
    *,
    municipalities: int = 2,
    stations_per_municipality: int = 3,
    lists: int = 4,
    seats: int = 10,
    minority: tuple[int, ...] = (),
    candidates_per_list: int = 0,
    registered: int = 1000,
    rng: random.Random | None = None,
    **election_fields: object,
) -> SmallElection:
    """An election with round 1 of every station awaiting its record."""
    election = ElectionFactory(
        seats=seats,
        threshold_percent=Decimal("3.00"),
        minority_bonus_percent=Decimal("35.00"),
        status=models.Election.Status.COUNTING,
        **election_fields,
    )
    made_lists = [
        ElectoralListFactory(
            election=election,
            ballot_number=number,
            name=f"{election.slug} list {number}",
            minority=number in minority,
        )
        for number in range(1, lists + 1)
    ]
    for electoral_list in made_lists:
        for position in range(1, candidates_per_list + 1):
            CandidateFactory(
                electoral_list=electoral_list, position=position, name=f"Candidate {position}"
            )
    made = SmallElection(election=election, municipalities=[], stations=[], lists=made_lists)
    for index in range(municipalities):
        municipality = MunicipalityFactory(
            election=election,
            code=f"{election.slug}-m{index + 1}",
            registered=registered * stations_per_municipality,
        )
        made.municipalities.append(municipality)
        for number in range(1, stations_per_municipality + 1):
            station = PollingStationFactory(
                municipality=municipality,
                election=election,
                code=f"{municipality.code}-{number:03d}",
                number=number,
                registered=(
                    registered if rng is None else rng.randint(registered // 2, registered)
                ),
            )
            made.stations.append(station)
            made.rounds[station.code] = StationRoundFactory(station=station, number=1)
    return made


def random_votes(
    rng: random.Random, lists: list[models.ElectoralList], registered: int
) -> dict[int, int]:
    """Votes by ballot number for a plausible station."""
    budget = rng.randint(registered // 4, (registered * 3) // 4)
    weights = [rng.random() + 0.05 for _ in lists]
    total = sum(weights)
    return {
        electoral_list.ballot_number: int(budget * weight / total)
        for electoral_list, weight in zip(lists, weights, strict=True)
    }


def record_accept(
    station_round: models.StationRound,
    votes: dict[int, int],
    *,
    invalid: int = 10,
    missing_from_box: int = 1,
    request: bool = True,
) -> models.AcceptedRecord:
    """Accept a consistent record with ``votes`` (by ballot number) for the
    round, in one transaction; on commit, ask for a tabulation."""
    station = station_round.station
    lists = {
        electoral_list.ballot_number: electoral_list
        for electoral_list in models.ElectoralList.objects.filter(election_id=station.election_id)
    }
    valid = sum(votes.values())
    in_box = valid + invalid
    fields = {
        "registered": station.registered,
        "ballots_received": station.registered,
        "ballots_unused": max(0, station.registered - in_box),
        "turned_out": in_box + missing_from_box,
        "ballots_in_box": in_box,
        "ballots_invalid": invalid,
        "ballots_valid": valid,
        "control_sheet_ok": True,
        "board_signatures": 5,
    }
    with transaction.atomic():
        clerk = UserFactory(username=f"clerk-{uuid.uuid4().hex[:10]}")
        entry = models.RecordEntry.objects.create(
            round=station_round,
            entry_number=1,
            clerk=clerk,
            idempotency_key=uuid.uuid4().hex,
            **fields,
        )
        record = models.AcceptedRecord.objects.create(
            round=station_round,
            source=models.AcceptedRecord.Source.SINGLE_ENTRY,
            first_entry=entry,
            **fields,
        )
        models.AcceptedVote.objects.bulk_create(
            models.AcceptedVote(accepted_record=record, electoral_list=lists[number], votes=count)
            for number, count in votes.items()
        )
        models.StationRound.objects.filter(pk=station_round.pk).update(
            status=models.StationRound.Status.ACCEPTED
        )
        if request:
            tabulation_request(election_id=station.election_id)
    return record


def round_set_status(station_round: models.StationRound, status: str) -> None:
    models.StationRound.objects.filter(pk=station_round.pk).update(status=status)


def recount(election: models.Election) -> dict[str, object]:
    """The slow way: station by station, in Python, from the accepted rows.

    Counts only rounds whose status is ``accepted``; the independent check
    of tabulation's SQL aggregates.
    """
    totals = {
        "counted": 0,
        "registered_counted": 0,
        "turned_out": 0,
        "voted": 0,
        "invalid": 0,
        "valid": 0,
    }
    by_list: dict[int, int] = {}
    municipalities: dict[str, dict[str, object]] = {}
    for station in models.PollingStation.objects.filter(election=election).select_related(
        "municipality"
    ):
        own = municipalities.setdefault(
            station.municipality.code,
            {"counted": 0, "turned_out": 0, "voted": 0, "invalid": 0, "valid": 0, "votes": {}},
        )
        for station_round in station.rounds.all():
            if station_round.status != models.StationRound.Status.ACCEPTED:
                continue
            record = models.AcceptedRecord.objects.get(
                round=station_round, superseded_at__isnull=True
            )
            totals["counted"] += 1
            totals["registered_counted"] += station.registered
            own["counted"] = int(own["counted"]) + 1  # type: ignore[call-overload]
            for name in ("turned_out", "invalid", "valid", "voted"):
                column = {
                    "voted": "ballots_in_box",
                    "invalid": "ballots_invalid",
                    "valid": "ballots_valid",
                }.get(name, name)
                value = getattr(record, column) or 0
                totals[name] += value
                own[name] = int(own[name]) + value  # type: ignore[call-overload]
            for vote in record.votes.select_related("electoral_list"):
                number = vote.electoral_list.ballot_number
                by_list[number] = by_list.get(number, 0) + vote.votes
                own_votes = own["votes"]
                assert isinstance(own_votes, dict)
                own_votes[str(number)] = own_votes.get(str(number), 0) + vote.votes
    return {"totals": totals, "lists": by_list, "municipalities": municipalities}


def run_as_a_worker(election: models.Election) -> None:
    """A run of the tabulation task, then the pages task it asks for, as a
    worker takes them from the queue (services/tabulation.py)."""
    from tabulation.services.site_pages import site_pages_latest

    with mock.patch.object(tabulation_service, "_send", return_value=True) as sent:
        assert tabulation_service.tabulation_run(election_id=election.pk) == "done"
    for call in sent.call_args_list:
        assert call == mock.call(
            tabulation_service.SITE_PAGES_TASK,
            election.pk,
            countdown=tabulation_service.PAGES_AFTER_SECONDS,
        )
        site_pages_latest(election.slug)
    # Its countdown passed: the next run asks for the pages again.
    cache.delete(tabulation_service.pages_request_key(election.pk))
