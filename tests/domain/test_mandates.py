"""Mandates go to candidates in list order, skipping the withdrawn."""

import pytest

from tabulation.domain.errors import DomainError
from tabulation.domain.mandates import Candidate, assign_mandates


def candidates(*names: str, withdrawn: tuple[str, ...] = ()) -> list[Candidate]:
    return [
        Candidate(position=position, name=name, withdrawn=name in withdrawn)
        for position, name in enumerate(names, start=1)
    ]


def test_mandates_follow_list_order() -> None:
    (assignment,) = assign_mandates(
        {"1": 2}, {"1": list(reversed(candidates("Ana", "Bojan", "Vera")))}
    )
    assert [candidate.name for candidate in assignment.elected] == ["Ana", "Bojan"]
    assert assignment.unfilled == 0


def test_withdrawn_candidates_are_skipped() -> None:
    (assignment,) = assign_mandates(
        {"1": 2}, {"1": candidates("Ana", "Bojan", "Vera", withdrawn=("Ana",))}
    )
    assert [candidate.name for candidate in assignment.elected] == ["Bojan", "Vera"]


def test_a_list_without_enough_candidates_reports_unfilled_seats() -> None:
    (assignment,) = assign_mandates(
        {"1": 3}, {"1": candidates("Ana", "Bojan", withdrawn=("Bojan",))}
    )
    assert [candidate.name for candidate in assignment.elected] == ["Ana"]
    assert assignment.unfilled == 2


def test_a_list_without_seats_gets_no_mandates() -> None:
    assignments = assign_mandates(
        {"1": 1, "2": 0}, {"1": candidates("Ana"), "2": candidates("Zoran")}
    )
    assert [(entry.list_id, len(entry.elected)) for entry in assignments] == [("1", 1), ("2", 0)]


def test_two_candidates_at_one_position_are_refused() -> None:
    duplicated = [Candidate(position=1, name="Ana"), Candidate(position=1, name="Bojan")]
    with pytest.raises(DomainError, match="position"):
        assign_mandates({"1": 1}, {"1": duplicated})
