"""Can the stations not yet counted still change a seat? (RULES.md 3 and 5.)

Provisional results are published as stations are counted (RULES.md section
5). ``seats_settled`` says, for each list, whether its number of seats can
still change, and whether the whole allocation is settled, given the votes
counted so far and ``outstanding_registered`` (R): the registered voters of
the stations not counted yet. The seat rules are those of Art. 102-119 ZINP
2022 as ``seats.allocate_seats`` applies them.

The answer is SOUND: "settled" is never said when some way of casting the
outstanding ballots changes the list's seats. A scenario is any split of up
to R more ballots: ``a_j >= 0`` more votes for each list ``j``, ``u >= 0``
more invalid ballots, the rest of the R voters not voting
(``s = sum(a_j) + u <= R``). Each raises ``voted`` by ``s``; the threshold
base moves with it.

The argument (t = threshold_percent / 100, F = 1 + bonus / 100, V = voted,
v_j = the list's counted votes, S = seats, c_i = the list's seats now):

1. Bounds on threshold states. ``v + a - t(V + s)`` grows with ``a`` and
   shrinks with ``s``, and ``a <= s <= R``. So list j passes in EVERY
   scenario iff ``v_j > 0 and v_j >= t(V + R)`` (no votes added, s = R), and
   is below the threshold in every scenario iff ``v_j + R < t(V + R)``.
   Nobody passes in some scenario only if no list passes in every scenario.

2. List i keeps at least c_i seats (``may_lose`` is False) when i surely
   takes part (a minority list with votes, or a list that surely passes) and
   its c_i-th quotient wins outright in every scenario. That quotient is at
   least ``x = w_min / c_i``, where ``w_min`` is i's smallest possible weight
   (its counted votes; times F when it is a minority list surely below the
   threshold). It can only be displaced by at least ``S - c_i + 1`` quotients
   of other lists at or above x (ties counted against i). For each other list
   j, ``cost_j(n)``, the fewest added votes for j to have n quotients >= x,
   is computed on j ALONE, letting j take the best threshold state any
   scenario allows it: the bonus while ``v_j + a_j < t(V + R)``, taking part
   once ``v_j + a_j >= t(V + a_j)`` (or always, when nobody passing is
   possible). Every real scenario gives j at most the quotients its own
   ``a_j`` buys under this relaxation, and the ``a_j`` add up to at most R;
   so if even the cheapest way to buy ``S - c_i + 1`` such quotients, found
   by an exact knapsack over the lists (``_cheapest``), costs more than R, no
   scenario can displace i's c_i-th quotient, nor tie it into a drawing.

3. List i wins no more than c_i seats (``may_gain`` is False) when its
   ``(c_i + 1)``-th quotient loses outright in every scenario: it is at most
   ``y = w_max / (c_i + 1)``, with ``w_max`` i's largest possible weight (all
   R votes to i, with the bonus if any scenario leaves it below the threshold
   with them), and the other lists keep at least their smallest possible
   weights (0 unless surely taking part; counted votes, times F when surely
   below). If those give at least ``S - c_i`` quotients strictly above y,
   they and i's first c_i quotients fill every seat ahead of it. A list that
   has no candidate left (c_i = its candidates) cannot gain.

4. A list is settled when it can neither gain nor lose; the allocation is
   settled when every list is (then no scenario needs a drawing of lots
   either). With R = 0 the counted votes are final and everything is settled.

Each step only ever over-estimates what the outstanding ballots can do, so
the rule is sound; it is reasonably tight because every bound is the one
real scenario that is worst for that list (tests/domain/test_settled.py
checks it against brute force on small elections).
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from tabulation.domain.errors import AllocationInputError
from tabulation.domain.exact import Exact, to_fraction
from tabulation.domain.seats import Allocation, ElectoralList, allocate_seats


@dataclass(frozen=True, slots=True, kw_only=True)
class ListSettlement:
    """Whether one list's seats can still change."""

    list_id: str
    seats: int  # seats with the votes counted so far
    may_gain: bool
    may_lose: bool

    @property
    def settled(self) -> bool:
        return not (self.may_gain or self.may_lose)


@dataclass(frozen=True, slots=True, kw_only=True)
class Settlement:
    """The allocation so far and, per list, whether it can still change."""

    allocation: Allocation
    outstanding_registered: int
    lists: tuple[ListSettlement, ...]
    settled: bool

    def settled_by_list(self) -> dict[str, bool]:
        return {entry.list_id: entry.settled for entry in self.lists}


@dataclass(frozen=True, slots=True)
class _Election:
    seats: int
    voted: int
    outstanding: int
    threshold: Fraction  # a share, 0..1
    multiplier: Fraction  # 1 + bonus
    nobody_passing_possible: bool

    def surely_passes(self, votes: int) -> bool:
        return votes > 0 and votes >= self.threshold * (self.voted + self.outstanding)

    def surely_below(self, votes: int) -> bool:
        return votes + self.outstanding < self.threshold * (self.voted + self.outstanding)

    def in_bonus_window(self, votes: int) -> bool:
        """Some scenario leaves a list with ``votes`` final votes below the threshold."""
        return votes < self.threshold * (self.voted + self.outstanding)

    def pass_cost(self, votes: int) -> int | None:
        """Fewest added votes with which a list could pass (None: never).

        Relaxed: only the list's own added votes raise ``voted``.
        """
        if self.threshold == 1:
            return 0 if votes >= self.voted else None
        # ceil((t V - votes) / (1 - t)) with t = n/d, on integers: this runs
        # for every list and quotient count of step 2.
        n, d = self.threshold.numerator, self.threshold.denominator
        needed = _ceil_div(n * self.voted - d * votes, d - n)
        return max(0, needed)

    def cap(self, electoral_list: ElectoralList) -> int:
        if electoral_list.candidates is None:
            return self.seats
        return min(self.seats, electoral_list.candidates)


def _ceil_div(numerator: int, denominator: int) -> int:
    """ceil(numerator / denominator) for a positive denominator, exactly."""
    return -(-numerator // denominator)


def _cost(
    election: _Election,
    electoral_list: ElectoralList,
    quotients: int,
    x: Fraction,
    pass_cost: int | None,
) -> int | None:
    """Fewest added votes for the list to have ``quotients`` quotients >= x,
    under the relaxation of step 2 (None: not within R). ``pass_cost`` is
    ``election.pass_cost(electoral_list.votes)``, worked out once per list."""
    if quotients > election.cap(electoral_list):
        return None
    votes = electoral_list.votes
    # On the integers of x = p/q (the knapsack asks this for every list and
    # quotient count, thousands of times): ceil(n x - votes) and, with the
    # bonus F = a/b, ceil(n x / F - votes).
    p, q = x.numerator, x.denominator
    plain = max(0, _ceil_div(quotients * p - votes * q, q))
    if electoral_list.minority:
        a, b = election.multiplier.numerator, election.multiplier.denominator
        with_bonus = max(0, _ceil_div(quotients * p * b - votes * q * a, q * a))
        cost = plain
        if election.in_bonus_window(votes + with_bonus):
            cost = min(cost, with_bonus)
    else:
        cost = plain
        if not election.nobody_passing_possible:
            if pass_cost is None:
                return None
            cost = max(cost, pass_cost)
    return cost if cost <= election.outstanding else None


def _cheapest(cost_tables: Sequence[Sequence[int]], wanted: int) -> int | None:
    """Least total cost to buy ``wanted`` items, ``table[e-1]`` being the cost
    of e items from one list (exact min-plus knapsack; None: impossible)."""
    infinite = None
    best: list[int | None] = [0] + [infinite] * wanted
    for table in cost_tables:
        if not table:
            continue
        merged = list(best)
        for total in range(1, wanted + 1):
            for extra, cost in enumerate(table[:total], start=1):
                before = best[total - extra]
                if before is None:
                    continue
                candidate = before + cost
                current = merged[total]
                if current is None or candidate < current:
                    merged[total] = candidate
        best = merged
    return best[wanted]


def _may_lose(
    election: _Election, lists: Sequence[ElectoralList], index: int, seats_now: int
) -> bool:
    """Step 2 of the module docstring."""
    if seats_now == 0:
        return False
    own = lists[index]
    surely_takes_part = own.votes > 0 if own.minority else election.surely_passes(own.votes)
    if not surely_takes_part:
        return True
    weight = Fraction(own.votes)
    if own.minority and election.surely_below(own.votes):
        weight *= election.multiplier
    x = weight / seats_now
    wanted = election.seats - seats_now + 1
    free = 0
    tables: list[list[int]] = []
    for other_index, other in enumerate(lists):
        if other_index == index:
            continue
        pass_cost = election.pass_cost(other.votes)
        base = 0
        while base < wanted and _cost(election, other, base + 1, x, pass_cost) == 0:
            base += 1
        free += base
        table: list[int] = []
        while base + len(table) < wanted:
            cost = _cost(election, other, base + len(table) + 1, x, pass_cost)
            if cost is None:
                break
            table.append(cost)
        tables.append(table)
    if free >= wanted:
        return True
    cheapest = _cheapest(tables, wanted - free)
    return cheapest is not None and cheapest <= election.outstanding


def _largest_weight(election: _Election, electoral_list: ElectoralList) -> Fraction:
    votes = electoral_list.votes + election.outstanding
    if votes == 0:
        return Fraction(0)
    if not electoral_list.minority:
        # With all R votes added and s = R, it passes iff it passes in some scenario.
        takes_part = election.nobody_passing_possible or election.surely_passes(votes)
        return Fraction(votes) if takes_part else Fraction(0)
    weight = Fraction(votes)
    # The largest total that some scenario still leaves below the threshold.
    limit = election.threshold * (election.voted + election.outstanding)
    below = min(votes, math.ceil(limit) - 1)
    if below >= max(electoral_list.votes, 1):
        weight = max(weight, below * election.multiplier)
    return weight


def _smallest_weight(election: _Election, electoral_list: ElectoralList) -> Fraction:
    if electoral_list.votes == 0:
        return Fraction(0)
    if not electoral_list.minority:
        return (
            Fraction(electoral_list.votes)
            if election.surely_passes(electoral_list.votes)
            else Fraction(0)
        )
    if election.surely_below(electoral_list.votes):
        return electoral_list.votes * election.multiplier
    return Fraction(electoral_list.votes)


def _may_gain(
    election: _Election, lists: Sequence[ElectoralList], index: int, seats_now: int
) -> bool:
    """Step 3 of the module docstring."""
    own = lists[index]
    if seats_now >= election.cap(own):
        return False
    weight = _largest_weight(election, own)
    if weight == 0:
        return False
    y = weight / (seats_now + 1)
    ahead = 0
    for other_index, other in enumerate(lists):
        if other_index == index:
            continue
        other_weight = _smallest_weight(election, other)
        if other_weight == 0:
            continue
        # Quotients other_weight / k strictly above y: k < other_weight / y.
        ahead += min(election.cap(other), math.ceil(other_weight / y) - 1)
    return ahead < election.seats - seats_now


def seats_settled(
    *,
    seats: int,
    lists: Sequence[ElectoralList],
    voted: int,
    threshold_percent: Exact,
    minority_bonus_percent: Exact,
    outstanding_registered: int,
    lots_drawn: Sequence[str] = (),
) -> Settlement:
    """Whether the stations not yet counted can still change any seat.

    Arguments as for ``allocate_seats`` (Art. 102-119 ZINP), plus
    ``outstanding_registered``: the registered voters of the stations not yet
    counted. The allocation is made once, with the commission's drawing of
    lots (``lots_drawn``), and is the one returned. The reasoning, and why
    "settled" is never wrong, is in the module docstring.
    """
    if (
        isinstance(outstanding_registered, bool)
        or not isinstance(outstanding_registered, int)
        or outstanding_registered < 0
    ):
        raise AllocationInputError(
            f"outstanding_registered: must be a whole number ≥ 0, got {outstanding_registered!r}"
        )
    allocation = allocate_seats(
        seats=seats,
        lists=lists,
        voted=voted,
        threshold_percent=threshold_percent,
        minority_bonus_percent=minority_bonus_percent,
        lots_drawn=lots_drawn,
    )
    seats_now = allocation.seats_by_list()
    if outstanding_registered == 0:
        return Settlement(
            allocation=allocation,
            outstanding_registered=0,
            lists=tuple(
                ListSettlement(
                    list_id=entry.list_id, seats=entry.seats, may_gain=False, may_lose=False
                )
                for entry in allocation.lists
            ),
            settled=True,
        )
    threshold = to_fraction(threshold_percent, "threshold_percent") / 100
    multiplier = 1 + to_fraction(minority_bonus_percent, "minority_bonus_percent") / 100
    limit = threshold * (voted + outstanding_registered)
    nobody_possible = not any(entry.votes > 0 and entry.votes >= limit for entry in lists)
    election = _Election(
        seats=seats,
        voted=voted,
        outstanding=outstanding_registered,
        threshold=threshold,
        multiplier=multiplier,
        nobody_passing_possible=nobody_possible,
    )
    results = []
    for index, electoral_list in enumerate(lists):
        now = seats_now[electoral_list.list_id]
        results.append(
            ListSettlement(
                list_id=electoral_list.list_id,
                seats=now,
                may_gain=_may_gain(election, lists, index, now),
                may_lose=_may_lose(election, lists, index, now),
            )
        )
    return Settlement(
        allocation=allocation,
        outstanding_registered=outstanding_registered,
        lists=tuple(results),
        settled=all(result.settled for result in results),
    )
