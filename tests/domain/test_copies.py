"""An observer's copy compared with the accepted record: each kind of
difference gives its code; equal copies give none."""

from dataclasses import replace

import pytest

from tabulation.domain.codes import CHECKS, Category
from tabulation.domain.copies import CopyDifference, copy_differences
from tests.domain.test_checks import CLEAN

# A consistent record with no finding at all (the checks' own clean record).
RECORD = CLEAN


def test_an_equal_copy_gives_no_difference() -> None:
    assert copy_differences(replace(RECORD), RECORD) == ()


def test_the_order_of_the_votes_does_not_matter() -> None:
    copy = replace(RECORD, votes=((3, 90), (1, 300), (2, 200)))

    assert copy_differences(copy, RECORD) == ()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"ballots_invalid": 13}, CopyDifference("O1", "ballots_invalid", 13, 10)),
        ({"turned_out": None}, CopyDifference("O1", "turned_out", None, 600)),
        (
            {"votes": ((1, 310), (2, 200), (3, 90))},
            CopyDifference("O2", "votes[1]", 310, 300),
        ),
        ({"votes": ((1, 300), (2, 200))}, CopyDifference("O2", "votes[3]", None, 90)),
        ({"control_sheet_ok": False}, CopyDifference("O3", "control_sheet_ok", False, True)),
        ({"board_signatures": 2}, CopyDifference("O3", "board_signatures", 2, 3)),
    ],
)
def test_each_kind_of_difference_gives_its_code(
    change: dict[str, object], expected: CopyDifference
) -> None:
    assert copy_differences(replace(RECORD, **change), RECORD) == (expected,)


def test_every_difference_is_listed_totals_then_votes_then_formalities() -> None:
    copy = replace(
        RECORD, board_signatures=4, votes=((1, 299), (2, 201), (3, 90)), ballots_valid=589
    )

    assert [(item.code, item.field) for item in copy_differences(copy, RECORD)] == [
        ("O1", "ballots_valid"),
        ("O2", "votes[1]"),
        ("O2", "votes[2]"),
        ("O3", "board_signatures"),
    ]


@pytest.mark.parametrize("code", ["O1", "O2", "O3"])
def test_the_observer_codes_are_in_the_catalogue(code: str) -> None:
    info = CHECKS[code]
    assert info.category is Category.OBSERVER_COPY
    assert not info.category.holds_back
    assert info.article is None
