"""Mandates: a list's seats go to its candidates in list order (RULES.md 3.8).

Art. 119 ZINP 2022 (as local commissions apply it): the commission assigns
the mandates a list won to its candidates in the order of the list, by a
decision; a candidate who has withdrawn (or died, or lost eligibility) is
skipped and the next one in order takes the mandate.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tabulation.domain.errors import DomainError


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    """A candidate on an electoral list; ``position`` is 1 for the list's first."""

    position: int
    name: str
    withdrawn: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class MandateAssignment:
    """The candidates of one list who receive its mandates, in list order.

    ``unfilled`` counts seats the list won but has no remaining candidate for;
    seat allocation should have passed them on already (give
    ``allocate_seats`` the number of candidates not withdrawn), so a non-zero
    value means the candidate count given to the allocation was stale.
    """

    list_id: str
    elected: tuple[Candidate, ...]
    unfilled: int


def assign_mandates(
    seats_by_list: Mapping[str, int], candidates_by_list: Mapping[str, Sequence[Candidate]]
) -> tuple[MandateAssignment, ...]:
    """Give each list's seats to its candidates by position, skipping the
    withdrawn (Art. 119 ZINP; RULES.md section 3, rule 8).

    Lists come back in the order of ``seats_by_list``. Raises ``DomainError``
    for a negative seat count or two candidates at the same position.
    """
    assignments = []
    for list_id, seats in seats_by_list.items():
        if seats < 0:
            raise DomainError(f"seats for list {list_id!r}: must be ≥ 0, got {seats}")
        candidates = sorted(candidates_by_list.get(list_id, ()), key=lambda c: c.position)
        positions = [candidate.position for candidate in candidates]
        if len(set(positions)) != len(positions):
            raise DomainError(f"candidates of list {list_id!r}: two share a position")
        available = [candidate for candidate in candidates if not candidate.withdrawn]
        elected = tuple(available[:seats])
        assignments.append(
            MandateAssignment(list_id=list_id, elected=elected, unfilled=seats - len(elected))
        )
    return tuple(assignments)
