"""Blank totals (RULES.md section 2, "Blank totals"; Art. 109, 110, 115).

A blank ballots_in_box is completed as invalid + valid (C4), always; a blank
ballots_valid as the sum of the votes when invalid + that sum = ballots_in_box
(C5); a blank turned_out stays blank (C2). Every other check then runs on the
completed record. Two blank totals complete nothing: S4. U4 is never raised
when a record is entered.
"""

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tabulation.domain.checks import check_record, commission_finding
from tabulation.domain.record import Record
from tests.domain.test_checks import BALLOT, CLEAN, REGISTER, votes

# (id, changes to CLEAN, the register's number, {code: (expected, actual)})
CASES: list[tuple[str, dict[str, Any], int, dict[str, tuple[int | None, int | None]]]] = [
    (
        "box blank, rest consistent: C4 only",
        {"ballots_in_box": None},
        REGISTER,
        {"C4": (600, None)},
    ),
    (
        "box blank, votes fall short of valid: C4 and S1",
        {"ballots_in_box": None, "votes": votes(300, 200, 89)},
        REGISTER,
        {"C4": (600, None), "S1": (590, 589)},
    ),
    (
        "box blank, votes exceed valid: C4 and S1",
        {"ballots_in_box": None, "ballots_valid": 580},
        REGISTER,
        {"C4": (590, None), "S1": (580, 590)},
    ),
    (
        "box blank, completed box above turned out: C4 and R1",
        {"ballots_in_box": None, "turned_out": 595},
        REGISTER,
        {"C4": (600, None), "R1": (595, 600)},
    ),
    (
        "box blank, unused plus completed box above received: C4 and R3",
        {"ballots_in_box": None, "ballots_unused": 401},
        REGISTER,
        {"C4": (600, None), "R3": (1000, 1001)},
    ),
    (
        "box blank, votes differ and completed box above turned out: C4, S1 and R1",
        {"ballots_in_box": None, "votes": votes(300, 200, 89), "turned_out": 595},
        REGISTER,
        {"C4": (600, None), "S1": (590, 589), "R1": (595, 600)},
    ),
    (
        "box blank, invalid plus votes above registered: C4 and S2",
        {"ballots_in_box": None, "registered": 595},
        595,
        {"C4": (600, None), "S2": (595, 600)},
    ),
    (
        "box blank and turned out blank, rest consistent: C4 and C2",
        {"ballots_in_box": None, "turned_out": None},
        REGISTER,
        {"C4": (600, None), "C2": (None, None)},
    ),
    (
        "valid blank, invalid plus votes give the box: C5 only",
        {"ballots_valid": None},
        REGISTER,
        {"C5": (590, None)},
    ),
    (
        "valid blank, invalid plus votes differ from the box: S4",
        {"ballots_valid": None, "votes": votes(300, 200, 89)},
        REGISTER,
        {"S4": (600, 599)},
    ),
    (
        "valid blank, votes differ and unused plus box above received: S4 and R3",
        {"ballots_valid": None, "votes": votes(300, 200, 89), "ballots_unused": 401},
        REGISTER,
        {"S4": (600, 599), "R3": (1000, 1001)},
    ),
    (
        "valid blank and turned out blank, rest consistent: C5 and C2",
        {"ballots_valid": None, "turned_out": None},
        REGISTER,
        {"C5": (590, None), "C2": (None, None)},
    ),
    (
        "box and valid both blank: S4, not U4",
        {"ballots_in_box": None, "ballots_valid": None},
        REGISTER,
        {"S4": (None, None)},
    ),
    (
        "box, valid and turned out all blank: S4, and no C2 beside it",
        {"ballots_in_box": None, "ballots_valid": None, "turned_out": None},
        REGISTER,
        {"S4": (None, None)},
    ),
    (
        "turned out blank, rest consistent: C2",
        {"turned_out": None},
        REGISTER,
        {"C2": (None, None)},
    ),
    (
        "turned out blank, votes differ from valid: S1 and no C2",
        {"turned_out": None, "votes": votes(300, 200, 89)},
        REGISTER,
        {"S1": (590, 589)},
    ),
]


@pytest.mark.parametrize(
    ("changes", "register", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_blank_totals_give_exactly_their_codes_and_numbers(
    changes: dict[str, Any],
    register: int,
    expected: dict[str, tuple[int | None, int | None]],
) -> None:
    record = replace(CLEAN, **changes)
    findings = check_record(record, registered_in_register=register, ballot=BALLOT)
    assert len(findings) == len(expected)
    assert {finding.code: (finding.expected, finding.actual) for finding in findings} == expected


def test_c4_and_s1_explain_the_completed_box_and_the_votes() -> None:
    record = replace(CLEAN, ballots_in_box=None, votes=votes(300, 200, 89))
    c4, s1 = check_record(record, registered_in_register=REGISTER, ballot=BALLOT)
    assert c4.render() == "Ballots in the box is blank; invalid plus valid gives 600."
    assert s1.render() == "The votes add up to 589, valid ballots are 590."
    assert s1.holds_back and not c4.holds_back


def test_valid_blank_that_nothing_completes_is_s4() -> None:
    record = replace(CLEAN, ballots_valid=None, votes=votes(300, 200, 89))
    (finding,) = check_record(record, registered_in_register=REGISTER, ballot=BALLOT)
    assert finding.code == "S4"
    assert finding.article == "Art. 110"
    assert finding.fields == (
        "ballots_valid",
        "ballots_invalid",
        "ballots_in_box",
        "votes[1]",
        "votes[2]",
        "votes[3]",
    )
    assert finding.difference == -1
    assert finding.render() == (
        "Valid ballots is blank and cannot be derived: invalid ballots plus votes (599) "
        "differ from ballots in the box (600)."
    )


def test_two_blank_totals_are_s4_for_the_inspection() -> None:
    record = replace(CLEAN, ballots_in_box=None, ballots_valid=None)
    (finding,) = check_record(record, registered_in_register=REGISTER, ballot=BALLOT)
    assert finding.code == "S4"
    assert finding.fields == ("ballots_in_box", "ballots_valid")
    assert finding.holds_back
    assert finding.render() == (
        "Ballots in the box and valid ballots are both blank: nothing completes them, "
        "the material must be inspected."
    )


def test_u4_comes_only_from_the_commission() -> None:
    finding = commission_finding("U4", note="the ballots in the bag do not match the record")
    assert finding.code == "U4"
    assert finding.article == "Art. 115"
    assert finding.holds_back


# --- Properties over random records -----------------------------------------------

maybe_blank = st.one_of(st.none(), st.integers(min_value=-2, max_value=2000))


@st.composite
def near_consistent_records(draw: st.DrawFn) -> tuple[Record, int]:
    """A record whose totals are consistent or off by a little, with any of
    the repairable totals blank: the records the blank-total rules are about."""
    list_votes = [draw(st.integers(0, 400)) for _number in BALLOT]
    invalid = draw(st.integers(0, 40))
    off = st.one_of(st.just(0), st.integers(-3, 3))
    valid = max(0, sum(list_votes) + draw(off))
    in_box = max(0, invalid + valid + draw(off))
    turned_out = max(0, in_box + draw(st.integers(-5, 30)))
    unused = draw(st.integers(0, 300))
    received = max(0, unused + in_box + draw(off))
    register = max(0, turned_out + draw(st.integers(-10, 300)))
    record = Record(
        registered=draw(st.one_of(st.none(), st.just(register), st.integers(0, 2000))),
        ballots_received=received,
        ballots_unused=unused,
        turned_out=draw(st.one_of(st.none(), st.just(turned_out))),
        ballots_in_box=draw(st.one_of(st.none(), st.just(in_box))),
        ballots_invalid=invalid,
        ballots_valid=draw(st.one_of(st.none(), st.just(valid))),
        votes=tuple(zip(BALLOT, list_votes, strict=True)),
        control_sheet_ok=draw(st.booleans()),
        board_signatures=draw(st.integers(0, 6)),
    )
    return record, register


@st.composite
def any_records(draw: st.DrawFn) -> tuple[Record, int]:
    """Any record at all, blanks and nonsense included."""
    record = Record(
        registered=draw(maybe_blank),
        ballots_received=draw(maybe_blank),
        ballots_unused=draw(maybe_blank),
        turned_out=draw(maybe_blank),
        ballots_in_box=draw(maybe_blank),
        ballots_invalid=draw(maybe_blank),
        ballots_valid=draw(maybe_blank),
        votes=tuple((number, draw(maybe_blank)) for number in BALLOT),
        control_sheet_ok=draw(st.one_of(st.none(), st.booleans())),
        board_signatures=draw(maybe_blank),
    )
    return record, draw(st.integers(0, 2000))


@settings(max_examples=300, deadline=None)
@given(st.one_of(near_consistent_records(), any_records()))
def test_no_record_entered_ever_gives_u4(case: tuple[Record, int]) -> None:
    record, register = case
    findings = check_record(record, registered_in_register=register, ballot=BALLOT)
    assert "U4" not in {finding.code for finding in findings}


@settings(max_examples=300, deadline=None)
@given(near_consistent_records())
def test_blank_totals_follow_the_rules(case: tuple[Record, int]) -> None:
    record, register = case
    findings = check_record(record, registered_in_register=register, ballot=BALLOT)
    by_code = {finding.code: finding for finding in findings}
    assert record.ballots_invalid is not None
    invalid = record.ballots_invalid
    votes_sum = sum(count or 0 for _number, count in record.votes)
    in_box, valid = record.ballots_in_box, record.ballots_valid
    if in_box is None and valid is None:
        assert by_code["S4"].fields == ("ballots_in_box", "ballots_valid")
        assert not {"C4", "C5", "R1", "R3"} & set(by_code)
    elif in_box is None:
        # C4 always, whatever the votes say; S1 exactly when they differ.
        assert valid is not None
        assert by_code["C4"].expected == invalid + valid
        assert ("S1" in by_code) == (votes_sum != valid)
        assert "S4" not in by_code and "S3" not in by_code
    elif valid is None:
        completes = invalid + votes_sum == in_box
        assert ("C5" in by_code) == completes
        assert ("S4" in by_code) == (not completes)
    if record.turned_out is None:
        assert "R1" not in by_code
        serious = any(finding.code.startswith("S") for finding in findings)
        assert ("C2" in by_code) == (not serious)
