"""The commission's documents: the total report (ukupan izveštaj) and the
decision on the mandates, as one read model (RULES.md section 5).

Everything comes from a published snapshot (``selectors/published.py``) and
its station rows, so a document printed from version N always says what
version N says. The one exception is the commission's proceedings (its
decisions and the objections): an official document carries them, frozen at
certification (``proceedings``); a provisional one does not, and they are read
from the database as they stand now, and the document says so.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.utils import timezone

from tabulation.models import Decision, Objection
from tabulation.selectors.published import (
    iso_date,
    iso_datetime,
    published_results_get,
    published_stations_list,
)

# The fields of a polling-board record (RULES.md section 1) a repeat vote's
# result is shown with.
REPEAT_RECORD_FIELDS = (
    "registered",
    "turned_out",
    "ballots_in_box",
    "ballots_invalid",
    "ballots_valid",
)


@dataclass(frozen=True)
class ReportList:
    """One electoral list's line in the documents."""

    ballot_number: int
    name: str
    ballot_carrier: str
    minority: bool
    votes: int
    percent: str
    seats: int
    passed_threshold: bool
    takes_part: bool
    bonus_applied: bool
    # Candidates in list order who receive the list's seats (RULES.md 3.8).
    mandates: tuple[dict[str, Any], ...]
    # Rule 7 (RULES.md 3.7): seats the list would have won with more
    # candidates, which went to other lists' next highest quotients.
    seats_passed_on: int = 0
    # Seats won with no candidate to receive them (none on file, or fewer
    # than the allocation was told): the mandates are still to be assigned.
    unfilled: int = 0


@dataclass(frozen=True)
class RepeatVote:
    """The repeat vote an annulment ordered, and its result once counted."""

    round: int | None
    voting_date: date | None
    status: str  # counted | awaiting | held | annulled | ... (the round's status)
    record: dict[str, Any] | None  # REPEAT_RECORD_FIELDS, when counted or annulled in turn
    votes: tuple[tuple[int, int], ...]  # (ballot number, votes), when it has a record


@dataclass(frozen=True)
class AnnulledRound:
    """A station's round the commission annulled (Art. 115, 116), never counted."""

    station: str
    station_name: str
    station_number: int | None
    municipality: str
    round: int
    ground: str | None
    annulled_at: datetime | None
    record: dict[str, Any] | None
    repeat: RepeatVote


@dataclass(frozen=True)
class ReportDecision:
    id: int | None
    kind: str
    station: str | None
    round: int | None
    reason: str
    decided_at: datetime | None
    decided_by: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class ReportObjection:
    id: int | None
    filed_at: datetime | None
    filed_by: str
    subject: str
    station: str | None
    decision: int | None
    grounds: str
    status: str
    decided_by_decision: int | None
    decision_reason: str | None


@dataclass(frozen=True)
class Report:
    """What the total report and the mandates decision say, for one version."""

    document: dict[str, Any]
    slug: str
    version: int
    official: bool
    election: dict[str, Any]
    election_date: date | None
    published_at: datetime | None
    certified_at: datetime | None
    certified_by: tuple[str, ...]
    certification: dict[str, Any]
    # Voters and ballots over the counted stations (RULES.md section 1).
    registered_total: int
    registered_counted: int
    turned_out: int
    voted: int
    invalid: int
    valid: int
    turnout_percent: str | None
    stations: dict[str, Any]
    # The threshold (RULES.md 3.1) and the seats.
    threshold_percent: str
    minority_bonus_percent: str
    threshold_votes: str
    threshold_votes_min: int
    seats: int
    lists: tuple[ReportList, ...]
    vacant_seats: int
    lots_required: tuple[int, ...]
    seats_to_draw: int
    lots_drawn: tuple[int, ...]
    # The annulled rounds and the repeat votes they ordered.
    annulled: tuple[AnnulledRound, ...]
    stations_published: bool
    pending_repeat_votes: tuple[dict[str, Any], ...]
    # The proceedings: frozen in the official document, or read now.
    decisions: tuple[ReportDecision, ...]
    objections: tuple[ReportObjection, ...]
    proceedings_as_of: datetime | None  # None: frozen in the document
    audit_head: str
    audit_count: int
    inputs_hash: str
    fingerprint: str = field(default="")  # changes whenever what is shown changes

    @property
    def provisional(self) -> bool:
        return not self.official

    @property
    def lists_with_seats(self) -> tuple[ReportList, ...]:
        return tuple(item for item in self.lists if item.seats)

    @property
    def votes_total(self) -> int:
        return sum(item.votes for item in self.lists)

    @property
    def seats_won(self) -> int:
        return sum(item.seats for item in self.lists)

    @property
    def seats_passed_on(self) -> int:
        return sum(item.seats_passed_on for item in self.lists)

    @property
    def elected_count(self) -> int:
        return sum(len(item.mandates) for item in self.lists)

    @property
    def open_objections(self) -> int:
        return sum(item.status == Objection.Status.OPEN for item in self.objections)


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


# --- Proceedings --------------------------------------------------------------------


def _member_name(user: Any) -> str:
    """A member as the documents name them: full name, else username (as
    certification freezes them)."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _proceedings_now(slug: str) -> dict[str, list[dict[str, Any]]]:
    """The election's decisions and objections as they stand, in the shape
    certification freezes them into the official document. Two queries."""
    decisions = []
    for decision in (
        Decision.objects.filter(election__slug=slug)
        .select_related("station", "round__station", "decided_by")
        .order_by("decided_at", "pk")
    ):
        station = decision.station or (decision.round.station if decision.round else None)
        decisions.append(
            {
                "id": decision.pk,
                "kind": decision.kind,
                "station": station.code if station is not None else None,
                "round": decision.round.number if decision.round else None,
                "reason": decision.reason,
                "decided_at": decision.decided_at.isoformat(),
                "decided_by": _member_name(decision.decided_by),
                "payload": decision.payload,
            }
        )
    objections = [
        {
            "id": objection.pk,
            "filed_at": objection.filed_at.isoformat(),
            "filed_by": objection.filed_by,
            "subject": objection.subject,
            "station": objection.station.code if objection.station else None,
            "decision": objection.decision_id,
            "grounds": objection.grounds,
            "status": objection.status,
            "decided_by_decision": objection.decided_by_id,
            "decision_reason": objection.decided_by.reason if objection.decided_by else None,
        }
        for objection in Objection.objects.filter(election__slug=slug)
        .select_related("station", "decided_by")
        .order_by("filed_at", "pk")
    ]
    return {"decisions": decisions, "objections": objections}


def _decision(item: dict[str, Any]) -> ReportDecision:
    return ReportDecision(
        id=_int_or_none(item.get("id")),
        kind=str(item.get("kind") or ""),
        station=item.get("station"),
        round=_int_or_none(item.get("round")),
        reason=str(item.get("reason") or ""),
        decided_at=iso_datetime(item.get("decided_at")),
        decided_by=str(item.get("decided_by") or ""),
        payload=dict(item.get("payload") or {}),
    )


def _objection(item: dict[str, Any]) -> ReportObjection:
    return ReportObjection(
        id=_int_or_none(item.get("id")),
        filed_at=iso_datetime(item.get("filed_at")),
        filed_by=str(item.get("filed_by") or ""),
        subject=str(item.get("subject") or ""),
        station=item.get("station"),
        decision=_int_or_none(item.get("decision")),
        grounds=str(item.get("grounds") or ""),
        status=str(item.get("status") or ""),
        decided_by_decision=_int_or_none(item.get("decided_by_decision")),
        decision_reason=item.get("decision_reason"),
    )


def _lots_drawn(decisions: tuple[ReportDecision, ...]) -> tuple[int, ...]:
    """The order of the latest drawing of lots (docs/results-format.md)."""
    for decision in reversed(decisions):
        if decision.kind == Decision.Kind.DRAWING_OF_LOTS:
            drawn = decision.payload.get("lots_drawn") or ()
            return tuple(number for number in map(_int_or_none, drawn) if number is not None)
    return ()


# --- Annulled rounds --------------------------------------------------------------------


def _record(row: dict[str, Any]) -> dict[str, Any] | None:
    record = {name: row.get(name) for name in REPEAT_RECORD_FIELDS}
    return record if any(value is not None for value in record.values()) else None


def _votes(row: dict[str, Any]) -> tuple[tuple[int, int], ...]:
    votes = row.get("votes") or {}
    return tuple(
        sorted((int(number), int(count)) for number, count in votes.items() if count is not None)
    )


def _annulled_rounds(
    stations: list[dict[str, Any]], municipalities: dict[str, str]
) -> tuple[AnnulledRound, ...]:
    """Every annulled round of every station, each with the repeat vote it
    ordered: the next annulled round, or the station's latest round."""
    annulled = []
    for row in stations:
        earlier = sorted(row.get("earlier_rounds") or (), key=lambda item: item.get("round") or 0)
        for index, item in enumerate(earlier):
            following = earlier[index + 1] if index + 1 < len(earlier) else row
            status = str(following.get("status") or "")
            has_record = status in {"counted", "annulled"}
            repeat = RepeatVote(
                round=_int_or_none(following.get("round")),
                voting_date=iso_date(item.get("repeat_voting_date")),
                status=status,
                record=_record(following) if has_record else None,
                votes=_votes(following) if has_record else (),
            )
            annulled.append(
                AnnulledRound(
                    station=str(row.get("code") or ""),
                    station_name=str(row.get("name") or ""),
                    station_number=_int_or_none(row.get("number")),
                    municipality=municipalities.get(str(row.get("municipality")), ""),
                    round=int(item.get("round") or 0),
                    ground=item.get("ground"),
                    annulled_at=iso_datetime(item.get("annulled_at")),
                    record=_record(item),
                    repeat=repeat,
                )
            )
    return tuple(annulled)


# --- The report -------------------------------------------------------------------------


def _fingerprint(document: dict[str, Any], proceedings: dict[str, Any] | None) -> str:
    """Names what a rendering shows: the version, and for a provisional
    document the proceedings read now (they change without a new version)."""
    parts = f"{document.get('version')}:{document.get('status')}"
    if proceedings is None:
        return parts
    digest = hashlib.sha256(
        json.dumps(proceedings, sort_keys=True, default=str).encode("utf-8")
    ).hexdigest()
    return f"{parts}:{digest[:16]}"


def report_get(slug: str, version: int | None = None) -> Report | None:
    """The documents' read model for ``slug`` (the latest published snapshot,
    or ``version``); None when nothing is published."""
    document = published_results_get(slug, version)
    if document is None:
        return None
    stations = published_stations_list(slug, int(document["version"]))
    official = document.get("status") == "official"
    frozen = document.get("proceedings")
    live = None
    if frozen is None:
        live = _proceedings_now(slug)
    proceedings = frozen if frozen is not None else live or {}
    decisions = tuple(_decision(item) for item in proceedings.get("decisions") or ())
    objections = tuple(_objection(item) for item in proceedings.get("objections") or ())

    lists = tuple(
        ReportList(
            ballot_number=int(item["ballot_number"]),
            name=str(item.get("name") or ""),
            ballot_carrier=str(item.get("ballot_carrier") or ""),
            minority=bool(item.get("minority")),
            votes=int(item.get("votes") or 0),
            percent=str(item.get("percent") or "0"),
            seats=int(item.get("seats") or 0),
            passed_threshold=bool(item.get("passed_threshold")),
            takes_part=bool(item.get("takes_part")),
            bonus_applied=bool(item.get("bonus_applied")),
            mandates=tuple(
                sorted(item.get("mandates") or (), key=lambda mandate: mandate.get("position", 0))
            ),
            # Published by tabulation (rule 7); documents from before it carry none.
            seats_passed_on=int(item.get("seats_passed_on") or 0),
            unfilled=max(0, int(item.get("seats") or 0) - len(item.get("mandates") or ())),
        )
        for item in sorted(document.get("lists") or (), key=lambda item: item["ballot_number"])
    )
    municipalities = {
        str(item.get("code")): str(item.get("name") or "")
        for item in document.get("municipalities") or ()
    }
    election = dict(document.get("election") or {})
    registered = document.get("registered") or {}
    certification = dict(document.get("certification") or {})
    certified_by = tuple(
        str(name)
        for name in document.get("certified_by") or certification.get("certified_by") or ()
    )
    return Report(
        document=document,
        slug=slug,
        version=int(document["version"]),
        official=official,
        election=election,
        election_date=iso_date(election.get("date")),
        published_at=iso_datetime(document.get("published_at")),
        certified_at=iso_datetime(
            document.get("certified_at") or certification.get("certified_at")
        ),
        certified_by=certified_by,
        certification=certification,
        registered_total=int(registered.get("total") or 0),
        registered_counted=int(registered.get("counted") or 0),
        turned_out=int(document.get("turned_out") or 0),
        voted=int(document.get("voted") or 0),
        invalid=int(document.get("invalid") or 0),
        valid=int(document.get("valid") or 0),
        turnout_percent=document.get("turnout_percent"),
        stations=dict(document.get("stations") or {}),
        threshold_percent=str(election.get("threshold_percent", "")),
        minority_bonus_percent=str(election.get("minority_bonus_percent", "")),
        threshold_votes=str(document.get("threshold_votes", "")),
        threshold_votes_min=int(document.get("threshold_votes_min") or 0),
        seats=int(election.get("seats") or 0),
        lists=lists,
        vacant_seats=int(document.get("vacant_seats") or 0),
        lots_required=tuple(int(number) for number in document.get("lots_required") or ()),
        seats_to_draw=int(document.get("seats_to_draw") or 0),
        lots_drawn=_lots_drawn(decisions),
        annulled=_annulled_rounds(stations or [], municipalities),
        stations_published=stations is not None,
        pending_repeat_votes=tuple(
            {**item, "voting_date": iso_date(item.get("voting_date"))}
            for item in document.get("pending_repeat_votes") or ()
        ),
        decisions=decisions,
        objections=objections,
        proceedings_as_of=None if frozen is not None else timezone.now(),
        audit_head=str(document.get("audit_head") or ""),
        audit_count=int(document.get("audit_count") or 0),
        inputs_hash=str(document.get("inputs_hash") or ""),
        fingerprint=_fingerprint(document, live),
    )
