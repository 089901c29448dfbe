"""Settled seats: never "settled" when an outstanding ballot could change a seat."""

import json
from collections.abc import Iterator
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tabulation.domain.seats import ElectoralList, allocate_seats
from tabulation.domain.settled import seats_settled

ELECTIONS = Path(__file__).resolve().parents[1] / "data" / "elections"

Outcome = tuple[int, bool]  # (seats, takes part in a drawing of lots)


def splits(total: int, parts: int) -> Iterator[tuple[int, ...]]:
    """Every way of writing ``total`` as ``parts`` whole numbers >= 0."""
    if parts == 1:
        yield (total,)
        return
    for first in range(total + 1):
        for rest in splits(total - first, parts - 1):
            yield (first, *rest)


def every_outcome(
    seats: int, lists: list[ElectoralList], voted: int, threshold: str, bonus: str, outstanding: int
) -> list[dict[str, Outcome]]:
    """Brute force: every split of up to ``outstanding`` ballots among the
    lists and invalid ballots; the voters left over do not vote."""
    outcomes = []
    for cast in range(outstanding + 1):
        for split in splits(cast, len(lists) + 1):  # the last part: invalid ballots
            final = [
                ElectoralList(
                    list_id=entry.list_id,
                    votes=entry.votes + added,
                    minority=entry.minority,
                    candidates=entry.candidates,
                )
                for entry, added in zip(lists, split, strict=False)
            ]
            allocation = allocate_seats(
                seats=seats,
                lists=final,
                voted=voted + cast,
                threshold_percent=threshold,
                minority_bonus_percent=bonus,
            )
            outcomes.append(
                {
                    result.list_id: (result.seats, result.list_id in allocation.lots_required)
                    for result in allocation.lists
                }
            )
    return outcomes


@st.composite
def small_elections(draw: st.DrawFn) -> dict[str, object]:
    count = draw(st.integers(min_value=2, max_value=4))
    lists = [
        ElectoralList(
            list_id=str(index + 1),
            votes=draw(st.integers(min_value=0, max_value=40)),
            minority=draw(st.booleans()),
            candidates=draw(st.sampled_from([None, None, 1, 2, 3])),
        )
        for index in range(count)
    ]
    return {
        "seats": draw(st.integers(min_value=3, max_value=7)),
        "lists": lists,
        "voted": sum(entry.votes for entry in lists) + draw(st.integers(min_value=0, max_value=8)),
        # Thresholds that bite with tens of votes, and the real ones.
        "threshold_percent": draw(st.sampled_from(["0", "3", "5", "10", "20"])),
        "minority_bonus_percent": draw(st.sampled_from(["0", "35", "100"])),
        "outstanding_registered": draw(st.integers(min_value=0, max_value=6)),
    }


@settings(max_examples=200, deadline=None)
@given(small_elections())
def test_settled_is_sound_against_brute_force(election: dict[str, object]) -> None:
    settlement = seats_settled(**election)  # type: ignore[arg-type]
    outcomes = every_outcome(
        election["seats"],  # type: ignore[arg-type]
        election["lists"],  # type: ignore[arg-type]
        election["voted"],  # type: ignore[arg-type]
        election["threshold_percent"],  # type: ignore[arg-type]
        election["minority_bonus_percent"],  # type: ignore[arg-type]
        election["outstanding_registered"],  # type: ignore[arg-type]
    )
    for entry in settlement.lists:
        if not entry.settled:
            continue
        observed = {outcome[entry.list_id] for outcome in outcomes}
        assert len(observed) == 1, entry.list_id
        if settlement.outstanding_registered > 0:
            # Settled with ballots outstanding also means no drawing of lots.
            assert observed == {(entry.seats, False)}, entry.list_id
    if settlement.settled:
        assert all(outcome == outcomes[0] for outcome in outcomes)


def test_sound_on_the_bonus_cliff() -> None:
    # M (minority) sits just below the threshold with its bonus; two more votes
    # would take it over and cost it the bonus and its seat.
    lists = [
        ElectoralList(list_id="A", votes=310),
        ElectoralList(list_id="B", votes=300),
        ElectoralList(list_id="M", votes=29, minority=True),
    ]
    settlement = seats_settled(
        seats=15,
        lists=lists,
        voted=1000,
        threshold_percent="3",
        minority_bonus_percent="35",
        outstanding_registered=2,
    )
    assert settlement.settled_by_list()["M"] is False
    assert not settlement.settled


def test_nothing_outstanding_means_everything_is_settled() -> None:
    lists = [
        ElectoralList(list_id="A", votes=1000),
        ElectoralList(list_id="B", votes=1000),
        ElectoralList(list_id="C", votes=13, minority=True),
    ]
    settlement = seats_settled(
        seats=7,
        lists=lists,
        voted=2100,
        threshold_percent="3",
        minority_bonus_percent="35",
        outstanding_registered=0,
    )
    assert settlement.settled
    assert all(entry.settled for entry in settlement.lists)


def test_a_huge_lead_and_few_outstanding_voters_settle_the_big_lists() -> None:
    data = json.loads((ELECTIONS / "belgrade-2024.json").read_text(encoding="utf-8"))
    lists = [
        ElectoralList(list_id=entry["id"], votes=entry["votes"], minority=entry["minority"])
        for entry in data["lists"]
    ]
    settlement = seats_settled(
        seats=110,
        lists=lists,
        voted=734000,
        threshold_percent="3",
        minority_bonus_percent="35",
        outstanding_registered=100,
    )
    settled = settlement.settled_by_list()
    assert settled["1"] and settled["2"] and settled["4"] and settled["5"]
    # Lists far below the threshold cannot reach it with 100 more votes.
    assert all(settled[str(list_id)] for list_id in range(6, 15))


def test_many_outstanding_voters_settle_nothing_close() -> None:
    lists = [ElectoralList(list_id="A", votes=600), ElectoralList(list_id="B", votes=400)]
    settlement = seats_settled(
        seats=10,
        lists=lists,
        voted=1000,
        threshold_percent="3",
        minority_bonus_percent="35",
        outstanding_registered=1000,
    )
    assert settlement.settled_by_list() == {"A": False, "B": False}
    assert not settlement.settled


def test_a_clear_two_list_race_is_settled_with_a_small_remainder() -> None:
    lists = [ElectoralList(list_id="A", votes=6000), ElectoralList(list_id="B", votes=4000)]
    settlement = seats_settled(
        seats=5,
        lists=lists,
        voted=10000,
        threshold_percent="3",
        minority_bonus_percent="35",
        outstanding_registered=50,
    )
    # Quotients 6000, 4000, 3000, 2000 (A), 2000 (B) win; next is A's 1500.
    # 50 more votes move no quotient across the 500 margin.
    assert settlement.allocation.seats_by_list() == {"A": 3, "B": 2}
    assert settlement.settled
