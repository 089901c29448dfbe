"""The JSON election file: parse and validate it into ``allocate_seats`` inputs.

Format (the files in tests/data/elections/ are examples)::

    {
      "seats": 110,                       # whole number >= 1
      "threshold_percent": "3",           # string or number, 0..100 (exact)
      "minority_bonus_percent": "35",     # string or number, >= 0 (exact)
      "voted": 734000,                    # sum of ballots_in_box, >= the votes
      "lists": [
        {"id": "1", "votes": 387326, "minority": false,
         "candidates": 110}               # optional: a count, or a list of
      ],                                  #   candidates (its length is used)
      "lots_drawn": ["3", "1"]            # optional: the recorded drawing
    }

Numbers in JSON with a fraction part are read as ``Decimal`` (never float).
Keys this module does not use (``name``, ``date``, ``note``,
``expected_seats``, a list's ``name``) are ignored. Every problem raises
``ElectionFileError`` whose message is one line naming where the problem is:
``lists[3].votes: must be a whole number ≥ 0, got -5``.
"""

import json
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from tabulation.domain.errors import ElectionFileError
from tabulation.domain.exact import fraction_rounded, fraction_to_string
from tabulation.domain.seats import Allocation, ElectoralList, Quotient, allocate_seats


@dataclass(frozen=True, slots=True, kw_only=True)
class ElectionFile:
    """The inputs of ``allocate_seats`` read from an election file."""

    seats: int
    threshold_percent: Fraction
    minority_bonus_percent: Fraction
    voted: int
    lists: tuple[ElectoralList, ...]
    lots_drawn: tuple[str, ...]

    def allocate(self) -> Allocation:
        return allocate_seats(
            seats=self.seats,
            lists=self.lists,
            voted=self.voted,
            threshold_percent=self.threshold_percent,
            minority_bonus_percent=self.minority_bonus_percent,
            lots_drawn=self.lots_drawn,
        )


def _describe(value: object) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return str(value)


def _whole(data: dict[str, Any], key: str, path: str, minimum: int) -> int:
    if key not in data:
        raise ElectionFileError(path, "missing")
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ElectionFileError(path, f"must be a whole number ≥ {minimum}, got {_describe(value)}")
    return value


def _percent(data: dict[str, Any], key: str, maximum: int | None) -> Fraction:
    if key not in data:
        raise ElectionFileError(key, "missing")
    value = data[key]
    bounds = f"between 0 and {maximum}" if maximum is not None else "≥ 0"
    problem = f'must be a number {bounds} (e.g. "3"), got {_describe(value)}'
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise ElectionFileError(key, problem)
    try:
        number = Fraction(value.strip() if isinstance(value, str) else value)
    except (ValueError, ZeroDivisionError):
        raise ElectionFileError(key, problem) from None
    if number < 0 or (maximum is not None and number > maximum):
        raise ElectionFileError(key, problem)
    return number


def _candidates(entry: dict[str, Any], path: str) -> int | None:
    if "candidates" not in entry or entry["candidates"] is None:
        return None
    value = entry["candidates"]
    if isinstance(value, list):
        return len(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ElectionFileError(
            f"{path}.candidates",
            f"must be a whole number ≥ 0 or an array of candidates, got {_describe(value)}",
        )
    return value


def election_from_data(data: object) -> ElectionFile:
    """Validate already-decoded JSON ``data`` (see the module docstring)."""
    if not isinstance(data, dict):
        raise ElectionFileError("", f"the file must hold a JSON object, got {_describe(data)}")
    seats = _whole(data, "seats", "seats", 1)
    threshold = _percent(data, "threshold_percent", 100)
    bonus = _percent(data, "minority_bonus_percent", None)
    voted = _whole(data, "voted", "voted", 0)
    if "lists" not in data:
        raise ElectionFileError("lists", "missing")
    raw_lists = data["lists"]
    if not isinstance(raw_lists, list) or not raw_lists:
        raise ElectionFileError("lists", f"must be a non-empty array, got {_describe(raw_lists)}")
    lists: list[ElectoralList] = []
    first_seen: dict[str, int] = {}
    for index, entry in enumerate(raw_lists):
        path = f"lists[{index}]"
        if not isinstance(entry, dict):
            raise ElectionFileError(path, f"must be an object, got {_describe(entry)}")
        if "id" not in entry:
            raise ElectionFileError(f"{path}.id", "missing")
        list_id = entry["id"]
        if not isinstance(list_id, str) or not list_id.strip():
            raise ElectionFileError(
                f"{path}.id", f"must be a non-empty string, got {_describe(list_id)}"
            )
        if list_id in first_seen:
            raise ElectionFileError(
                f"{path}.id",
                f"list id {_describe(list_id)} appears twice (also lists[{first_seen[list_id]}])",
            )
        first_seen[list_id] = index
        votes = _whole(entry, "votes", f"{path}.votes", 0)
        if "minority" not in entry:
            raise ElectionFileError(f"{path}.minority", "missing")
        minority = entry["minority"]
        if not isinstance(minority, bool):
            raise ElectionFileError(
                f"{path}.minority", f"must be true or false, got {_describe(minority)}"
            )
        lists.append(
            ElectoralList(
                list_id=list_id,
                votes=votes,
                minority=minority,
                candidates=_candidates(entry, path),
            )
        )
    total = sum(electoral_list.votes for electoral_list in lists)
    if voted < total:
        raise ElectionFileError(
            "voted", f"must be at least the lists' votes together ({total}), got {voted}"
        )
    raw_lots = data.get("lots_drawn", [])
    if not isinstance(raw_lots, list):
        raise ElectionFileError(
            "lots_drawn", f"must be an array of list ids, got {_describe(raw_lots)}"
        )
    for index, list_id in enumerate(raw_lots):
        if not isinstance(list_id, str) or list_id not in first_seen:
            raise ElectionFileError(
                f"lots_drawn[{index}]", f"not a list id of this file: {_describe(list_id)}"
            )
        if raw_lots.index(list_id) != index:
            raise ElectionFileError(f"lots_drawn[{index}]", f"{_describe(list_id)} appears twice")
    return ElectionFile(
        seats=seats,
        threshold_percent=threshold,
        minority_bonus_percent=bonus,
        voted=voted,
        lists=tuple(lists),
        lots_drawn=tuple(raw_lots),
    )


def parse_election_file(text: str) -> ElectionFile:
    """Parse and validate the text of an election file."""
    try:
        # parse_float=Decimal: "3.5" stays exactly 3.5; a float never enters.
        data = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as error:
        raise ElectionFileError(
            "", f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        ) from None
    return election_from_data(data)


def _quotient_data(quotient: Quotient | None) -> dict[str, str | int] | None:
    if quotient is None:
        return None
    return {
        "list": quotient.list_id,
        "divisor": quotient.divisor,
        "quotient": fraction_to_string(quotient.value),
        "quotient_rounded": str(fraction_rounded(quotient.value, 4)),
    }


def allocation_as_data(allocation: Allocation) -> dict[str, Any]:
    """The allocation as JSON-ready data: ints and exact strings, never floats.

    Exact numbers are strings: a terminating decimal ("22020", "27486.15") or
    a fraction ("1000/3"); ``*_rounded`` companions are rounded half-even to 4
    places for reading only.
    """
    return {
        "seats": allocation.seats_by_list(),
        "seats_contested": allocation.seats,
        "voted": allocation.voted,
        "threshold_percent": fraction_to_string(allocation.threshold_percent),
        "minority_bonus_percent": fraction_to_string(allocation.minority_bonus_percent),
        "threshold_votes": fraction_to_string(allocation.threshold_votes),
        "minimum_votes": allocation.minimum_votes,
        "nobody_passed": allocation.nobody_passed,
        "lots_required": list(allocation.lots_required),
        "seats_to_draw": allocation.seats_to_draw,
        "lots_quotient": (
            None
            if allocation.lots_quotient is None
            else fraction_to_string(allocation.lots_quotient)
        ),
        "lots_applied": allocation.lots_applied,
        "vacant_seats": allocation.vacant_seats,
        "last_seat": _quotient_data(allocation.last_seat),
        "first_missed": _quotient_data(allocation.first_missed),
        "margin": None if allocation.margin is None else fraction_to_string(allocation.margin),
        "lists": [
            {
                "id": result.list_id,
                "votes": result.votes,
                "minority": result.minority,
                "candidates": result.candidates,
                "passed_threshold": result.passed_threshold,
                "takes_part": result.takes_part,
                "participation": result.participation.value,
                "bonus_applied": result.bonus_applied,
                "multiplier": fraction_to_string(result.multiplier),
                "seats": result.seats,
                "seats_passed_on": result.seats_passed_on,
                "winning_quotients": [fraction_to_string(q) for q in result.winning_quotients],
                "next_quotient": (
                    None
                    if result.next_quotient is None
                    else fraction_to_string(result.next_quotient)
                ),
            }
            for result in allocation.lists
        ],
    }
