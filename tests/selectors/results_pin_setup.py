"""Two elections whose every name, code, date and figure is fixed, so that
what tabulation publishes about them can be pinned byte for byte
(tests/selectors/test_results_pinned.py).

``pin_election``: seven seats, three lists (list 3 a minority, list 1 with two
candidates only: rule 7), three municipalities:

- Palilula: four stations counted, one of them above 95 % turnout (W1), two
  with the same record (W5), one with a C1 and a W4 stored from its entry;
- Zvezdara: one counted, one held with an S1 stored from its entry and a
  dismissed W2, one awaiting past the entry deadline (U2);
- Vračar: round 1 annulled on R4 (a decision), the repeat vote ordered and
  awaiting.

``pin_tie``: three seats, two lists with equal votes for the last seat, the
commission's drawing of lots on file, one station not counted yet.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from tabulation import models
from tabulation.domain.record import make_finding
from tests.factories import (
    CandidateFactory,
    DecisionFactory,
    ElectionFactory,
    ElectoralListFactory,
    MunicipalityFactory,
    PollingStationFactory,
    StationRoundFactory,
    UserFactory,
)
from tests.factories_records import record_accept

NOW = datetime(2026, 6, 2, 12, 0, tzinfo=UTC)
DEADLINE = datetime(2026, 6, 1, 22, 0, tzinfo=UTC)
DECIDED_AT = datetime(2026, 6, 2, 9, 30, tzinfo=UTC)
RESOLVED_AT = datetime(2026, 6, 2, 10, 0, tzinfo=UTC)


def _station(municipality: models.Municipality, number: int, **fields: object):
    station = PollingStationFactory(
        municipality=municipality,
        election=municipality.election,
        code=f"{municipality.code}-{number:03d}",
        number=number,
        name=f"{municipality.name} {number}",
        address=f"Ulica {number}",
        **fields,
    )
    return station, StationRoundFactory(station=station, number=1)


def _municipality(election: models.Election, code: str, name: str, registered: int):
    return MunicipalityFactory(election=election, code=code, name=name, registered=registered)


def _decide(**fields: object) -> models.Decision:
    decision = DecisionFactory(decided_by=UserFactory(username="pin-member"), **fields)
    models.Decision.objects.filter(pk=decision.pk).update(decided_at=DECIDED_AT)
    return decision


def _stored(round_: models.StationRound, finding, *, from_entry: bool, **fields: object) -> None:
    entry = round_.entries.order_by("pk").first() if from_entry else None
    row = models.Finding.from_domain(finding, round_id=round_.pk, entry=entry)
    for name, value in fields.items():
        setattr(row, name, value)
    row.save()


def pin_election() -> models.Election:
    election = ElectionFactory(
        slug="pin-2026",
        name="Skupština grada (pin)",
        date=date(2026, 6, 1),
        seats=7,
        threshold_percent=Decimal("3.00"),
        minority_bonus_percent=Decimal("35.00"),
        status=models.Election.Status.COUNTING,
        entry_deadline=DEADLINE,
    )
    lists = [
        ElectoralListFactory(
            election=election,
            ballot_number=number,
            name=f"Lista {number}",
            ballot_carrier=f"Nosilac {number}",
            minority=number == 3,
            colour=colour,
        )
        for number, colour in ((1, "#1f77b4"), (2, "#ff7f0e"), (3, "#2ca02c"))
    ]
    for position in (1, 2):
        CandidateFactory(electoral_list=lists[0], position=position, name=f"Kandidat {position}")
    palilula = _municipality(election, "pin-pal", "Palilula", 4000)
    zvezdara = _municipality(election, "pin-zve", "Zvezdara", 3000)
    vracar = _municipality(election, "pin-vra", "Vračar", 1000)

    rounds = [_station(palilula, number)[1] for number in (1, 2, 3, 4)]
    record_accept(rounds[0], {1: 400, 2: 150, 3: 30}, request=False)
    record_accept(rounds[1], {1: 380, 2: 170, 3: 25}, invalid=12, request=False)
    record_accept(rounds[2], {1: 380, 2: 170, 3: 25}, invalid=12, request=False)  # W5
    record_accept(rounds[3], {1: 700, 2: 200, 3: 50}, invalid=5, request=False)  # W1
    _stored(
        rounds[0],
        make_finding(
            "C1",
            fields=("registered",),
            expected=1000,
            actual=990,
            message="Registered voters {actual} differ from the register ({expected}).",
            params=(("actual", 990), ("expected", 1000)),
        ),
        from_entry=True,
    )
    _stored(
        rounds[0],
        make_finding("W4", fields=("turned_out", "ballots_in_box"), params=(("missing", 1),)),
        from_entry=True,
    )

    _counted_station, counted = _station(zvezdara, 1)
    _held_station, held = _station(zvezdara, 2)
    _station(zvezdara, 3)
    record_accept(counted, {1: 300, 2: 260, 3: 10}, request=False)
    record_accept(held, {1: 200, 2: 200, 3: 100}, invalid=30, request=False)
    models.StationRound.objects.filter(pk=held.pk).update(status=models.StationRound.Status.HELD)
    _stored(
        held,
        make_finding(
            "S1",
            fields=("ballots_valid", "votes"),
            expected=500,
            actual=490,
            message="The votes add up to {actual}, the valid ballots are {expected}.",
            params=(("actual", 490), ("expected", 500)),
        ),
        from_entry=True,
    )
    _stored(
        held,
        make_finding("W2", fields=("ballots_invalid",), params=(("percent", "5.66"),)),
        from_entry=True,
        status=models.Finding.Status.DISMISSED,
        resolved_at=RESOLVED_AT,
    )

    annulled_station, first = _station(vracar, 1)
    record_accept(first, {1: 100, 2: 100, 3: 100}, request=False)
    models.StationRound.objects.filter(pk=first.pk).update(
        status=models.StationRound.Status.ANNULLED
    )
    _decide(
        election=election,
        kind=models.Decision.Kind.ANNUL_AND_ORDER_REPEAT,
        round=first,
        station=annulled_station,
        reason="An unlisted voter was let vote.",
        payload={"ground": "R4", "voting_date": "2026-06-09"},
    )
    StationRoundFactory(
        station=annulled_station, number=2, ordered_at=DECIDED_AT, voting_date=date(2026, 6, 9)
    )
    return election


def pin_tie() -> models.Election:
    election = ElectionFactory(
        slug="pin-tie",
        name="Skupština opštine (pin)",
        date=date(2026, 6, 1),
        seats=3,
        threshold_percent=Decimal("3.00"),
        minority_bonus_percent=Decimal("35.00"),
        status=models.Election.Status.COUNTING,
    )
    for number in (1, 2, 3):
        ElectoralListFactory(
            election=election, ballot_number=number, name=f"Lista {number}", colour="#777777"
        )
    municipality = _municipality(election, "pin-tie-m", "Opština", 3000)
    _first_station, first = _station(municipality, 1)
    _second_station, second = _station(municipality, 2)
    _station(municipality, 3)
    record_accept(first, {1: 250, 2: 250, 3: 10}, request=False)
    record_accept(second, {1: 250, 2: 250, 3: 10}, request=False)
    _decide(
        election=election,
        kind=models.Decision.Kind.DRAWING_OF_LOTS,
        payload={"lots_drawn": [2, 1]},
    )
    return election
