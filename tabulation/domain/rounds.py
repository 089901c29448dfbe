"""The life of a station's round, written once (RULES.md sections 2, 4, 5).

``TRANSITIONS`` is the one table of what may happen to a round in each state
and which states it may lead to. Every service that changes a round's status
asks ``transition_check`` first; the diagram in docs/commission.md is drawn
from this table (``transition_diagram``) and a test keeps the two equal.

The same module holds the law's clocks around a round: the grounds on which
the commission may annul it (Art. 115, 116), the repeat vote's dates (a
repeat vote is ordered within 3 days of the annulment and held within 10 days
of that order) and the 72-hour windows of objections.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from tabulation.domain.codes import HOLDING_CATEGORIES, Category
from tabulation.domain.i18n import _


class RoundStatus(StrEnum):
    AWAITING = "awaiting"
    FIRST_ENTRY = "first_entry"
    SECOND_ENTRY = "second_entry"
    ENTRIES_DIFFER = "entries_differ"
    ACCEPTED = "accepted"
    HELD = "held"
    ANNULLED = "annulled"


class RoundEvent(StrEnum):
    """What can happen to a round, and who does it."""

    # Clerks (services/records.py).
    ENTER = "enter"  # store an entry, or replace one's own
    WITHDRAW = "withdraw"  # take one's own entry back
    # The commission (services/decisions.py), each a recorded Decision.
    RECONCILE_KEEP = "reconcile_keep"  # keep one of two differing entries
    RECONCILE_RETURN = "reconcile_return"  # both entries set aside: enter again
    CORRECT = "correct"  # corrected figures after inspecting the material
    ACKNOWLEDGE = "acknowledge"  # a C or W finding dismissed with a reason
    ANNUL = "annul"  # annulled; a repeat vote is a new round


S = RoundStatus
E = RoundEvent
_LIVE = (S.AWAITING, S.FIRST_ENTRY, S.SECOND_ENTRY, S.ENTRIES_DIFFER, S.ACCEPTED, S.HELD)
_ACCEPTED_OR_HELD = frozenset({S.ACCEPTED, S.HELD})

# (state, event) -> the states the event may lead to. The service decides
# which one from the facts (two entries equal or not, a holding finding open
# or not); the table says which are lawful. Anything absent is refused.
TRANSITIONS: dict[tuple[RoundStatus, RoundEvent], frozenset[RoundStatus]] = {
    # Double entry (RULES.md section 4); single entry accepts the first entry.
    (S.AWAITING, E.ENTER): frozenset({S.FIRST_ENTRY, S.ACCEPTED, S.HELD}),
    (S.FIRST_ENTRY, E.ENTER): frozenset({S.FIRST_ENTRY, S.ENTRIES_DIFFER, S.ACCEPTED, S.HELD}),
    (S.SECOND_ENTRY, E.ENTER): frozenset({S.SECOND_ENTRY, S.ENTRIES_DIFFER, S.ACCEPTED, S.HELD}),
    (S.ENTRIES_DIFFER, E.ENTER): frozenset({S.ENTRIES_DIFFER, S.ACCEPTED, S.HELD}),
    (S.FIRST_ENTRY, E.WITHDRAW): frozenset({S.AWAITING}),
    (S.SECOND_ENTRY, E.WITHDRAW): frozenset({S.AWAITING}),
    (S.ENTRIES_DIFFER, E.WITHDRAW): frozenset({S.FIRST_ENTRY, S.SECOND_ENTRY}),
    (S.ENTRIES_DIFFER, E.RECONCILE_KEEP): _ACCEPTED_OR_HELD,
    (S.ENTRIES_DIFFER, E.RECONCILE_RETURN): frozenset({S.AWAITING}),
    # Art. 109 and 110: the accepted record is corrected by a decision; the
    # checks run again and the round is held while an R, U or S remains.
    (S.ACCEPTED, E.CORRECT): _ACCEPTED_OR_HELD,
    (S.HELD, E.CORRECT): _ACCEPTED_OR_HELD,
    (S.ACCEPTED, E.ACKNOWLEDGE): frozenset({S.ACCEPTED}),
    (S.HELD, E.ACKNOWLEDGE): frozenset({S.HELD}),
    # Art. 115, 116: any live round may be annulled (a record that never
    # came, U1 or U2, has no entry at all); a repeat vote is a new round.
    **{(state, E.ANNUL): frozenset({S.ANNULLED}) for state in _LIVE},
}

# The states in which clerks may still add, correct or withdraw entries.
OPEN_FOR_ENTRY = frozenset({S.AWAITING, S.FIRST_ENTRY, S.SECOND_ENTRY, S.ENTRIES_DIFFER})
# The states in which an accepted record exists.
WITH_RECORD = _ACCEPTED_OR_HELD
# Finding categories the commission acknowledges (or corrects); R, U and S
# (codes.HOLDING_CATEGORIES) keep a round out of the count until it decides.
ACKNOWLEDGEABLE_CATEGORIES = frozenset({Category.CORRECTABLE, Category.WARNING})


R = TypeVar("R")


def current_round(rounds: Iterable[R], key: Callable[[R], tuple[int, str]]) -> R | None:
    """A station's current round among ``rounds`` (``key``: a round's number
    and status): the one not annulled, else the latest. Entries go to it, and
    the station's place in the count is read from it. A station has at most
    one round that is not annulled (a database constraint); once annulled,
    its latest round is the one the repeat vote replaced (RULES.md section 4).
    """

    def precedence(item: R) -> tuple[bool, int]:
        number, status = key(item)
        return status != S.ANNULLED, number

    return max(rounds, key=precedence, default=None)


def current_round_by_station(
    rounds: Iterable[R], key: Callable[[R], tuple[int, int, str]]
) -> dict[int, R]:
    """``current_round`` of each station: ``key`` gives a round's station id,
    number and status; the result maps station id to its current round."""
    by_station: dict[int, list[R]] = {}
    for item in rounds:
        by_station.setdefault(key(item)[0], []).append(item)
    return {
        station_id: chosen
        for station_id, items in by_station.items()
        if (chosen := current_round(items, lambda item: key(item)[1:])) is not None
    }


class TransitionRefused(Exception):
    """The event is not lawful in the round's state: nothing may change."""

    def __init__(self, state: str, event: str, target: str | None = None) -> None:
        self.state, self.event, self.target = state, event, target
        super().__init__(
            f"{event} is not allowed from {state}" + (f" to {target}" if target else "")
        )


def events_allowed(state: str) -> frozenset[RoundEvent]:
    """The events the table allows from ``state``."""
    return frozenset(event for (source, event) in TRANSITIONS if source == state)


def transition_check(state: str, event: str, target: str) -> RoundStatus:
    """``target`` as a status when ``event`` may lead from ``state`` to it;
    else ``TransitionRefused``."""
    try:
        allowed = TRANSITIONS[(RoundStatus(state), RoundEvent(event))]
    except (KeyError, ValueError):
        raise TransitionRefused(state, event) from None
    if target not in allowed:
        raise TransitionRefused(state, event, target)
    return RoundStatus(target)


def status_after_acceptance(open_categories: Iterable[str]) -> RoundStatus:
    """Held while an R, U or S finding is open, else accepted (RULES.md section 2)."""
    return S.HELD if HOLDING_CATEGORIES & set(open_categories) else S.ACCEPTED


def transition_diagram() -> str:
    """The table as a Mermaid state diagram, for docs/commission.md."""
    lines = ["stateDiagram-v2", "    [*] --> awaiting"]
    for (source, event), targets in TRANSITIONS.items():
        for target in sorted(targets):
            lines.append(f"    {source} --> {target}: {event}")
    lines.append("    annulled --> [*]: a repeat vote is a new round")
    return "\n".join(lines) + "\n"


# --- Grounds for annulment (Art. 115, 116) ----------------------------------------

# Grounds the commission itself establishes: they come from outside the
# record (R4 an unlisted voter let vote, U1 voting not held, U2 the record not
# received) or from inspecting the material (U4).
COMMISSION_GROUNDS = ("R4", "U1", "U2", "U4")
# Grounds that must stand as an open finding of the round.
RECORD_GROUNDS = ("R1", "R2", "R3", "U3")


def annulment_grounds(*, open_codes: Collection[str], has_record: bool) -> tuple[str, ...]:
    """The codes on which a round may be annulled, in catalogue order.

    - R1, R2, R3, U3: when the round's record raised it (an open finding);
    - U2 (record not received): when there is no accepted record;
    - U4 (gross errors that inspection cannot fix): when an S finding is
      open, that is, when inspection was needed (Art. 110: its outcome is a
      correction, U4, or annulment);
    - R4 and U1: facts the commission establishes, at any time.
    """
    codes = set(open_codes)
    grounds = [code for code in RECORD_GROUNDS if code in codes]
    if "R4" not in grounds:
        grounds.append("R4")
    grounds.append("U1")
    if not has_record:
        grounds.append("U2")
    if any(code.startswith("S") for code in codes) or "U4" in codes:
        grounds.append("U4")
    order = {
        code: index for index, code in enumerate(("R1", "R2", "R3", "R4", "U1", "U2", "U3", "U4"))
    }
    return tuple(sorted(set(grounds), key=order.__getitem__))


# --- The law's clocks (RULES.md section 5) ------------------------------------------

REPEAT_VOTE_ORDER_DAYS = 3  # the repeat vote is ordered within 3 days of the annulment
REPEAT_VOTE_HELD_DAYS = 10  # and held within 10 days of that order
OBJECTION_WINDOW = timedelta(hours=72)  # objections: 72 hours after the act
OBJECTION_DECISION_WINDOW = timedelta(hours=72)  # the commission decides within 72 hours


@dataclass(frozen=True)
class RepeatVoteWindow:
    """The dates a repeat vote ordered on ``ordered_on`` may be held."""

    ordered_on: date
    earliest: date
    latest: date

    def allows(self, voting_date: date) -> bool:
        return self.earliest <= voting_date <= self.latest


def repeat_vote_window(ordered_on: date) -> RepeatVoteWindow:
    """A repeat vote is held after the day it is ordered and at most 10 days
    after it. The annulment and the order are one decision here, so the
    3-day limit for ordering is met by construction."""
    return RepeatVoteWindow(
        ordered_on=ordered_on,
        earliest=ordered_on + timedelta(days=1),
        latest=ordered_on + timedelta(days=REPEAT_VOTE_HELD_DAYS),
    )


def repeat_vote_date_error(voting_date: date, ordered_on: date) -> str | None:
    """None when the date is lawful; else the English msgid that says why
    (format it with ``earliest`` and ``latest``)."""
    if repeat_vote_window(ordered_on).allows(voting_date):
        return None
    return _(
        "The repeat vote must be held between {earliest} and {latest}: within 10 days of the order."
    )


def objection_deadline(opened_at: datetime, window: timedelta = OBJECTION_WINDOW) -> datetime:
    """The last moment an objection may be filed against an act published or
    taken at ``opened_at``: the provisional results, or a decision. Only a
    demo passes a shorter ``window`` (settings.OBJECTION_WINDOW_MINUTES)."""
    return opened_at + window


def objection_decision_deadline(filed_at: datetime) -> datetime:
    """The commission decides an objection within 72 hours of receiving it."""
    return filed_at + OBJECTION_DECISION_WINDOW


def hours_left(deadline: datetime, now: datetime) -> int:
    """Whole hours until ``deadline``, rounded down; negative once passed."""
    seconds = (deadline - now).total_seconds()
    return int(seconds // 3600)
