"""Where to draw each seat of an assembly in a hemicycle (a half-circle of seats).

Pure geometry for the results page: seats sit on concentric half-circles,
each row holding seats in proportion to its length, and the seats are then
handed out left to right (by angle) so that each list forms a wedge. Floats
appear here only as drawing coordinates; no result is ever computed here.
"""

import math
from dataclasses import dataclass
from fractions import Fraction

INNER_RADIUS = Fraction(2, 5)  # the empty middle, as a share of the outer radius


@dataclass(frozen=True, slots=True)
class SeatPosition:
    """One seat: its centre on a unit half-disc (x in -1..1, y in 0..1, y up)
    and the index of the group (list) it belongs to; ``None`` when unassigned."""

    x: float
    y: float
    group: int | None


@dataclass(frozen=True, slots=True)
class Hemicycle:
    seats: tuple[SeatPosition, ...]
    rows: int
    dot_radius: float  # on the same unit scale, so dots never touch


def row_count(total: int) -> int:
    """Rows for ``total`` seats: about three seats deep per row squared, so
    25 seats take 3 rows and 110 take 7, as printed assembly charts do."""
    return max(1, math.ceil(math.sqrt(total / 3)))


def _seats_per_row(total: int, radii: list[Fraction]) -> list[int]:
    """Share ``total`` among rows in proportion to each row's length (largest
    remainder), so seats are spaced alike on every row."""
    whole = sum(radii)
    shares = [total * radius / whole for radius in radii]
    counts = [int(share) for share in shares]
    order = sorted(range(len(radii)), key=lambda index: (counts[index] - shares[index], -index))
    for index in order[: total - sum(counts)]:
        counts[index] += 1
    return counts


def hemicycle(group_seats: list[int]) -> Hemicycle:
    """Seat positions for groups holding ``group_seats`` seats, in that order
    from left to right. An empty chamber gives no seats."""
    total = sum(group_seats)
    if total <= 0:
        return Hemicycle(seats=(), rows=0, dot_radius=0.0)
    rows = row_count(total)
    if rows == 1:
        radii = [Fraction(7, 10)]
    else:
        step = (1 - INNER_RADIUS) / (rows - 1)
        radii = [INNER_RADIUS + step * index for index in range(rows)]
    counts = _seats_per_row(total, radii)
    points: list[tuple[float, float, float]] = []  # angle, x, y
    for radius, count in zip(radii, counts, strict=True):
        for index in range(count):
            angle = math.pi / 2 if count == 1 else math.pi * (1 - index / (count - 1))
            points.append((angle, float(radius) * math.cos(angle), float(radius) * math.sin(angle)))
    # Left to right by angle; on equal angles, the inner seat first.
    points.sort(key=lambda point: (-point[0], math.hypot(point[1], point[2])))
    groups: list[int | None] = []
    for group, seats in enumerate(group_seats):
        groups.extend([group] * seats)
    row_gap = float((1 - INNER_RADIUS) / (rows - 1)) if rows > 1 else 0.6
    arc_gaps = [
        math.pi * float(radius) / (count - 1)
        for radius, count in zip(radii, counts, strict=True)
        if count > 1
    ]
    spacing = min([row_gap, *arc_gaps])
    return Hemicycle(
        seats=tuple(
            SeatPosition(x=x, y=y, group=group)
            for (_angle, x, y), group in zip(points, groups, strict=True)
        ),
        rows=rows,
        dot_radius=min(spacing * 0.42, 0.08),
    )
