"""The election's fingerprint: turnout against the leading list's share, station by station.

Klimek, Yegorov, Hanel and Thurner, "Statistical detection of systematic
election irregularities", PNAS 109(41), 2012, drew for each election a
two-dimensional histogram of its polling stations: turnout along one axis,
the winner's share of the valid votes along the other. A fair count gives
one rounded cloud; ballot stuffing drags stations towards the corner of
high turnout and a near-unanimous winner, where a second cloud grows.

This module counts that histogram from the published station rows, exactly:
a station's bin is an integer division of its counts, never a rounded float.
Turnout is ``turned_out / registered``, as the W1 check reads it; the share
is the area's leading list's votes over ``ballots_valid``. Only counted
stations are drawn; one with no registered voters, a blank count or no valid
vote has no point and is counted in ``left_out``. A turnout above 100 % (a
record the commission accepted with more voters than the register) goes in
the top bin, so it shows where stuffing shows.

It also names the stations a reader should look at (``flagged``): those in
the extreme corner (turnout of 95 % or more with 90 % or more of the valid
votes for one list) and those the W1 check found outside their
municipality's turnout (RULES.md section 2).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from tabulation.domain.exact import share_percent
from tabulation.domain.results_inputs import COUNTED

BINS = 20  # 5 points a bin: the corner's edges (95 %, 90 %) fall on bin edges
CORNER_TURNOUT_PERCENT = 95
CORNER_SHARE_PERCENT = 90
TURNOUT_OUTLIER = "W1"


@dataclass(frozen=True, slots=True, kw_only=True)
class StationPoint:
    """What the fingerprint needs of one counted station: its counts and
    ``votes`` as ``(ballot_number, votes)`` pairs."""

    code: str
    registered: int
    turned_out: int | None
    valid: int | None
    votes: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class Histogram:
    """``counts[t][s]``: the stations whose turnout is in bin ``t`` and whose
    share for ``leader`` is in bin ``s`` (bin ``i`` holds ``i/bins`` up to,
    not including, ``(i+1)/bins``; the last one also holds 100 %)."""

    bins: int
    leader: int | None
    counts: tuple[tuple[int, ...], ...]
    drawn: int
    left_out: int


# Integers throughout: a night publishes hundreds of snapshots of a thousand
# stations each, and a Fraction per station and comparison made the count
# ten times slower for the same exact answer.


def _has_turnout(point: StationPoint) -> bool:
    return point.turned_out is not None and point.registered > 0


def _has_valid(point: StationPoint) -> bool:
    return bool(point.valid) and (point.valid or 0) > 0


def votes_for(point: StationPoint, ballot_number: int) -> int:
    return next((votes for number, votes in point.votes if number == ballot_number), 0)


def _bin(part: int, whole: int, bins: int) -> int:
    """The bin of ``part / whole`` in 0..1: ``floor(bins * part / whole)``;
    1 (and above) in the last."""
    return max(0, min(bins - 1, (part * bins) // whole))


def bin_of(value: Fraction, bins: int) -> int:
    """The bin of a share in 0..1 (see ``_bin``)."""
    return _bin(value.numerator, value.denominator, bins)


def leading_list(points: Iterable[StationPoint]) -> int | None:
    """The list with the most votes over ``points`` (the lower ballot number
    on equal votes, as the results document names a leader); None with none."""
    totals: dict[int, int] = defaultdict(int)
    for point in points:
        for number, votes in point.votes:
            totals[number] += votes
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    return ranked[0][0] if ranked and ranked[0][1] > 0 else None


def histogram(points: Sequence[StationPoint], *, bins: int = BINS) -> Histogram:
    """The fingerprint of ``points`` for their leading list."""
    leader = leading_list(points)
    counts = [[0] * bins for _ in range(bins)]
    drawn = 0
    for point in points:
        if leader is None or not _has_turnout(point) or not _has_valid(point):
            continue
        turnout_bin = _bin(point.turned_out or 0, point.registered, bins)
        counts[turnout_bin][_bin(votes_for(point, leader), point.valid or 0, bins)] += 1
        drawn += 1
    return Histogram(
        bins=bins,
        leader=leader,
        counts=tuple(tuple(row) for row in counts),
        drawn=drawn,
        left_out=len(points) - drawn,
    )


def top_list(point: StationPoint) -> tuple[int, int] | None:
    """The station's own leading list and its votes (the lower ballot number
    on equal votes); None with no valid vote."""
    if not _has_valid(point) or not point.votes:
        return None
    number, votes = max(point.votes, key=lambda pair: (pair[1], -pair[0]))
    return number, votes


def in_corner(point: StationPoint) -> bool:
    """Turnout of 95 % or more with 90 % or more of the valid votes for one list."""
    top = top_list(point)
    return (
        _has_turnout(point)
        and top is not None
        and 100 * (point.turned_out or 0) >= CORNER_TURNOUT_PERCENT * point.registered
        and 100 * top[1] >= CORNER_SHARE_PERCENT * (point.valid or 0)
    )


# --- The published fingerprint (fingerprint.json, docs/open-data.md) -------------


def station_point(row: dict[str, Any]) -> StationPoint:
    """A published station row (stations.json) as a point."""
    return StationPoint(
        code=str(row["code"]),
        registered=int(row.get("registered") or 0),
        turned_out=row.get("turned_out"),
        valid=row.get("ballots_valid"),
        votes=tuple(
            sorted((int(number), int(votes)) for number, votes in (row.get("votes") or {}).items())
        ),
    )


def _area(points: Sequence[StationPoint]) -> dict[str, Any]:
    drawn = histogram(points)
    return {
        "leader": drawn.leader,
        "stations": drawn.drawn,
        "left_out": drawn.left_out,
        "counts": [list(row) for row in drawn.counts],
    }


def _flagged_row(row: dict[str, Any], point: StationPoint, outlier: bool) -> dict[str, Any]:
    top = top_list(point)
    return {
        "code": point.code,
        "municipality": row.get("municipality", ""),
        "name": row.get("name", ""),
        "turnout_percent": (
            str(share_percent(point.turned_out or 0, point.registered))
            if _has_turnout(point)
            else None
        ),
        "list": None if top is None else top[0],
        "list_share_percent": (
            None if top is None else str(share_percent(top[1], point.valid or 0))
        ),
        "corner": in_corner(point),
        "outlier": outlier,
    }


def fingerprint_document(version: int, stations: list[dict[str, Any]]) -> dict[str, Any]:
    """``fingerprint.json`` of one snapshot: the histogram of the whole
    election and of each municipality, and the flagged stations."""
    counted = [row for row in stations if row.get("status") == COUNTED]
    points = [station_point(row) for row in counted]
    # Every municipality has its histogram, empty until a station there is counted.
    by_municipality: dict[str, list[StationPoint]] = {
        str(row.get("municipality", "")): [] for row in stations
    }
    for row, point in zip(counted, points, strict=True):
        by_municipality[str(row.get("municipality", ""))].append(point)
    flagged = []
    for row, point in zip(counted, points, strict=True):
        outlier = any(item.get("code") == TURNOUT_OUTLIER for item in row.get("findings") or ())
        if outlier or in_corner(point):
            flagged.append(_flagged_row(row, point, outlier))
    return {
        "version": version,
        "bins": BINS,
        "corner": {
            "turnout_percent": CORNER_TURNOUT_PERCENT,
            "share_percent": CORNER_SHARE_PERCENT,
        },
        "election": _area(points),
        "municipalities": {code: _area(items) for code, items in sorted(by_municipality.items())},
        "flagged": flagged,
    }
