"""The transition table of a round, its diagram, and the law's clocks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from tabulation.domain.rounds import (
    TRANSITIONS,
    RoundEvent,
    RoundStatus,
    TransitionRefused,
    annulment_grounds,
    current_round,
    current_round_by_station,
    events_allowed,
    hours_left,
    objection_deadline,
    repeat_vote_date_error,
    repeat_vote_window,
    status_after_acceptance,
    transition_check,
    transition_diagram,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "commission.md"


def test_the_diagram_in_the_docs_is_the_one_drawn_from_the_table() -> None:
    text = DOC.read_text(encoding="utf-8")
    start = text.index("```mermaid\n") + len("```mermaid\n")
    end = text.index("```", start)
    assert text[start:end] == transition_diagram()


def test_an_annulled_round_is_final_and_every_live_state_may_be_annulled() -> None:
    assert events_allowed(RoundStatus.ANNULLED) == frozenset()
    for state in RoundStatus:
        if state != RoundStatus.ANNULLED:
            assert RoundEvent.ANNUL in events_allowed(state), state


@pytest.mark.parametrize(
    ("state", "event", "target"),
    [
        ("accepted", "enter", "accepted"),  # clerks change nothing once accepted
        ("held", "withdraw", "awaiting"),
        ("awaiting", "correct", "accepted"),  # nothing to correct yet
        ("entries_differ", "reconcile_keep", "entries_differ"),
        ("annulled", "annul", "annulled"),
        ("accepted", "acknowledge", "held"),  # acknowledging never moves a round
        ("awaiting", "no such event", "awaiting"),
        ("no such state", "enter", "first_entry"),
    ],
)
def test_what_the_table_does_not_allow_is_refused(state: str, event: str, target: str) -> None:
    with pytest.raises(TransitionRefused):
        transition_check(state, event, target)


def test_the_table_allows_the_double_entry_path() -> None:
    assert transition_check("awaiting", "enter", "first_entry") == RoundStatus.FIRST_ENTRY
    assert transition_check("first_entry", "enter", "entries_differ") == "entries_differ"
    assert transition_check("entries_differ", "reconcile_keep", "held") == "held"
    assert transition_check("held", "correct", "accepted") == "accepted"
    assert len(TRANSITIONS) == 19


def test_a_round_is_held_while_an_r_u_or_s_finding_is_open() -> None:
    assert status_after_acceptance(["C", "W"]) == RoundStatus.ACCEPTED
    assert status_after_acceptance(["W", "S"]) == RoundStatus.HELD
    assert status_after_acceptance([]) == RoundStatus.ACCEPTED


@pytest.mark.parametrize(
    ("open_codes", "has_record", "grounds"),
    [
        ({"R1", "W2"}, True, ("R1", "R4", "U1")),
        ({"R2", "U3"}, True, ("R2", "R4", "U1", "U3")),
        (set(), False, ("R4", "U1", "U2")),
        ({"S1"}, True, ("R4", "U1", "U4")),
        ({"R3", "S4"}, True, ("R3", "R4", "U1", "U4")),
    ],
)
def test_the_grounds_for_annulment(
    open_codes: set[str], has_record: bool, grounds: tuple[str, ...]
) -> None:
    assert annulment_grounds(open_codes=open_codes, has_record=has_record) == grounds


def test_a_repeat_vote_is_held_within_ten_days_of_the_order() -> None:
    ordered = date(2026, 12, 1)
    window = repeat_vote_window(ordered)
    assert (window.earliest, window.latest) == (date(2026, 12, 2), date(2026, 12, 11))
    assert repeat_vote_date_error(date(2026, 12, 11), ordered) is None
    assert repeat_vote_date_error(date(2026, 12, 12), ordered) is not None
    assert repeat_vote_date_error(ordered, ordered) is not None


def test_objection_clocks() -> None:
    published = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)
    assert objection_deadline(published) == published + timedelta(hours=72)
    assert hours_left(published + timedelta(hours=72), published) == 72
    assert hours_left(published, published + timedelta(minutes=1)) == -1


def _number_and_status(item: tuple[int, str]) -> tuple[int, str]:
    return item


@pytest.mark.parametrize(
    ("rounds", "current"),
    [
        ([], None),
        ([(1, "awaiting")], (1, "awaiting")),
        ([(1, "annulled"), (2, "accepted")], (2, "accepted")),
        ([(2, "first_entry"), (1, "annulled")], (2, "first_entry")),
        # Every round annulled: the latest, whose repeat vote is not ordered yet.
        ([(1, "annulled"), (2, "annulled")], (2, "annulled")),
        # A live round wins even over a later annulled one (never stored, but the rule says so).
        ([(1, "held"), (2, "annulled")], (1, "held")),
    ],
)
def test_the_current_round_is_the_live_one_else_the_latest(
    rounds: list[tuple[int, str]], current: tuple[int, str] | None
) -> None:
    assert current_round(rounds, _number_and_status) == current


def test_the_current_round_of_each_station() -> None:
    rounds = [(7, 1, "annulled"), (8, 1, "accepted"), (7, 2, "awaiting")]

    chosen = current_round_by_station(rounds, lambda row: row)

    assert chosen == {7: (7, 2, "awaiting"), 8: (8, 1, "accepted")}
