"""Seat allocation by the highest quotient (D'Hondt), RULES.md section 3.

Art. 102-119 ZINP 2022 as local commissions apply them: the 3 % threshold of
the voters who voted, national-minority lists taking part below it with their
quotients raised by 35 %, the seats going to the largest quotients, equal
quotients going to the list with more votes, and a drawing of lots when even
the votes are equal. All arithmetic is on ``fractions.Fraction``: the minority
factor 27/20 makes float ties wrong.
"""

import heapq
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from tabulation.domain.errors import AllocationInputError
from tabulation.domain.exact import Exact, to_fraction


class Participation(StrEnum):
    """Why a list takes part in the allocation, or why not (Art. 102 rules 1-3)."""

    PASSED = "passed"  # votes >= threshold
    MINORITY_BELOW_THRESHOLD = "minority_below_threshold"  # takes part, with the bonus
    NOBODY_PASSED = "nobody_passed"  # no list passed, so every list with votes takes part
    BELOW_THRESHOLD = "below_threshold"  # does not take part
    NO_VOTES = "no_votes"  # does not take part

    @property
    def takes_part(self) -> bool:
        return self not in {Participation.BELOW_THRESHOLD, Participation.NO_VOTES}


@dataclass(frozen=True, slots=True, kw_only=True)
class ElectoralList:
    """One list's input: its votes, minority status and number of candidates.

    ``minority`` is the national-minority status the commission decided when
    it proclaimed the list. ``candidates=None`` means "enough for any number
    of seats".
    """

    list_id: str
    votes: int
    minority: bool = False
    candidates: int | None = None


@dataclass(frozen=True, slots=True)
class Quotient:
    """One quotient: a list's (bonus-adjusted) votes divided by ``divisor``."""

    list_id: str
    divisor: int
    value: Fraction


@dataclass(frozen=True, slots=True, kw_only=True)
class ListResult:
    """One list's part of the allocation, explaining itself.

    ``winning_quotients`` are the quotients that won it a seat, in order;
    ``next_quotient`` is its first quotient that did not win (None when it
    does not take part or has no candidate left). ``seats_passed_on`` counts
    the seats it would have won with enough candidates, which went to other
    lists instead (rule 7).
    """

    list_id: str
    votes: int
    minority: bool
    candidates: int | None
    passed_threshold: bool
    participation: Participation
    bonus_applied: bool
    multiplier: Fraction
    seats: int
    winning_quotients: tuple[Fraction, ...]
    next_quotient: Fraction | None
    seats_passed_on: int

    @property
    def takes_part(self) -> bool:
        return self.participation.takes_part


@dataclass(frozen=True, slots=True, kw_only=True)
class Allocation:
    """The result of ``allocate_seats``, with everything needed to explain it.

    When equal quotients with equal votes compete for the last seat(s) and the
    recorded drawing (``lots_drawn``) does not settle it, every unambiguous
    seat is assigned, the contested ones are not: ``lots_required`` names the
    tied lists, ``seats_to_draw`` how many seats are drawn among them and
    ``lots_quotient`` the quotient they tie on. Then the seats in ``lists``
    add up to ``seats - seats_to_draw - vacant_seats``.

    ``vacant_seats`` counts seats no list could fill (too few candidates, or
    no list with votes). ``last_seat`` is the lowest quotient that won a seat,
    ``first_missed`` the highest that did not (contested quotients excluded),
    ``margin`` the difference between them.
    """

    seats: int
    voted: int
    threshold_percent: Fraction
    minority_bonus_percent: Fraction
    threshold_votes: Fraction
    minimum_votes: int
    nobody_passed: bool
    lists: tuple[ListResult, ...]
    lots_required: tuple[str, ...]
    seats_to_draw: int
    lots_quotient: Fraction | None
    lots_applied: bool
    vacant_seats: int
    last_seat: Quotient | None
    first_missed: Quotient | None
    margin: Fraction | None

    def seats_by_list(self) -> dict[str, int]:
        return {result.list_id: result.seats for result in self.lists}

    @property
    def seats_assigned(self) -> int:
        return sum(result.seats for result in self.lists)


def natural_key(list_id: str) -> tuple[int, int, str]:
    """Sort "2" before "10": ids that are numbers by value, then the rest."""
    if list_id.isdigit():
        return (0, int(list_id), list_id)
    return (1, 0, list_id)


def _validate(
    seats: int, lists: Sequence[ElectoralList], voted: int, lots_drawn: Sequence[str]
) -> None:
    if isinstance(seats, bool) or not isinstance(seats, int) or seats < 1:
        raise AllocationInputError(f"seats: must be a whole number ≥ 1, got {seats!r}")
    if isinstance(voted, bool) or not isinstance(voted, int) or voted < 0:
        raise AllocationInputError(f"voted: must be a whole number ≥ 0, got {voted!r}")
    seen: set[str] = set()
    for index, electoral_list in enumerate(lists):
        where = f"lists[{index}]"
        if not electoral_list.list_id:
            raise AllocationInputError(f"{where}.id: must not be empty")
        if electoral_list.list_id in seen:
            raise AllocationInputError(f"{where}.id: list {electoral_list.list_id!r} appears twice")
        seen.add(electoral_list.list_id)
        votes = electoral_list.votes
        if isinstance(votes, bool) or not isinstance(votes, int) or votes < 0:
            raise AllocationInputError(f"{where}.votes: must be a whole number ≥ 0, got {votes!r}")
        candidates = electoral_list.candidates
        if candidates is not None and (
            isinstance(candidates, bool) or not isinstance(candidates, int) or candidates < 0
        ):
            raise AllocationInputError(
                f"{where}.candidates: must be a whole number ≥ 0, got {candidates!r}"
            )
    total = sum(electoral_list.votes for electoral_list in lists)
    if total > voted:
        raise AllocationInputError(
            f"voted: must be at least the lists' votes together ({total}), got {voted}"
        )
    drawn: set[str] = set()
    for list_id in lots_drawn:
        if list_id not in seen:
            raise AllocationInputError(f"lots_drawn: {list_id!r} is not a list of this election")
        if list_id in drawn:
            raise AllocationInputError(f"lots_drawn: {list_id!r} appears twice")
        drawn.add(list_id)


@dataclass(frozen=True, slots=True)
class _Entry:
    """A quotient in the ranking, with what breaks ties (votes, then lots)."""

    value: Fraction
    votes: int
    list_id: str
    divisor: int

    def quotient(self) -> Quotient:
        return Quotient(self.list_id, self.divisor, self.value)


@dataclass(frozen=True, slots=True)
class _Ranking:
    won: tuple[_Entry, ...]
    lots_required: tuple[str, ...]
    seats_to_draw: int
    lots_quotient: Fraction | None
    lots_applied: bool
    vacant_seats: int
    first_missed: _Entry | None


class _NextQuotient:
    """One list's next quotient not ranked yet: ``weight / divisor``.

    Held in a heap, so that the ranking looks at about ``seats`` quotients
    rather than building and sorting all ``seats x lists`` of them. The
    comparison is exact: with the weight ``numerator / denominator``, a/b
    ranks before c/d iff ``a*d > c*b`` (all positive integers), which is
    what comparing the Fractions does, without making one per comparison.
    """

    __slots__ = ("denominator", "divisor", "limit", "list_id", "numerator", "votes", "weight")

    def __init__(self, electoral_list: ElectoralList, weight: Fraction, limit: int) -> None:
        self.list_id = electoral_list.list_id
        self.votes = electoral_list.votes
        self.weight = weight
        self.limit = limit
        self.divisor = 1
        self.numerator = weight.numerator
        self.denominator = weight.denominator

    def __lt__(self, other: "_NextQuotient") -> bool:
        # "Ranks before": the larger quotient, then the list with more votes.
        left = self.numerator * other.denominator
        right = other.numerator * self.denominator
        if left != right:
            return left > right
        return self.votes > other.votes

    def ties(self, numerator: int, denominator: int, votes: int) -> bool:
        """Equal quotient (``numerator / denominator``) and equal votes: only a
        drawing of lots separates them."""
        return self.votes == votes and self.numerator * denominator == numerator * self.denominator

    def entry(self) -> _Entry:
        return _Entry(self.weight / self.divisor, self.votes, self.list_id, self.divisor)

    def advance(self) -> bool:
        """Move on to the list's next quotient; False when it has no more."""
        if self.divisor >= self.limit:
            return False
        self.divisor += 1
        self.denominator = self.weight.denominator * self.divisor
        return True


def _groups(
    participants: Sequence[tuple[ElectoralList, Fraction]], seats: int, *, cap: bool
) -> Iterator[list[_Entry]]:
    """The quotients of the participants, largest first, in groups of equal
    (value, votes), each group in natural order of the list ids.

    Quotients are votes x multiplier / 1, 2, ... up to ``seats`` (Art. 102
    rule 4). Lazy: the ranking stops once the seats are filled.
    """
    heap: list[_NextQuotient] = []
    for electoral_list, multiplier in participants:
        limit = seats
        if cap and electoral_list.candidates is not None:
            # Rule 7: a list cannot win more seats than it has candidates; its
            # later quotients simply do not exist, so the next highest quotient
            # of another list takes the seat.
            limit = min(seats, electoral_list.candidates)
        if limit > 0:
            heap.append(_NextQuotient(electoral_list, electoral_list.votes * multiplier, limit))
    heapq.heapify(heap)
    while heap:
        top = heap[0]
        # The group's key, kept before ``advance`` moves the list on.
        numerator, denominator, votes = top.numerator, top.denominator, top.votes
        group: list[_Entry] = []
        # A list's next quotient is strictly smaller than its current one
        # (its weight is positive), so it never joins the group being taken.
        while heap and heap[0].ties(numerator, denominator, votes):
            current = heap[0]
            group.append(current.entry())
            if current.advance():
                heapq.heapreplace(heap, current)
            else:
                heapq.heappop(heap)
        group.sort(key=lambda entry: natural_key(entry.list_id))
        yield group


def _rank(groups: Iterator[list[_Entry]], seats: int, lots_drawn: Sequence[str]) -> _Ranking:
    """Give ``seats`` seats to the largest quotients (Art. 102 rules 5-6).

    ``groups`` are the quotients in ranking order, grouped by (value, votes)
    (``_groups``): a larger quotient wins; equal quotients go to the list
    with more votes; a group with equal quotients AND equal votes that
    straddles the last seat needs a drawing of lots. ``lots_drawn`` is the
    commission's recorded drawing, an order of priority: tied lists named in
    it win in that order, before tied lists not named.
    """
    priority = {list_id: position for position, list_id in enumerate(lots_drawn)}
    won: list[_Entry] = []
    remaining = seats
    lots_required: tuple[str, ...] = ()
    seats_to_draw = 0
    lots_quotient: Fraction | None = None
    lots_applied = False
    first_missed: _Entry | None = None
    for group in groups:
        if remaining == 0:
            first_missed = group[0]
            break
        if len(group) <= remaining:
            won.extend(group)
            remaining -= len(group)
            continue
        # The group straddles the last seat: the drawing of lots decides.
        drawn = sorted(
            (entry for entry in group if entry.list_id in priority),
            key=lambda entry: priority[entry.list_id],
        )
        undrawn = [entry for entry in group if entry.list_id not in priority]
        if drawn:
            lots_applied = True
        if len(drawn) >= remaining:
            won.extend(drawn[:remaining])
            first_missed = (drawn[remaining:] + undrawn)[0]
            remaining = 0
        else:
            won.extend(drawn)
            remaining -= len(drawn)
            lots_required = tuple(entry.list_id for entry in undrawn)
            seats_to_draw = remaining
            lots_quotient = group[0].value
            remaining = 0
            following = next(groups, None)
            if following is not None:
                first_missed = following[0]
        break
    return _Ranking(
        won=tuple(won),
        lots_required=lots_required,
        seats_to_draw=seats_to_draw,
        lots_quotient=lots_quotient,
        lots_applied=lots_applied,
        vacant_seats=remaining,
        first_missed=first_missed,
    )


def allocate_seats(
    *,
    seats: int,
    lists: Sequence[ElectoralList],
    voted: int,
    threshold_percent: Exact,
    minority_bonus_percent: Exact,
    lots_drawn: Sequence[str] = (),
) -> Allocation:
    """Allocate ``seats`` among ``lists`` (RULES.md section 3; Art. 102-119 ZINP).

    - ``voted``: the sum of ballots_in_box over the counted stations, the
      threshold base ("at least 3 % of the voters who voted", not of valid
      votes).
    - ``threshold_percent``, ``minority_bonus_percent``: exact numbers (int,
      Decimal, Fraction or a string such as "3"; floats are refused).
    - ``lots_drawn``: the commission's recorded drawing of lots, an order of
      priority among tied lists (see ``Allocation``).

    Rules, in order: (1) a list passes when votes >= threshold_percent % of
    voted; a list with no votes never takes part. (2) Minority lists take
    part below the threshold. (3) If no list passes, every list with votes
    takes part. (4) Quotients votes/1..seats; a minority list BELOW the
    threshold has them multiplied by (1 + bonus/100); at or above the
    threshold, no bonus (authentic interpretation, February 2020). (5) The
    ``seats`` largest quotients win. (6) Equal quotients: more votes wins;
    equal votes too: a drawing of lots. (7) A list with fewer candidates than
    the seats it wins passes the extra seats to the next highest quotients.

    Raises ``AllocationInputError`` for inputs that are not an election.
    """
    _validate(seats, lists, voted, lots_drawn)
    threshold = to_fraction(threshold_percent, "threshold_percent")
    bonus = to_fraction(minority_bonus_percent, "minority_bonus_percent")
    if not 0 <= threshold <= 100:
        raise AllocationInputError(f"threshold_percent: must be between 0 and 100, got {threshold}")
    if bonus < 0:
        raise AllocationInputError(f"minority_bonus_percent: must be ≥ 0, got {bonus}")
    threshold_votes = threshold * voted / 100
    bonus_multiplier = 1 + bonus / 100

    passed = {
        electoral_list.list_id: electoral_list.votes > 0 and electoral_list.votes >= threshold_votes
        for electoral_list in lists
    }
    nobody_passed = not any(passed.values())
    participation: dict[str, Participation] = {}
    multipliers: dict[str, Fraction] = {}
    for electoral_list in lists:
        list_id = electoral_list.list_id
        if electoral_list.votes == 0:
            reason = Participation.NO_VOTES
        elif passed[list_id]:
            reason = Participation.PASSED
        elif electoral_list.minority:
            reason = Participation.MINORITY_BELOW_THRESHOLD
        elif nobody_passed:
            reason = Participation.NOBODY_PASSED
        else:
            reason = Participation.BELOW_THRESHOLD
        participation[list_id] = reason
        below = reason is Participation.MINORITY_BELOW_THRESHOLD
        multipliers[list_id] = bonus_multiplier if below else Fraction(1)

    participants = [
        (electoral_list, multipliers[electoral_list.list_id])
        for electoral_list in lists
        if participation[electoral_list.list_id].takes_part
    ]
    ranking = _rank(_groups(participants, seats, cap=True), seats, lots_drawn)
    uncapped_seats: dict[str, int] = {}
    if any(electoral_list.candidates is not None for electoral_list in lists):
        # Only to explain rule 7: what each list would have won with enough
        # candidates.
        uncapped = _rank(_groups(participants, seats, cap=False), seats, lots_drawn)
        for entry in uncapped.won:
            uncapped_seats[entry.list_id] = uncapped_seats.get(entry.list_id, 0) + 1

    won_by_list: dict[str, list[_Entry]] = {}
    for entry in ranking.won:
        won_by_list.setdefault(entry.list_id, []).append(entry)
    results = []
    for electoral_list in lists:
        list_id = electoral_list.list_id
        won = won_by_list.get(list_id, [])
        reason = participation[list_id]
        limit = (
            seats if electoral_list.candidates is None else min(seats, electoral_list.candidates)
        )
        next_quotient = None
        if reason.takes_part and len(won) < limit:
            next_quotient = electoral_list.votes * multipliers[list_id] / (len(won) + 1)
        results.append(
            ListResult(
                list_id=list_id,
                votes=electoral_list.votes,
                minority=electoral_list.minority,
                candidates=electoral_list.candidates,
                passed_threshold=passed[list_id],
                participation=reason,
                bonus_applied=multipliers[list_id] != 1,
                multiplier=multipliers[list_id],
                seats=len(won),
                winning_quotients=tuple(entry.value for entry in won),
                next_quotient=next_quotient,
                seats_passed_on=max(0, uncapped_seats.get(list_id, 0) - len(won)),
            )
        )
    last_seat = ranking.won[-1].quotient() if ranking.won else None
    first_missed = ranking.first_missed.quotient() if ranking.first_missed else None
    margin = None
    if last_seat is not None and first_missed is not None:
        margin = last_seat.value - first_missed.value
    return Allocation(
        seats=seats,
        voted=voted,
        threshold_percent=threshold,
        minority_bonus_percent=bonus,
        threshold_votes=threshold_votes,
        minimum_votes=math.ceil(threshold_votes),
        nobody_passed=nobody_passed,
        lists=tuple(results),
        lots_required=tuple(sorted(ranking.lots_required, key=natural_key)),
        seats_to_draw=ranking.seats_to_draw,
        lots_quotient=ranking.lots_quotient,
        lots_applied=ranking.lots_applied,
        vacant_seats=ranking.vacant_seats,
        last_seat=last_seat,
        first_missed=first_missed,
        margin=margin,
    )
