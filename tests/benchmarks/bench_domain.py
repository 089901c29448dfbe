"""Timings of the domain: seat allocation at scale, and record checks in bulk.

Run with ``make bench`` (all benchmarks) or ``python -m tests.benchmarks
bench_domain``. Prints figures; asserts nothing about time.
"""

import random
import time
from collections.abc import Callable
from dataclasses import replace

from tabulation.domain.checks import check_record
from tabulation.domain.record import Record
from tabulation.domain.seats import ElectoralList, allocate_seats
from tabulation.domain.settled import seats_settled

REPEATS = 5


def best_of(repeats: int, work: Callable[[], object]) -> float:
    """The fastest of ``repeats`` runs, in seconds (the least disturbed one)."""
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        timings.append(time.perf_counter() - start)
    return min(timings)


def big_election(rng: random.Random) -> list[ElectoralList]:
    return [
        ElectoralList(
            list_id=str(index + 1),
            votes=rng.randint(1_000, 400_000),
            minority=index % 7 == 6,
        )
        for index in range(25)
    ]


def records(rng: random.Random, count: int) -> list[Record]:
    made = []
    for _ in range(count):
        votes = tuple((number, rng.randint(0, 120)) for number in range(1, 26))
        valid = sum(count for _number, count in votes)
        invalid = rng.randint(0, 40)
        in_box = valid + invalid
        made.append(
            Record(
                registered=3000,
                ballots_received=3000,
                ballots_unused=3000 - in_box,
                turned_out=in_box + rng.randint(0, 5),
                ballots_in_box=in_box,
                ballots_invalid=invalid,
                ballots_valid=valid,
                votes=votes,
                control_sheet_ok=True,
                board_signatures=rng.choice([3, 5]),
            )
        )
    # A few with errors, so the slower paths are timed too.
    made[::50] = [replace(record, ballots_valid=None) for record in made[::50]]
    return made


def main() -> None:
    rng = random.Random(2024)
    lists = big_election(rng)
    voted = sum(entry.votes for entry in lists) + 50_000

    def allocate() -> object:
        return allocate_seats(
            seats=250,
            lists=lists,
            voted=voted,
            threshold_percent="3",
            minority_bonus_percent="35",
        )

    seconds = best_of(REPEATS, allocate)
    print(f"allocate_seats, 250 seats x 25 lists: {seconds * 1000:.1f} ms (best of {REPEATS})")

    def settle() -> object:
        return seats_settled(
            seats=250,
            lists=lists,
            voted=voted,
            threshold_percent="3",
            minority_bonus_percent="35",
            outstanding_registered=20_000,
        )

    seconds = best_of(REPEATS, settle)
    print(f"seats_settled, 250 seats x 25 lists, R=20000: {seconds * 1000:.1f} ms")

    batch = records(rng, 10_000)
    ballot = tuple(range(1, 26))

    def check_all() -> object:
        return [
            check_record(record, registered_in_register=3000, ballot=ballot) for record in batch
        ]

    seconds = best_of(REPEATS, check_all)
    print(
        f"check_record, 10,000 records x 25 lists: {seconds * 1000:.0f} ms "
        f"({seconds / len(batch) * 1e6:.1f} µs per record, best of {REPEATS})"
    )


if __name__ == "__main__":
    main()
