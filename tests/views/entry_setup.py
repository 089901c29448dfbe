"""The cast of the record-entry tests: one double-entry election with three
lists, a station with its round, two clerks, a station nobody here may enter,
and a commission member."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import Group

from tabulation.models import (
    AuditEvent,
    Election,
    ElectoralList,
    Finding,
    PollingStation,
    RecordEntry,
    RecordEntryVote,
    StationRound,
)
from tabulation.services.records import EntryResult, record_submit
from tabulation.services.roles import clerk_assign, ensure_roles
from tests.factories import (
    ElectionFactory,
    ElectoralListFactory,
    MunicipalityFactory,
    PollingStationFactory,
    StationRoundFactory,
    UserFactory,
    record_values,
)

VOTES = {1: 300, 2: 200, 3: 88}  # adds up to record_values()'s 588 valid ballots
PASSWORD = "izbori-test-2023"


@dataclass
class EntrySetup:
    election: Election
    station: PollingStation
    round: StationRound
    lists: list[ElectoralList]
    clerk1: Any
    clerk2: Any
    outsider_station: PollingStation
    member: Any


def entry_setup(entry_mode: str = "double", *, passwords: bool = False) -> EntrySetup:
    ensure_roles()
    election = ElectionFactory(entry_mode=entry_mode)
    municipality = MunicipalityFactory(election=election)
    station = PollingStationFactory(municipality=municipality, number=1, registered=1000)
    round = StationRoundFactory(station=station)
    outsider = PollingStationFactory(municipality__election=election, number=1)
    StationRoundFactory(station=outsider)
    lists = [
        ElectoralListFactory(election=election, ballot_number=number, name=f"Lista {number}")
        for number in (1, 2, 3)
    ]
    clerk1 = UserFactory(username=f"clerk-{election.slug}-1")
    clerk2 = UserFactory(username=f"clerk-{election.slug}-2")
    clerk_assign(actor=None, user=clerk1, election=election, station=station)
    clerk_assign(actor=None, user=clerk2, election=election, municipality=municipality)
    member = UserFactory(username=f"member-{election.slug}", is_staff=True)
    member.groups.add(Group.objects.get(name="commission member"))
    if passwords:
        for user in (clerk1, clerk2, member):
            user.set_password(PASSWORD)
            user.save()
    return EntrySetup(
        election=election,
        station=station,
        round=round,
        lists=lists,
        clerk1=clerk1,
        clerk2=clerk2,
        outsider_station=outsider,
        member=member,
    )


def submit(
    setup: EntrySetup,
    clerk: Any,
    *,
    votes: dict[int, int] | None = None,
    key: str | None = None,
    station: PollingStation | None = None,
    **overrides: Any,
) -> EntryResult:
    return record_submit(
        actor=clerk,
        station=station or setup.station,
        values=record_values(**overrides),
        votes=list((votes or VOTES).items()),
        idempotency_key=key or uuid.uuid4().hex,
    )


def form_data(**overrides: Any) -> dict[str, Any]:
    """The record form as a browser posts it (strings)."""
    values = record_values()
    data: dict[str, Any] = {name: str(value) for name, value in values.items()}
    data["control_sheet_ok"] = "yes"
    for number, votes in VOTES.items():
        data[f"votes[{number}]"] = str(votes)
    data["idempotency_key"] = uuid.uuid4().hex
    data.update(overrides)
    return data


def stored_counts() -> tuple[int, int, int, int]:
    """What an entry stores: a refused submission must leave all four as they were."""
    return (
        RecordEntry.objects.count(),
        RecordEntryVote.objects.count(),
        Finding.objects.count(),
        AuditEvent.objects.count(),
    )
