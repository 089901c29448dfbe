"""A Hypothesis state machine over a station's rounds (STYLE.md rule 11;
RULES.md sections 2, 4, 5).

Clerks enter, correct and withdraw entries; the commission reconciles,
corrects, acknowledges and annuls; every action is tried whether or not the
round's state allows it. A refused action (``EntryRefused``) must store
nothing; a successful one must move its round only as
``domain/rounds.TRANSITIONS`` allows and add exactly one audit event. After
every step the invariants below hold: one live round per station, nothing
overwritten, statuses that agree with the rows, and a tabulation that counts
exactly the accepted rounds' live records, never an annulled round's.

``test_the_round_state_machine_holds`` builds one election and runs each
example in a savepoint rolled back when the example ends: every example
starts from the same fresh election and none sees another's rows. The actions
are drawn by one rule (``step``); ``test_the_machine_walks_every_transition_of_
the_table`` takes the same checked actions along every transition of the
table on purpose, whatever the random runs happen to reach.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, ClassVar

import pytest
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)

from tabulation.domain.codes import HOLDING_CATEGORIES
from tabulation.domain.rounds import (
    OPEN_FOR_ENTRY,
    TRANSITIONS,
    RoundEvent,
    RoundStatus,
    annulment_grounds,
)
from tabulation.models import (
    AcceptedRecord,
    AcceptedVote,
    AuditEvent,
    Decision,
    Election,
    Finding,
    RecordEntry,
    RecordEntryVote,
    ResultSnapshot,
    StationRound,
)
from tabulation.services.decisions import (
    entries_reconcile,
    finding_acknowledge,
    record_correct,
    station_annul,
)
from tabulation.services.records import EntryRefused, entry_withdraw, record_submit
from tabulation.services.tabulation import election_tabulate
from tests.factories import record_values
from tests.views.entry_setup import VOTES, EntrySetup, entry_setup

TODAY = date(2026, 12, 1)
ALL_GROUNDS = ("R1", "R2", "R3", "R4", "U1", "U2", "U3", "U4")
HOLDING = frozenset(str(category) for category in HOLDING_CATEGORIES)

# The records clerks type and the commission corrects to: (values, votes).
RECORDS: dict[str, tuple[dict[str, Any], dict[int, int]]] = {
    # Consistent, counts as it is.
    "good": (record_values(), VOTES),
    # Consistent too, but differs from "good" (W6 when the two meet).
    "other": (record_values(), {1: 301, 2: 200, 3: 87}),
    # More ballots in the box than voters who turned out: R1, held.
    "r1": (record_values(turned_out=590), VOTES),
    # The votes add up to 589, valid ballots are 588: S1, held.
    "s1": (record_values(), {1: 301, 2: 200, 3: 88}),
    # Registered differs from the register (1000): C1, counted, acknowledgeable.
    "c1": (record_values(registered=999), VOTES),
    # 20 invalid of 600 in the box: W2, counted, acknowledgeable.
    "w2": (record_values(ballots_invalid=20, ballots_valid=580), {1: 300, 2: 200, 3: 80}),
    # R1 and W2: held, with a warning to acknowledge meanwhile.
    "r1_w2": (
        record_values(turned_out=590, ballots_invalid=20, ballots_valid=580),
        {1: 300, 2: 200, 3: 80},
    ),
    # Control sheet not in order, more ballots than received, two signatures:
    # R2, R3 and U3, held; each a ground for annulment.
    "r2_r3_u3": (
        record_values(control_sheet_ok=False, ballots_unused=420, board_signatures=2),
        VOTES,
    ),
    # Not a whole number: E1, refused before anything is stored.
    "e1": (record_values(ballots_invalid="twelve"), VOTES),
}

ENTRY_FIELDS = RecordEntry.RECORD_FIELD_NAMES
# The states whose changes change the count.
COUNTING = frozenset({RoundStatus.ACCEPTED, RoundStatus.HELD, RoundStatus.ANNULLED})
# The tables a service writes: a refused call leaves their row counts as they were.
COUNTED = (
    RecordEntry,
    RecordEntryVote,
    AcceptedRecord,
    AcceptedVote,
    Decision,
    Finding,
    AuditEvent,
    StationRound,
)


# The actions, each with its weight, what it draws, and when it can be tried
# at all (``step`` draws the action first, then its arguments).
ACTIONS: dict[str, tuple[int, dict[str, st.SearchStrategy[Any]], Callable[[Any], bool]]] = {
    "enter": (
        3,
        {
            "who": st.sampled_from(["next"] * 5 + ["clerk1", "clerk2", "member"]),
            "record": st.sampled_from(["same", "same", "good", "c1", "w2", *RECORDS]),
            "correct_own": st.booleans(),
            "key": st.sampled_from(["new", "new", "new", "new", "used"]),
            "pick": st.integers(0, 100),
        },
        lambda machine: True,
    ),
    "withdraw": (
        1,
        {
            "pick": st.integers(0, 100),
            "which": st.sampled_from(["live", "live", "live", "any"]),
            "by": st.sampled_from(["own", "own", "own", "other"]),
        },
        # Some entry of the live round to take back.
        lambda machine: (
            RecordEntry.objects.filter(round__station=machine.station, superseded_at__isnull=True)
            .exclude(round__status=RoundStatus.ANNULLED)
            .exists()
        ),
    ),
    "decide": (
        3,
        {
            "kind": st.sampled_from(
                ["fitting"] * 4 + ["keep", "return", "neither", "correct", "acknowledge", "annul"]
            ),
            "who": st.sampled_from(["member"] * 5 + ["clerk"]),
            "reason": st.sampled_from(["The commission inspected the material."] * 5 + ["  "]),
            "stale": st.sampled_from([False] * 5 + [True]),
            "record": st.sampled_from(["good", "good", *RECORDS]),
            "pick": st.integers(0, 100),
            "offered": st.sampled_from([True] * 4 + [False]),
            "days": st.sampled_from([7, 7, 7, 1, 10, 0, 11]),
        },
        lambda machine: True,
    ),
    "tabulate": (
        1,
        {"deadline_passed": st.sampled_from([False, False, True])},
        # Something changed since the last tabulation.
        lambda machine: machine.changed,
    ),
}

WEIGHTED = [name for name, (weight, _arguments, _ready) in ACTIONS.items() for _ in range(weight)]


class RoundMachine(RuleBasedStateMachine):
    def __init__(self, setup: EntrySetup | None = None) -> None:
        """``setup``: an election built once for every example (each example
        runs in a savepoint of its own, rolled back in ``teardown``, so each
        starts from the same fresh election); else one is built here."""
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.setup: EntrySetup = setup or entry_setup()
        self.election_id = self.setup.election.pk
        self.station = self.setup.station
        self.keys: list[str] = []  # the idempotency keys tried
        self.entries_seen: dict[int, tuple[Any, ...]] = {}
        self.records_seen: dict[int, tuple[Any, ...]] = {}
        self.superseded_seen: dict[tuple[str, int], Any] = {}
        self.record_of: dict[int, str] = {}  # entry id -> the RECORDS name typed
        self.changed = True  # something happened since the last tabulation
        # (status before, event, status after) of every successful call.
        self.transitions: set[tuple[str, str, str]] = set()
        self.successes = 0

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # --- Reading the rows --------------------------------------------------------------

    def _rounds(self) -> dict[int, str]:
        return dict(
            StationRound.objects.filter(station__election_id=self.election_id).values_list(
                "id", "status"
            )
        )

    def _current(self) -> StationRound:
        return (
            StationRound.objects.filter(station=self.station)
            .exclude(status=StationRound.Status.ANNULLED)
            .select_related("station")
            .get()
        )

    def _annulled(self) -> list[StationRound]:
        return list(
            StationRound.objects.filter(station=self.station, status=StationRound.Status.ANNULLED)
            .select_related("station")
            .order_by("number")
        )

    def _world(self) -> dict[str, Any]:
        """Everything a refused call must leave exactly as it was: the rows
        of every table a service writes, counted (one query), the rounds'
        statuses, the findings' statuses, and what is set aside."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT "
                + ", ".join(f"(SELECT COUNT(*) FROM {model._meta.db_table})" for model in COUNTED)
            )
            counts = dict(
                zip((model.__name__ for model in COUNTED), cursor.fetchone(), strict=True)
            )
        election = self.election_id
        return {
            "counts": counts,
            "rounds": self._rounds(),
            "findings": list(
                Finding.objects.filter(round__station__election_id=election)
                .order_by("pk")
                .values_list("pk", "status")
            ),
            "entries": list(
                RecordEntry.objects.filter(round__station__election_id=election)
                .order_by("pk")
                .values_list("pk", "superseded_at")
            ),
            "records": list(
                AcceptedRecord.objects.filter(round__station__election_id=election)
                .order_by("pk")
                .values_list("pk", "superseded_at")
            ),
        }

    # --- One action, checked -------------------------------------------------------------

    def _act(
        self,
        event: RoundEvent,
        round_id: int,
        call: Callable[[], Any],
        *,
        action: str,
        decision: bool,
        no_op: Callable[[Any], bool] = lambda _result: False,
        lawful: bool = False,
    ) -> Any:
        """Run ``call`` on the round ``round_id`` and check its effect.

        Refused: nothing changed. Succeeded: one audit event ``action`` (one
        Decision when ``decision``), the round moved as the table allows, no
        other round touched, and a new awaiting round only after an annulment.
        ``no_op(result)`` says the call answered from what was stored
        (idempotent): then nothing at all may have changed. ``lawful``: the
        call meets every condition of the law and of the service (the table
        allows it, the actor may, the input is valid), so it must not be
        refused. The result, or None when refused or idempotent.
        """
        before = self._world()
        try:
            result = call()
        except EntryRefused as refusal:
            assert self._world() == before, f"a refused {event} changed rows"
            assert not lawful, f"a lawful {event} was refused: {refusal!r}"
            return None
        after = self._world()
        if no_op(result):
            assert after == before, f"an idempotent {event} changed rows"
            return None
        self.changed = True
        grew = {name: after["counts"][name] - count for name, count in before["counts"].items()}
        assert grew["AuditEvent"] == 1, f"{event}: {grew['AuditEvent']} audit events"
        assert AuditEvent.objects.order_by("-sequence").values_list("action")[0] == (action,)
        assert grew["Decision"] == (1 if decision else 0), f"{event}: {grew['Decision']} decisions"

        statuses, now = before["rounds"], after["rounds"]
        allowed = TRANSITIONS.get((RoundStatus(statuses[round_id]), event))
        assert allowed is not None, f"{event} succeeded from {statuses[round_id]}"
        assert now[round_id] in allowed, f"{statuses[round_id]} -{event}-> {now[round_id]}"
        self.transitions.add((str(statuses[round_id]), str(event), str(now[round_id])))
        self.successes += 1
        for other, status in statuses.items():
            if other != round_id:
                assert now[other] == status, f"{event} moved round {other} too"
        new = set(now) - set(statuses)
        if event == RoundEvent.ANNUL:
            assert len(new) == 1
            repeat = StationRound.objects.get(pk=new.pop())
            old = StationRound.objects.get(pk=round_id)
            assert (repeat.station_id, repeat.number, repeat.status) == (
                old.station_id,
                old.number + 1,
                StationRound.Status.AWAITING,
            )
        else:
            assert not new, f"{event} opened a round"
        if {statuses[round_id], now[round_id]} & COUNTING:
            # The count may have changed: check it now, whatever the rules draw.
            self._tabulation_check()
        return result

    # --- One step -------------------------------------------------------------------------

    @rule(data=st.data())
    def step(self, data: st.DataObject) -> None:
        """Draw an action (by weight), then its arguments, and take it; an
        action that cannot be tried now (nothing to withdraw, nothing new to
        tabulate) is a step that does nothing.

        One rule rather than one per action: Hypothesis' swarm testing turns
        whole rules off for an example, and without the commission an
        accepted round, say, would sit out the rest of the example. The
        action and its arguments are drawn the same way whatever the state, so
        that shrinking a failing run away from its first steps keeps the
        meaning of the later ones.
        """
        name = data.draw(st.sampled_from(WEIGHTED), label="action")
        _weight, arguments, ready = ACTIONS[name]
        drawn = data.draw(st.fixed_dictionaries(arguments), label=name)
        if ready(self):
            getattr(self, name)(**drawn)

    # --- Clerks --------------------------------------------------------------------------

    def _clerk(self, name: str) -> Any:
        return getattr(self.setup, name)

    def _clerk_name(self, user_id: int) -> str:
        return "clerk1" if user_id == self.setup.clerk1.pk else "clerk2"

    def _live_entries(self, round: StationRound | None = None) -> list[RecordEntry]:
        return list(
            RecordEntry.objects.filter(round=round or self._current(), superseded_at__isnull=True)
            .select_related("round__station")
            .order_by("entry_number")
        )

    def _submit(self, clerk: str, record: str, key: str, correct_own: bool, *, fresh: bool) -> None:
        values, votes = RECORDS[record]
        round = self._current()
        round_id = round.pk
        actor = self._clerk(clerk)
        live = self._live_entries(round)
        own_live = any(entry.clerk_id == actor.pk for entry in live)
        lawful = (
            clerk != "member"
            and record != "e1"
            and fresh
            and round.status in OPEN_FOR_ENTRY
            and (correct_own if own_live else len(live) < 2)
        )
        result = self._act(
            RoundEvent.ENTER,
            round_id,
            lambda: record_submit(
                actor=actor,
                station=self.station,
                values=values,
                votes=list(votes.items()),
                idempotency_key=key,
                correct_own=correct_own,
            ),
            action="record.correct" if own_live and correct_own else "record.submit",
            decision=False,
            no_op=lambda result: not result.created,
            lawful=lawful,
        )
        if result is not None:
            self.record_of[result.entry.pk] = record

    def enter(self, who: str, record: str, correct_own: bool, key: str, pick: int) -> None:
        """A clerk enters the record, or corrects their own entry.

        ``next``: the clerk whose turn it is (the other clerk when one entry
        is live; the author of one of two differing entries, correcting it,
        when both are). ``same``: as the other clerk's live entry reads.
        ``used``: a key tried before: the same clerk's retry answers with the
        stored entry and changes nothing, another clerk's is refused, and a
        key whose call was refused is free again.
        """
        live = self._live_entries()
        if who == "next":
            if len(live) == 1:
                who = "clerk2" if live[0].clerk_id == self.setup.clerk1.pk else "clerk1"
            elif len(live) == 2:
                who, correct_own = self._clerk_name(live[pick % 2].clerk_id), True
            else:
                who = ("clerk1", "clerk2")[pick % 2]
        if record == "same":
            others = [entry for entry in live if entry.clerk_id != self._clerk(who).pk]
            record = self.record_of.get(others[0].pk, "good") if others else "good"
        fresh = key == "new" or not self.keys
        if fresh:
            idempotency_key = f"{self.setup.election.slug}-key-{len(self.keys)}"
            self.keys.append(idempotency_key)
        else:
            idempotency_key = self.keys[pick % len(self.keys)]
        self._submit(who, record, idempotency_key, correct_own, fresh=fresh)

    def withdraw(self, pick: int, which: str, by: str) -> None:
        """A clerk takes an entry back: mostly a live one of the live round,
        sometimes any entry of the station (withdrawn, accepted, annulled)."""
        entries = self._live_entries() if which == "live" else []
        if not entries:
            entries = list(
                RecordEntry.objects.filter(round__station=self.station)
                .select_related("round__station")
                .order_by("pk")
            )
        entry = entries[pick % len(entries)]
        owner = self._clerk_name(entry.clerk_id)
        clerk = owner if by == "own" else ("clerk2" if owner == "clerk1" else "clerk1")
        already = entry.superseded_at is not None
        lawful = by == "own" and entry.round.status in OPEN_FOR_ENTRY
        self._act(
            RoundEvent.WITHDRAW,
            entry.round_id,
            lambda: entry_withdraw(actor=self._clerk(clerk), entry=entry, reason="Mistyped."),
            action="record.withdraw",
            decision=False,
            # Withdrawing an entry already withdrawn changes nothing.
            no_op=lambda _result: already,
            lawful=lawful,
        )

    # --- The commission --------------------------------------------------------------------

    # What the commission would do in each state, for ``kind="fitting"``.
    FITTING: ClassVar[dict[str, tuple[str, ...]]] = {
        RoundStatus.ENTRIES_DIFFER: ("keep", "keep", "return"),
        RoundStatus.ACCEPTED: ("correct", "acknowledge"),
        RoundStatus.HELD: ("correct", "correct", "acknowledge", "annul"),
    }
    # Nothing is for the commission to decide while clerks are entering; an
    # annulment (U1, U2, R4) is lawful, but each one starts the station over.
    WHILE_ENTERING = ("annul", "correct", "keep", "return", "acknowledge")

    def decide(
        self,
        kind: str,
        who: str,
        reason: str,
        stale: bool,
        record: str,
        pick: int,
        offered: bool,
        days: int,
    ) -> None:
        """A commission decision, mostly the one the round's state calls for
        (``fitting``), else any: on the live round, or (``stale``) on an
        annulled one; by a member, or by a clerk; with a reason or without."""
        actor = self.setup.member if who == "member" else self.setup.clerk1
        # A member who gives a reason: the rest is up to the round.
        may = who == "member" and bool(reason.strip())
        if kind == "fitting":
            current = self._current()
            kinds = self.FITTING.get(current.status, self.WHILE_ENTERING)
            acknowledgeable = Finding.objects.filter(
                round=current, status=Finding.Status.OPEN, category__in=("C", "W")
            ).exclude(code="W6")
            if "acknowledge" in kinds and acknowledgeable.exists():
                kinds = ("acknowledge", "acknowledge", *kinds)
            kind = kinds[pick % len(kinds)]
        if kind == "annul" and len(self._annulled()) >= 2:
            # Two repeat votes are plenty: more would only start over again.
            kind = "correct"
        annulled = self._annulled()
        round = annulled[-1] if stale and annulled else self._current()
        if kind in ("keep", "return", "neither"):
            self._reconcile(actor, round, kind, reason, pick, may)
        elif kind == "correct":
            self._correct(actor, round, record, reason, may)
        elif kind == "acknowledge":
            self._acknowledge(actor, round, reason, pick, may)
        else:
            self._annul(actor, reason, pick, offered, days, may)

    def _reconcile(
        self, actor: Any, round: StationRound, kind: str, reason: str, pick: int, may: bool
    ) -> None:
        keep = None
        if kind == "keep":
            # Mostly one of the round's live entries; now and then any entry.
            entries = self._live_entries(round) if pick % 5 else []
            if not entries:
                entries = list(RecordEntry.objects.filter(round__station=self.station))
            if not entries:
                return
            keep = entries[pick % len(entries)]
        lawful = (
            may
            and round.status == RoundStatus.ENTRIES_DIFFER
            and (kind == "return" or (kind == "keep" and keep in self._live_entries(round)))
        )
        self._act(
            RoundEvent.RECONCILE_RETURN if kind == "return" else RoundEvent.RECONCILE_KEEP,
            round.pk,
            lambda: entries_reconcile(
                actor=actor,
                round=round,
                reason=reason,
                keep_entry=keep,
                return_for_entry=kind == "return",
            ),
            action="decision.reconcile",
            decision=True,
            lawful=lawful,
        )

    def _correct(
        self, actor: Any, round: StationRound, record: str, reason: str, may: bool
    ) -> None:
        values, votes = RECORDS[record]
        lawful = may and record != "e1" and round.status in (RoundStatus.ACCEPTED, RoundStatus.HELD)
        self._act(
            RoundEvent.CORRECT,
            round.pk,
            lambda: record_correct(
                actor=actor,
                round=round,
                values=values,
                votes=list(votes.items()),
                reason=reason,
            ),
            action="decision.correct",
            decision=True,
            lawful=lawful,
        )

    def _acknowledge(
        self, actor: Any, round: StationRound, reason: str, pick: int, may: bool
    ) -> None:
        # Mostly an open C or W finding of the round; now and then any finding.
        findings = Finding.objects.filter(round__station=self.station).order_by("pk")
        rows = list(findings.filter(round=round, status="open", category__in=("C", "W")))
        if not rows or pick % 5 == 0:
            rows = list(findings)
        if not rows:
            return
        finding = rows[pick % len(rows)]
        lawful = (
            may
            and finding.status == Finding.Status.OPEN
            and finding.category in ("C", "W")
            and finding.code != "W6"
            and finding.round.status in (RoundStatus.ACCEPTED, RoundStatus.HELD)
        )
        self._act(
            RoundEvent.ACKNOWLEDGE,
            finding.round_id,
            lambda: finding_acknowledge(actor=actor, finding=finding, reason=reason),
            action="decision.dismiss_warning",
            decision=True,
            lawful=lawful,
        )

    def _annul(
        self, actor: Any, reason: str, pick: int, offered: bool, days: int, may: bool
    ) -> None:
        round = self._current()
        open_codes = set(
            Finding.objects.filter(round=round, status=Finding.Status.OPEN).values_list(
                "code", flat=True
            )
        )
        has_record = AcceptedRecord.objects.filter(round=round, superseded_at__isnull=True).exists()
        lawful_grounds = annulment_grounds(open_codes=open_codes, has_record=has_record)
        grounds = lawful_grounds if offered else ALL_GROUNDS
        ground = grounds[pick % len(grounds)]
        lawful = may and ground in lawful_grounds and 1 <= days <= 10
        self._act(
            RoundEvent.ANNUL,
            round.pk,
            lambda: station_annul(
                actor=actor,
                station=self.station,
                ground=ground,
                voting_date=TODAY + timedelta(days=days),
                reason=reason,
                today=TODAY,
            ),
            action="decision.annul_and_order_repeat",
            decision=True,
            lawful=lawful,
        )

    # --- Tabulation ------------------------------------------------------------------------

    def tabulate(self, deadline_passed: bool) -> None:
        """Tabulate when something changed since the last run, before election
        night's entry deadline or after it (then a first round still awaiting
        its record gets a U2, Art. 115)."""
        if deadline_passed:
            Election.objects.filter(pk=self.election_id, entry_deadline__isnull=True).update(
                entry_deadline=timezone.now() - timedelta(hours=1)
            )
        self._tabulation_check()

    def _tabulation_check(self) -> None:
        """Tabulate; the latest snapshot counts exactly the live records of
        the rounds whose status is accepted: a held round, a round still being
        entered and an annulled round (whose record stays) add nothing."""
        self.changed = False
        election_tabulate(election_id=self.election_id)
        snapshot = (
            ResultSnapshot.objects.filter(election_id=self.election_id).order_by("-version").first()
        )
        assert snapshot is not None
        payload = snapshot.payload
        counted = {str(item["ballot_number"]): item["votes"] for item in payload["lists"]}

        # Computed here from the rows, independently of the selectors.
        expected = dict.fromkeys(counted, 0)
        not_counted: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(counted, 0))
        stations = valid = 0
        for record in (
            AcceptedRecord.objects.filter(
                round__station__election_id=self.election_id, superseded_at__isnull=True
            )
            .select_related("round")
            .prefetch_related("votes__electoral_list")
        ):
            if record.round.status == StationRound.Status.ACCEPTED:
                stations += 1
                valid += record.ballots_valid or 0
                tally = expected
            else:
                tally = not_counted[record.round.status]
            for vote in record.votes.all():
                tally[str(vote.electoral_list.ballot_number)] += vote.votes
        where = f"counted {counted}; the accepted rounds {expected}; not counted {not_counted}"
        assert counted == expected, where
        assert payload["stations"]["counted"] == stations, where
        assert payload["valid"] == valid, where
        # Every station has a live round: none is shown as annulled.
        assert payload["stations"]["annulled"] == 0

    # --- Invariants ----------------------------------------------------------------------

    @invariant()
    def one_live_round_per_station(self) -> None:
        for station_id in (self.station.pk, self.setup.outsider_station.pk):
            live = StationRound.objects.filter(station_id=station_id).exclude(
                status=StationRound.Status.ANNULLED
            )
            assert live.count() == 1, f"station {station_id}: {live.count()} live rounds"
        numbers = list(
            StationRound.objects.filter(station=self.station)
            .order_by("number")
            .values_list("number", "status")
        )
        # Round n + 1 exists only because round n was annulled.
        assert [number for number, _status in numbers] == list(range(1, len(numbers) + 1))
        assert all(status == RoundStatus.ANNULLED for _number, status in numbers[:-1])

    @invariant()
    def nothing_is_overwritten(self) -> None:
        """Every entry and accepted record ever seen is still stored with the
        same figures; being set aside (superseded) happens once and stays."""
        election = self.election_id
        entry_votes: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for entry_id, list_id, votes in RecordEntryVote.objects.filter(
            entry__round__station__election_id=election
        ).values_list("entry_id", "electoral_list_id", "votes"):
            entry_votes[entry_id].append((list_id, votes))
        record_votes: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for record_id, list_id, votes in AcceptedVote.objects.filter(
            accepted_record__round__station__election_id=election
        ).values_list("accepted_record_id", "electoral_list_id", "votes"):
            record_votes[record_id].append((list_id, votes))

        stored = set()
        for entry in RecordEntry.objects.filter(round__station__election_id=election):
            figures = (
                entry.round_id,
                entry.entry_number,
                entry.clerk_id,
                entry.idempotency_key,
                *(getattr(entry, name) for name in ENTRY_FIELDS),
                tuple(sorted(entry_votes[entry.pk])),
            )
            assert self.entries_seen.setdefault(entry.pk, figures) == figures
            self._superseded_once(("entry", entry.pk), entry.superseded_at)
            stored.add(entry.pk)
        assert set(self.entries_seen) <= stored, "an entry was deleted"

        stored = set()
        for record in AcceptedRecord.objects.filter(round__station__election_id=election):
            figures = (
                record.round_id,
                record.source,
                record.first_entry_id,
                record.second_entry_id,
                record.decision_id,
                *(getattr(record, name) for name in ENTRY_FIELDS),
                tuple(sorted(record_votes[record.pk])),
            )
            assert self.records_seen.setdefault(record.pk, figures) == figures
            self._superseded_once(("record", record.pk), record.superseded_at)
            stored.add(record.pk)
        assert set(self.records_seen) <= stored, "an accepted record was deleted"

    def _superseded_once(self, key: tuple[str, int], superseded_at: Any) -> None:
        """Once set aside, always set aside, at the same moment."""
        seen = self.superseded_seen.get(key)
        if seen is not None:
            assert superseded_at == seen, f"{key} superseded_at changed"
        elif superseded_at is not None:
            self.superseded_seen[key] = superseded_at

    @invariant()
    def status_agrees_with_the_rows(self) -> None:
        """accepted: a live accepted record and no open R, U or S finding;
        held: a live accepted record and one; the entry states: no accepted
        record and the live entries the state names; annulled: nothing open.
        An open W6 exactly while the two entries differ."""
        election = self.election_id
        live_records: dict[int, int] = defaultdict(int)
        for round_id in AcceptedRecord.objects.filter(
            round__station__election_id=election, superseded_at__isnull=True
        ).values_list("round_id", flat=True):
            live_records[round_id] += 1
        open_codes: dict[int, set[str]] = defaultdict(set)
        for round_id, code in Finding.objects.filter(
            round__station__election_id=election, status=Finding.Status.OPEN
        ).values_list("round_id", "code"):
            open_codes[round_id].add(code)
        live_entries: dict[int, list[int]] = defaultdict(list)
        for round_id, number in (
            RecordEntry.objects.filter(
                round__station__election_id=election, superseded_at__isnull=True
            )
            .order_by("entry_number")
            .values_list("round_id", "entry_number")
        ):
            live_entries[round_id].append(number)

        for round_id, value in self._rounds().items():
            status = RoundStatus(value)
            assert live_records[round_id] <= 1, f"round {round_id}: two live accepted records"
            has_record = live_records[round_id] == 1
            codes = open_codes[round_id]
            holding = any(code[0] in HOLDING for code in codes)
            where = f"{status} round {round_id} (open: {sorted(codes)})"
            if status == RoundStatus.ACCEPTED:
                assert has_record and not holding, where
            elif status == RoundStatus.HELD:
                assert has_record and holding, where
            elif status in OPEN_FOR_ENTRY:
                assert not has_record, f"{where} has an accepted record"
                expected = {
                    RoundStatus.AWAITING: [],
                    RoundStatus.FIRST_ENTRY: [1],
                    RoundStatus.SECOND_ENTRY: [2],
                    RoundStatus.ENTRIES_DIFFER: [1, 2],
                }[status]
                assert live_entries[round_id] == expected, f"{where}: {live_entries[round_id]}"
            else:
                # The annulment settled every finding of the round.
                assert status == RoundStatus.ANNULLED and not codes, where
            # The two entries differ exactly while the round says so.
            assert ("W6" in codes) == (status == RoundStatus.ENTRIES_DIFFER), where


# 15 runs of up to 25 steps; the walk below covers every transition
# of the table on purpose, so more runs bought little for half a minute.
SETTINGS = settings(
    max_examples=15,
    stateful_step_count=25,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
)


@pytest.mark.django_db
def test_the_round_state_machine_holds() -> None:
    setup = entry_setup()
    run_state_machine_as_test(lambda: RoundMachine(setup), settings=SETTINGS)


# --- Every transition of the table, walked on purpose -----------------------------


def _checked(machine: RoundMachine, successes: int | None = None) -> RoundMachine:
    """The invariants hold; and the step succeeded, when ``successes`` (the
    count before it) is given."""
    if successes is not None:
        assert machine.successes == successes + 1, "the step was refused"
    machine.one_live_round_per_station()
    machine.nothing_is_overwritten()
    machine.status_agrees_with_the_rows()
    return machine


def _enter(machine: RoundMachine, who: str, record: str, correct_own: bool = False) -> None:
    successes = machine.successes
    machine.enter(who=who, record=record, correct_own=correct_own, key="new", pick=0)
    _checked(machine, successes)


def _withdraw(machine: RoundMachine, entry_number: int) -> None:
    successes = machine.successes
    live = [entry.entry_number for entry in machine._live_entries()]
    machine.withdraw(pick=live.index(entry_number), which="live", by="own")
    _checked(machine, successes)


def _decide(machine: RoundMachine, kind: str, record: str = "good", pick: int = 0) -> None:
    member, reason = machine.setup.member, "The commission inspected the material."
    round, successes = machine._current(), machine.successes
    if kind == "annul":
        machine._annul(member, reason, pick, offered=True, days=7, may=True)
    elif kind == "correct":
        machine._correct(member, round, record, reason, may=True)
    elif kind == "acknowledge":
        machine._acknowledge(member, round, reason, pick=1, may=True)
    else:
        machine._reconcile(member, round, kind, reason, pick, may=True)
    _checked(machine, successes)


def _status(machine: RoundMachine) -> str:
    return machine._current().status


@pytest.mark.django_db
def test_the_machine_walks_every_transition_of_the_table() -> None:
    """Hypothesis reaches some transitions rarely: walk each one on purpose,
    through the same checked actions and invariants."""
    double, single = RoundMachine(entry_setup()), RoundMachine(entry_setup("single"))
    try:
        walk = _checked(double)
        _enter(walk, "clerk1", "good")  # awaiting -> first_entry
        _enter(walk, "clerk1", "other", correct_own=True)  # first_entry -> first_entry
        _withdraw(walk, 1)  # first_entry -> awaiting
        _enter(walk, "clerk1", "good")
        _enter(walk, "clerk2", "other")  # first_entry -> entries_differ
        _withdraw(walk, 1)  # entries_differ -> second_entry
        _enter(walk, "clerk2", "good", correct_own=True)  # second_entry -> second_entry
        _withdraw(walk, 2)  # second_entry -> awaiting
        _enter(walk, "clerk1", "good")
        _enter(walk, "clerk2", "other")
        _enter(walk, "clerk2", "s1", correct_own=True)  # entries_differ -> entries_differ
        _withdraw(walk, 2)  # entries_differ -> first_entry
        _enter(walk, "clerk2", "other")
        _decide(walk, "return")  # entries_differ -> awaiting
        assert _status(walk) == RoundStatus.AWAITING
        _enter(walk, "clerk1", "good")
        _enter(walk, "clerk2", "other")
        _decide(walk, "keep", pick=6)  # entries_differ -> accepted (entry 1)
        assert _status(walk) == RoundStatus.ACCEPTED
        _decide(walk, "correct", "c1")  # accepted -> accepted, with C1 open
        _decide(walk, "acknowledge")  # accepted -> accepted
        _decide(walk, "correct", "s1")  # accepted -> held
        _decide(walk, "correct", "r1_w2")  # held -> held, with W2 open
        _decide(walk, "acknowledge")  # held -> held
        _decide(walk, "correct", "good")  # held -> accepted
        assert _status(walk) == RoundStatus.ACCEPTED
        _decide(walk, "annul")  # accepted -> annulled; round 2 awaits
        _decide(walk, "annul")  # awaiting -> annulled
        _enter(walk, "clerk1", "r1")
        _decide(walk, "annul")  # first_entry -> annulled
        _enter(walk, "clerk1", "good")
        _enter(walk, "clerk2", "other")
        _decide(walk, "annul")  # entries_differ -> annulled
        _enter(walk, "clerk1", "good")
        _enter(walk, "clerk2", "other")
        _withdraw(walk, 1)
        _enter(walk, "clerk1", "other")  # second_entry -> accepted
        assert _status(walk) == RoundStatus.ACCEPTED
        walk.tabulate(deadline_passed=False)
        _decide(walk, "correct", "r1")
        _decide(walk, "annul")  # held -> annulled
        _enter(walk, "clerk1", "r1")
        _enter(walk, "clerk2", "good")
        _withdraw(walk, 1)
        _decide(walk, "annul")  # second_entry -> annulled
        _enter(walk, "clerk1", "r1")
        _enter(walk, "clerk2", "r1")  # first_entry -> held
        assert _status(walk) == RoundStatus.HELD
        _decide(walk, "annul")
        _enter(walk, "clerk1", "good")
        _enter(walk, "clerk2", "other")
        _withdraw(walk, 1)
        _enter(walk, "clerk1", "r1")  # second_entry -> entries_differ
        _enter(walk, "clerk1", "other", correct_own=True)  # entries_differ -> accepted
        _decide(walk, "annul")
        _enter(walk, "clerk1", "good")
        _enter(walk, "clerk2", "other")
        _withdraw(walk, 1)
        _enter(walk, "clerk1", "r1")
        _enter(walk, "clerk2", "r1", correct_own=True)  # entries_differ -> held
        _decide(walk, "annul")
        _enter(walk, "clerk1", "good")
        _enter(walk, "clerk2", "r1")
        _decide(walk, "keep", pick=1)  # entries_differ -> held (entry 2)
        _decide(walk, "annul")
        _enter(walk, "clerk1", "good")
        _enter(walk, "clerk2", "r1")
        _withdraw(walk, 1)
        _enter(walk, "clerk1", "r1")  # second_entry -> held
        _decide(walk, "annul")
        _enter(walk, "clerk1", "good")
        _enter(walk, "clerk2", "good")  # first_entry -> accepted
        walk.tabulate(deadline_passed=True)

        once = _checked(single)
        _enter(once, "clerk1", "good")  # awaiting -> accepted (single entry)
        _decide(once, "annul")
        _enter(once, "clerk2", "r1")  # awaiting -> held
        once.tabulate(deadline_passed=False)

        walked = double.transitions | single.transitions
        lawful = {
            (str(state), str(event), str(target))
            for (state, event), targets in TRANSITIONS.items()
            for target in targets
        }
        assert lawful - walked == set()
        assert walked <= lawful
    finally:
        double.teardown()
        single.teardown()
