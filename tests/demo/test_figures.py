"""The Belgrade 2023 demo's figures (tabulation/demo/belgrade-2023): the
night certifies these true records, so their sum must give the real official
seats, and their municipality table must be close to the published one."""

from __future__ import annotations

import csv
from collections import defaultdict
from decimal import Decimal

from tabulation.demo.generate import DEMO_DIR, FIGURES_DIR, municipality_code
from tabulation.domain.seats import ElectoralList, allocate_seats


def rows(name: str) -> list[dict[str, str]]:
    with (DEMO_DIR / name).open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def published(name: str) -> list[dict[str, str]]:
    with (FIGURES_DIR / name).open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def test_the_demo_s_true_records_give_the_real_official_seats() -> None:
    results = rows("results.csv")
    lists = rows("lists.csv")
    votes = {
        row["ballot_number"]: sum(int(result[f"list_{row['ballot_number']}"]) for result in results)
        for row in lists
    }
    allocation = allocate_seats(
        seats=110,
        lists=[
            ElectoralList(
                list_id=row["ballot_number"],
                votes=votes[row["ballot_number"]],
                minority=row["minority"] == "yes",
            )
            for row in lists
        ],
        voted=sum(int(result["ballots_in_box"]) for result in results),
        threshold_percent="3",
        minority_bonus_percent="35",
    )

    seats = {result.list_id: result.seats for result in allocation.lists if result.seats}
    # Published: list 1 -> 49, list 3 -> 43, list 5 -> 7, list 13 -> 6, list 2 -> 5;
    # the minority lists 6 and 10 win none, even with the bonus.
    assert seats == {"1": 49, "3": 43, "5": 7, "13": 6, "2": 5}


def test_the_demo_s_municipality_table_is_close_to_the_published_one() -> None:
    municipality_of = {row["code"]: row["municipality"] for row in rows("stations.csv")}
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for result in rows("results.csv"):
        sums = totals[municipality_of[result["station"]]]
        for key, value in result.items():
            if value.isdigit():
                sums[key] += int(value)

    for figures in published("municipalities.csv"):
        sums = totals[municipality_code(figures["municipality"])]
        assert sums["registered"] == int(figures["registered"])
        turnout = Decimal(100 * sums["turned_out"]) / sums["registered"]
        assert abs(turnout - Decimal(figures["turnout_percent"])) < Decimal("0.5")
        for number in (1, 3, 5, 13, 2):
            share = Decimal(100 * sums[f"list_{number}"]) / sums["ballots_valid"]
            assert abs(share - Decimal(figures[f"list_{number}_percent"])) < Decimal("1.5")
