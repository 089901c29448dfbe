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
)
from tabulation.domain.checks import check_record
from tabulation.domain.record import Record

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
