"""Record entry: clerks type polling-board records, double entry decides what
is accepted, staff reconcile entries that differ (RULES.md sections 1, 2, 4;
docs/entry.md has the state machine).

Every service here locks the round row first (SELECT ... FOR UPDATE) and the
audit head last (inside `audit_append`): one fixed order, so two services
never wait on each other in opposite orders. Transactions are short: parsing
and the input checks run before the transaction opens.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from tabulation.domain.checks import check_record, compare_entries, input_errors, votes_field
from tabulation.domain.codes import HOLDING_CATEGORIES
from tabulation.domain.i18n import _
from tabulation.domain.record import COUNT_FIELDS, Record, make_finding
from tabulation.domain.record import Finding as DomainFinding
from tabulation.domain.rounds import (
    RoundEvent,
    status_after_acceptance,
    transition_check,
)
from tabulation.models import (
    AcceptedRecord,
    AcceptedVote,
    Decision,
    Election,
    ElectoralList,
    Finding,
    PollingStation,
    RecordEntry,
    RecordEntryVote,
    StationRound,
)
from tabulation.selectors.roles import clerk_may_enter
from tabulation.selectors.stations import (
    OPEN_STATUSES,
    entry_findings,
    entry_record,
    round_current,
    round_version,
)
from tabulation.services.audit import audit_append
from tabulation.services.copies import copies_compare_round
from tabulation.services.tabulation import tabulation_request

# The columns' limits (PositiveIntegerField, PositiveSmallIntegerField): a
# larger number is a typing slip, refused as E1 before it reaches the database.
COUNT_MAXIMUM = 2_147_483_647
SIGNATURES_MAXIMUM = 32_767

_DIGITS = re.compile(r"[0-9]{1,12}")
_KEY = re.compile(r"[A-Za-z0-9_.:-]{8,64}")
_YES = frozenset({"yes", "true", "1", "on", "da"})
_NO = frozenset({"no", "false", "0", "off", "ne"})

User = AbstractBaseUser | AnonymousUser


# --- Refusals -------------------------------------------------------------------


class EntryRefused(Exception):
    """A submission or action that is refused; nothing was stored.

    `code` is stable for the API ("E1", "conflict", ...); `message` is an
    English msgid (translate it with gettext, then format with `params`).
    """

    code = "refused"

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message.format(**params))
        self.message = message
        self.params = params


class StationNotAllowed(EntryRefused):
    """E3: the station is not this clerk's (pages and the API answer 404)."""

    code = "E3"


class InputRefused(EntryRefused):
    """E1/E2: the record as typed cannot be stored; field by field."""

    code = "E1"

    def __init__(self, findings: tuple[DomainFinding, ...]) -> None:
        super().__init__(_("The record has input errors."))
        self.findings = findings


class RoundChanged(EntryRefused):
    """The form was rendered from an older state of the round."""

    code = "conflict"


class SameClerk(EntryRefused):
    """Double entry needs two different clerks (RULES.md section 4)."""

    code = "same_clerk"


class RoundClosed(EntryRefused):
    """Accepted, held or annulled: only a commission decision changes it."""

    code = "closed"


class KeyReused(EntryRefused):
    """An idempotency key that already belongs to another submission: another
    clerk's or station's, or this one's with other figures."""

    code = "idempotency_key"


class NotPermitted(EntryRefused):
    code = "forbidden"


# --- Parsing what was typed ------------------------------------------------------


@dataclass(frozen=True)
class ParsedRecord:
    record: Record
    # E findings the domain cannot see: numbers too large for the columns,
    # list keys that are not ballot numbers at all.
    errors: tuple[DomainFinding, ...]


def _too_large(field: str, value: int) -> DomainFinding:
    return make_finding(
        "E1",
        fields=(field,),
        message=_("{field} is too large; got {actual}."),
        params=(("field", field), ("actual", str(value))),
    )


def _count(field: str, value: object, errors: list[DomainFinding]) -> Any:
    """int, None (blank), or the raw value for the domain to report as E1."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        # ASCII digits only: int() would also take "١٢" or "1_000".
        if not _DIGITS.fullmatch(text):
            return text[:40]
        value = int(text)
    if isinstance(value, int) and not isinstance(value, bool):
        limit = SIGNATURES_MAXIMUM if field == "board_signatures" else COUNT_MAXIMUM
        if value > limit:
            errors.append(_too_large(field, value))
        return value
    return value if isinstance(value, bool | float) else str(value)[:40]


def _yes_no(value: object) -> Any:
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if not text:
        return None
    if text in _YES:
        return True
    if text in _NO:
        return False
    return text[:40]


def _ballot_number(key: object) -> int | None:
    if isinstance(key, int) and not isinstance(key, bool):
        return key
    if isinstance(key, str) and re.fullmatch(r"[0-9]{1,6}", key.strip()):
        return int(key.strip())
    return None


def record_parse(
    *, values: Mapping[str, object], votes: Iterable[tuple[object, object]]
) -> ParsedRecord:
    """Turn typed values (form strings or JSON values) into a domain Record.

    Blank is None. Whatever is not a whole number is passed on unchanged, so
    that the domain's input checks report it (E1) with the value that was
    typed; `votes` is (ballot number, votes) pairs in the order typed.
    """
    errors: list[DomainFinding] = []
    counts = {name: _count(name, values.get(name), errors) for name in COUNT_FIELDS}
    pairs: list[tuple[int, Any]] = []
    for key, count in votes:
        number = _ballot_number(key)
        if number is None:
            shown = str(key)[:20]
            errors.append(
                make_finding(
                    "E2",
                    fields=(f"votes[{shown}]",),
                    message=_("List {ballot_number} is not on this election's ballot."),
                    params=(("ballot_number", shown),),
                )
            )
            continue
        pairs.append((number, _count(votes_field(number), count, errors)))
    record = Record(
        **counts,
        votes=tuple(pairs),
        control_sheet_ok=_yes_no(values.get("control_sheet_ok")),
    )
    return ParsedRecord(record=record, errors=tuple(errors))


def record_input_errors(parsed: ParsedRecord, ballot: Iterable[int]) -> tuple[DomainFinding, ...]:
    """Every E finding of a parsed record: the parser's and the domain's."""
    return parsed.errors + input_errors(parsed.record, frozenset(ballot))


# --- Results -----------------------------------------------------------------------


@dataclass(frozen=True)
class EntryResult:
    entry: RecordEntry
    round: StationRound
    # False when the idempotency key found an entry stored earlier.
    created: bool
    # What the checks found in this entry (R, U, C, S, W; W6 when it differs).
    findings: tuple[DomainFinding, ...]


def _valid_key(key: str) -> str:
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise EntryRefused(_("The form is incomplete or expired; reload the page and try again."))
    return key


def _same_value(typed: object, stored: object) -> bool:
    # Typed as well as equal: True == 1 and 600.0 == 600 in Python, yet a
    # clerk who sent true or 600.0 did not send the stored 1 or 600.
    return type(typed) is type(stored) and typed == stored


def _same_record(parsed: ParsedRecord, entry: RecordEntry) -> bool:
    """Whether ``parsed`` is the record ``entry`` holds: every field, and the
    votes of the same lists (in any order)."""
    if parsed.errors:
        return False  # the stored entry had none
    stored = entry_record(entry)
    record = parsed.record
    if not all(
        _same_value(getattr(record, name), getattr(stored, name))
        for name in (*COUNT_FIELDS, "control_sheet_ok")
    ):
        return False
    typed_votes = dict(record.votes)
    stored_votes = dict(stored.votes)
    return (
        len(typed_votes) == len(record.votes)
        and typed_votes.keys() == stored_votes.keys()
        and all(_same_value(typed_votes[number], stored_votes[number]) for number in stored_votes)
    )


def _stored_by_key(
    key: str, actor: User, station: PollingStation, parsed: ParsedRecord
) -> RecordEntry | None:
    """The entry stored under ``key``, when this is a retry of it: same clerk,
    same station, same record. A key that belongs to another entry, or that
    comes back with other figures, is refused: answering with the stored
    entry would drop the new figures without a word."""
    entry = RecordEntry.objects.select_related("round").filter(idempotency_key=key).first()
    if entry is None:
        return None
    if entry.clerk_id != actor.pk or entry.round.station_id != station.pk:
        raise KeyReused(_("This submission key was already used for another entry."))
    if not _same_record(parsed, entry):
        raise KeyReused(
            _("This submission key was already used for a different record; reload the form.")
        )
    return entry


def _round_lock(station: PollingStation) -> StationRound:
    """Lock the station's current round row (the first lock every service takes)."""
    current = round_current(station)
    if current is None:
        raise RoundClosed(_("Station {station} has no round to enter."), station=station.code)
    return StationRound.objects.locked().select_related("station").get(pk=current.pk)


CERTIFIED_CLOSED = _("The results are certified: entry is closed.")


def election_lock_open(election_id: int) -> Election:
    """Lock the election row (after the round: the fixed order) and refuse
    once it is certified. Certification holds this lock while it checks that
    nothing changed, so no entry or decision can slip in under it."""
    election = Election.objects.select_for_update().get(pk=election_id)
    if election.status == Election.Status.CERTIFIED:
        raise RoundClosed(CERTIFIED_CLOSED)
    return election


def _status_save(round: StationRound, status: str, event: RoundEvent) -> None:
    """Move the round to ``status``: only as the transition table allows
    (domain/rounds.py), so no service can take a round where the law does not."""
    round.status = transition_check(round.status, event, status)
    # status_changed_at is auto_now: saving it is what makes open forms stale.
    round.save(update_fields=["status", "status_changed_at"])


def _live(round: StationRound) -> list[RecordEntry]:
    return list(
        RecordEntry.objects.locked()
        .filter(round=round, superseded_at__isnull=True)
        .order_by("entry_number")
    )


def _ballot_ids(election_id: int) -> dict[int, int]:
    return dict(
        ElectoralList.objects.filter(election_id=election_id).values_list("ballot_number", "pk")
    )


def _findings_sync(
    *,
    round: StationRound,
    entries: list[RecordEntry],
    w6: tuple[RecordEntry, DomainFinding] | None,
    closed_status: str = Finding.Status.DISMISSED,
    decision: Decision | None = None,
) -> None:
    """Make the round's open entry findings those of its live entries.

    A finding belongs to the first live entry that has it (one open finding
    per code per round is a database rule); findings of entries no longer
    live are closed with `closed_status`, and with `decision` when a
    commission decision set the entries aside (none when a clerk withdrew or
    replaced what they typed). Findings without an entry (tabulation's W1, W5;
    the commission's) are left alone, but for U2, which the record's arrival
    answers.
    """
    ballot = frozenset(_ballot_ids(round.station.election_id))
    wanted: dict[str, tuple[RecordEntry, DomainFinding]] = {}
    for entry in entries:
        for finding in check_record(
            entry_record(entry), registered_in_register=round.station.registered, ballot=ballot
        ):
            wanted.setdefault(finding.code, (entry, finding))
    if w6 is not None:
        wanted["W6"] = w6
    now = timezone.now()
    open_rows = list(
        Finding.objects.select_for_update().filter(round=round, status=Finding.Status.OPEN)
    )
    taken = set()
    for row in open_rows:
        if row.entry_id is None and row.code == "U2" and entries:
            # "The record was not received" (Art. 115) stops being true the
            # moment a clerk enters it: the late record holds nothing back.
            row.status = Finding.Status.RESOLVED
            row.resolved_at = now
            row.save(update_fields=["status", "resolved_at"])
            continue
        if row.entry_id is None:
            taken.add(row.code)
            continue
        keep = wanted.get(row.code)
        if keep is not None and keep[0].pk == row.entry_id and row.code != "W6":
            taken.add(row.code)
            continue
        row.status = Finding.Status.RESOLVED if row.code == "W6" else closed_status
        row.resolved_at = now
        row.resolved_by = decision
        row.save(update_fields=["status", "resolved_at", "resolved_by"])
    Finding.objects.bulk_create(
        Finding.from_domain(finding, round_id=round.pk, entry=entry)
        for code, (entry, finding) in wanted.items()
        if code not in taken
    )


# Art. 109: a blank total that the record itself completes (C4 the box, C5
# the valid ballots) is counted as completed; the entries keep what was typed.
COMPLETED_BY = {"C4": "ballots_in_box", "C5": "ballots_valid"}


def record_completed(fields: dict[str, Any], findings: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """``fields`` with the totals that C4 and C5 complete filled in, from the
    findings' ``(code, expected)``: the figures the count uses."""
    for code, expected in findings:
        name = COMPLETED_BY.get(code)
        if name is not None and fields.get(name) is None and isinstance(expected, int):
            fields[name] = expected
    return fields


def _accept(
    *,
    round: StationRound,
    entry: RecordEntry,
    second: RecordEntry | None,
    source: str,
    actor: User | None,
    event: RoundEvent,
) -> str:
    """Store the accepted record and return the round's new status: held when
    an R, U or S finding is open (RULES.md section 2), accepted otherwise."""
    user = actor if actor is not None and actor.is_authenticated else None
    fields = record_completed(
        {name: getattr(entry, name) for name in RecordEntry.RECORD_FIELD_NAMES},
        round.findings.filter(status=Finding.Status.OPEN, code__in=COMPLETED_BY).values_list(
            "code", "expected"
        ),
    )
    accepted = AcceptedRecord.objects.create(
        round=round,
        source=source,
        first_entry=entry,
        second_entry=second,
        accepted_by=cast(Any, user),
        **fields,
    )
    AcceptedVote.objects.bulk_create(
        AcceptedVote(
            accepted_record=accepted, electoral_list_id=vote.electoral_list_id, votes=vote.votes
        )
        for vote in entry.votes.all()
    )
    status = status_after_acceptance(
        round.findings.filter(status=Finding.Status.OPEN, category__in=HOLDING_CATEGORIES)
        .values_list("category", flat=True)
        .distinct()
    )
    _status_save(round, status, event)
    # Observers' copies that came before the record are compared now.
    copies_compare_round(round=round, actor=user)
    # Enqueued on commit; a broker that is down is logged, and the sweep
    # recovers (docs/tabulation.md): the stored record is never at risk.
    tabulation_request(election_id=round.station.election_id)
    return status


def _entry_summary(entry: RecordEntry, votes: Mapping[int, int]) -> dict[str, Any]:
    return {
        "entry": entry.pk,
        "entry_number": entry.entry_number,
        "round": entry.round.number,
        **{name: getattr(entry, name) for name in RecordEntry.RECORD_FIELD_NAMES},
        "votes": {str(number): count for number, count in sorted(votes.items())},
    }


# --- Services ------------------------------------------------------------------------


def record_submit(
    *,
    actor: User,
    station: PollingStation,
    values: Mapping[str, object],
    votes: Iterable[tuple[object, object]],
    idempotency_key: str,
    round_version_seen: str | None = None,
    correct_own: bool = False,
    client_address: str | None = None,
) -> EntryResult:
    """Store one clerk's entry of a station's record (RULES.md section 4).

    - E3 when `actor` may not enter `station`; E1/E2 (`InputRefused`) when the
      record as typed cannot be stored. Nothing is stored then.
    - A key already stored for this clerk and station returns that entry
      (`created=False`) when the record is the one stored: double clicks and
      retries make one entry. With other figures it is refused (`KeyReused`),
      as is another clerk's or station's key.
    - `round_version_seen` (from the form) must match the round, else
      `RoundChanged`; the API may leave it out.
    - A clerk who already has a live entry is refused (`SameClerk`) unless
      `correct_own`: then the new entry replaces theirs (the old one is kept,
      superseded).
    - Single entry: the entry is accepted. Double entry: the first entry
      waits; the second is compared with it (W6): equal entries are accepted,
      different ones make the round `entries_differ` for staff.
    - Accepted with an open R, U or S finding: `held`; else `accepted`, and
      tabulation is enqueued after commit.
    """
    if not clerk_may_enter(actor, station):
        raise StationNotAllowed(
            _("Station {station} is not one you may enter."), station=station.code
        )
    key = _valid_key(idempotency_key)
    parsed = record_parse(values=values, votes=votes)
    stored = _stored_by_key(key, actor, station, parsed)
    if stored is not None:
        return EntryResult(
            entry=stored,
            round=stored.round,
            created=False,
            findings=entry_findings(stored, station),
        )
    ballot_ids = _ballot_ids(station.election_id)
    errors = record_input_errors(parsed, ballot_ids)
    if errors:
        raise InputRefused(errors)
    record = parsed.record
    election = Election.objects.only("entry_mode", "status").get(pk=station.election_id)
    if election.status == Election.Status.CERTIFIED:
        raise RoundClosed(CERTIFIED_CLOSED)
    try:
        with transaction.atomic():
            round = _round_lock(station)
            # Checked again under the lock: a retry that raced the first
            # request finds its entry now.
            stored = _stored_by_key(key, actor, station, parsed)
            if stored is not None:
                return EntryResult(
                    entry=stored,
                    round=round,
                    created=False,
                    findings=entry_findings(stored, station),
                )
            result = _submit_locked(
                actor=actor,
                round=round,
                election=election,
                record=record,
                ballot_ids=ballot_ids,
                key=key,
                round_version_seen=round_version_seen,
                correct_own=correct_own,
                client_address=client_address,
            )
    except IntegrityError:
        # The unique key is the last line against a duplicate that slipped
        # past the lock: answer with the stored entry.
        stored = _stored_by_key(key, actor, station, parsed)
        if stored is None:
            raise
        return EntryResult(
            entry=stored,
            round=stored.round,
            created=False,
            findings=entry_findings(stored, station),
        )
    return result


def _submit_locked(
    *,
    actor: User,
    round: StationRound,
    election: Election,
    record: Record,
    ballot_ids: Mapping[int, int],
    key: str,
    round_version_seen: str | None,
    correct_own: bool,
    client_address: str | None,
) -> EntryResult:
    station = round.station
    election_lock_open(station.election_id)
    status_before = round.status
    if round_version_seen is not None and round_version_seen != round_version(round):
        raise RoundChanged(_("Someone else changed this station in the meantime; reload the page."))
    if round.status not in OPEN_STATUSES:
        raise RoundClosed(
            _("The record of this station is {status}; only a commission decision changes it."),
            status=round.status,
        )
    live = _live(round)
    own = next((entry for entry in live if entry.clerk_id == actor.pk), None)
    others = [entry for entry in live if entry.clerk_id != actor.pk]
    if own is not None and not correct_own:
        raise SameClerk(
            _(
                "You have already entered this record; the second entry must be made by "
                "a different clerk. To change your entry, correct or withdraw it."
            )
        )
    if own is None and len(others) >= 2:
        raise RoundClosed(_("Two entries of this record are already stored."))
    if own is not None:
        number = own.entry_number
    else:
        taken = {entry.entry_number for entry in others}
        number = 1 if 1 not in taken else 2
    now = timezone.now()
    if own is not None:
        own.superseded_at = now
        own.save(update_fields=["superseded_at"])
    entry = RecordEntry.objects.create(
        round=round,
        entry_number=number,
        # An authenticated user: clerk_may_enter refused anyone else.
        clerk=cast(Any, actor),
        idempotency_key=key,
        client_address=client_address,
        registered=record.registered,
        ballots_received=record.ballots_received,
        ballots_unused=record.ballots_unused,
        turned_out=record.turned_out,
        ballots_in_box=record.ballots_in_box,
        ballots_invalid=record.ballots_invalid,
        ballots_valid=record.ballots_valid,
        control_sheet_ok=record.control_sheet_ok,
        board_signatures=record.board_signatures,
    )
    votes = {number_: count or 0 for number_, count in record.votes}
    RecordEntryVote.objects.bulk_create(
        RecordEntryVote(entry=entry, electoral_list_id=ballot_ids[number_], votes=count)
        for number_, count in votes.items()
    )
    if own is not None:
        own.superseded_by = entry
        own.save(update_fields=["superseded_by"])

    live_now = sorted([*others, entry], key=lambda item: item.entry_number)
    other = others[0] if others else None
    w6: tuple[RecordEntry, DomainFinding] | None = None
    if other is not None:
        difference = compare_entries(entry_record(live_now[0]), entry_record(live_now[1]))
        if difference is not None:
            w6 = (entry, difference)
    _findings_sync(round=round, entries=live_now, w6=w6)

    if election.entry_mode == Election.EntryMode.SINGLE:
        status = _accept(
            round=round,
            entry=entry,
            second=None,
            source=AcceptedRecord.Source.SINGLE_ENTRY,
            actor=actor,
            event=RoundEvent.ENTER,
        )
    elif other is None:
        status = (
            StationRound.Status.FIRST_ENTRY if number == 1 else StationRound.Status.SECOND_ENTRY
        )
        _status_save(round, status, RoundEvent.ENTER)
    elif w6 is None:
        status = _accept(
            round=round,
            entry=live_now[0],
            second=live_now[1],
            source=AcceptedRecord.Source.DOUBLE_ENTRY,
            actor=actor,
            event=RoundEvent.ENTER,
        )
    else:
        status = StationRound.Status.ENTRIES_DIFFER
        _status_save(round, status, RoundEvent.ENTER)

    findings = entry_findings(entry, station)
    audit_append(
        actor=actor,
        action="record.correct" if own is not None else "record.submit",
        obj=entry,
        station_code=station.code,
        before={"status": status_before, "replaces": own.pk if own is not None else None},
        after={
            **_entry_summary(entry, votes),
            "status": status,
            "findings": [finding.code for finding in findings],
        },
        client_address=client_address,
    )
    return EntryResult(entry=entry, round=round, created=True, findings=findings)


def _status_after_withdrawal(live: list[RecordEntry]) -> str:
    if not live:
        return StationRound.Status.AWAITING
    if len(live) == 1:
        return (
            StationRound.Status.FIRST_ENTRY
            if live[0].entry_number == 1
            else StationRound.Status.SECOND_ENTRY
        )
    return StationRound.Status.ENTRIES_DIFFER


def entry_withdraw(
    *,
    actor: User,
    entry: RecordEntry,
    reason: str = "",
    client_address: str | None = None,
) -> StationRound:
    """A clerk takes back their own entry while the record is not accepted.

    The entry stays, marked superseded; its findings are dismissed (and a W6
    it caused is resolved); the round steps back (docs/entry.md).
    Withdrawing an entry already withdrawn changes nothing.
    """
    station = entry.round.station
    if not clerk_may_enter(actor, station) or entry.clerk_id != actor.pk:
        raise StationNotAllowed(
            _("Station {station} is not one you may enter."), station=station.code
        )
    with transaction.atomic():
        round = (
            StationRound.objects.locked().select_related("station__election").get(pk=entry.round_id)
        )
        entry = RecordEntry.objects.locked().get(pk=entry.pk)
        if entry.superseded_at is not None:
            return round
        election_lock_open(round.station.election_id)
        if round.status not in OPEN_STATUSES:
            raise RoundClosed(
                _("The record of this station is {status}; only a commission decision changes it."),
                status=round.status,
            )
        before = round.status
        entry.superseded_at = timezone.now()
        entry.save(update_fields=["superseded_at"])
        live = _live(round)
        _findings_sync(round=round, entries=live, w6=None)
        status = _status_after_withdrawal(live)
        _status_save(round, status, RoundEvent.WITHDRAW)
        audit_append(
            actor=actor,
            action="record.withdraw",
            obj=entry,
            station_code=station.code,
            before={"status": before, "entry": entry.pk},
            after={"status": status},
            reason=reason,
            client_address=client_address,
        )
    return round
