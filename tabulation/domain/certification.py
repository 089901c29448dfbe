"""Official results (RULES.md section 5): when they may be certified, and
the election's status, written once as a transition table.

"Official results: every station counted or resolved, every repeat vote
held, no open objection; certified by two different commission members.
After certification nothing changes except through a recorded decision (a
court ruling, say), which makes a new official version."
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tabulation.domain.i18n import _


class ElectionStatus(StrEnum):
    SETUP = "setup"
    VOTING = "voting"
    COUNTING = "counting"
    CERTIFIED = "certified"


class ElectionEvent(StrEnum):
    CERTIFY = "certify"  # a second member confirms a proposal
    REOPEN = "reopen"  # a recorded decision (a court ruling) reopens the result


ELECTION_TRANSITIONS: dict[tuple[ElectionStatus, ElectionEvent], ElectionStatus] = {
    (ElectionStatus.SETUP, ElectionEvent.CERTIFY): ElectionStatus.CERTIFIED,
    (ElectionStatus.VOTING, ElectionEvent.CERTIFY): ElectionStatus.CERTIFIED,
    (ElectionStatus.COUNTING, ElectionEvent.CERTIFY): ElectionStatus.CERTIFIED,
    (ElectionStatus.CERTIFIED, ElectionEvent.REOPEN): ElectionStatus.COUNTING,
}


class ElectionTransitionRefused(Exception):
    def __init__(self, state: str, event: str) -> None:
        self.state, self.event = state, event
        super().__init__(f"{event} is not allowed from {state}")


def election_transition(state: str, event: str) -> ElectionStatus:
    """The election's status after ``event``; refused when the table has no such step."""
    try:
        return ELECTION_TRANSITIONS[(ElectionStatus(state), ElectionEvent(event))]
    except (KeyError, ValueError):
        raise ElectionTransitionRefused(state, event) from None


# --- What keeps a result from being certified ---------------------------------------


@dataclass(frozen=True)
class Blocker:
    """One reason certification is not possible yet, with what it concerns
    (station codes, objection numbers, ballot numbers) so a page can link each."""

    code: str
    message: str  # English msgid; format with ``count`` (and ``until`` for the window)
    items: tuple[str, ...] = ()
    until: datetime | None = None

    @property
    def count(self) -> int:
        return len(self.items)


BLOCKER_MESSAGES = {
    "no_result": _("No provisional result has been computed yet."),
    "result_behind": _("The latest provisional result does not include every change yet."),
    "not_counted": _("Stations not counted yet (awaiting entry, held, or a repeat vote pending)"),
    "entries_differ": _("Stations whose two entries differ"),
    "held": _("Stations held by an open R, U or S finding"),
    "warnings": _("Warnings and minor errors not yet acknowledged"),
    "objections_open": _("Objections not yet decided"),
    "objection_window": _("Objections may still be filed until {until}"),
    "lots": _("Lists waiting for a drawing of lots"),
}


def certification_blockers(
    *,
    has_result: bool,
    result_current: bool,
    not_counted: tuple[str, ...],
    entries_differ: tuple[str, ...],
    held: tuple[str, ...],
    warnings: tuple[str, ...],
    objections_open: tuple[str, ...],
    objection_window_closes: datetime | None,
    lots_required: tuple[str, ...],
    now: datetime,
) -> list[Blocker]:
    """Everything that still stands between the count and its certification;
    empty when two members may certify (RULES.md section 5)."""
    blockers: list[Blocker] = []

    def add(code: str, items: tuple[str, ...]) -> None:
        if items:
            blockers.append(Blocker(code=code, message=BLOCKER_MESSAGES[code], items=items))

    if not has_result:
        blockers.append(Blocker(code="no_result", message=BLOCKER_MESSAGES["no_result"]))
    elif not result_current:
        blockers.append(Blocker(code="result_behind", message=BLOCKER_MESSAGES["result_behind"]))
    add("not_counted", not_counted)
    add("entries_differ", entries_differ)
    add("held", held)
    add("warnings", warnings)
    add("objections_open", objections_open)
    if objection_window_closes is not None and now < objection_window_closes:
        blockers.append(
            Blocker(
                code="objection_window",
                message=BLOCKER_MESSAGES["objection_window"],
                until=objection_window_closes,
            )
        )
    add("lots", lots_required)
    return blockers
