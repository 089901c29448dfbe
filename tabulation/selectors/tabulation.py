"""What tabulation reads, and the results document it builds from that.

Two halves (docs/tabulation.md):

- ``tabulation_inputs_get`` reads one election's rows: the setup, every
  station's live round, the accepted records of the rounds whose status is
  ``accepted``, and the aggregates by municipality as two SQL ``GROUP BY``
  queries (record fields per municipality, votes per municipality and list);
  and, to publish but never to count, the annulled rounds with their live
  accepted records, votes and annulling decisions.
  The caller runs it inside one transaction, so every query sees the same
  rows.
- ``results_build`` is pure: from those inputs it raises the checks that
  need context (W1, W5, U2), allocates seats and mandates, works out
  whether the outstanding stations can still change a seat, and returns the
  document of docs/results-format.md (without the fields only the stored
  snapshot knows: version, published_at, audit head), the station rows
  published beside it, and the material of the inputs hash.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from fractions import Fraction
from functools import lru_cache
from typing import Any

from django.db.models import Count, Max, Sum

from tabulation.domain.checks import identical_records, record_not_received, turnout_outliers
from tabulation.domain.codes import CHECKS
from tabulation.domain.exact import fraction_rounded, fraction_to_string, share_percent
from tabulation.domain.mandates import Candidate as DomainCandidate
from tabulation.domain.mandates import assign_mandates
from tabulation.domain.record import Finding as DomainFinding
from tabulation.domain.record import Record
from tabulation.domain.rounds import WITH_RECORD, current_round_by_station
from tabulation.domain.seats import ElectoralList as SeatList
from tabulation.domain.seats import allocate_seats
from tabulation.domain.settled import seats_settled
from tabulation.models import (
    AcceptedRecord,
    AcceptedVote,
    Candidate,
    Decision,
    Election,
    ElectoralList,
    Finding,
    Municipality,
    PollingStation,
    RecordFields,
    ResultSnapshot,
    StationRound,
)

RECORD_FIELDS = RecordFields.RECORD_FIELD_NAMES
FORMAT_VERSION = 1

# A station's place in the count, from the status of its latest round.
COUNTED, HELD, ANNULLED, AWAITING = "counted", "held", "annulled", "awaiting"

# The codes tabulation raises itself: the checks that need context.
CONTEXT_CODES = ("W1", "W5", "U2")


@dataclass(frozen=True, slots=True)
class StationRow:
    id: int
    code: str
    name: str
    number: int
    address: str
    municipality_id: int
    registered: int
    round_id: int | None
    round_number: int | None
    round_status: str | None
    ordered_at: datetime | None
    # The date a repeat vote (a round ordered by a decision) is held.
    voting_date: date | None = None

    @property
    def state(self) -> str:
        if self.round_status == StationRound.Status.ACCEPTED:
            return COUNTED
        if self.round_status == StationRound.Status.HELD:
            return HELD
        if self.round_status is None or self.round_status == StationRound.Status.ANNULLED:
            return ANNULLED
        return AWAITING


@dataclass(frozen=True, slots=True)
class RecordRow:
    round_id: int
    record_id: int
    fields: dict[str, Any]
    votes: tuple[tuple[int, int], ...]  # (ballot number, votes), by ballot number


@dataclass(frozen=True, slots=True)
class EarlierRound:
    """An annulled round of a station: published with it, never counted."""

    round_id: int
    station_id: int
    number: int
    ground: str | None  # the code the annulment rests on (its decision's payload)
    annulled_at: datetime | None  # when the annulling decision was taken
    repeat_voting_date: date | None  # the repeat vote it ordered
    record: RecordRow | None  # its live accepted record, if it had one


@dataclass(frozen=True, slots=True)
class MunicipalityTotals:
    counted: int = 0
    registered_counted: int = 0
    turned_out: int = 0
    voted: int = 0
    invalid: int = 0
    valid: int = 0


@dataclass(slots=True)
class TabulationInputs:
    election: Election
    municipalities: list[Municipality]
    lists: list[ElectoralList]
    candidates: dict[int, list[DomainCandidate]]  # list id -> candidates
    stations: list[StationRow]
    records: dict[int, RecordRow]  # round id -> accepted record
    municipality_totals: dict[int, MunicipalityTotals]
    municipality_votes: dict[tuple[int, int], int]  # (municipality id, list id) -> votes
    lots_drawn: tuple[int, ...]  # ballot numbers, in the drawn order of priority
    # round id, code, status, params, and whether a clerk's entry raised it
    # (published only once the round's record is accepted: _published_findings)
    findings: list[tuple[int, str, str, dict[str, Any], bool]]
    decisions: dict[int, list[dict[str, Any]]]  # station id -> decisions about it
    latest_version: int
    latest_accepted_at: datetime | None = None
    read_at: datetime | None = None
    # station id -> its annulled rounds, in round order (published, never counted)
    earlier_rounds: dict[int, list[EarlierRound]] = field(default_factory=dict)


def tabulation_inputs_get(*, election_id: int, read_at: datetime | None = None) -> TabulationInputs:
    """Read everything one tabulation of ``election_id`` needs.

    Counted records are those of rounds whose status is ``accepted``: a held
    or annulled round is not counted, and a station has at most one round
    that is not annulled (a database constraint), so this is the latest
    live round of each station.
    """
    election = Election.objects.get(pk=election_id)
    municipalities = list(Municipality.objects.filter(election_id=election_id).order_by("name"))
    lists = list(ElectoralList.objects.filter(election_id=election_id).order_by("ballot_number"))
    ballot_of = {electoral_list.pk: electoral_list.ballot_number for electoral_list in lists}

    candidates: dict[int, list[DomainCandidate]] = defaultdict(list)
    for list_id, position, name, withdrawn in Candidate.objects.filter(
        electoral_list__election_id=election_id
    ).values_list("electoral_list_id", "position", "name", "withdrawn"):
        candidates[list_id].append(
            DomainCandidate(position=position, name=name, withdrawn=withdrawn)
        )

    every_round = list(
        StationRound.objects.filter(station__election_id=election_id).values_list(
            "station_id", "id", "number", "status", "ordered_at", "voting_date"
        )
    )
    rounds = current_round_by_station(every_round, lambda row: (row[0], row[2], row[3]))
    annulled = [row for row in every_round if row[3] == StationRound.Status.ANNULLED]
    # (station id, round number) -> the date that round's vote is held
    voting_dates = {(row[0], row[2]): row[5] for row in every_round if row[5] is not None}
    stations = []
    for station_id, code, name, number, address, municipality_id, registered in (
        PollingStation.objects.filter(election_id=election_id)
        .order_by("municipality__name", "number")
        .values_list("id", "code", "name", "number", "address", "municipality_id", "registered")
    ):
        latest = rounds.get(station_id)
        stations.append(
            StationRow(
                id=station_id,
                code=code,
                name=name,
                number=number,
                address=address,
                municipality_id=municipality_id,
                registered=registered,
                round_id=latest[1] if latest else None,
                round_number=latest[2] if latest else None,
                round_status=latest[3] if latest else None,
                ordered_at=latest[4] if latest else None,
                voting_date=latest[5] if latest else None,
            )
        )

    counted = AcceptedRecord.objects.filter(
        round__station__election_id=election_id,
        round__status=StationRound.Status.ACCEPTED,
        superseded_at__isnull=True,
    )
    # 200,000 vote rows at national scale: gathered as plain tuples per
    # record, then sorted once, so nothing downstream sorts them again.
    votes_of: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for record_id, list_id, votes in AcceptedVote.objects.filter(
        accepted_record__round__station__election_id=election_id,
        accepted_record__round__status=StationRound.Status.ACCEPTED,
        accepted_record__superseded_at__isnull=True,
    ).values_list("accepted_record_id", "electoral_list_id", "votes"):
        votes_of[record_id].append((ballot_of[list_id], votes))
    records: dict[int, RecordRow] = {}
    for values in counted.values_list("round_id", "id", *RECORD_FIELDS):
        records[values[0]] = RecordRow(
            round_id=values[0],
            record_id=values[1],
            fields=dict(zip(RECORD_FIELDS, values[2:], strict=True)),
            votes=tuple(sorted(votes_of.get(values[1], ()))),
        )

    municipality_totals, municipality_votes = municipality_aggregates_get(election_id=election_id)

    lots_drawn: tuple[int, ...] = ()
    drawing = (
        Decision.objects.filter(election_id=election_id, kind=Decision.Kind.DRAWING_OF_LOTS)
        .order_by("-decided_at", "-pk")
        .values_list("payload", flat=True)
        .first()
    )
    if isinstance(drawing, dict):
        lots_drawn = tuple(int(number) for number in drawing.get("lots_drawn", ()))

    findings = [
        (round_id, code, status, params or {}, entry_id is not None)
        for round_id, code, status, params, entry_id in Finding.objects.filter(
            round__station__election_id=election_id
        )
        .order_by("round_id", "code", "pk")
        .values_list("round_id", "code", "status", "message_params", "entry_id")
    ]
    decisions: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for station_id, round_station_id, kind, reason, decided_at in (
        Decision.objects.filter(election_id=election_id)
        .exclude(station__isnull=True, round__isnull=True)
        .order_by("decided_at", "pk")
        .values_list("station_id", "round__station_id", "kind", "reason", "decided_at")
    ):
        decisions[station_id or round_station_id].append(
            {"kind": kind, "reason": reason, "decided_at": decided_at.isoformat()}
        )
    latest_version = (
        ResultSnapshot.objects.filter(election_id=election_id).aggregate(latest=Max("version"))[
            "latest"
        ]
        or 0
    )
    earlier_rounds = (
        _earlier_rounds_get(
            election_id=election_id,
            annulled=annulled,
            voting_dates=voting_dates,
            ballot_of=ballot_of,
        )
        if annulled
        else {}
    )
    return TabulationInputs(
        election=election,
        municipalities=municipalities,
        lists=lists,
        candidates=dict(candidates),
        stations=stations,
        records=records,
        municipality_totals=municipality_totals,
        municipality_votes=municipality_votes,
        lots_drawn=lots_drawn,
        findings=findings,
        decisions=dict(decisions),
        latest_version=latest_version,
        read_at=read_at,
        earlier_rounds=earlier_rounds,
    )


def _iso_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _earlier_rounds_get(
    *,
    election_id: int,
    annulled: list[tuple[Any, ...]],
    voting_dates: dict[tuple[int, int], date],
    ballot_of: dict[int, int],
) -> dict[int, list[EarlierRound]]:
    """The annulled rounds (``annulled``: the rows of the rounds query) with
    what they leave on the record, in three queries whatever the number of
    stations: their live accepted records, those records' votes, and the
    decisions that annulled them. Never counted (RULES.md section 4); read
    for the station rows and the inputs hash only.
    """
    live_annulled = {
        "round__station__election_id": election_id,
        "round__status": StationRound.Status.ANNULLED,
        "superseded_at__isnull": True,
    }
    votes_of: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for record_id, list_id, votes in AcceptedVote.objects.filter(
        **{f"accepted_record__{name}": value for name, value in live_annulled.items()}
    ).values_list("accepted_record_id", "electoral_list_id", "votes"):
        votes_of[record_id].append((ballot_of[list_id], votes))
    records: dict[int, RecordRow] = {}
    for values in AcceptedRecord.objects.filter(**live_annulled).values_list(
        "round_id", "id", *RECORD_FIELDS
    ):
        records[values[0]] = RecordRow(
            round_id=values[0],
            record_id=values[1],
            fields=dict(zip(RECORD_FIELDS, values[2:], strict=True)),
            votes=tuple(sorted(votes_of.get(values[1], ()))),
        )
    # The latest annulling decision of each round (there is one: an annulled
    # round cannot be annulled again).
    decisions: dict[int, tuple[dict[str, Any], datetime | None]] = {}
    for round_id, payload, decided_at in (
        Decision.objects.filter(
            election_id=election_id,
            kind=Decision.Kind.ANNUL_AND_ORDER_REPEAT,
            round__status=StationRound.Status.ANNULLED,
        )
        .order_by("decided_at", "pk")
        .values_list("round_id", "payload", "decided_at")
    ):
        decisions[round_id] = (payload if isinstance(payload, dict) else {}, decided_at)

    earlier: dict[int, list[EarlierRound]] = defaultdict(list)
    for station_id, round_id, number, _status, _ordered_at, _voting_date in sorted(
        annulled, key=lambda row: (row[0], row[2])
    ):
        decided, annulled_at = decisions.get(round_id, ({}, None))
        ground = decided.get("ground")
        earlier[station_id].append(
            EarlierRound(
                round_id=round_id,
                station_id=station_id,
                number=number,
                ground=str(ground) if ground else None,
                annulled_at=annulled_at,
                # The repeat round's own date; the decision's when it has none.
                repeat_voting_date=voting_dates.get((station_id, number + 1))
                or _iso_date(decided.get("voting_date")),
                record=records.get(round_id),
            )
        )
    return dict(earlier)


def municipality_aggregates_get(
    *, election_id: int
) -> tuple[dict[int, MunicipalityTotals], dict[tuple[int, int], int]]:
    """The municipality level of the counted records, as two SQL ``GROUP BY``
    queries: the record fields per municipality, and the votes per
    (municipality, list id). The whole election is summed from these rows.

    Part of ``tabulation_inputs_get`` (run it in the same transaction);
    separate so that the benchmark can time the aggregation alone.
    """
    counted = AcceptedRecord.objects.filter(
        round__station__election_id=election_id,
        round__status=StationRound.Status.ACCEPTED,
        superseded_at__isnull=True,
    )
    totals = {
        row["round__station__municipality_id"]: MunicipalityTotals(
            counted=row["counted"],
            registered_counted=row["registered_counted"] or 0,
            turned_out=row["turned_out"] or 0,
            voted=row["voted"] or 0,
            invalid=row["invalid"] or 0,
            valid=row["valid"] or 0,
        )
        for row in counted.values("round__station__municipality_id").annotate(
            counted=Count("id"),
            registered_counted=Sum("round__station__registered"),
            turned_out=Sum("turned_out"),
            voted=Sum("ballots_in_box"),
            invalid=Sum("ballots_invalid"),
            valid=Sum("ballots_valid"),
        )
    }
    votes = (
        AcceptedVote.objects.filter(
            accepted_record__round__station__election_id=election_id,
            accepted_record__round__status=StationRound.Status.ACCEPTED,
            accepted_record__superseded_at__isnull=True,
        )
        .values("accepted_record__round__station__municipality_id", "electoral_list_id")
        .annotate(total=Sum("votes"))
        .values_list(
            "accepted_record__round__station__municipality_id", "electoral_list_id", "total"
        )
    )
    return totals, {
        (municipality_id, list_id): total or 0 for municipality_id, list_id, total in votes
    }


# --- The pure half: from the rows to the document ------------------------------------


@dataclass(slots=True)
class BuiltResults:
    """What one tabulation computes from its inputs."""

    # docs/results-format.md without the fields of the stored snapshot
    # (version, published_at, inputs_hash, audit_head, audit_count).
    document: dict[str, Any]
    stations: list[dict[str, Any]]
    # Context findings not raised before for that round (any status).
    findings_to_raise: list[tuple[int, DomainFinding]] = field(default_factory=list)
    inputs_hash: str = ""


def _quotient_text(value: Fraction) -> str:
    # Quotients such as 1000/3 have no exact decimal; shown to 2 places.
    return str(fraction_rounded(value, 2))


def _record(row: RecordRow) -> Record:
    return Record(**row.fields, votes=row.votes)


@lru_cache(maxsize=4096)
def _turnout_outliers(
    rows: tuple[tuple[str, int | None, int], ...],
) -> tuple[tuple[str, DomainFinding], ...]:
    """W1 for one municipality, remembered: during a burst most
    municipalities are unchanged from one run to the next, and the exact
    median and MAD are the dearest part of a run at national scale."""
    return tuple(turnout_outliers(rows).items())


def _context_findings(
    inputs: TabulationInputs, counted: list[StationRow], now: datetime
) -> list[tuple[int, DomainFinding]]:
    """W1 per municipality, W5 across the election, U2 after the deadline."""
    raised: list[tuple[int, DomainFinding]] = []
    round_of = {
        station.code: station.round_id for station in counted if station.round_id is not None
    }
    by_municipality: dict[int, list[tuple[str, int | None, int]]] = defaultdict(list)
    for station in counted:
        assert station.round_id is not None
        record = inputs.records[station.round_id]
        by_municipality[station.municipality_id].append(
            (station.code, record.fields["turned_out"], station.registered)
        )
    for rows in by_municipality.values():
        for code, finding in _turnout_outliers(tuple(rows)):
            raised.append((round_of[code], finding))
    records = {
        station.code: _record(inputs.records[station.round_id])
        for station in counted
        if station.round_id is not None
    }
    for code, finding in identical_records(records).items():
        raised.append((round_of[code], finding))
    deadline = inputs.election.entry_deadline
    if deadline is not None and now > deadline:
        # The deadline is election night's; a repeat vote (a round ordered
        # by a decision) is held later and has a timetable of its own.
        for station in inputs.stations:
            if (
                station.round_id is not None
                and station.round_status == StationRound.Status.AWAITING
                and station.ordered_at is None
            ):
                raised.append((station.round_id, record_not_received(station.code)))
    already = {(round_id, code) for round_id, code, *_rest in inputs.findings}
    return sorted(
        (item for item in raised if (item[0], item[1].code) not in already),
        key=lambda item: (item[0], item[1].code),
    )


def inputs_hash(inputs: TabulationInputs, raised: list[tuple[int, DomainFinding]]) -> str:
    """SHA-256 over what a tabulation reads: the election's setup, each
    station's place in the count, the accepted records that went in with
    their votes, the drawing of lots, the decisions and the flags (the
    findings the station rows publish, including the ones this run raises),
    the repeat votes and the annulled rounds with their records. Same
    inputs, same hash: then no new snapshot is stored."""
    election = inputs.election
    # What is published, not what is withheld: a clerk's entry typed into a
    # round still being entered changes neither the rows nor the hash, so it
    # makes no new snapshot either (whose mere version would tell a reader).
    published = _published_findings(inputs)
    material = {
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
        "stations": [
            [s.id, s.code, s.name, s.municipality_id, s.registered, s.round_number, s.state]
            for s in inputs.stations
        ],
        "records": [
            [
                row.round_id,
                row.record_id,
                [row.fields[name] for name in RECORD_FIELDS],
                # A list, as the sorted pairs were when the hash was defined.
                list(row.votes),
            ]
            for _round_id, row in sorted(inputs.records.items())
        ],
        "lots_drawn": list(inputs.lots_drawn),
        "findings": sorted(
            [[round_id, code, status] for round_id, code, status, _params in published]
            + [[round_id, finding.code, "open"] for round_id, finding in raised]
        ),
        "decisions": [
            [station_id, decisions] for station_id, decisions in sorted(inputs.decisions.items())
        ],
    }
    # Published, never counted: an annulled round's figures, its ground and
    # the repeat vote's date. Added only when there are some, so the hash of
    # an election without repeat votes is what it was before they existed.
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
                None
                if item.record is None
                else [
                    item.record.record_id,
                    [item.record.fields[name] for name in RECORD_FIELDS],
                    list(item.record.votes),
                ],
            ]
            for _station_id, items in sorted(inputs.earlier_rounds.items())
            for item in items
        ]
    # repr of nested lists of ints, strings, booleans, None and datetimes is
    # deterministic and much cheaper than JSON at 200,000 votes.
    return hashlib.sha256(repr(sorted(material.items())).encode("utf-8")).hexdigest()


def results_build(inputs: TabulationInputs, *, now: datetime) -> BuiltResults:
    """The results document, the station rows and the new context findings.

    Seats by ``allocate_seats`` (with the commission's drawing of lots),
    whether they can still change by ``seats_settled`` (outstanding = the
    registered voters of every station not counted: awaiting, entries
    pending, held or annulled), mandates by ``assign_mandates``
    (RULES.md section 3).
    """
    election = inputs.election
    counted = [
        station
        for station in inputs.stations
        if station.state == COUNTED and station.round_id in inputs.records
    ]
    raised = _context_findings(inputs, counted, now)

    def state_of(station: StationRow) -> str:
        # An "accepted" round without its accepted record cannot be counted.
        if station.state == COUNTED and station.round_id not in inputs.records:
            return AWAITING
        return station.state

    totals = MunicipalityTotals(
        counted=sum(item.counted for item in inputs.municipality_totals.values()),
        registered_counted=sum(
            item.registered_counted for item in inputs.municipality_totals.values()
        ),
        turned_out=sum(item.turned_out for item in inputs.municipality_totals.values()),
        voted=sum(item.voted for item in inputs.municipality_totals.values()),
        invalid=sum(item.invalid for item in inputs.municipality_totals.values()),
        valid=sum(item.valid for item in inputs.municipality_totals.values()),
    )
    list_votes: dict[int, int] = defaultdict(int)
    for (_municipality_id, list_id), votes in inputs.municipality_votes.items():
        list_votes[list_id] += votes
    registered_total = sum(station.registered for station in inputs.stations)
    outstanding = registered_total - totals.registered_counted
    # The threshold base is the ballots in the box; an accepted record can
    # never carry fewer ballots than votes, but the allocation must not fail
    # on one that does (it is then the votes that count).
    voted = max(totals.voted, sum(list_votes.values()))

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
    settlement = seats_settled(
        seats=election.seats,
        lists=seat_lists,
        voted=voted,
        threshold_percent=election.threshold_percent,
        minority_bonus_percent=election.minority_bonus_percent,
        outstanding_registered=outstanding,
    )
    allocation = settlement.allocation
    if inputs.lots_drawn:
        # seats_settled allocates without the drawing; the seats published
        # are those with it.
        allocation = allocate_seats(
            seats=election.seats,
            lists=seat_lists,
            voted=voted,
            threshold_percent=election.threshold_percent,
            minority_bonus_percent=election.minority_bonus_percent,
            lots_drawn=[str(number) for number in inputs.lots_drawn],
        )
    settled_by_list = settlement.settled_by_list()
    results = {result.list_id: result for result in allocation.lists}
    mandates = {
        assignment.list_id: assignment
        for assignment in assign_mandates(
            allocation.seats_by_list(),
            {str(item.ballot_number): inputs.candidates.get(item.pk, []) for item in inputs.lists},
        )
    }

    lists_document = []
    for item in inputs.lists:
        key = str(item.ballot_number)
        result = results[key]
        lists_document.append(
            {
                "ballot_number": item.ballot_number,
                "name": item.name,
                "ballot_carrier": item.ballot_carrier,
                "minority": item.minority,
                "colour": item.colour,
                "votes": result.votes,
                "percent": str(share_percent(result.votes, voted)),
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
                    for candidate in mandates[key].elected
                ],
            }
        )

    def quotient_data(quotient: Any) -> dict[str, Any] | None:
        if quotient is None:
            return None
        return {"ballot_number": int(quotient.list_id), "quotient": _quotient_text(quotient.value)}

    stations_by_municipality: dict[int, list[StationRow]] = defaultdict(list)
    for station in inputs.stations:
        stations_by_municipality[station.municipality_id].append(station)
    municipalities_document = []
    for municipality in inputs.municipalities:
        own_totals = inputs.municipality_totals.get(municipality.pk, MunicipalityTotals())
        by_ballot = {
            str(item.ballot_number): inputs.municipality_votes.get((municipality.pk, item.pk), 0)
            for item in inputs.lists
        }
        ranked = sorted(
            inputs.lists, key=lambda item: (-by_ballot[str(item.ballot_number)], item.ballot_number)
        )
        leader = None
        if ranked and by_ballot[str(ranked[0].ballot_number)] > 0:
            runner_up = by_ballot[str(ranked[1].ballot_number)] if len(ranked) > 1 else 0
            leader = {
                "ballot_number": ranked[0].ballot_number,
                "lead_votes": by_ballot[str(ranked[0].ballot_number)] - runner_up,
            }
        municipalities_document.append(
            {
                "code": municipality.code,
                "name": municipality.name,
                "stations": {
                    "counted": own_totals.counted,
                    "total": len(stations_by_municipality[municipality.pk]),
                },
                "registered": municipality.registered,
                "registered_counted": own_totals.registered_counted,
                "turned_out": own_totals.turned_out,
                "voted": own_totals.voted,
                "invalid": own_totals.invalid,
                "valid": own_totals.valid,
                "turnout_percent": str(
                    share_percent(own_totals.turned_out, own_totals.registered_counted)
                ),
                "votes": by_ballot,
                "leader": leader,
            }
        )

    states = [state_of(station) for station in inputs.stations]
    document: dict[str, Any] = {
        "format": FORMAT_VERSION,
        "election": {
            "slug": election.slug,
            "name": election.name,
            "date": str(election.date),
            "seats": election.seats,
            "threshold_percent": fraction_to_string(Fraction(election.threshold_percent)),
            "minority_bonus_percent": fraction_to_string(Fraction(election.minority_bonus_percent)),
        },
        "status": ResultSnapshot.Kind.PROVISIONAL.value,
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
        "settled": settlement.settled and not allocation.lots_required,
        "lots_required": [int(list_id) for list_id in allocation.lots_required],
        "seats_to_draw": allocation.seats_to_draw,
        "vacant_seats": allocation.vacant_seats,
        "lists": lists_document,
        "seat_explanation": {
            "last_seat": quotient_data(allocation.last_seat),
            "first_missed": quotient_data(allocation.first_missed),
            "margin": None if allocation.margin is None else _quotient_text(allocation.margin),
        },
        "municipalities": municipalities_document,
        "pending_repeat_votes": [
            {
                "station": station.code,
                "round": station.round_number,
                "ordered_at": station.ordered_at.isoformat() if station.ordered_at else None,
                "voting_date": station.voting_date.isoformat() if station.voting_date else None,
            }
            for station, state in zip(inputs.stations, states, strict=True)
            if state != COUNTED and (station.round_number or 0) > 1
        ],
    }
    return BuiltResults(
        document=document,
        stations=_station_rows(inputs, states, raised),
        findings_to_raise=raised,
        inputs_hash=inputs_hash(inputs, raised),
    )


def _published_findings(inputs: TabulationInputs) -> list[tuple[int, str, str, dict[str, Any]]]:
    """The stored findings a station row may publish: all of them for a
    round whose record is accepted (``accepted`` or ``held``) and for an
    annulled round that had an accepted record; for any other round only
    those no clerk's entry raised (tabulation's U2, the commission's own
    grounds). An entry's findings carry what the clerk typed (C1's "actual"
    is the typed number): the count stays secret until it is accepted
    (STYLE.md rule 13; the second entry is blind, RULES.md section 4)."""
    accepted = {
        station.round_id
        for station in inputs.stations
        if station.round_id is not None and station.round_status in WITH_RECORD
    }
    accepted.update(
        item.round_id
        for items in inputs.earlier_rounds.values()
        for item in items
        if item.record is not None
    )
    return [
        (round_id, code, status, params)
        for round_id, code, status, params, from_entry in inputs.findings
        if not from_entry or round_id in accepted
    ]


def _station_rows(
    inputs: TabulationInputs, states: list[str], raised: list[tuple[int, DomainFinding]]
) -> list[dict[str, Any]]:
    """One row per station, published beside the document (stations.json):
    its latest round, then ``earlier_rounds``, every annulled round with its
    record as it stood, never counted. Findings as ``_published_findings``
    lets them out: none that a clerk typed before the record is accepted."""
    code_of = {municipality.pk: municipality.code for municipality in inputs.municipalities}
    findings: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for round_id, code, status, params in _published_findings(inputs):
        findings[round_id].append(
            {"code": code, "status": status, "message": CHECKS[code].title, "params": params}
            if code in CHECKS
            else {"code": code, "status": status, "message": "", "params": params}
        )
    for round_id, finding in raised:
        findings[round_id].append(
            {
                "code": finding.code,
                "status": Finding.Status.OPEN.value,
                "message": finding.message,
                "params": finding.params_dict(),
            }
        )
    blank = dict.fromkeys(RECORD_FIELDS)
    rows = []
    for station, state in zip(inputs.stations, states, strict=True):
        record = (
            inputs.records.get(station.round_id)
            if state == COUNTED and station.round_id is not None
            else None
        )
        row: dict[str, Any] = {
            "code": station.code,
            "municipality": code_of.get(station.municipality_id, ""),
            "number": station.number,
            "name": station.name,
            "address": station.address,
            "registered_in_register": station.registered,
            "status": state,
            "round": station.round_number,
        }
        # The record's fields, or blanks: in RECORD_FIELDS order either way.
        row.update(blank if record is None else record.fields)
        row["votes"] = (
            {} if record is None else {str(number): votes for number, votes in record.votes}
        )
        row["findings"] = findings.get(station.round_id, []) if station.round_id else []
        row["decisions"] = inputs.decisions.get(station.id, [])
        row["earlier_rounds"] = [
            _earlier_round_row(item, findings.get(item.round_id, []), blank)
            for item in inputs.earlier_rounds.get(station.id, ())
        ]
        rows.append(row)
    return rows


def _earlier_round_row(
    item: EarlierRound, findings: list[dict[str, Any]], blank: dict[str, Any]
) -> dict[str, Any]:
    """One annulled round as published: what annulled it, then its record."""
    row: dict[str, Any] = {
        "round": item.number,
        "status": ANNULLED,
        "ground": item.ground,
        "annulled_at": item.annulled_at.isoformat() if item.annulled_at else None,
        "repeat_voting_date": (
            item.repeat_voting_date.isoformat() if item.repeat_voting_date else None
        ),
    }
    row.update(blank if item.record is None else item.record.fields)
    row["votes"] = (
        {} if item.record is None else {str(number): votes for number, votes in item.record.votes}
    )
    row["findings"] = findings
    return row
