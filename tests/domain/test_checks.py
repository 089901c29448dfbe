"""Record checks, table-driven: each record triggers exactly the codes it should."""

from dataclasses import replace
from typing import Any

import pytest

from tabulation.domain.checks import (
    check_record,
    commission_finding,
    compare_entries,
    identical_records,
    record_not_received,
    station_not_allowed,
    turnout_outliers,
)
from tabulation.domain.codes import Category
from tabulation.domain.record import Record

REGISTER = 1000
BALLOT = (1, 2, 3)

# A consistent record with no finding at all: 600 of 1000 voted, 10 invalid.
CLEAN = Record(
    registered=1000,
    ballots_received=1000,
    ballots_unused=400,
    turned_out=600,
    ballots_in_box=600,
    ballots_invalid=10,
    ballots_valid=590,
    votes=((1, 300), (2, 200), (3, 90)),
    control_sheet_ok=True,
    board_signatures=3,
)


def votes(first: int, second: int, third: int) -> tuple[tuple[int, int | None], ...]:
    return ((1, first), (2, second), (3, third))


# (name, changes to CLEAN, the register's number, the exact set of codes expected)
CASES: list[tuple[str, dict[str, Any], int, set[str]]] = [
    ("clean record", {}, REGISTER, set()),
    ("E1 ballots received blank", {"ballots_received": None}, REGISTER, {"E1"}),
    ("E1 ballots unused blank", {"ballots_unused": None}, REGISTER, {"E1"}),
    ("E1 invalid ballots negative", {"ballots_invalid": -1}, REGISTER, {"E1"}),
    ("E1 a list's votes blank", {"votes": votes(300, None, 90)}, REGISTER, {"E1"}),  # type: ignore[arg-type]
    ("E1 a list of the ballot not entered", {"votes": ((1, 300), (2, 290))}, REGISTER, {"E1"}),
    ("E1 control sheet blank", {"control_sheet_ok": None}, REGISTER, {"E1"}),
    ("E1 signatures blank", {"board_signatures": None}, REGISTER, {"E1"}),
    ("E1 not a whole number", {"ballots_in_box": 600.5}, REGISTER, {"E1"}),
    ("E1 a yes/no is not a count", {"turned_out": True}, REGISTER, {"E1"}),
    ("E1 repairable field negative", {"registered": -3}, REGISTER, {"E1"}),
    ("E2 list not on the ballot", {"votes": (*votes(300, 200, 90), (9, 0))}, REGISTER, {"E2"}),
    ("E2 list entered twice", {"votes": ((1, 300), (1, 300), (2, 200), (3, 90))}, REGISTER, {"E2"}),
    (
        "E stops every other check",
        {"ballots_received": None, "control_sheet_ok": False, "board_signatures": 1},
        REGISTER,
        {"E1"},
    ),
    (
        "R1 more ballots in the box than voters",
        {
            "ballots_unused": 390,
            "ballots_in_box": 610,
            "ballots_valid": 600,
            "votes": votes(310, 200, 90),
        },
        REGISTER,
        {"R1"},
    ),
    ("R2 control sheet not ok", {"control_sheet_ok": False}, REGISTER, {"R2"}),
    ("R3 unused plus in box exceed received", {"ballots_unused": 401}, REGISTER, {"R3"}),
    ("U3 two board signatures", {"board_signatures": 2}, REGISTER, {"U3"}),
    # Nothing completes two blank totals: the material must be inspected (S4),
    # and only the commission may then find U4 (RULES.md section 2).
    ("S4 both totals blank", {"ballots_in_box": None, "ballots_valid": None}, REGISTER, {"S4"}),
    ("C1 registered blank", {"registered": None}, REGISTER, {"C1"}),
    ("C1 registered differs from the register", {"registered": 999}, REGISTER, {"C1"}),
    ("C2 turned out blank", {"turned_out": None}, REGISTER, {"C2"}),
    ("C3 turned out above registered", {"registered": 600, "turned_out": 601}, 600, {"C3"}),
    ("C4 ballots in box blank", {"ballots_in_box": None}, REGISTER, {"C4"}),
    ("C5 valid ballots blank", {"ballots_valid": None}, REGISTER, {"C5"}),
    ("S1 votes do not add up to valid", {"votes": votes(300, 200, 89)}, REGISTER, {"S1"}),
    ("S2 more ballots than registered voters", {"registered": 595}, 595, {"S2"}),
    ("S3 valid differs, votes match the box", {"ballots_valid": 591}, REGISTER, {"S3"}),
    (
        "S4 nothing adds up",
        {"ballots_valid": 591, "votes": votes(301, 200, 90)},
        REGISTER,
        {"S4"},
    ),
    (
        "C4 and S1 box blank and valid differs from votes",
        {"ballots_in_box": None, "votes": votes(300, 200, 89)},
        REGISTER,
        {"C4", "S1"},
    ),
    (
        "S4 valid blank and invalid plus votes differ from the box",
        {"ballots_valid": None, "votes": votes(300, 200, 89)},
        REGISTER,
        {"S4"},
    ),
    (
        "C2 not raised when the rest is inconsistent",
        {"turned_out": None, "votes": votes(300, 200, 89)},
        REGISTER,
        {"S1"},
    ),
    (
        "W2 invalid at exactly 3 %",
        {"ballots_invalid": 18, "ballots_valid": 582, "votes": votes(300, 200, 82)},
        REGISTER,
        {"W2"},
    ),
    (
        "W2 not below 3 %",
        {"ballots_invalid": 17, "ballots_valid": 583, "votes": votes(300, 200, 83)},
        REGISTER,
        set(),
    ),
    ("W3 one list at exactly 90 %", {"votes": votes(531, 59, 0)}, REGISTER, {"W3"}),
    ("W3 not below 90 %", {"votes": votes(530, 60, 0)}, REGISTER, set()),
    ("W4 13 of 613 ballots missing", {"turned_out": 613}, REGISTER, {"W4"}),
    (
        "W4 not at exactly 2 %",
        {
            "turned_out": 650,
            "ballots_in_box": 637,
            "ballots_unused": 363,
            "ballots_valid": 627,
            "votes": votes(337, 200, 90),
        },
        REGISTER,
        set(),
    ),
    (
        "W5 all-zero record",
        {
            "ballots_unused": 1000,
            "turned_out": 0,
            "ballots_in_box": 0,
            "ballots_invalid": 0,
            "ballots_valid": 0,
            "votes": votes(0, 0, 0),
        },
        REGISTER,
        {"W5"},
    ),
]


@pytest.mark.parametrize(
    ("changes", "register", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_record_triggers_exactly_its_codes(
    changes: dict[str, Any], register: int, expected: set[str]
) -> None:
    record = replace(CLEAN, **changes)
    findings = check_record(record, registered_in_register=register, ballot=BALLOT)
    assert {finding.code for finding in findings} == expected


def test_r1_names_the_numbers_it_compared() -> None:
    record = replace(
        CLEAN,
        ballots_unused=390,
        ballots_in_box=610,
        ballots_valid=600,
        votes=votes(310, 200, 90),
    )
    (finding,) = check_record(record, registered_in_register=REGISTER, ballot=BALLOT)
    assert (finding.expected, finding.actual, finding.difference) == (600, 610, 10)
    assert finding.fields == ("ballots_in_box", "turned_out")
    assert finding.category is Category.ANNULMENT
    assert finding.render() == "610 ballots in the box, but only 600 voters turned out."


def test_input_errors_name_each_field() -> None:
    record = replace(CLEAN, ballots_received=None, votes=votes(300, -2, 90))
    findings = check_record(record, registered_in_register=REGISTER, ballot=BALLOT)
    assert [finding.fields for finding in findings] == [("ballots_received",), ("votes[2]",)]
    assert findings[1].actual == -2
    assert findings[1].render() == "votes[2] must be a whole number, 0 or more; got -2."


def test_c4_derives_the_ballots_in_box() -> None:
    record = replace(CLEAN, ballots_in_box=None)
    (finding,) = check_record(record, registered_in_register=REGISTER, ballot=BALLOT)
    assert finding.expected == 600


def test_derived_ballots_in_box_still_feeds_r3() -> None:
    record = replace(CLEAN, ballots_in_box=None, ballots_unused=401)
    codes = {f.code for f in check_record(record, registered_in_register=REGISTER, ballot=BALLOT)}
    assert codes == {"C4", "R3"}


def test_w3_share_is_an_exact_decimal() -> None:
    record = replace(CLEAN, votes=votes(531, 59, 0))
    (finding,) = check_record(record, registered_in_register=REGISTER, ballot=BALLOT)
    assert finding.params_dict()["share"] == "90.00"


def test_u2_e3_r4_u1_u4_come_from_context() -> None:
    assert record_not_received("0042").code == "U2"
    assert record_not_received("0042").render() == "The record of station 0042 was not received."
    assert station_not_allowed("0042").code == "E3"
    assert commission_finding("R4").holds_back
    assert commission_finding("U1", note="storm").render().endswith(": storm")
    assert commission_finding("U4").render() == "Gross arithmetic errors that cannot be corrected"
    assert commission_finding("U4", note="the bags were empty").render() == (
        "Gross arithmetic errors that cannot be corrected even after inspecting the "
        "material: the bags were empty"
    )
    with pytest.raises(ValueError):
        commission_finding("S1")


def municipality(*turnouts: int) -> list[tuple[str, int | None, int]]:
    return [(f"{index:03}", turned_out, 1000) for index, turned_out in enumerate(turnouts)]


def test_w1_flags_a_turnout_far_from_the_median() -> None:
    stations = municipality(500, 520, 540, 510, 530, 505, 525, 515, 880)
    assert set(turnout_outliers(stations)) == {"008"}


def test_w1_flags_turnout_above_95_percent_even_when_typical() -> None:
    stations = municipality(951, 952, 953, 950, 954)
    # 950 of 1000 is exactly 95 %: not above it.
    assert set(turnout_outliers(stations)) == {"000", "001", "002", "004"}


def test_w1_without_spread_only_applies_the_ceiling() -> None:
    stations = municipality(500, 500, 500, 500, 700)
    assert turnout_outliers(stations) == {}


def test_w1_skips_blank_turnout_and_empty_registers() -> None:
    stations = [("a", None, 1000), ("b", 10, 0), ("c", 500, 1000)]
    assert turnout_outliers(stations) == {}


def test_w5_flags_stations_with_identical_results() -> None:
    records = {
        "001": CLEAN,
        "002": replace(CLEAN, registered=1200, ballots_received=1200, ballots_unused=600),
        "003": replace(CLEAN, votes=votes(299, 201, 90)),
    }
    findings = identical_records(records)
    assert set(findings) == {"001", "002"}
    assert findings["001"].params_dict()["others"] == "002"
    assert findings["002"].code == "W5"


def test_w5_identical_ignores_all_zero_records() -> None:
    zero = replace(
        CLEAN,
        turned_out=0,
        ballots_in_box=0,
        ballots_invalid=0,
        ballots_valid=0,
        votes=votes(0, 0, 0),
    )
    assert identical_records({"001": zero, "002": zero}) == {}


def test_w6_equal_entries_give_no_finding() -> None:
    reordered = replace(CLEAN, votes=((3, 90), (1, 300), (2, 200)))
    assert compare_entries(CLEAN, reordered) is None


def test_w6_lists_every_field_that_differs() -> None:
    second = replace(CLEAN, ballots_in_box=601, votes=votes(300, 210, 90))
    finding = compare_entries(CLEAN, second)
    assert finding is not None
    assert finding.code == "W6"
    assert finding.fields == ("ballots_in_box", "votes[2]")
    assert not finding.holds_back
