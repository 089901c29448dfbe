"""The fingerprint's bins on a small hand-made election, and its edges: no
valid vote, 100 % turnout (and above), no station at all."""

from fractions import Fraction

import pytest

from tabulation.domain.fingerprint import (
    StationPoint,
    bin_of,
    fingerprint_document,
    histogram,
    in_corner,
    leading_list,
)


def point(
    code: str,
    registered: int,
    turned_out: int | None,
    votes: dict[int, int],
    valid: int | None = None,
) -> StationPoint:
    return StationPoint(
        code=code,
        registered=registered,
        turned_out=turned_out,
        valid=sum(votes.values()) if valid is None else valid,
        votes=tuple(sorted(votes.items())),
    )


# List 1 leads over the four stations (860 votes to 450).
ELECTION = [
    point("a", 1000, 500, {1: 300, 2: 200}),  # turnout 50 %, list 1 60 %
    point("b", 1000, 549, {1: 160, 2: 240}),  # 54.9 %: bin 50-55; list 1 40 %
    point("c", 400, 400, {1: 396, 2: 4}),  # 100 %: the top bin; list 1 99 %
    point("d", 200, 10, {1: 4, 2: 6}),  # 5 %, list 1 40 %
]


def test_each_station_falls_in_its_five_point_bins() -> None:
    drawn = histogram(ELECTION)

    assert drawn.leader == 1
    assert (drawn.drawn, drawn.left_out) == (4, 0)
    filled = {
        (turnout_bin, share_bin): stations
        for turnout_bin, row in enumerate(drawn.counts)
        for share_bin, stations in enumerate(row)
        if stations
    }
    assert filled == {(10, 12): 1, (10, 8): 1, (19, 19): 1, (1, 8): 1}


def test_a_bin_edge_belongs_to_the_bin_above_and_100_percent_to_the_last() -> None:
    assert bin_of(Fraction(55, 100), 20) == 11
    assert bin_of(Fraction(5499, 10000), 20) == 10
    assert bin_of(Fraction(1), 20) == 19
    assert bin_of(Fraction(0), 20) == 0


def test_a_turnout_above_100_percent_is_drawn_in_the_top_bin() -> None:
    drawn = histogram([point("x", 100, 104, {1: 100})])

    assert drawn.counts[19][19] == 1


def test_a_station_without_valid_votes_or_registered_voters_is_left_out() -> None:
    drawn = histogram(
        [
            *ELECTION,
            point("no-valid", 100, 50, {1: 0, 2: 0}, valid=0),
            point("no-register", 0, 0, {}),
            point("blank", 100, None, {1: 10}),
        ]
    )

    assert (drawn.drawn, drawn.left_out) == (4, 3)
    assert sum(map(sum, drawn.counts)) == 4


def test_no_station_gives_an_empty_histogram_and_no_leader() -> None:
    drawn = histogram([])

    assert drawn.leader is None
    assert (drawn.drawn, drawn.left_out) == (0, 0)
    assert len(drawn.counts) == 20 and set(map(sum, drawn.counts)) == {0}


def test_the_leader_on_equal_votes_is_the_lower_ballot_number() -> None:
    assert leading_list([point("a", 10, 5, {2: 3, 1: 3})]) == 1


@pytest.mark.parametrize(
    ("registered", "turned_out", "votes", "expected"),
    [
        (100, 95, {1: 90, 2: 10}, True),  # exactly on both edges
        (100, 94, {1: 90, 2: 10}, False),  # turnout below 95 %
        (100, 99, {1: 89, 2: 11}, False),  # share below 90 %
        (100, 99, {1: 5, 2: 95}, True),  # any list, not only the election's leader
        (100, 99, {1: 0}, False),  # no valid vote
    ],
)
def test_the_extreme_corner(
    registered: int, turned_out: int, votes: dict[int, int], expected: bool
) -> None:
    assert in_corner(point("s", registered, turned_out, votes)) is expected


def published_row(
    code: str,
    municipality: str,
    registered: int,
    turned_out: int,
    votes: dict[str, int],
    *,
    status: str = "counted",
    findings: tuple[str, ...] = (),
) -> dict[str, object]:
    return {
        "code": code,
        "municipality": municipality,
        "name": f"Station {code}",
        "status": status,
        "registered": registered,
        "turned_out": turned_out,
        "ballots_valid": sum(votes.values()),
        "votes": votes,
        "findings": [{"code": finding, "status": "open"} for finding in findings],
    }


def test_the_published_document_has_every_area_and_the_flagged_stations() -> None:
    stations = [
        published_row("n-1", "north", 1000, 500, {"1": 300, "2": 200}),
        published_row("n-2", "north", 500, 490, {"1": 470, "2": 20}),  # the corner
        published_row("s-1", "south", 1000, 300, {"1": 100, "2": 200}, findings=("W1",)),
        published_row("s-2", "south", 1000, 0, {}, status="awaiting"),
        published_row("e-1", "east", 800, 0, {}, status="awaiting"),
    ]

    document = fingerprint_document(7, stations)

    assert document["version"] == 7 and document["bins"] == 20
    assert document["election"]["leader"] == 1 and document["election"]["stations"] == 3
    assert document["municipalities"]["north"]["counts"][19][19] == 1
    assert document["municipalities"]["south"]["leader"] == 2
    assert document["municipalities"]["east"]["stations"] == 0
    assert document["flagged"] == [
        {
            "code": "n-2",
            "municipality": "north",
            "name": "Station n-2",
            "turnout_percent": "98.00",
            "list": 1,
            "list_share_percent": "95.92",
            "corner": True,
            "outlier": False,
        },
        {
            "code": "s-1",
            "municipality": "south",
            "name": "Station s-1",
            "turnout_percent": "30.00",
            "list": 2,
            "list_share_percent": "66.67",
            "corner": False,
            "outlier": True,
        },
    ]
