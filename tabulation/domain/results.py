"""From what a tabulation reads to what it publishes (docs/results-format.md).

``results_build`` composes the steps, each one named here: the state of each
station, the checks that need context (W1, W5, U2), the seats (allocated
once, with the commission's drawing of lots, RULES.md section 3), the
results document with its lists and municipalities, the station rows
(``station_rows.py``) and the inputs hash. Pure: same inputs, same bytes.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from functools import lru_cache
from typing import Any

from tabulation.domain.checks import identical_records, record_not_received, turnout_outliers
from tabulation.domain.exact import fraction_rounded, fraction_to_string, share_percent
from tabulation.domain.mandates import MandateAssignment, assign_mandates
from tabulation.domain.record import Finding
from tabulation.domain.results_inputs import (
    ANNULLED,
    AWAITING,
    COUNTED,
    HELD,
    MunicipalitySetup,
    MunicipalityTotals,
    TabulationInputs,
)
from tabulation.domain.rounds import RoundStatus
from tabulation.domain.seats import ElectoralList as SeatList
from tabulation.domain.seats import Quotient
from tabulation.domain.settled import Settlement, seats_settled
from tabulation.domain.station_rows import published_findings, station_rows

FORMAT_VERSION = 1
PROVISIONAL = "provisional"

# A finding tabulation raises itself, on the round it belongs to.
Raised = tuple[int, Finding]


@dataclass(slots=True)
class BuiltResults:
    """What one tabulation computes from its inputs."""

    # docs/results-format.md without the fields of the stored snapshot
    # (version, published_at, inputs_hash, audit_head, audit_count).
    document: dict[str, Any]
    stations: list[dict[str, Any]]
    # Context findings not raised before for that round (any status).
    findings_to_raise: list[Raised] = field(default_factory=list)
    inputs_hash: str = ""


@dataclass(frozen=True, slots=True)
class Seats:
    """The seats as the count stands: allocated once, with the drawing of lots."""

    voted: int  # the threshold base
    settlement: Settlement
    mandates: dict[str, MandateAssignment]  # by ballot number as text


def results_build(inputs: TabulationInputs, *, now: datetime) -> BuiltResults:
    """The results document, the station rows and the new context findings.

    Seats by ``seats_settled`` (the allocation with the commission's drawing
    of lots, and whether the stations not counted can still change it:
    outstanding = the registered voters of every station not counted),
    mandates by ``assign_mandates`` (RULES.md section 3).
    """
    states = station_states(inputs)
    raised = context_findings(inputs, states, now)
    totals = election_totals(inputs.municipality_totals.values())
    seats = seats_compute(inputs, totals)
    return BuiltResults(
        document=results_document(inputs, states, totals, seats),
        stations=station_rows(inputs, states, raised),
        findings_to_raise=raised,
        inputs_hash=inputs_hash(inputs, raised),
    )


def station_states(inputs: TabulationInputs) -> list[str]:
    """Each station's place in the count, in the order of ``inputs.stations``.
    An "accepted" round whose accepted record is missing cannot be counted."""
    return [
        AWAITING
        if station.state == COUNTED and station.round_id not in inputs.records
        else station.state
        for station in inputs.stations
    ]


def election_totals(municipalities: Iterable[MunicipalityTotals]) -> MunicipalityTotals:
    """The whole election, summed from its municipalities."""
    items = list(municipalities)
    return MunicipalityTotals(
        counted=sum(item.counted for item in items),
        registered_counted=sum(item.registered_counted for item in items),
        turned_out=sum(item.turned_out for item in items),
        voted=sum(item.voted for item in items),
        invalid=sum(item.invalid for item in items),
        valid=sum(item.valid for item in items),
    )


# --- The checks that need context --------------------------------------------------------


@lru_cache(maxsize=4096)
def _turnout_outliers(
    rows: tuple[tuple[str, int | None, int], ...],
) -> tuple[tuple[str, Finding], ...]:
    """W1 for one municipality, remembered: during a burst most
    municipalities are unchanged from one run to the next, and the exact
    median and MAD are the dearest part of a run at national scale."""
    return tuple(turnout_outliers(rows).items())


def context_findings(inputs: TabulationInputs, states: list[str], now: datetime) -> list[Raised]:
    """W1 per municipality, W5 across the election, U2 after the deadline;
    only those not raised before for their round (any status)."""
    counted = [
        station
        for station, state in zip(inputs.stations, states, strict=True)
        if state == COUNTED and station.round_id is not None
    ]
    round_of = {station.code: station.round_id for station in counted}
    raised: list[tuple[int | None, Finding]] = []
    by_municipality: dict[int, list[tuple[str, int | None, int]]] = defaultdict(list)
    for station in counted:
        turned_out = inputs.records[station.round_id or 0].fields["turned_out"]
        by_municipality[station.municipality_id].append(
            (station.code, turned_out, station.registered)
        )
    for rows in by_municipality.values():
        raised.extend((round_of[code], finding) for code, finding in _turnout_outliers(tuple(rows)))
    records = {station.code: inputs.records[station.round_id or 0].record for station in counted}
    raised.extend((round_of[code], finding) for code, finding in identical_records(records).items())
    raised.extend(_records_not_received(inputs, now))
    already = {(item.round_id, item.code) for item in inputs.findings}
    return sorted(
        (
            (round_id, finding)
            for round_id, finding in raised
            if round_id is not None and (round_id, finding.code) not in already
        ),
        key=lambda item: (item[0], item[1].code),
    )


def _records_not_received(inputs: TabulationInputs, now: datetime) -> list[Raised]:
    """U2 for each round 1 still awaiting its record after the entry deadline.
    The deadline is election night's; a repeat vote (a round ordered by a
    decision) is held later and has a timetable of its own."""
    deadline = inputs.election.entry_deadline
    if deadline is None or now <= deadline:
        return []
    return [
        (station.round_id, record_not_received(station.code))
        for station in inputs.stations
        if station.round_id is not None
        and station.round_status == RoundStatus.AWAITING
        and station.ordered_at is None
    ]


# --- Seats -----------------------------------------------------------------------------


def votes_by_list(inputs: TabulationInputs) -> dict[int, int]:
    """Each list's votes (by list id), summed from the municipalities."""
    votes: dict[int, int] = defaultdict(int)
    for (_municipality_id, list_id), count in inputs.municipality_votes.items():
        votes[list_id] += count
    return votes


def seats_compute(inputs: TabulationInputs, totals: MunicipalityTotals) -> Seats:
    """Seats, whether they can still change, and who takes them (RULES.md 3)."""
    election = inputs.election
    list_votes = votes_by_list(inputs)
    # The threshold base is the ballots in the box; an accepted record can
    # never carry fewer ballots than votes, but the allocation must not fail
    # on one that does (it is then the votes that count).
    voted = max(totals.voted, sum(list_votes.values()))
    registered_total = sum(station.registered for station in inputs.stations)
    settlement = seats_settled(
        seats=election.seats,
        lists=_seat_lists(inputs, list_votes),
        voted=voted,
        threshold_percent=election.threshold_percent,
        minority_bonus_percent=election.minority_bonus_percent,
        outstanding_registered=registered_total - totals.registered_counted,
        lots_drawn=[str(number) for number in inputs.lots_drawn],
    )
    candidates = {
        str(item.ballot_number): inputs.candidates.get(item.pk, []) for item in inputs.lists
    }
    assignments = assign_mandates(settlement.allocation.seats_by_list(), candidates)
    return Seats(
        voted=voted,
        settlement=settlement,
        mandates={assignment.list_id: assignment for assignment in assignments},
    )


def _seat_lists(inputs: TabulationInputs, list_votes: dict[int, int]) -> list[SeatList]:
    seat_lists = []
    for item in inputs.lists:
        own = inputs.candidates.get(item.pk)
        seat_lists.append(
            SeatList(
                list_id=str(item.ballot_number),
                votes=list_votes.get(item.pk, 0),
                minority=item.minority,
                # A list without candidates on file (not imported yet) is not
                # limited; otherwise rule 7 counts those not withdrawn.
                candidates=None if own is None else sum(not c.withdrawn for c in own),
            )
        )
    return seat_lists


# --- The results document ----------------------------------------------------------------


def _quotient_text(value: Fraction) -> str:
    # Quotients such as 1000/3 have no exact decimal; shown to 2 places.
    return str(fraction_rounded(value, 2))


def _quotient_data(quotient: Quotient | None) -> dict[str, Any] | None:
    if quotient is None:
        return None
    return {"ballot_number": int(quotient.list_id), "quotient": _quotient_text(quotient.value)}


def results_document(
    inputs: TabulationInputs, states: list[str], totals: MunicipalityTotals, seats: Seats
) -> dict[str, Any]:
    """docs/results-format.md, without the fields of the stored snapshot."""
    election = inputs.election
    allocation = seats.settlement.allocation
    registered_total = sum(station.registered for station in inputs.stations)
    return {
        "format": FORMAT_VERSION,
        "election": {
            "slug": election.slug,
            "name": election.name,
            "date": str(election.date),
            "seats": election.seats,
            "threshold_percent": fraction_to_string(Fraction(election.threshold_percent)),
            "minority_bonus_percent": fraction_to_string(Fraction(election.minority_bonus_percent)),
        },
        "status": PROVISIONAL,
        "stations": {
            "counted": totals.counted,
            "total": len(inputs.stations),
            "held": states.count(HELD),
            "annulled": states.count(ANNULLED),
            "awaiting": states.count(AWAITING),
        },
        "registered": {"counted": totals.registered_counted, "total": registered_total},
        "turned_out": totals.turned_out,
        "voted": totals.voted,
        "invalid": totals.invalid,
        "valid": totals.valid,
        "turnout_percent": str(share_percent(totals.turned_out, totals.registered_counted)),
        "threshold_votes": fraction_to_string(allocation.threshold_votes),
        "threshold_votes_min": allocation.minimum_votes,
        "settled": seats.settlement.settled and not allocation.lots_required,
        "lots_required": [int(list_id) for list_id in allocation.lots_required],
        "seats_to_draw": allocation.seats_to_draw,
        "vacant_seats": allocation.vacant_seats,
        "lists": lists_document(inputs, seats),
        "seat_explanation": {
            "last_seat": _quotient_data(allocation.last_seat),
            "first_missed": _quotient_data(allocation.first_missed),
            "margin": None if allocation.margin is None else _quotient_text(allocation.margin),
        },
        "municipalities": municipalities_document(inputs),
        "pending_repeat_votes": pending_repeat_votes(inputs, states),
    }


def lists_document(inputs: TabulationInputs, seats: Seats) -> list[dict[str, Any]]:
    """One entry per list, in ballot order: votes, share, seats and why."""
    allocation = seats.settlement.allocation
    results = {result.list_id: result for result in allocation.lists}
    settled_by_list = seats.settlement.settled_by_list()
    document = []
    for item in inputs.lists:
        key = str(item.ballot_number)
        result = results[key]
        document.append(
            {
                "ballot_number": item.ballot_number,
                "name": item.name,
                "ballot_carrier": item.ballot_carrier,
                "minority": item.minority,
                "colour": item.colour,
                "votes": result.votes,
                "percent": str(share_percent(result.votes, seats.voted)),
                "seats": result.seats,
                "passed_threshold": result.passed_threshold,
                "takes_part": result.takes_part,
                "reason": str(result.participation),
                "bonus_applied": result.bonus_applied,
                # Rule 7: seats this list would have won with enough candidates.
                "seats_passed_on": result.seats_passed_on,
                "settled": settled_by_list[key] and not allocation.lots_required,
                "mandates": [
                    {"position": candidate.position, "name": candidate.name}
                    for candidate in seats.mandates[key].elected
                ],
            }
        )
    return document


def municipalities_document(inputs: TabulationInputs) -> list[dict[str, Any]]:
    """One entry per municipality, by name: its count so far and who leads."""
    stations_in: dict[int, int] = defaultdict(int)
    for station in inputs.stations:
        stations_in[station.municipality_id] += 1
    return [
        _municipality_entry(inputs, municipality, stations_in[municipality.pk])
        for municipality in inputs.municipalities
    ]


def _municipality_entry(
    inputs: TabulationInputs, municipality: MunicipalitySetup, stations_total: int
) -> dict[str, Any]:
    totals = inputs.municipality_totals.get(municipality.pk, MunicipalityTotals())
    by_ballot = {
        str(item.ballot_number): inputs.municipality_votes.get((municipality.pk, item.pk), 0)
        for item in inputs.lists
    }
    return {
        "code": municipality.code,
        "name": municipality.name,
        "stations": {"counted": totals.counted, "total": stations_total},
        "registered": municipality.registered,
        "registered_counted": totals.registered_counted,
        "turned_out": totals.turned_out,
        "voted": totals.voted,
        "invalid": totals.invalid,
        "valid": totals.valid,
        "turnout_percent": str(share_percent(totals.turned_out, totals.registered_counted)),
        "votes": by_ballot,
        "leader": municipality_leader(by_ballot),
    }


def municipality_leader(votes_by_ballot: dict[str, int]) -> dict[str, int] | None:
    """The list with the most votes (the lower ballot number on equal votes)
    and its lead over the next; None while no list has a vote."""
    ranked = sorted(votes_by_ballot.items(), key=lambda item: (-item[1], int(item[0])))
    if not ranked or ranked[0][1] <= 0:
        return None
    runner_up = ranked[1][1] if len(ranked) > 1 else 0
    return {"ballot_number": int(ranked[0][0]), "lead_votes": ranked[0][1] - runner_up}


def pending_repeat_votes(inputs: TabulationInputs, states: list[str]) -> list[dict[str, Any]]:
    """Stations whose repeat vote (round 2 or later) is not counted yet."""
    return [
        {
            "station": station.code,
            "round": station.round_number,
            "ordered_at": station.ordered_at.isoformat() if station.ordered_at else None,
            "voting_date": station.voting_date.isoformat() if station.voting_date else None,
        }
        for station, state in zip(inputs.stations, states, strict=True)
        if state != COUNTED and (station.round_number or 0) > 1
    ]


# --- The inputs hash ---------------------------------------------------------------------


def inputs_hash(inputs: TabulationInputs, raised: list[Raised]) -> str:
    """SHA-256 over what a tabulation reads: the election's setup, each
    station's place in the count, the accepted records that went in with
    their votes, the drawing of lots, the decisions and the flags (the
    findings the station rows publish, including the ones this run raises),
    the repeat votes and the annulled rounds with their records. Same
    inputs, same hash: then no new snapshot is stored."""
    material = _setup_material(inputs) | {
        "stations": [
            [s.id, s.code, s.name, s.municipality_id, s.registered, s.round_number, s.state]
            for s in inputs.stations
        ],
        # Each record by its digest, worked out once per record (RecordRow):
        # a run after one new record hashes one record's votes, not all.
        "records": [
            [row.round_id, row.digest] for _round_id, row in sorted(inputs.records.items())
        ],
        "lots_drawn": list(inputs.lots_drawn),
        # What is published, not what is withheld: a clerk's entry typed into
        # a round still being entered changes neither the rows nor the hash,
        # so it makes no new snapshot either (whose mere version would tell).
        "findings": sorted(
            [[item.round_id, item.code, item.status] for item in published_findings(inputs)]
            + [[round_id, finding.code, "open"] for round_id, finding in raised]
        ),
        "decisions": [
            [station_id, decisions] for station_id, decisions in sorted(inputs.decisions.items())
        ],
    }
    material.update(_repeat_vote_material(inputs))
    # repr of nested lists of ints, strings, booleans, None and datetimes is
    # deterministic and much cheaper than JSON at 200,000 votes.
    return hashlib.sha256(repr(sorted(material.items())).encode("utf-8")).hexdigest()


def _setup_material(inputs: TabulationInputs) -> dict[str, Any]:
    election = inputs.election
    return {
        "election": [
            election.slug,
            election.name,
            str(election.date),
            election.seats,
            str(election.threshold_percent),
            str(election.minority_bonus_percent),
        ],
        "municipalities": [[m.pk, m.code, m.name, m.registered] for m in inputs.municipalities],
        "lists": [
            [
                item.pk,
                item.ballot_number,
                item.name,
                item.ballot_carrier,
                item.minority,
                item.colour,
            ]
            for item in inputs.lists
        ],
        "candidates": [
            [list_id, candidate.position, candidate.name, candidate.withdrawn]
            for list_id in sorted(inputs.candidates)
            for candidate in inputs.candidates[list_id]
        ],
    }


def _repeat_vote_material(inputs: TabulationInputs) -> dict[str, Any]:
    """Published, never counted: an annulled round's figures, its ground and
    the repeat vote's date. Present only when there are some, so the hash of
    an election without repeat votes is what it was before they existed."""
    material: dict[str, Any] = {}
    repeat_votes = [
        [s.id, s.round_number, s.ordered_at, s.voting_date]
        for s in inputs.stations
        if s.ordered_at is not None or s.voting_date is not None
    ]
    if repeat_votes:
        material["repeat_votes"] = repeat_votes
    if inputs.earlier_rounds:
        material["earlier_rounds"] = [
            [
                item.round_id,
                item.station_id,
                item.number,
                item.ground,
                item.annulled_at,
                item.repeat_voting_date,
                None if item.record is None else item.record.digest,
            ]
            for _station_id, items in sorted(inputs.earlier_rounds.items())
            for item in items
        ]
    return material
