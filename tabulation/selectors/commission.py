"""Reads for the commission: the dashboard's progress and work queues, and
everything about one station (docs/commission.md).

Staff pages read the database (the public pages read published files); each
function here runs a fixed number of queries whatever the size of the
election.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from tabulation.domain.codes import CHECKS, HOLDING_CATEGORIES
from tabulation.domain.rounds import (
    ACKNOWLEDGEABLE_CATEGORIES,
    OPEN_FOR_ENTRY,
    RoundEvent,
    annulment_grounds,
    current_round_by_station,
    events_allowed,
    hours_left,
    objection_deadline,
    objection_decision_deadline,
    repeat_vote_window,
)
from tabulation.models import (
    AcceptedRecord,
    AuditEvent,
    Decision,
    Election,
    Finding,
    Municipality,
    Objection,
    PollingStation,
    RecordEntry,
    ResultSnapshot,
    StationRound,
)
from tabulation.selectors.audit import audit_head
from tabulation.selectors.stations import entry_votes, finding_row_text

# How a station stands in the commission's progress table.
PROGRESS_COLUMNS = (
    "awaiting",
    "one_entry",
    "entries_differ",
    "accepted",
    "held",
    "repeat_pending",
    "annulled",
)


@dataclass
class MunicipalityProgress:
    code: str
    name: str
    stations: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PROGRESS_COLUMNS, 0))
    registered: int = 0
    registered_counted: int = 0
    turnout_percent: str | None = None


@dataclass(frozen=True)
class QueueItem:
    """One line of a work queue: a station (or an objection, a tie) waiting."""

    station_code: str
    station_name: str
    municipality: str
    round_number: int | None
    codes: tuple[str, ...]
    since: datetime | None
    note: str = ""
    deadline: datetime | date | None = None
    hours_left: int | None = None
    object_id: int | None = None


@dataclass
class Dashboard:
    election: Election
    municipalities: list[MunicipalityProgress]
    totals: MunicipalityProgress
    queues: dict[str, list[QueueItem]]
    snapshot: dict[str, Any] | None
    objection_window_closes: datetime | None
    version: str

    @property
    def remaining(self) -> int:
        """Stations not counted plus every item in a queue: zero when
        nothing is left for the commission before certification."""
        not_counted = self.totals.stations - self.totals.counts["accepted"]
        return not_counted + sum(len(items) for items in self.queues.values())


def commission_version(election: Election) -> str:
    """Changes whenever anything the dashboard shows may have changed: every
    write appends an audit event (entries, decisions, snapshots)."""
    head = audit_head()
    return f"{election.pk}-{head.count}"


def current_rounds(election: Election) -> dict[int, StationRound]:
    """Each station's live round (else its latest), with the station."""
    return current_round_by_station(
        StationRound.objects.filter(station__election=election)
        .select_related("station__municipality")
        .order_by("station_id", "number"),
        lambda round: (round.station_id, round.number, round.status),
    )


def _progress_column(round: StationRound | None) -> str:
    if round is None:
        return "awaiting"
    status = round.status
    if status == StationRound.Status.ACCEPTED:
        return "accepted"
    if status == StationRound.Status.HELD:
        return "held"
    if status == StationRound.Status.ANNULLED:
        return "annulled"
    if round.number > 1:
        return "repeat_pending"
    if status == StationRound.Status.ENTRIES_DIFFER:
        return "entries_differ"
    if status in (StationRound.Status.FIRST_ENTRY, StationRound.Status.SECOND_ENTRY):
        return "one_entry"
    return "awaiting"


def latest_snapshot_document(election: Election) -> dict[str, Any] | None:
    snapshot = ResultSnapshot.objects.filter(election=election).order_by("-version").first()
    return snapshot.payload if snapshot is not None else None


def dashboard_get(election: Election, *, now: datetime | None = None) -> Dashboard:
    """Progress per municipality and the commission's work queues, oldest first."""
    now = now or timezone.now()
    rounds = current_rounds(election)
    snapshot = latest_snapshot_document(election)
    turnout = {row["code"]: row for row in (snapshot or {}).get("municipalities", [])}
    progress: dict[int, MunicipalityProgress] = {}
    for municipality in Municipality.objects.filter(election=election).order_by("name"):
        published = turnout.get(municipality.code, {})
        progress[municipality.pk] = MunicipalityProgress(
            code=municipality.code,
            name=municipality.name,
            registered=municipality.registered,
            registered_counted=published.get("registered_counted", 0),
            turnout_percent=(
                published.get("turnout_percent") if published.get("registered_counted") else None
            ),
        )
    annulled_stations = set(
        StationRound.objects.filter(
            station__election=election, status=StationRound.Status.ANNULLED
        ).values_list("station_id", flat=True)
    )
    for station in PollingStation.objects.filter(election=election).only("id", "municipality_id"):
        row = progress[station.municipality_id]
        row.stations += 1
        row.counts[_progress_column(rounds.get(station.pk))] += 1
        if station.pk in annulled_stations:
            row.counts["annulled"] += 1
    totals = MunicipalityProgress(code="", name="")
    for row in progress.values():
        totals.stations += row.stations
        totals.registered += row.registered
        totals.registered_counted += row.registered_counted
        for column in PROGRESS_COLUMNS:
            totals.counts[column] += row.counts[column]
    if snapshot is not None and snapshot.get("registered", {}).get("counted"):
        totals.registered_counted = snapshot["registered"]["counted"]
        totals.turnout_percent = snapshot.get("turnout_percent")

    return Dashboard(
        election=election,
        municipalities=list(progress.values()),
        totals=totals,
        queues=_queues(election, rounds, snapshot, now),
        snapshot=snapshot,
        objection_window_closes=_objection_window_closes(election),
        version=commission_version(election),
    )


def objection_window() -> timedelta:
    """72 hours, the law's window (a demo may shorten it: settings)."""
    return timedelta(minutes=settings.OBJECTION_WINDOW_MINUTES)


def _objection_window_closes(election: Election) -> datetime | None:
    first = (
        ResultSnapshot.objects.filter(election=election)
        .order_by("version")
        .values_list("created_at", flat=True)
        .first()
    )
    return objection_deadline(first, objection_window()) if first is not None else None


def _item(round: StationRound, codes: list[str], since: datetime | None, **extra: Any) -> QueueItem:
    station = round.station
    return QueueItem(
        station_code=station.code,
        station_name=station.name,
        municipality=station.municipality.name,
        round_number=round.number,
        codes=tuple(sorted(set(codes))),
        since=since,
        **extra,
    )


def _queues(
    election: Election,
    rounds: dict[int, StationRound],
    snapshot: dict[str, Any] | None,
    now: datetime,
) -> dict[str, list[QueueItem]]:
    by_round = {round.pk: round for round in rounds.values()}
    open_findings: dict[int, list[Finding]] = defaultdict(list)
    for finding in Finding.objects.filter(
        round_id__in=list(by_round), status=Finding.Status.OPEN
    ).order_by("raised_at", "pk"):
        open_findings[finding.round_id].append(finding)

    differ, held, warnings, repeats = [], [], [], []
    for round_id, round in by_round.items():
        findings = open_findings.get(round_id, [])
        if round.status == StationRound.Status.ENTRIES_DIFFER:
            differ.append(
                _item(
                    round,
                    [f.code for f in findings if f.code == "W6"] or ["W6"],
                    round.status_changed_at,
                )
            )
        # Held: an accepted record with an open R, U or S; or a ground found
        # without any entry (U2, the record not received). What the checks
        # found in entries still being typed is the clerks' to settle first.
        holding = [
            f
            for f in findings
            if f.category in HOLDING_CATEGORIES
            and (round.status == StationRound.Status.HELD or f.entry_id is None)
        ]
        if holding and round.status != StationRound.Status.ANNULLED:
            held.append(_item(round, [f.code for f in holding], holding[0].raised_at))
        acknowledge = [
            f
            for f in findings
            if f.category in ACKNOWLEDGEABLE_CATEGORIES
            and f.code != "W6"
            and round.status in (StationRound.Status.ACCEPTED, StationRound.Status.HELD)
        ]
        if acknowledge:
            warnings.append(_item(round, [f.code for f in acknowledge], acknowledge[0].raised_at))
        if round.number > 1 and round.status != StationRound.Status.ACCEPTED:
            ordered = round.ordered_at or round.created_at
            window = repeat_vote_window(timezone.localdate(ordered))
            repeats.append(
                _item(
                    round,
                    [],
                    ordered,
                    note=str(round.get_status_display()),
                    deadline=round.voting_date or window.latest,
                )
            )

    objections = []
    for objection in Objection.objects.filter(
        election=election, status=Objection.Status.OPEN
    ).select_related("station__municipality"):
        deadline = objection_decision_deadline(objection.filed_at)
        station = objection.station
        objections.append(
            QueueItem(
                station_code=station.code if station else "",
                station_name=station.name if station else "",
                municipality=station.municipality.name if station else "",
                round_number=None,
                codes=(),
                since=objection.filed_at,
                note=f"{objection.filed_by}: {objection.get_subject_display()}",
                deadline=deadline,
                hours_left=hours_left(deadline, now),
                object_id=objection.pk,
            )
        )

    ties = []
    if snapshot is not None and snapshot.get("lots_required"):
        ties.append(
            QueueItem(
                station_code="",
                station_name="",
                municipality="",
                round_number=None,
                codes=tuple(str(number) for number in snapshot["lots_required"]),
                since=None,
                note=str(snapshot.get("version", "")),
            )
        )

    def oldest_first(items: list[QueueItem]) -> list[QueueItem]:
        return sorted(items, key=lambda item: (item.since is None, item.since or now))

    return {
        "entries_differ": oldest_first(differ),
        "held": oldest_first(held),
        "warnings": oldest_first(warnings),
        "objections": oldest_first(objections),
        "repeat_votes": oldest_first(repeats),
        "ties": ties,
    }


# --- One station, as the commission sees it -----------------------------------------------


@dataclass
class EntryView:
    entry: RecordEntry
    votes: dict[int, int]


@dataclass
class RecordView:
    record: AcceptedRecord
    votes: dict[int, int]


@dataclass
class FindingView:
    finding: Finding
    text: str
    article: str | None
    title: str


@dataclass
class RoundView:
    round: StationRound
    entries: list[EntryView]
    records: list[RecordView]
    findings: list[FindingView]
    decisions: list[Decision]

    @property
    def live_entries(self) -> list[EntryView]:
        return [item for item in self.entries if item.entry.superseded_at is None]

    @property
    def live_record(self) -> RecordView | None:
        return next((item for item in self.records if item.record.superseded_at is None), None)

    @property
    def open_findings(self) -> list[FindingView]:
        return [item for item in self.findings if item.finding.status == Finding.Status.OPEN]


@dataclass
class StationActions:
    """What the station's current round allows, and to whom."""

    reconcile: bool = False
    correct: bool = False
    acknowledge: list[FindingView] = field(default_factory=list)
    annul: bool = False
    grounds: tuple[str, ...] = ()
    # Four eyes: the member typed an entry here and may decide nothing.
    own_entry: bool = False

    @property
    def any(self) -> bool:
        return self.reconcile or self.correct or bool(self.acknowledge) or self.annul


@dataclass
class StationDetail:
    station: PollingStation
    rounds: list[RoundView]
    current: RoundView | None
    objections: list[Objection]
    audit: list[AuditEvent]
    actions: StationActions


def station_detail_get(
    election: Election, code: str, *, user: Any | None = None
) -> StationDetail | None:
    """Every round of the station with its entries, records, findings and
    decisions, the objections about it, its audit events, and what the
    current round allows."""
    station = (
        PollingStation.objects.select_related("municipality", "election")
        .filter(election=election, code=code)
        .first()
    )
    if station is None:
        return None
    rounds = list(station.rounds.order_by("number").select_related("ordered_by"))
    entries: dict[int, list[EntryView]] = defaultdict(list)
    for entry in (
        RecordEntry.objects.filter(round__station=station)
        .select_related("clerk")
        .prefetch_related("votes__electoral_list")
        .order_by("round_id", "created_at", "pk")
    ):
        entries[entry.round_id].append(EntryView(entry=entry, votes=entry_votes(entry)))
    records: dict[int, list[RecordView]] = defaultdict(list)
    for record in (
        AcceptedRecord.objects.filter(round__station=station)
        .select_related("accepted_by", "decision")
        .order_by("round_id", "accepted_at", "pk")
    ):
        records[record.round_id].append(RecordView(record=record, votes=entry_votes(record)))
    findings: dict[int, list[FindingView]] = defaultdict(list)
    for finding in (
        Finding.objects.filter(round__station=station)
        .select_related("resolved_by")
        .order_by("raised_at", "pk")
    ):
        info = CHECKS.get(finding.code)
        findings[finding.round_id].append(
            FindingView(
                finding=finding,
                text=finding_row_text(finding),
                article=info.article if info else None,
                title=info.title if info else finding.code,
            )
        )
    decisions: dict[int | None, list[Decision]] = defaultdict(list)
    for decision in (
        Decision.objects.filter(Q(station=station) | Q(round__station=station))
        .select_related("decided_by")
        .order_by("decided_at", "pk")
    ):
        decisions[decision.round_id].append(decision)
    views = [
        RoundView(
            round=round,
            entries=entries.get(round.pk, []),
            records=records.get(round.pk, []),
            findings=findings.get(round.pk, []),
            decisions=decisions.get(round.pk, []),
        )
        for round in rounds
    ]
    current = next(
        (view for view in reversed(views) if view.round.status != StationRound.Status.ANNULLED),
        views[-1] if views else None,
    )
    return StationDetail(
        station=station,
        rounds=views,
        current=current,
        objections=list(
            Objection.objects.filter(station=station)
            .select_related("decided_by")
            .order_by("filed_at")
        ),
        audit=list(AuditEvent.objects.filter(station_code=station.code).order_by("sequence")),
        actions=_actions(current, station, user),
    )


def _actions(
    current: RoundView | None, station: PollingStation, user: Any | None
) -> StationActions:
    if current is None or station.election.status == Election.Status.CERTIFIED:
        return StationActions()
    own = bool(
        user is not None
        and RecordEntry.objects.filter(round__station=station, clerk_id=user.pk).exists()
    )
    allowed = events_allowed(current.round.status)
    open_codes = {item.finding.code for item in current.open_findings}
    return StationActions(
        reconcile=RoundEvent.RECONCILE_KEEP in allowed,
        correct=RoundEvent.CORRECT in allowed and current.live_record is not None,
        acknowledge=[
            item
            for item in current.open_findings
            if item.finding.category in ACKNOWLEDGEABLE_CATEGORIES and item.finding.code != "W6"
        ]
        if RoundEvent.ACKNOWLEDGE in allowed
        else [],
        annul=RoundEvent.ANNUL in allowed,
        grounds=annulment_grounds(
            open_codes=open_codes, has_record=current.live_record is not None
        ),
        own_entry=own,
    )


def round_open_for_entry(round: StationRound) -> bool:
    return round.status in OPEN_FOR_ENTRY


def objections_list(election: Election) -> list[Objection]:
    return list(
        Objection.objects.filter(election=election)
        .select_related("station", "decision", "decided_by", "registered_by")
        .order_by("-filed_at", "-pk")
    )


def decisions_list(election: Election) -> list[Decision]:
    return list(
        Decision.objects.filter(election=election)
        .select_related("station", "round__station", "decided_by")
        .order_by("-decided_at", "-pk")
    )
