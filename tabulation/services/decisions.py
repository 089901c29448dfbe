"""Decisions of the commission: the only way a count changes once clerks are
done with a record (RULES.md sections 2, 4 and 5; docs/commission.md).

Each service is one transaction that writes one ``Decision`` row and one
audit event, moves the round only as ``domain/rounds.TRANSITIONS`` allows,
and asks for a tabulation on commit when the count may change. Each refuses,
storing nothing, when:

- the actor may not decide (``NotPermitted``: the pages answer 403);
- the actor typed an entry of the station (four eyes: ``OwnEntry``);
- no reason is given, or the state does not allow it (``DecisionRefused``);
- the election's results are certified (``DecisionRefused``).

Locks: the round row first, then the rows it owns, the audit head last
(inside ``audit_append``): the order of services/records.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from django.db import transaction
from django.utils import timezone

from tabulation.domain.checks import check_record, commission_finding, record_not_received
from tabulation.domain.i18n import _
from tabulation.domain.record import RECORD_FIELDS, Record
from tabulation.domain.record import Finding as DomainFinding
from tabulation.domain.rounds import (
    ACKNOWLEDGEABLE_CATEGORIES,
    RoundEvent,
    annulment_grounds,
    objection_deadline,
    repeat_vote_date_error,
    repeat_vote_window,
    status_after_acceptance,
    transition_check,
)
from tabulation.models import (
    AcceptedRecord,
    AcceptedVote,
    Decision,
    Election,
    Finding,
    Objection,
    PollingStation,
    RecordEntry,
    ResultSnapshot,
    StationRound,
)
from tabulation.selectors.commission import objection_window
from tabulation.selectors.stations import entry_record, round_version
from tabulation.services.audit import audit_append, format_timestamp
from tabulation.services.copies import copies_compare_round
from tabulation.services.records import (
    EntryRefused,
    InputRefused,
    NotPermitted,
    RoundChanged,
    User,
    _accept,
    _ballot_ids,
    _findings_sync,
    _live,
    _status_save,
    record_completed,
    record_input_errors,
    record_parse,
)
from tabulation.services.tabulation import tabulation_request

DECIDE_PERMISSION = "tabulation.decide"
# Codes tabulation raises from context (W1, W5, U2): a correction of the
# record does not answer them; they are acknowledged or annulled on.
CONTEXT_CODES = frozenset({"W1", "W5", "U2"})


class DecisionRefused(EntryRefused):
    """The decision cannot be taken as asked; nothing was stored."""

    code = "refused"


class OwnEntry(DecisionRefused):
    """Four eyes: a member does not decide on a station they typed."""

    code = "own_entry"


@dataclass(frozen=True)
class _Context:
    """What every decision checks first, under the round lock."""

    round: StationRound
    station: PollingStation
    election: Election


# --- The checks every decision makes -----------------------------------------------------


def permission_require(actor: User, permission: str, message: str) -> None:
    """``NotPermitted`` (``message``) unless ``actor`` is an active user
    holding ``permission``."""
    if not (
        actor.is_authenticated and getattr(actor, "is_active", False) and actor.has_perm(permission)  # type: ignore[union-attr,attr-defined]
    ):
        raise NotPermitted(message)


def _decider(actor: User) -> None:
    permission_require(actor, DECIDE_PERMISSION, _("Only commission members may take decisions."))


def _reason(reason: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise DecisionRefused(_("Give the reason for the decision."))
    return text


def election_lock_open_for_decision(election_id: int) -> None:
    """Lock the election row, after the round, and refuse once certified."""
    _election_open(Election.objects.select_for_update().get(pk=election_id))


def _election_open(election: Election) -> None:
    if election.status == Election.Status.CERTIFIED:
        raise DecisionRefused(
            _("The results are certified; a decision changes nothing until they are reopened.")
        )


def _not_own(actor: User, station: PollingStation) -> None:
    if RecordEntry.objects.filter(round__station=station, clerk_id=actor.pk).exists():
        raise OwnEntry(
            _(
                "You typed an entry of station {station}: another member must decide on it "
                "(four eyes)."
            ),
            station=station.code,
        )


def _lock(actor: User, round: StationRound, version_seen: str | None) -> _Context:
    """Lock the round and make the checks every round decision makes."""
    locked = StationRound.objects.locked().select_related("station__election").get(pk=round.pk)
    if version_seen is not None and version_seen != round_version(locked):
        raise RoundChanged(_("Someone else changed this station in the meantime; reload the page."))
    station = locked.station
    election_lock_open_for_decision(station.election_id)
    _not_own(actor, station)
    return _Context(round=locked, station=station, election=station.election)


def _allowed(context: _Context, event: RoundEvent, target: str) -> None:
    """Refuse, in words, an event the transition table does not allow."""
    try:
        transition_check(context.round.status, event, target)
    except Exception as error:
        raise DecisionRefused(
            _("Station {station} is {status}: this decision is not possible now."),
            station=context.station.code,
            status=context.round.status,
        ) from error


def _decision(
    *,
    actor: User,
    kind: str,
    reason: str,
    context: _Context | None = None,
    election: Election | None = None,
    station: PollingStation | None = None,
    payload: Mapping[str, Any] | None = None,
) -> Decision:
    """The Decision row: about a round (``context``), or an election-wide
    one (``election``, and the ``station`` it concerns, if any).

    Every decision asks for a tabulation once it commits: each changes what
    the result reads (a station's status, its open findings, an objection,
    the lots), and the sweep looks at accepted records, not at decisions, so
    a decision left to it would leave the result behind until the next record.
    """
    election = context.election if context is not None else election
    assert election is not None, "a decision belongs to an election"
    tabulation_request(election_id=election.pk)
    return Decision.objects.create(
        election=election,
        kind=kind,
        round=context.round if context is not None else None,
        station=context.station if context is not None else station,
        decided_by=cast(Any, actor),
        reason=reason,
        payload=dict(payload or {}),
    )


def _audit(
    *,
    actor: User,
    decision: Decision,
    station: PollingStation | None,
    before: Any,
    after: Any,
    client_address: str | None,
) -> None:
    audit_append(
        actor=actor,
        action=f"decision.{decision.kind}",
        obj=decision,
        station_code=station.code if station is not None else None,
        before=before,
        after={"decision": decision.pk, **after},
        reason=decision.reason,
        client_address=client_address,
    )


def _resolve(rows: Iterable[Finding], decision: Decision, status: str) -> list[str]:
    now = timezone.now()
    codes = []
    for row in rows:
        row.status = status
        row.resolved_at = now
        row.resolved_by = decision
        row.save(update_fields=["status", "resolved_at", "resolved_by"])
        codes.append(row.code)
    return codes


def _open_findings(round: StationRound) -> list[Finding]:
    return list(
        Finding.objects.select_for_update()
        .filter(round=round, status=Finding.Status.OPEN)
        .order_by("code")
    )


# --- Two entries that differ (RULES.md section 4) ----------------------------------------


def entries_reconcile(
    *,
    actor: User,
    round: StationRound,
    reason: str,
    keep_entry: RecordEntry | None = None,
    return_for_entry: bool = False,
    round_version_seen: str | None = None,
    client_address: str | None = None,
) -> Decision:
    """Staff settle a record whose two entries differ (W6).

    Exactly one of: ``keep_entry`` (compared with the paper record, this
    entry is right: it becomes the accepted record, the other is superseded
    by it), or ``return_for_entry`` (both entries are superseded and the
    station awaits entry again). The W6 finding is resolved either way.
    """
    _decider(actor)
    if (keep_entry is None) == (not return_for_entry):
        raise DecisionRefused(_("Choose one entry to keep, or return the station for entry."))
    text = _reason(reason)
    with transaction.atomic():
        context = _lock(actor, round, round_version_seen)
        round = context.round
        event = RoundEvent.RECONCILE_RETURN if return_for_entry else RoundEvent.RECONCILE_KEEP
        _allowed(context, event, "awaiting" if return_for_entry else "accepted")
        live = _live(round)
        kept = None
        if keep_entry is not None:
            kept = next((entry for entry in live if entry.pk == keep_entry.pk), None)
            if kept is None:
                raise RoundChanged(
                    _("Someone else changed this station in the meantime; reload the page.")
                )
        decision = _decision(
            actor=actor,
            kind=Decision.Kind.RECONCILE,
            reason=text,
            context=context,
            payload={
                "kept_entry": kept.pk if kept is not None else None,
                "kept_entry_number": kept.entry_number if kept is not None else None,
                "entries": [entry.pk for entry in live],
            },
        )
        now = timezone.now()
        for entry in live:
            if entry is kept:
                continue
            entry.superseded_at = now
            entry.superseded_by = kept
            entry.save(update_fields=["superseded_at", "superseded_by"])
        _findings_sync(
            round=round, entries=[kept] if kept is not None else [], w6=None, decision=decision
        )
        if kept is not None:
            status = _accept(
                round=round,
                entry=kept,
                second=None,
                source=AcceptedRecord.Source.RECONCILIATION,
                actor=actor,
                event=event,
            )
        else:
            status = StationRound.Status.AWAITING
            _status_save(round, status, event)
        _audit(
            actor=actor,
            decision=decision,
            station=context.station,
            before={"status": StationRound.Status.ENTRIES_DIFFER, "entries": [e.pk for e in live]},
            after={"status": status, "kept": kept.pk if kept is not None else None},
            client_address=client_address,
        )
    return decision


# --- Correcting the accepted record (Art. 109, 110) --------------------------------------


def record_correct(
    *,
    actor: User,
    round: StationRound,
    values: Mapping[str, object],
    votes: Iterable[tuple[object, object]],
    reason: str,
    round_version_seen: str | None = None,
    client_address: str | None = None,
) -> Decision:
    """The commission corrects a record after inspecting the material.

    The corrected figures become the round's accepted record (the one it
    replaces stays, superseded); the checks run again on them: a finding of
    the old record that the new one no longer has is resolved by this
    decision, a new one is raised. The round counts when no R, U or S finding
    remains open, and is held otherwise. Input errors (E1, E2) refuse it.
    """
    _decider(actor)
    text = _reason(reason)
    station = round.station
    ballot_ids = _ballot_ids(station.election_id)
    parsed = record_parse(values=values, votes=votes)
    errors = record_input_errors(parsed, ballot_ids)
    if errors:
        raise InputRefused(errors)
    record = parsed.record
    with transaction.atomic():
        context = _lock(actor, round, round_version_seen)
        round = context.round
        _allowed(context, RoundEvent.CORRECT, "accepted")
        previous = (
            AcceptedRecord.objects.select_for_update()
            .filter(round=round, superseded_at__isnull=True)
            .first()
        )
        if previous is None:
            raise DecisionRefused(
                _("Station {station} has no accepted record to correct."), station=station.code
            )
        findings = check_record(
            record, registered_in_register=context.station.registered, ballot=frozenset(ballot_ids)
        )
        decision = _decision(
            actor=actor,
            kind=Decision.Kind.CORRECT,
            reason=text,
            context=context,
            payload={
                "replaces": previous.pk,
                "before": _record_summary(entry_record(previous)),
                "after": _record_summary(record),
            },
        )
        # The old record steps aside first: one live record per round is a
        # database rule (a partial unique index).
        previous.superseded_at = timezone.now()
        previous.save(update_fields=["superseded_at"])
        corrected = AcceptedRecord.objects.create(
            round=round,
            source=AcceptedRecord.Source.DECISION,
            decision=decision,
            first_entry=previous.first_entry,
            second_entry=previous.second_entry,
            accepted_by=cast(Any, actor),
            **record_completed(
                {name: getattr(record, name) for name in RECORD_FIELDS},
                ((finding.code, finding.expected) for finding in findings),
            ),
        )
        AcceptedVote.objects.bulk_create(
            AcceptedVote(
                accepted_record=corrected,
                electoral_list_id=ballot_ids[number],
                votes=count or 0,
            )
            for number, count in record.votes
        )
        previous.superseded_by = corrected
        previous.save(update_fields=["superseded_by"])
        resolved, raised = _findings_after_correction(round, findings, decision)
        status = status_after_acceptance(
            Finding.objects.filter(round=round, status=Finding.Status.OPEN).values_list(
                "category", flat=True
            )
        )
        status_before = round.status
        _status_save(round, status, RoundEvent.CORRECT)
        # Observers' copies are compared with the corrected record too.
        copies_compare_round(round=round, actor=actor)
        _audit(
            actor=actor,
            decision=decision,
            station=context.station,
            before={"status": status_before, "record": previous.pk},
            after={
                "status": status,
                "record": corrected.pk,
                "resolved": resolved,
                "raised": raised,
                **decision.payload,
            },
            client_address=client_address,
        )
    return decision


def _record_summary(record: Record) -> dict[str, Any]:
    """A record as JSON for the decision's payload and the audit trail."""
    fields: dict[str, Any] = {name: getattr(record, name) for name in RECORD_FIELDS}
    fields["votes"] = {str(number): count for number, count in sorted(record.votes)}
    return fields


def _findings_after_correction(
    round: StationRound, findings: Sequence[DomainFinding], decision: Decision
) -> tuple[list[str], list[str]]:
    """Resolve what the corrected record no longer has; raise what it newly has.

    Findings from context (W1, W5, U2) and those a decision recorded stay as
    they are: the corrected figures do not answer them.
    """
    wanted = {finding.code: finding for finding in findings}
    open_rows = _open_findings(round)
    stale = [
        row
        for row in open_rows
        if row.code not in CONTEXT_CODES and row.code != "W6" and row.code not in wanted
    ]
    resolved = _resolve(stale, decision, Finding.Status.RESOLVED)
    still_open = {row.code for row in open_rows if row not in stale}
    new = [
        Finding.from_domain(finding, round_id=round.pk)
        for code, finding in wanted.items()
        if code not in still_open
    ]
    Finding.objects.bulk_create(new)
    return resolved, [row.code for row in new]


# --- Acknowledging a warning or a minor error --------------------------------------------


def finding_acknowledge(
    *, actor: User, finding: Finding, reason: str, client_address: str | None = None
) -> Decision:
    """Dismiss an open C or W finding with a reason: staff looked at it and the
    record stands as it is. The round's status does not change (C and W
    findings never hold a round)."""
    _decider(actor)
    text = _reason(reason)
    with transaction.atomic():
        context = _lock(actor, finding.round, None)
        row = Finding.objects.select_for_update().get(pk=finding.pk)
        if row.status != Finding.Status.OPEN:
            raise DecisionRefused(_("This finding is already settled."))
        if row.category not in ACKNOWLEDGEABLE_CATEGORIES or row.code == "W6":
            raise DecisionRefused(
                _("{code} cannot be acknowledged: the commission corrects or annuls."),
                code=row.code,
            )
        _allowed(context, RoundEvent.ACKNOWLEDGE, context.round.status)
        decision = _decision(
            actor=actor,
            kind=Decision.Kind.DISMISS_WARNING,
            reason=text,
            context=context,
            payload={"finding": row.pk, "code": row.code},
        )
        _resolve([row], decision, Finding.Status.DISMISSED)
        _audit(
            actor=actor,
            decision=decision,
            station=context.station,
            before={"finding": row.pk, "code": row.code, "status": Finding.Status.OPEN},
            after={"finding": row.pk, "code": row.code, "status": Finding.Status.DISMISSED},
            client_address=client_address,
        )
    return decision


# --- Annulment and the repeat vote (Art. 115, 116; RULES.md section 5) -------------------


def station_annul(
    *,
    actor: User,
    station: PollingStation,
    ground: str,
    voting_date: date,
    reason: str,
    round_version_seen: str | None = None,
    client_address: str | None = None,
    today: date | None = None,
) -> Decision:
    """Annul the station's live round on ``ground`` and order its repeat vote
    on ``voting_date``: one decision. The round is never counted again (it
    stays visible everywhere); a new round awaits the repeat vote's record.
    """
    _decider(actor)
    text = _reason(reason)
    today = today or timezone.localdate()
    problem = repeat_vote_date_error(voting_date, today)
    if problem is not None:
        window = repeat_vote_window(today)
        raise DecisionRefused(problem, earliest=window.earliest, latest=window.latest)
    current = (
        StationRound.objects.filter(station=station)
        .exclude(status=StationRound.Status.ANNULLED)
        .first()
    )
    if current is None:
        raise DecisionRefused(_("Station {station} has no round to annul."), station=station.code)
    with transaction.atomic():
        context = _lock(actor, current, round_version_seen)
        round = context.round
        _allowed(context, RoundEvent.ANNUL, StationRound.Status.ANNULLED)
        open_rows = _open_findings(round)
        has_record = AcceptedRecord.objects.filter(round=round, superseded_at__isnull=True).exists()
        grounds = annulment_grounds(
            open_codes={row.code for row in open_rows}, has_record=has_record
        )
        if ground not in grounds:
            raise DecisionRefused(
                _("{ground} is not a ground for annulling this station; possible: {grounds}."),
                ground=ground,
                grounds=", ".join(grounds),
            )
        window = repeat_vote_window(today)
        decision = _decision(
            actor=actor,
            kind=Decision.Kind.ANNUL_AND_ORDER_REPEAT,
            reason=text,
            context=context,
            payload={
                "ground": ground,
                "round": round.number,
                "repeat_round": round.number + 1,
                "ordered_on": today.isoformat(),
                "voting_date": voting_date.isoformat(),
                "held_by": window.latest.isoformat(),
            },
        )
        if ground not in {row.code for row in open_rows}:
            _ground_record(round, ground, text, decision, context.station.code)
        resolved = _resolve(open_rows, decision, Finding.Status.RESOLVED)
        status_before = round.status
        _status_save(round, StationRound.Status.ANNULLED, RoundEvent.ANNUL)
        repeat = StationRound.objects.create(
            station=context.station,
            number=round.number + 1,
            status=StationRound.Status.AWAITING,
            ordered_at=timezone.now(),
            ordered_by=decision,
            voting_date=voting_date,
        )
        _audit(
            actor=actor,
            decision=decision,
            station=context.station,
            before={"status": status_before, "round": round.number},
            after={
                "status": StationRound.Status.ANNULLED,
                "resolved": resolved,
                "repeat_round": repeat.number,
                **decision.payload,
            },
            client_address=client_address,
        )
    return decision


def _ground_record(
    round: StationRound, code: str, note: str, decision: Decision, station_code: str
) -> None:
    """Store a ground the commission established (R4, U1, U2, U4) as a
    finding of the round, settled by the annulment that rests on it."""
    finding = (
        record_not_received(station_code) if code == "U2" else commission_finding(code, note=note)
    )
    row = Finding.from_domain(finding, round_id=round.pk)
    row.status = Finding.Status.RESOLVED
    row.resolved_at = timezone.now()
    row.resolved_by = decision
    row.save()


# --- A drawing of lots (RULES.md section 3, rule 6) --------------------------------------


def lots_required_get(election: Election) -> tuple[int, ...]:
    """The lists the latest result says must draw lots for a seat (none: ())."""
    latest = ResultSnapshot.objects.filter(election=election).order_by("-version").first()
    if latest is None:
        return ()
    return tuple(int(number) for number in latest.payload.get("lots_required", ()))


def lots_draw(
    *,
    actor: User,
    election: Election,
    lots_drawn: Sequence[int],
    reason: str,
    client_address: str | None = None,
) -> Decision:
    """Record the drawing of lots between lists whose quotients and votes are
    equal for the last seats: ``lots_drawn`` is their ballot numbers in the
    order drawn (first drawn, first served). The next tabulation uses it."""
    _decider(actor)
    text = _reason(reason)
    with transaction.atomic():
        election = Election.objects.select_for_update().get(pk=election.pk)
        _election_open(election)
        required = lots_required_get(election)
        if not required:
            raise DecisionRefused(_("The latest result needs no drawing of lots."))
        drawn = [int(number) for number in lots_drawn]
        if sorted(drawn) != sorted(required) or len(set(drawn)) != len(drawn):
            raise DecisionRefused(
                _("Put every list that draws in the order drawn, once each: {lists}."),
                lists=", ".join(str(number) for number in required),
            )
        decision = _decision(
            actor=actor,
            kind=Decision.Kind.DRAWING_OF_LOTS,
            election=election,
            reason=text,
            payload={"lots_required": list(required), "lots_drawn": drawn},
        )
        _audit(
            actor=actor,
            decision=decision,
            station=None,
            before={"lots_required": list(required)},
            after={"lots_drawn": drawn},
            client_address=client_address,
        )
    return decision


# --- Objections (RULES.md section 5) -----------------------------------------------------


def objection_window_opened_at(
    election: Election, *, subject: str, decision: Decision | None
) -> datetime | None:
    """When the 72 hours for an objection began: at the decision objected to,
    or at the first provisional results. None: nothing published yet."""
    if subject == Objection.Subject.DECISION:
        return decision.decided_at if decision is not None else None
    first = (
        ResultSnapshot.objects.filter(election=election)
        .order_by("version")
        .values_list("created_at", flat=True)
        .first()
    )
    return first


def objection_register(
    *,
    actor: User,
    election: Election,
    filed_at: datetime,
    filed_by: str,
    subject: str,
    grounds: str,
    station: PollingStation | None = None,
    decision: Decision | None = None,
    client_address: str | None = None,
    now: datetime | None = None,
) -> Objection:
    """Register an objection as it was filed: when, by whom, against what.

    Refused when filed outside the 72 hours after the act it is against (the
    provisional results for the result or a station's result in them, the
    decision otherwise), or when it names no such act.
    """
    _decider(actor)
    now = now or timezone.now()
    filed_by = (filed_by or "").strip()
    grounds = (grounds or "").strip()
    if not filed_by:
        raise DecisionRefused(_("Say who filed the objection."))
    if not grounds:
        raise DecisionRefused(_("Give the grounds of the objection as filed."))
    if subject not in Objection.Subject.values:
        raise DecisionRefused(_("Say what the objection is against."))
    if subject == Objection.Subject.STATION and station is None:
        raise DecisionRefused(_("Name the polling station the objection is against."))
    if subject == Objection.Subject.DECISION and decision is None:
        raise DecisionRefused(_("Name the decision the objection is against."))
    if station is not None and station.election_id != election.pk:
        raise DecisionRefused(_("That station is not one of this election's."))
    if decision is not None and decision.election_id != election.pk:
        raise DecisionRefused(_("That decision is not one of this election's."))
    if filed_at > now:
        raise DecisionRefused(_("An objection cannot be filed in the future."))
    with transaction.atomic():
        election = Election.objects.select_for_update().get(pk=election.pk)
        _election_open(election)
        opened = objection_window_opened_at(election, subject=subject, decision=decision)
        if opened is None:
            raise DecisionRefused(
                _("No provisional results are published yet: there is nothing to object to.")
            )
        deadline = objection_deadline(opened, objection_window())
        # Filing times are recorded to the minute (the form's precision): an
        # objection filed in the minute the results came out is in time.
        if filed_at > deadline or filed_at < opened.replace(second=0, microsecond=0):
            raise DecisionRefused(
                _("Objections may be filed from {opened} until {deadline} (72 hours)."),
                opened=format_timestamp(opened),
                deadline=format_timestamp(deadline),
            )
        objection = Objection.objects.create(
            election=election,
            filed_at=filed_at,
            filed_by=filed_by,
            subject=subject,
            station=station if subject == Objection.Subject.STATION else None,
            decision=decision if subject == Objection.Subject.DECISION else None,
            grounds=grounds,
            registered_by=cast(Any, actor),
        )
        audit_append(
            actor=actor,
            action="objection.register",
            obj=objection,
            station_code=station.code if objection.station is not None and station else None,
            after={
                "objection": objection.pk,
                "filed_at": format_timestamp(filed_at),
                "filed_by": filed_by,
                "subject": subject,
                "station": station.code if objection.station is not None and station else None,
                "decision": decision.pk if objection.decision is not None and decision else None,
                "deadline": format_timestamp(deadline),
            },
            reason=grounds,
            client_address=client_address,
        )
    return objection


def objection_decide(
    *,
    actor: User,
    objection: Objection,
    upheld: bool,
    reason: str,
    client_address: str | None = None,
) -> Decision:
    """Decide an objection: upheld (the reason says what follows: a correction
    or an annulment, taken as its own decision on the station) or rejected."""
    _decider(actor)
    text = _reason(reason)
    with transaction.atomic():
        row = (
            Objection.objects.select_for_update(of=("self",))
            .select_related("election", "station")
            .get(pk=objection.pk)
        )
        _election_open(row.election)
        if row.status != Objection.Status.OPEN:
            raise DecisionRefused(_("This objection is already decided."))
        if row.station is not None:
            _not_own(actor, row.station)
        outcome = Objection.Status.UPHELD if upheld else Objection.Status.REJECTED
        decision = _decision(
            actor=actor,
            kind=Decision.Kind.OBJECTION_DECIDED,
            election=row.election,
            reason=text,
            station=row.station,
            payload={"objection": row.pk, "outcome": outcome.value},
        )
        row.status = outcome
        row.decided_by = decision
        row.save(update_fields=["status", "decided_by"])
        _audit(
            actor=actor,
            decision=decision,
            station=row.station,
            before={"objection": row.pk, "status": Objection.Status.OPEN},
            after={"objection": row.pk, "status": outcome.value},
            client_address=client_address,
        )
    return decision


__all__ = [
    "DecisionRefused",
    "OwnEntry",
    "entries_reconcile",
    "finding_acknowledge",
    "lots_draw",
    "lots_required_get",
    "objection_decide",
    "objection_register",
    "record_correct",
    "station_annul",
]
