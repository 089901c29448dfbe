"""What tabulation reads (docs/tabulation.md).

``tabulation_inputs_get`` reads one election's rows into the plain
``TabulationInputs`` of ``domain/results_inputs.py``: the setup, every
station with its current round, the accepted records of the rounds whose
status is ``accepted``, and the aggregates by municipality as two SQL
``GROUP BY`` queries (record fields per municipality, votes per municipality
and list); and, to publish but never to count, the annulled rounds with their
live accepted records, votes and annulling decisions. The caller runs it
inside one transaction, so every query sees the same rows.
``domain/results.py`` computes the published documents from it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from django.db.models import Count, Max, Sum

from tabulation.domain.mandates import Candidate as DomainCandidate
from tabulation.domain.results_inputs import (
    EarlierRound,
    MunicipalityTotals,
    RecordRow,
    StationRow,
    StoredFinding,
    TabulationInputs,
)
from tabulation.domain.rounds import current_round_by_station
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
from tabulation.selectors.published import iso_date

RECORD_FIELDS = RecordFields.RECORD_FIELD_NAMES


def tabulation_inputs_get(*, election_id: int, read_at: datetime | None = None) -> TabulationInputs:
    """Read everything one tabulation of ``election_id`` needs.

    Counted records are those of rounds whose status is ``accepted``: a held
    or annulled round is not counted, and each station is read with its
    current round (``domain.rounds.current_round``).
    """
    lists = list(ElectoralList.objects.filter(election_id=election_id).order_by("ballot_number"))
    ballot_of = {electoral_list.pk: electoral_list.ballot_number for electoral_list in lists}
    every_round = list(
        StationRound.objects.filter(station__election_id=election_id).values_list(
            "station_id", "id", "number", "status", "ordered_at", "voting_date"
        )
    )
    annulled = [row for row in every_round if row[3] == StationRound.Status.ANNULLED]
    municipality_totals, municipality_votes = municipality_aggregates_get(election_id=election_id)
    return TabulationInputs(
        election=Election.objects.get(pk=election_id),
        municipalities=list(Municipality.objects.filter(election_id=election_id).order_by("name")),
        lists=list(lists),
        candidates=_candidates_get(election_id),
        stations=_stations_get(election_id, every_round),
        records=_records_get(
            ballot_of,
            round__station__election_id=election_id,
            round__status=StationRound.Status.ACCEPTED,
        ),
        municipality_totals=municipality_totals,
        municipality_votes=municipality_votes,
        lots_drawn=_lots_drawn_get(election_id),
        findings=_findings_get(election_id),
        decisions=_decisions_get(election_id),
        latest_version=ResultSnapshot.objects.filter(election_id=election_id).aggregate(
            latest=Max("version")
        )["latest"]
        or 0,
        read_at=read_at,
        earlier_rounds=(
            _earlier_rounds_get(
                election_id=election_id,
                annulled=annulled,
                every_round=every_round,
                ballot_of=ballot_of,
            )
            if annulled
            else {}
        ),
    )


def _candidates_get(election_id: int) -> dict[int, list[DomainCandidate]]:
    """Each list's candidates (by list id), in the order they were imported."""
    candidates: dict[int, list[DomainCandidate]] = defaultdict(list)
    for list_id, position, name, withdrawn in Candidate.objects.filter(
        electoral_list__election_id=election_id
    ).values_list("electoral_list_id", "position", "name", "withdrawn"):
        candidates[list_id].append(
            DomainCandidate(position=position, name=name, withdrawn=withdrawn)
        )
    return dict(candidates)


def _stations_get(election_id: int, every_round: list[tuple[Any, ...]]) -> list[StationRow]:
    """Every station with its current round, by municipality name and number.
    ``every_round``: (station id, id, number, status, ordered_at, voting_date)."""
    rounds = current_round_by_station(every_round, lambda row: (row[0], row[2], row[3]))
    stations = []
    for station_id, code, name, number, address, municipality_id, registered in (
        PollingStation.objects.filter(election_id=election_id)
        .order_by("municipality__name", "number")
        .values_list("id", "code", "name", "number", "address", "municipality_id", "registered")
    ):
        current = rounds.get(station_id) or (None,) * 6
        stations.append(
            StationRow(
                id=station_id,
                code=code,
                name=name,
                number=number,
                address=address,
                municipality_id=municipality_id,
                registered=registered,
                round_id=current[1],
                round_number=current[2],
                round_status=current[3],
                ordered_at=current[4],
                voting_date=current[5],
            )
        )
    return stations


# Every accepted record read so far in this process, by (id, accepted_at):
# a record never changes once stored (migration 0009), so a run reads the
# figures and votes of the records it has not seen and takes the rest from
# here ("What a run redoes", docs/tabulation.md). accepted_at is in the key
# because an id alone names one record only once committed: a test's rolled
# back transaction gives the same id again, to another record. Emptied
# when it grows past RECORDS_KEPT (two Serbia-scale elections fit).
_records_seen: dict[tuple[int, datetime], RecordRow] = {}
# The ballot number of each list (by id) when the records above were read:
# their votes are kept by ballot number, so a renumbered list empties them.
_ballots_seen: dict[int, int] = {}
RECORDS_KEPT = 20_000
# Above this many unseen records one query reads them all, not each by id.
UNSEEN_BY_ID = 500


def records_memo_clear() -> None:
    """Forget the records read so far in this process (tests that start over)."""
    _records_seen.clear()
    _ballots_seen.clear()


def _records_get(ballot_of: dict[int, int], **rounds: Any) -> dict[int, RecordRow]:
    """The live accepted records of the rounds that ``rounds`` (lookups on
    the record's ``round``) selects, with their votes, by round id.

    One query for the live records' ids; then, for those not seen before in
    this process, two more: their figures, and their votes, gathered as
    plain tuples per record and sorted once, so nothing downstream sorts
    them again (200,000 vote rows at national scale, the first time).
    """
    if any(_ballots_seen.get(list_id, number) != number for list_id, number in ballot_of.items()):
        _records_seen.clear()
    _ballots_seen.update(ballot_of)
    live = AcceptedRecord.objects.filter(**rounds, superseded_at__isnull=True)
    heads = list(live.values_list("round_id", "id", "accepted_at"))
    unseen = [
        (record_id, at)
        for _round_id, record_id, at in heads
        if (record_id, at) not in _records_seen
    ]
    if unseen:
        if len(_records_seen) + len(unseen) > RECORDS_KEPT:
            _records_seen.clear()
        ids = [record_id for record_id, _at in unseen]
        by_id = len(unseen) <= UNSEEN_BY_ID
        records = live.filter(id__in=ids) if by_id else live
        votes = (
            AcceptedVote.objects.filter(accepted_record_id__in=ids)
            if by_id
            else AcceptedVote.objects.filter(accepted_record__in=live)
        )
        votes_of: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for record_id, list_id, count in votes.values_list(
            "accepted_record_id", "electoral_list_id", "votes"
        ):
            votes_of[record_id].append((ballot_of[list_id], count))
        for values in records.values_list("round_id", "id", "accepted_at", *RECORD_FIELDS):
            if (values[1], values[2]) in _records_seen:
                continue  # read again by the one query for many: already worked out
            _records_seen[(values[1], values[2])] = RecordRow(
                round_id=values[0],
                record_id=values[1],
                fields=dict(zip(RECORD_FIELDS, values[3:], strict=True)),
                votes=tuple(sorted(votes_of.get(values[1], ()))),
            )
    return {round_id: _records_seen[(record_id, at)] for round_id, record_id, at in heads}


def _lots_drawn_get(election_id: int) -> tuple[int, ...]:
    """The ballot numbers of the latest drawing of lots, in drawn order."""
    drawing = (
        Decision.objects.filter(election_id=election_id, kind=Decision.Kind.DRAWING_OF_LOTS)
        .order_by("-decided_at", "-pk")
        .values_list("payload", flat=True)
        .first()
    )
    if not isinstance(drawing, dict):
        return ()
    return tuple(int(number) for number in drawing.get("lots_drawn", ()))


def _findings_get(election_id: int) -> list[StoredFinding]:
    """Every stored finding, with the message template it was raised with."""
    findings = []
    for round_id, code, status, stored, entry_id in (
        Finding.objects.filter(round__station__election_id=election_id)
        .order_by("round_id", "code", "pk")
        .values_list("round_id", "code", "status", "message_params", "entry_id")
    ):
        message, params = finding_message_split(stored)
        findings.append(
            StoredFinding(
                round_id=round_id,
                code=code,
                status=status,
                message=message,
                params=params,
                from_entry=entry_id is not None,
            )
        )
    return findings


def finding_message_split(stored: dict[str, Any] | None) -> tuple[str | None, dict[str, Any]]:
    """A stored finding's ``message_params`` as (the English template it was
    raised with, or None for a row stored without one; the parameters): the
    model keeps the template among them under ``Finding.MESSAGE_KEY``."""
    params = dict(stored or {})
    message = params.pop(Finding.MESSAGE_KEY, None)
    return (message if isinstance(message, str) else None), params


def _decisions_get(election_id: int) -> dict[int, list[dict[str, Any]]]:
    """The decisions about each station (by station id), oldest first."""
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
    return dict(decisions)


def _earlier_rounds_get(
    *,
    election_id: int,
    annulled: list[tuple[Any, ...]],
    every_round: list[tuple[Any, ...]],
    ballot_of: dict[int, int],
) -> dict[int, list[EarlierRound]]:
    """The annulled rounds (``annulled``: rows of ``every_round``, the rounds
    query) with what they leave on the record, in three queries whatever the
    number of stations: their live accepted records, those records' votes,
    and the decisions that annulled them. Never counted (RULES.md section 4);
    read for the station rows and the inputs hash only.
    """
    # (station id, round number) -> the date that round's vote is held
    voting_dates = {(row[0], row[2]): row[5] for row in every_round if row[5] is not None}
    records = _records_get(
        ballot_of,
        round__station__election_id=election_id,
        round__status=StationRound.Status.ANNULLED,
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
                or iso_date(decided.get("voting_date")),
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
