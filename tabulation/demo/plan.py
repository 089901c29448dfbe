"""The plan of a simulated election night: what each station's paper record
says, when it arrives, which clerk slips, and which stations have a real
problem (tabulation/demo/README.md, "simulate_night").

Plain Python, no Django: the plan depends only on the stations (in code
order), the ballot, the seed and, for the demo, its figures file. So the
same seed gives the same night, and a night started again finds the same
plan and carries on.
"""

from __future__ import annotations

import csv
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from tabulation.demo.generate import OUTLIER_TURNOUT_PERCENT, apportion
from tabulation.domain.record import COUNT_FIELDS

HOUR = 3600
# The simulated clock counts seconds from the close of the polls (20:00).
POLLS_CLOSE_HOUR = 20
LAST_ARRIVAL = 7 * HOUR + 30 * 60  # 03:30: the latest a record comes in
ENTRY_DEADLINE = 8 * HOUR  # 04:00: a record not in by then is U2 (Art. 115)
OBJECTION_AT = 3 * HOUR  # 23:00: a list's representative objects
# The repeat votes are held days later; the simulated clock jumps to the
# evening they are held, so their records come in after the night's.
REPEAT_EVENING = 8 * HOUR + 30 * 60
REPEAT_SPREAD = 45 * 60

# One station each, chosen by the seed: the problems a real night brings.
# W1 is a true record (a turnout above 95 %); U2 never arrives; the others
# are paper records with the error named (RULES.md section 2).
PROBLEMS = ("R1", "R2", "R3", "C1", "S1", "W1", "U2")
SLIP_PER_MILLE = 15  # clerk 2 mistypes one number: entries differ (W6)
VERY_LATE_PER_MILLE = 10

# Stuffed stations (docs/fingerprint.md): ballots added for the leading list
# until nearly everyone voted and nearly all for it, the pattern the
# fingerprint's corner shows. A true record as far as the count goes (the
# board signed it); an observer's copy says what was really counted. Three
# of the smallest stations on a big night, one on a small one, so that the
# demo's certified seats stay the real ones (tests/demo/test_plan.py).
STUFFED_STATIONS = 3
STUFFED_AMONG_SMALLEST = 40
STUFFED_TURNOUT_PERCENT = 97
STUFFED_SHARE_PERCENT = 94
# The paper trail: a clerk photographs the signed record, observers bring
# their copies (docs/observers.md). Of the stations without a problem.
SCAN_PER_MILLE = 300
COPY_PER_MILLE = 250  # for each observer
COPY_DIFFERS_PER_MILLE = 150  # a copy that differs from the record (O1-O3)
# Who brings copies: the leading list's representative and an accredited
# organisation (the night accredits both; their order is CopyPlan.observer).
OBSERVERS = ("list", "organisation")


@dataclass(frozen=True)
class Paper:
    """A polling-board record as written on paper: the record fields of
    RULES.md section 1 and the votes by ballot number."""

    values: Mapping[str, int | bool]
    votes: Mapping[int, int]

    def with_values(self, **changes: int | bool) -> Paper:
        return replace(self, values={**self.values, **changes})

    def with_votes(self, number: int, count: int) -> Paper:
        return replace(self, votes={**self.votes, number: count})


@dataclass(frozen=True)
class CopyPlan:
    """An observer's copy of a station's record: ``observer`` indexes
    OBSERVERS; it comes in ``after`` seconds after the record arrives."""

    observer: int
    paper: Paper
    after: int


@dataclass(frozen=True)
class StationPlan:
    code: str
    truth: Paper  # what the board should have written: the count certifies it
    arrives_at: int | None  # simulated seconds; None: never (U2)
    second_after: int  # the second clerk types it this much later
    repeat_after: int  # a repeat round's record comes in this long into the evening
    problem: str | None = None
    slip: tuple[int, int] | None = None  # clerk 2 types (ballot number, votes)
    stuffed: bool = False  # ``truth`` is the stuffed record
    scan: bool = False  # the first clerk attaches a photo of the record
    copies: tuple[CopyPlan, ...] = ()

    def paper(self, round_number: int) -> Paper:
        """The record as the board wrote it: round 1 carries the problem; a
        repeat vote's record is right."""
        if round_number > 1 or self.problem is None:
            return self.truth
        return problem_paper(self.truth, self.problem)

    def typed(self, round_number: int, *, slot: int, first_attempt: bool) -> Paper:
        """What clerk ``slot`` (1 or 2) types: the paper, but for a slip of
        clerk 2 the first time round 1 is typed."""
        paper = self.paper(round_number)
        if self.slip is None or slot != 2 or round_number != 1 or not first_attempt:
            return paper
        number, count = self.slip
        return paper.with_votes(number, count)


def problem_paper(truth: Paper, problem: str) -> Paper:
    """The paper record with ``problem``'s error in it."""
    values = truth.values
    if problem == "R1":  # more ballots in the box than voters who turned out
        return truth.with_values(turned_out=max(int(values["ballots_in_box"]) - 5, 0))
    if problem == "R2":  # the control sheet missing
        return truth.with_values(control_sheet_ok=False)
    if problem == "R3":  # unused + in the box above the ballots received
        return truth.with_values(ballots_unused=int(values["ballots_unused"]) + 15)
    if problem == "C1":  # registered voters copied wrong from the register
        return truth.with_values(registered=int(values["registered"]) + 25)
    if problem == "S1":  # one list's votes added up wrong on the paper
        number = max(truth.votes, key=lambda key: (truth.votes[key], -key))
        return truth.with_votes(number, truth.votes[number] + 10)
    return truth  # W1 (a true outlier) and U2 (never arrives)


def stuffed_paper(truth: Paper, leader: int) -> Paper:
    """``truth`` with ballots added for ``leader``: a turnout of
    STUFFED_TURNOUT_PERCENT, STUFFED_SHARE_PERCENT of the valid votes for it,
    the rest shared by the other lists as they were. Consistent: no check
    but the warnings W1 (turnout above 95 %) and W3 (90 % for one list)."""
    values = truth.values
    registered = int(values["registered"])
    in_box = registered * STUFFED_TURNOUT_PERCENT // 100
    invalid = min(int(values["ballots_invalid"]), in_box // 100)
    valid = in_box - invalid
    leader_votes = valid * STUFFED_SHARE_PERCENT // 100
    others = sorted(number for number in truth.votes if number != leader)
    weights = [truth.votes[number] + 1 for number in others]  # +1: never all zero
    shares = apportion(valid - leader_votes, weights) if others else []
    received = max(int(values["ballots_received"]), in_box)
    return Paper(
        values={
            **values,
            "ballots_received": received,
            "ballots_unused": received - in_box,
            "turned_out": in_box,
            "ballots_in_box": in_box,
            "ballots_invalid": invalid,
            "ballots_valid": valid,
        },
        votes={leader: leader_votes, **dict(zip(others, shares, strict=True))},
    )


def differing_copy(rng: random.Random, truth: Paper) -> Paper:
    """An observer's copy that differs from the record in one place: a
    list's votes (O2), the invalid ballots (O1) or the signatures (O3)."""
    kind = rng.choice(("votes", "votes", "invalid", "signatures"))
    if kind == "invalid":
        return truth.with_values(ballots_invalid=int(truth.values["ballots_invalid"]) + 4)
    if kind == "signatures":
        return truth.with_values(board_signatures=int(truth.values["board_signatures"]) - 2)
    number, count = _slip(rng, truth)
    return truth.with_votes(number, count)


def _paper_trail(
    rng: random.Random, truth: Paper, *, must: bool
) -> tuple[bool, tuple[CopyPlan, ...]]:
    """Whether a clean station's record is photographed, and the copies
    observers bring of it; ``must``: both, and one copy that differs."""
    scan = must or rng.randrange(1000) < SCAN_PER_MILLE
    copies = []
    for observer in range(len(OBSERVERS)):
        if must or rng.randrange(1000) < COPY_PER_MILLE:
            differs = (must and observer == 0) or rng.randrange(1000) < COPY_DIFFERS_PER_MILLE
            paper = differing_copy(rng, truth) if differs else truth
            copies.append(CopyPlan(observer=observer, paper=paper, after=rng.randint(5, 90) * 60))
    return scan, tuple(copies)


def _stuffed_choice(
    rng: random.Random, plans: Mapping[str, StationPlan], registered: Mapping[str, int]
) -> list[str]:
    """A few of the smallest clean stations (no problem, no slip)."""
    clean = sorted(
        (code for code, plan in plans.items() if plan.problem is None and plan.slip is None),
        key=lambda code: (registered[code], code),
    )
    count = STUFFED_STATIONS if len(plans) >= 100 else 1
    return sorted(rng.sample(clean[:STUFFED_AMONG_SMALLEST], count))


@dataclass(frozen=True)
class StationShape:
    """What the plan needs of a station."""

    code: str
    municipality: str
    registered: int


@dataclass
class NightPlan:
    stations: dict[str, StationPlan] = field(default_factory=dict)

    def with_problem(self, problem: str) -> list[str]:
        return [code for code, plan in self.stations.items() if plan.problem == problem]

    @property
    def stuffed_stations(self) -> list[str]:
        return [code for code, plan in self.stations.items() if plan.stuffed]

    @property
    def problem_stations(self) -> set[str]:
        return {code for code, plan in self.stations.items() if plan.problem is not None}


def read_figures(path: Path) -> tuple[dict[str, Paper], set[str]]:
    """Station figures from a demo's results.csv: each station's true record,
    and the stations whose note says they are a W1 outlier."""
    papers: dict[str, Paper] = {}
    outliers: set[str] = set()
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            values: dict[str, int | bool] = {name: int(row[name]) for name in COUNT_FIELDS}
            values["control_sheet_ok"] = row["control_sheet_ok"] == "yes"
            votes = {
                int(column.removeprefix("list_")): int(row[column])
                for column in row
                if column.startswith("list_")
            }
            papers[row["station"]] = Paper(values=values, votes=votes)
            if row.get("demo_note", "").startswith("W1"):
                outliers.add(row["station"])
    return papers, outliers


def drawn_paper(
    rng: random.Random,
    registered: int,
    weights: Mapping[int, float],
    turnout_percent: float | None = None,
) -> Paper:
    """A consistent record for a station with no figures file."""
    if turnout_percent is None:
        turnout_percent = rng.uniform(50.0, 65.0)
    in_box = round(registered * turnout_percent / 100)
    turned_out = min(in_box + rng.choice((0, 0, 1, 2)), registered)
    received = math.ceil(registered / 10) * 10 + 10
    invalid = round(in_box * rng.uniform(0.01, 0.025))
    valid = in_box - invalid
    numbers = sorted(weights)
    counts = apportion(valid, [weights[number] * rng.uniform(0.85, 1.15) for number in numbers])
    return Paper(
        values={
            "registered": registered,
            "ballots_received": received,
            "ballots_unused": received - in_box,
            "turned_out": turned_out,
            "ballots_in_box": in_box,
            "ballots_invalid": invalid,
            "ballots_valid": valid,
            "control_sheet_ok": True,
            "board_signatures": 5,
        },
        votes=dict(zip(numbers, counts, strict=True)),
    )


def _arrival(
    rng: random.Random, station: StationShape, largest: int, municipality_share: float
) -> int:
    """Small stations count faster, small (rural) municipalities are quicker
    to deliver; a long tail of late ones, and a few very late."""
    size = station.registered / largest if largest else 1.0
    at = 20 * 60 + HOUR * size + HOUR * municipality_share + rng.expovariate(1 / (40 * 60))
    if rng.randrange(1000) < VERY_LATE_PER_MILLE:
        at += rng.uniform(2 * HOUR, 4 * HOUR)
    return int(min(at, LAST_ARRIVAL))


def _slip(rng: random.Random, paper: Paper) -> tuple[int, int]:
    """One list's votes typed wrong by a few (never below zero, never right)."""
    number = rng.choice(sorted(paper.votes))
    right = paper.votes[number]
    delta = rng.choice((-3, -2, -1, 1, 2, 3, 10))
    return number, right + delta if right + delta >= 0 else right + abs(delta)


def night_plan(
    stations: Sequence[StationShape],
    ballot: Sequence[int],
    *,
    seed: int,
    figures: Mapping[str, Paper] | None = None,
    outliers: set[str] | None = None,
) -> NightPlan:
    """The night for ``stations``: from ``figures`` when given (a demo's
    true records), else drawn from the seed. Needs at least 10 stations."""
    ordered = sorted(stations, key=lambda station: station.code)
    if len(ordered) < len(PROBLEMS) + 3:
        raise ValueError(f"a night needs at least {len(PROBLEMS) + 3} stations")
    chooser = random.Random(f"{seed}:problems")
    weights = {number: chooser.uniform(0.2, 1.0) ** 2 for number in sorted(ballot)}
    largest = max(station.registered for station in ordered)
    by_municipality: dict[str, int] = {}
    for station in ordered:
        by_municipality[station.municipality] = (
            by_municipality.get(station.municipality, 0) + station.registered
        )
    largest_municipality = max(by_municipality.values())

    outlier_codes = sorted(outliers or ())
    if not outlier_codes and figures is None:
        outlier_codes = [chooser.choice(ordered).code]
    others = [station.code for station in ordered if station.code not in outlier_codes]
    # One station for each problem but W1, and one more that surely slips:
    # a small night still has a reconciliation.
    kinds = [problem for problem in PROBLEMS if problem != "W1"]
    *chosen, must_slip = chooser.sample(others, len(kinds) + 1)
    problems = dict(zip(chosen, kinds, strict=True))
    problems.update(dict.fromkeys(outlier_codes, "W1"))

    plan = NightPlan()
    for index, station in enumerate(ordered):
        # By position, not code: two elections of the same shape get the
        # same night (the tests compare two).
        rng = random.Random(f"{seed}:{index}")
        problem = problems.get(station.code)
        if figures is not None:
            truth = figures[station.code]
        else:
            turnout = OUTLIER_TURNOUT_PERCENT if problem == "W1" else None
            truth = drawn_paper(rng, station.registered, weights, turnout)
        arrives = _arrival(
            rng, station, largest, by_municipality[station.municipality] / largest_municipality
        )
        slips = problem is None and (
            station.code == must_slip or rng.randrange(1000) < SLIP_PER_MILLE
        )
        plan.stations[station.code] = StationPlan(
            code=station.code,
            truth=truth,
            arrives_at=None if problem == "U2" else arrives,
            second_after=rng.randint(2 * 60, 15 * 60),
            repeat_after=rng.randint(0, REPEAT_SPREAD),
            problem=problem,
            slip=_slip(rng, truth) if slips else None,
        )
    _plan_paper_trail(plan, ordered, seed)
    return plan


def _plan_paper_trail(plan: NightPlan, ordered: Sequence[StationShape], seed: int) -> None:
    """The stuffed stations, the scans and the observers' copies, drawn
    from generators of their own, so that the rest of the night is the
    night it was before they were planned."""
    trail = random.Random(f"{seed}:paper-trail")
    registered = {station.code: station.registered for station in ordered}
    leader = max(
        sorted({number for item in plan.stations.values() for number in item.truth.votes}),
        key=lambda number: sum(item.truth.votes.get(number, 0) for item in plan.stations.values()),
    )
    stuffed = _stuffed_choice(trail, plan.stations, registered)
    clean = [code for code, item in plan.stations.items() if item.problem is None]
    must = trail.choice([code for code in clean if code not in stuffed])
    for index, station in enumerate(ordered):
        item = plan.stations[station.code]
        if station.code in stuffed:
            # The observer's copy is what the board counted before the stuffing.
            copy = CopyPlan(observer=1, paper=item.truth, after=30 * 60)
            plan.stations[station.code] = replace(
                item, truth=stuffed_paper(item.truth, leader), stuffed=True, copies=(copy,)
            )
        elif item.problem is None:
            rng = random.Random(f"{seed}:paper-trail:{index}")
            scan, copies = _paper_trail(rng, item.truth, must=station.code == must)
            plan.stations[station.code] = replace(item, scan=scan, copies=copies)
