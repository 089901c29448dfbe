"""The JSON election file: valid files parse, bad ones say exactly what is wrong."""

import json
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from tabulation.domain.election_file import allocation_as_data, parse_election_file
from tabulation.domain.errors import ElectionFileError
from tabulation.domain.exact import fraction_rounded, fraction_to_string, share_percent

ELECTIONS = Path(__file__).resolve().parents[1] / "data" / "elections"


def valid() -> dict[str, Any]:
    return {
        "seats": 3,
        "threshold_percent": "3",
        "minority_bonus_percent": "35",
        "voted": 1000,
        "lists": [
            {"id": "1", "name": "First", "votes": 600, "minority": False},
            {"id": "2", "votes": 300, "minority": True, "candidates": 2},
        ],
        "note": "ignored",
    }


def error_for(data: object) -> str:
    with pytest.raises(ElectionFileError) as caught:
        parse_election_file(json.dumps(data))
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("path", sorted(ELECTIONS.glob("*.json")), ids=lambda path: path.stem)
def test_every_election_file_parses_and_reproduces_its_seats(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    allocation = parse_election_file(text).allocate()
    assert allocation.seats_by_list() == json.loads(text)["expected_seats"]


def test_a_valid_file_parses_into_lists() -> None:
    election = parse_election_file(json.dumps(valid()))
    assert election.seats == 3
    assert election.threshold_percent == 3
    assert [(entry.list_id, entry.minority, entry.candidates) for entry in election.lists] == [
        ("1", False, None),
        ("2", True, 2),
    ]


def test_candidates_may_be_given_as_a_list_of_names() -> None:
    data = valid()
    data["lists"][0]["candidates"] = ["Ana", "Bojan"]
    assert parse_election_file(json.dumps(data)).lists[0].candidates == 2


def test_decimal_percentages_stay_exact() -> None:
    text = json.dumps(valid()).replace('"3"', "3.5")
    assert parse_election_file(text).threshold_percent == Fraction(7, 2)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("seats"), "seats: missing"),
        (lambda d: d.update(seats=0), "seats: must be a whole number ≥ 1, got 0"),
        (lambda d: d.update(seats="3"), 'seats: must be a whole number ≥ 1, got "3"'),
        (
            lambda d: d["lists"][1].update(votes=-5),
            "lists[1].votes: must be a whole number ≥ 0, got -5",
        ),
        (
            lambda d: d["lists"][1].update(votes=2.5),
            "lists[1].votes: must be a whole number ≥ 0, got 2.5",
        ),
        (lambda d: d["lists"][1].pop("votes"), "lists[1].votes: missing"),
        (
            lambda d: d["lists"][1].update(id="1"),
            'lists[1].id: list id "1" appears twice (also lists[0])',
        ),
        (lambda d: d["lists"][1].update(id=2), "lists[1].id: must be a non-empty string, got 2"),
        (
            lambda d: d["lists"][0].update(minority="no"),
            'lists[0].minority: must be true or false, got "no"',
        ),
        (lambda d: d["lists"][0].pop("minority"), "lists[0].minority: missing"),
        (lambda d: d.update(threshold_percent="three"), "threshold_percent: must be a number"),
        (lambda d: d.update(threshold_percent="101"), "threshold_percent: must be a number"),
        (
            lambda d: d.update(minority_bonus_percent=True),
            "minority_bonus_percent: must be a number",
        ),
        (lambda d: d.update(voted=800), "voted: must be at least the lists' votes together (900)"),
        (lambda d: d.update(lists=[]), "lists: must be a non-empty array"),
        (lambda d: d.update(lots_drawn=["9"]), 'lots_drawn[0]: not a list id of this file: "9"'),
        (
            lambda d: d["lists"][0].update(candidates=-1),
            "lists[0].candidates: must be a whole number",
        ),
    ],
)
def test_bad_input_names_the_problem_in_one_line(change: Any, message: str) -> None:
    data = valid()
    change(data)
    assert error_for(data).startswith(message)


def test_not_json_is_one_line_too() -> None:
    with pytest.raises(ElectionFileError, match="not valid JSON"):
        parse_election_file("{seats: 3")
    assert error_for([1, 2]) == "the file must hold a JSON object, got an array"


def test_allocation_data_has_no_floats() -> None:
    data = allocation_as_data(parse_election_file(json.dumps(valid())).allocate())

    def walk(value: object) -> None:
        assert not isinstance(value, float)
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        if isinstance(value, list):
            for item in value:
                walk(item)

    walk(data)
    assert data["seats"] == {"1": 2, "2": 1}
    assert data["threshold_votes"] == "30"
    assert data["lots_required"] == []


def test_exact_numbers_are_written_exactly() -> None:
    assert fraction_to_string(Fraction(549723, 20)) == "27486.15"
    assert fraction_to_string(Fraction(1000, 3)) == "1000/3"
    assert fraction_rounded(Fraction(1000, 3)) == Decimal("333.3333")
    assert share_percent(1, 8) == Decimal("12.50")
    assert share_percent(1, 3) == Decimal("33.33")
