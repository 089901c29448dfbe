"""Seat allocation: real elections, edge cases of the law, properties, and votelib."""

import json
import random
import re
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from votelib.evaluate.proportional import HighestAverages

from tabulation.domain.errors import AllocationInputError, DomainError
from tabulation.domain.seats import (
    Allocation,
    ElectoralList,
    Participation,
    allocate_seats,
)

ELECTIONS = Path(__file__).resolve().parents[1] / "data" / "elections"


def allocate(
    seats: int,
    votes: dict[str, int],
    *,
    voted: int | None = None,
    minority: tuple[str, ...] = (),
    candidates: dict[str, int] | None = None,
    threshold: str = "3",
    bonus: str = "35",
    lots_drawn: tuple[str, ...] = (),
) -> Allocation:
    lists = [
        ElectoralList(
            list_id=list_id,
            votes=count,
            minority=list_id in minority,
            candidates=(candidates or {}).get(list_id),
        )
        for list_id, count in votes.items()
    ]
    return allocate_seats(
        seats=seats,
        lists=lists,
        voted=sum(votes.values()) if voted is None else voted,
        threshold_percent=threshold,
        minority_bonus_percent=bonus,
        lots_drawn=lots_drawn,
    )


@pytest.mark.parametrize("path", sorted(ELECTIONS.glob("*.json")), ids=lambda path: path.stem)
def test_real_election_reproduces_its_published_seats(path: Path) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    allocation = allocate_seats(
        seats=data["seats"],
        lists=[
            ElectoralList(list_id=entry["id"], votes=entry["votes"], minority=entry["minority"])
            for entry in data["lists"]
        ],
        voted=data["voted"],
        threshold_percent=data["threshold_percent"],
        minority_bonus_percent=data["minority_bonus_percent"],
    )
    assert allocation.seats_by_list() == data["expected_seats"]
    assert allocation.lots_required == ()


def test_belgrade_2024_explains_the_threshold_and_the_minority_seat() -> None:
    data = json.loads((ELECTIONS / "belgrade-2024.json").read_text(encoding="utf-8"))
    allocation = allocate_seats(
        seats=110,
        lists=[
            ElectoralList(list_id=entry["id"], votes=entry["votes"], minority=entry["minority"])
            for entry in data["lists"]
        ],
        voted=734000,
        threshold_percent="3",
        minority_bonus_percent="35",
    )
    assert allocation.threshold_votes == 22020
    assert allocation.minimum_votes == 22020
    russian = allocation.lists[4]
    assert russian.participation is Participation.MINORITY_BELOW_THRESHOLD
    assert russian.bonus_applied and russian.multiplier == Fraction(27, 20)
    assert russian.winning_quotients == (Fraction(8509 * 27, 20),)
    assert allocation.lists[5].participation is Participation.BELOW_THRESHOLD
    assert allocation.last_seat is not None and allocation.first_missed is not None
    assert allocation.margin == allocation.last_seat.value - allocation.first_missed.value > 0


# Synthetic edge cases of the law. voted = 100000: 3 % is exactly 3000 votes.


def test_exactly_three_percent_passes() -> None:
    allocation = allocate(100, {"A": 60000, "B": 3000}, voted=100000)
    assert allocation.lists[1].participation is Participation.PASSED
    # 3000 / 4 = 750 beats A's 96th quotient 625; 3000 / 5 = 600 does not.
    assert allocation.seats_by_list() == {"A": 96, "B": 4}


def test_just_below_three_percent_does_not_pass() -> None:
    allocation = allocate(100, {"A": 60000, "B": 2999}, voted=100000)
    assert allocation.lists[1].participation is Participation.BELOW_THRESHOLD
    assert allocation.seats_by_list() == {"A": 100, "B": 0}


def test_threshold_is_of_voters_who_voted_not_of_valid_votes() -> None:
    # 3000 of 95000 valid votes is 3.16 %, but of 101000 who voted only 2.97 %.
    allocation = allocate(10, {"A": 92000, "B": 3000}, voted=101000)
    assert allocation.threshold_votes == Fraction(3030)
    assert not allocation.lists[1].passed_threshold


def test_minority_list_at_exactly_three_percent_gets_no_bonus() -> None:
    allocation = allocate(100, {"A": 60000, "M": 3000}, voted=100000, minority=("M",))
    minority_list = allocation.lists[1]
    assert minority_list.participation is Participation.PASSED
    assert not minority_list.bonus_applied
    assert minority_list.multiplier == 1
    assert minority_list.seats == 4


def test_minority_list_below_the_threshold_takes_part_with_the_bonus() -> None:
    allocation = allocate(100, {"A": 60000, "M": 2999}, voted=100000, minority=("M",))
    minority_list = allocation.lists[1]
    assert minority_list.participation is Participation.MINORITY_BELOW_THRESHOLD
    assert minority_list.bonus_applied
    # 2999 * 1.35 = 4048.65 competes with 60000 / k: 6 seats (60000/94 = 638.3).
    assert minority_list.seats == 6


def test_nobody_passes_so_every_list_with_votes_takes_part() -> None:
    allocation = allocate(5, {"A": 200, "B": 100, "C": 0}, voted=10000)
    assert allocation.nobody_passed
    assert [result.participation for result in allocation.lists] == [
        Participation.NOBODY_PASSED,
        Participation.NOBODY_PASSED,
        Participation.NO_VOTES,
    ]
    # A: 200, 100, 66.7, 50; B: 100, 50. Ties at 100 and 50 go to A (more votes).
    assert allocation.seats_by_list() == {"A": 4, "B": 1, "C": 0}


def test_equal_quotients_go_to_the_list_with_more_votes() -> None:
    # A's 2nd quotient 1000 equals B's 1st: A has more votes and wins the 2nd seat.
    allocation = allocate(2, {"A": 2000, "B": 1000})
    assert allocation.seats_by_list() == {"A": 2, "B": 0}
    assert allocation.margin == 0


def test_equal_quotients_and_votes_at_the_last_seat_need_lots() -> None:
    # Quotients 1000, 1000, then 500 three times for the last seat: C's 500
    # loses to A's and B's (fewer votes), but A and B are equal in both.
    allocation = allocate(3, {"A": 1000, "B": 1000, "C": 500})
    assert allocation.lots_required == ("A", "B")
    assert allocation.seats_to_draw == 1
    assert allocation.lots_quotient == 500
    # The unambiguous seats are assigned; the contested one is not.
    assert allocation.seats_by_list() == {"A": 1, "B": 1, "C": 0}
    assert allocation.first_missed is not None and allocation.first_missed.list_id == "C"


def test_a_recorded_drawing_of_lots_resolves_the_tie() -> None:
    allocation = allocate(3, {"A": 1000, "B": 1000, "C": 100}, lots_drawn=("B", "A"))
    assert allocation.lots_required == ()
    assert allocation.lots_applied
    assert allocation.seats_by_list() == {"A": 1, "B": 2, "C": 0}
    assert allocation.last_seat is not None and allocation.last_seat.list_id == "B"
    assert allocation.first_missed is not None and allocation.first_missed.list_id == "A"


def test_a_drawing_naming_too_few_lists_leaves_the_rest_to_draw() -> None:
    allocation = allocate(4, {"A": 900, "B": 900, "C": 900, "D": 10}, lots_drawn=("C",))
    # 3 seats at 900, then 450 x3 for the 4th seat: C drew first.
    assert allocation.seats_by_list() == {"A": 1, "B": 1, "C": 2, "D": 0}
    allocation = allocate(5, {"A": 900, "B": 900, "C": 900, "D": 10}, lots_drawn=("C",))
    assert allocation.lots_required == ("A", "B")
    assert allocation.seats_to_draw == 1


def test_a_list_with_too_few_candidates_passes_its_extra_seats_on() -> None:
    allocation = allocate(10, {"A": 7000, "B": 3000}, candidates={"A": 5})
    assert allocation.seats_by_list() == {"A": 5, "B": 5}
    assert allocation.lists[0].seats_passed_on == 2
    assert allocation.lists[0].next_quotient is None


def test_seats_stay_vacant_when_no_list_has_candidates_left() -> None:
    allocation = allocate(10, {"A": 7000, "B": 3000}, candidates={"A": 5, "B": 2})
    assert allocation.seats_by_list() == {"A": 5, "B": 2}
    assert allocation.vacant_seats == 3


def test_minority_bonus_compares_exactly() -> None:
    # 2000 * 27/20 = 2700 exactly equals 5400 / 2, and 5400 has more votes.
    allocation = allocate(2, {"A": 5400, "M": 2000}, voted=100000, minority=("M",), threshold="3")
    assert allocation.seats_by_list() == {"A": 2, "M": 0}
    assert allocation.margin == 0


@pytest.mark.parametrize(
    ("seats", "lists", "voted", "message"),
    [
        (0, [ElectoralList(list_id="A", votes=1)], 1, "seats"),
        (1, [ElectoralList(list_id="A", votes=-5)], 1, "lists[0].votes"),
        (1, [ElectoralList(list_id="A", votes=1), ElectoralList(list_id="A", votes=1)], 2, "twice"),
        (1, [ElectoralList(list_id="A", votes=10)], 5, "voted"),
    ],
)
def test_impossible_inputs_are_refused(
    seats: int, lists: list[ElectoralList], voted: int, message: str
) -> None:
    with pytest.raises(AllocationInputError, match=re.escape(message)):
        allocate_seats(
            seats=seats, lists=lists, voted=voted, threshold_percent=3, minority_bonus_percent=35
        )


def test_float_percentages_are_refused() -> None:
    with pytest.raises(DomainError, match="exact"):
        allocate_seats(
            seats=1,
            lists=[ElectoralList(list_id="A", votes=1)],
            voted=1,
            threshold_percent=3.0,  # type: ignore[arg-type]
            minority_bonus_percent=35,
        )


# Non-monotonic cases, written down with real numbers: a minority list that
# gains votes and so crosses the threshold loses its bonus, and can lose seats.


def test_minority_list_crossing_the_threshold_loses_its_bonus_and_a_seat() -> None:
    # voted 1000: threshold 30. M at 29 is below: 29 * 1.35 = 39.15 beats A's
    # 8th quotient 310/8 = 38.75 and wins a seat.
    before = allocate(15, {"A": 310, "B": 300, "M": 29}, voted=1000, minority=("M",))
    assert before.seats_by_list() == {"A": 7, "B": 7, "M": 1}
    # Two more votes for M (voted 1002, threshold 30.06): M passes, no bonus,
    # and 31 no longer beats 38.75.
    after = allocate(15, {"A": 310, "B": 300, "M": 31}, voted=1002, minority=("M",))
    assert after.lists[2].participation is Participation.PASSED
    assert after.seats_by_list() == {"A": 8, "B": 7, "M": 0}


def test_another_list_gaining_votes_can_push_a_minority_list_under_the_threshold() -> None:
    # Found by the property below. Voted 6636, threshold 5 % = 331.8: M's 340
    # passes, no bonus, and 340 does not beat B's 9th quotient 3965/9 = 440.6.
    before = allocate(
        10, {"A": 602, "B": 3965, "M": 340}, voted=6636, threshold="5", minority=("M",)
    )
    assert before.seats_by_list() == {"A": 1, "B": 9, "M": 0}
    # B gains 165 votes, the ballots in the box with them (voted 6801,
    # threshold 340.05): M falls under it and takes part with the bonus,
    # 340 * 1.35 = 459, beating B's 9th quotient 4130/9 = 458.9.
    after = allocate(
        10, {"A": 602, "B": 4130, "M": 340}, voted=6801, threshold="5", minority=("M",)
    )
    assert after.lists[2].bonus_applied
    assert after.seats_by_list() == {"A": 1, "B": 8, "M": 1}


def test_minority_list_at_the_threshold_has_fewer_seats_than_just_below() -> None:
    below = allocate(100, {"A": 60000, "M": 2999}, voted=100000, minority=("M",))
    at = allocate(100, {"A": 60000, "M": 3000}, voted=100000, minority=("M",))
    assert below.lists[1].seats == 6
    assert at.lists[1].seats == 4


# Properties.

votes_strategy = st.lists(st.integers(min_value=0, max_value=5000), min_size=1, max_size=8)


@st.composite
def elections(draw: st.DrawFn) -> dict[str, object]:
    counts = draw(votes_strategy)
    minority = draw(st.lists(st.booleans(), min_size=len(counts), max_size=len(counts)))
    lists = [
        ElectoralList(list_id=str(index + 1), votes=count, minority=flag)
        for index, (count, flag) in enumerate(zip(counts, minority, strict=True))
    ]
    return {
        "seats": draw(st.integers(min_value=1, max_value=40)),
        "lists": lists,
        "voted": sum(counts) + draw(st.integers(min_value=0, max_value=2000)),
        "threshold_percent": draw(st.sampled_from(["0", "3", "5", "10"])),
        "minority_bonus_percent": draw(st.sampled_from(["0", "35"])),
    }


@settings(max_examples=300, deadline=None)
@given(elections())
def test_seats_add_up_to_the_seats_contested(election: dict[str, object]) -> None:
    allocation = allocate_seats(**election)  # type: ignore[arg-type]
    assume(not allocation.lots_required)
    if any(result.votes > 0 for result in allocation.lists):
        assert allocation.seats_assigned == allocation.seats
    else:
        assert allocation.seats_assigned == 0


@settings(max_examples=300, deadline=None)
@given(elections(), st.data())
def test_a_list_that_gains_votes_never_loses_seats(
    election: dict[str, object], data: st.DataObject
) -> None:
    lists: list[ElectoralList] = election["lists"]  # type: ignore[assignment]
    index = data.draw(st.integers(min_value=0, max_value=len(lists) - 1))
    gain = data.draw(st.integers(min_value=1, max_value=3000))
    before = allocate_seats(**election)  # type: ignore[arg-type]
    gained = list(lists)
    gained[index] = ElectoralList(
        list_id=lists[index].list_id,
        votes=lists[index].votes + gain,
        minority=lists[index].minority,
    )
    # The added votes are ballots in the box too.
    after = allocate_seats(**{**election, "lists": gained, "voted": election["voted"] + gain})  # type: ignore[arg-type, operator]
    assume(not before.lots_required and not after.lots_required)
    was, now = before.lists[index], after.lists[index]
    # The two exceptions, shown with real numbers above: a minority list that
    # crosses the threshold loses its bonus, and a minority list that the
    # added ballots push under the threshold gains it.
    assume(
        all(
            old.bonus_applied == new.bonus_applied
            for old, new in zip(before.lists, after.lists, strict=True)
        )
    )
    assert now.seats >= was.seats


@settings(max_examples=200, deadline=None)
@given(elections(), st.randoms(use_true_random=False))
def test_the_order_of_the_lists_never_changes_the_result(
    election: dict[str, object], shuffler: random.Random
) -> None:
    lists: list[ElectoralList] = list(election["lists"])  # type: ignore[call-overload]
    shuffled = list(lists)
    shuffler.shuffle(shuffled)
    first = allocate_seats(**election)  # type: ignore[arg-type]
    second = allocate_seats(**{**election, "lists": shuffled})  # type: ignore[arg-type]
    assert first.seats_by_list() == second.seats_by_list()
    assert first.lots_required == second.lots_required
    assert first.last_seat == second.last_seat
    assert first.first_missed == second.first_missed


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=1, max_value=500),
    st.integers(min_value=2, max_value=12),
    st.integers(min_value=1, max_value=11),
    st.booleans(),
)
def test_equal_quotients_go_to_the_list_with_more_votes_always(
    unit: int, larger: int, smaller: int, swap: bool
) -> None:
    assume(smaller < larger)
    # A = larger * unit and B = smaller * unit tie at the quotient `unit`
    # (A / larger = B / smaller); every other winning quotient is above it,
    # so the tie is for the last of larger + smaller - 1 seats.
    votes = {"A": larger * unit, "B": smaller * unit}
    if swap:
        votes = {"B": votes["B"], "A": votes["A"]}
    allocation = allocate(larger + smaller - 1, votes, threshold="0", bonus="0")
    assert allocation.seats_by_list() == {"A": larger, "B": smaller - 1}
    assert allocation.lots_required == ()


def test_dhondt_agrees_with_votelib_on_3000_random_untied_elections() -> None:
    """Differential test, threshold 0 and bonus 0 (plain D'Hondt).

    votelib breaks no ties (it returns a Tie object for the contested seat),
    and the law breaks ties by votes and lots, so cases with an exact tie at
    the last seat are skipped: only untied cases are compared.
    """
    evaluator = HighestAverages("d_hondt")
    rng = random.Random(20240602)
    compared = 0
    for _case in range(3000):
        count = rng.randint(1, 10)
        scale = rng.choice([20, 1000, 100000])
        votes = {str(index + 1): rng.randint(1, scale) for index in range(count)}
        seats = rng.randint(1, 60)
        ours = allocate(seats, votes, threshold="0", bonus="0")
        if ours.margin == 0 or ours.lots_required:
            continue
        theirs = evaluator.evaluate(votes, seats)
        if any(not isinstance(key, str) for key in theirs):
            continue
        expected = {list_id: theirs.get(list_id, 0) for list_id in votes}
        assert ours.seats_by_list() == expected, (votes, seats)
        compared += 1
    assert compared > 2500
