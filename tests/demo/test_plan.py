"""The plan of a simulated night (tabulation/demo/plan.py): the same seed
gives the same night, each problem once, and each problem's paper raises
the check it stands for (RULES.md section 2)."""

from __future__ import annotations

from tabulation.demo.plan import (
    ENTRY_DEADLINE,
    PROBLEMS,
    Paper,
    StationShape,
    night_plan,
    read_figures,
)
from tabulation.domain.checks import check_record
from tabulation.domain.copies import copy_differences
from tabulation.domain.fingerprint import StationPoint, in_corner
from tabulation.domain.record import Record
from tabulation.domain.seats import ElectoralList, allocate_seats
from tabulation.management.commands.simulate_night import DEFAULT_SEED
from tests.demo.test_figures import DEMO_DIR
from tests.demo.test_figures import rows as demo_rows

STATIONS = [
    StationShape(code=f"m{m}-{n:03d}", municipality=f"m{m}", registered=600 + 37 * n)
    for m in (1, 2)
    for n in range(1, 9)
]
BALLOT = [1, 2, 3, 4]


def record(paper: Paper) -> Record:
    return Record(
        **{name: value for name, value in paper.values.items()},  # type: ignore[arg-type]
        votes=tuple(sorted(paper.votes.items())),
    )


def codes(paper: Paper, registered: int) -> set[str]:
    findings = check_record(
        record(paper), registered_in_register=registered, ballot=frozenset(BALLOT)
    )
    return {finding.code for finding in findings}


def test_the_same_seed_plans_the_same_night_and_another_seed_another() -> None:
    first = night_plan(STATIONS, BALLOT, seed=7)
    again = night_plan(STATIONS, BALLOT, seed=7)
    other = night_plan(STATIONS, BALLOT, seed=8)

    assert first == again
    assert first != other


def test_every_problem_is_planned_once_and_one_station_slips() -> None:
    plan = night_plan(STATIONS, BALLOT, seed=7)

    assert sorted(plan.stations[code].problem for code in plan.problem_stations) == sorted(PROBLEMS)
    slips = [code for code, station in plan.stations.items() if station.slip is not None]
    assert slips and not set(slips) & plan.problem_stations
    assert [code for code, station in plan.stations.items() if station.arrives_at is None] == (
        plan.with_problem("U2")
    )
    assert all(
        station.arrives_at < ENTRY_DEADLINE
        for station in plan.stations.values()
        if station.arrives_at is not None
    )


def test_each_problem_s_paper_raises_its_check_and_the_repeat_vote_is_clean() -> None:
    plan = night_plan(STATIONS, BALLOT, seed=7)
    registered = {station.code: station.registered for station in STATIONS}

    for problem in ("R1", "R2", "R3", "C1", "S1"):
        (code,) = plan.with_problem(problem)
        assert problem in codes(plan.stations[code].paper(1), registered[code])
        assert codes(plan.stations[code].paper(2), registered[code]) == set()
    (outlier,) = plan.with_problem("W1")
    truth = plan.stations[outlier].truth
    assert int(truth.values["turned_out"]) * 100 > 95 * registered[outlier]


def test_a_slip_changes_one_number_of_the_second_clerk_s_first_entry_only() -> None:
    plan = night_plan(STATIONS, BALLOT, seed=7)
    station = next(station for station in plan.stations.values() if station.slip is not None)

    typed = station.typed(1, slot=2, first_attempt=True)

    assert typed.values == station.truth.values
    assert [n for n in BALLOT if typed.votes[n] != station.truth.votes[n]] == [station.slip[0]]
    assert station.typed(1, slot=1, first_attempt=True) == station.truth
    assert station.typed(1, slot=2, first_attempt=False) == station.truth


def test_a_stuffed_station_is_a_consistent_record_in_the_fingerprint_s_corner() -> None:
    plan = night_plan(STATIONS, BALLOT, seed=7)
    registered = {station.code: station.registered for station in STATIONS}

    (stuffed,) = plan.stuffed_stations
    station = plan.stations[stuffed]
    assert station.problem is None and station.slip is None
    # Only the warning of one list with 90 % or more (W1 needs the municipality).
    assert codes(station.truth, registered[stuffed]) == {"W3"}
    point = StationPoint(
        code=stuffed,
        registered=registered[stuffed],
        turned_out=int(station.truth.values["turned_out"]),
        valid=int(station.truth.values["ballots_valid"]),
        votes=tuple(sorted(station.truth.votes.items())),
    )
    assert in_corner(point)
    # The organisation's copy says what was counted before the stuffing.
    (copy,) = station.copies
    assert copy.paper.values["turned_out"] < station.truth.values["turned_out"]


def test_copies_differ_from_the_record_in_one_place_and_the_others_are_equal() -> None:
    plan = night_plan(STATIONS, BALLOT, seed=7)

    differences = [
        copy_differences(record(copy.paper), record(station.truth))
        for station in plan.stations.values()
        if not station.stuffed
        for copy in station.copies
    ]
    assert len(differences) >= 2
    assert {len(found) for found in differences} <= {0, 1}
    assert any(len(found) == 0 for found in differences)
    assert any(len(found) == 1 for found in differences)
    assert not any(
        station.scan or station.copies for station in plan.stations.values() if station.problem
    )


def test_the_demo_night_keeps_the_real_seats_with_its_stuffed_stations() -> None:
    stations = [
        StationShape(
            code=row["code"], municipality=row["municipality"], registered=int(row["registered"])
        )
        for row in demo_rows("stations.csv")
    ]
    lists = demo_rows("lists.csv")
    figures, outliers = read_figures(DEMO_DIR / "results.csv")
    plan = night_plan(
        stations,
        [int(row["ballot_number"]) for row in lists],
        seed=DEFAULT_SEED,
        figures=figures,
        outliers=outliers,
    )
    papers = [station.truth for station in plan.stations.values()]

    allocation = allocate_seats(
        seats=110,
        lists=[
            ElectoralList(
                list_id=row["ballot_number"],
                votes=sum(paper.votes[int(row["ballot_number"])] for paper in papers),
                minority=row["minority"] == "yes",
            )
            for row in lists
        ],
        voted=sum(int(paper.values["ballots_in_box"]) for paper in papers),
        threshold_percent="3",
        minority_bonus_percent="35",
    )

    assert len(plan.stuffed_stations) == 3
    seats = {result.list_id: result.seats for result in allocation.lists if result.seats}
    assert seats == {"1": 49, "3": 43, "5": 7, "13": 6, "2": 5}
