"""What one tabulation reads, as plain data (docs/tabulation.md).

``selectors/tabulation.py`` fills a ``TabulationInputs`` from the tables in
one transaction; ``domain/results.py`` computes the published documents from
it. The election, its municipalities and its lists come as whatever objects
carry the attributes of the protocols below (the selector passes its model
rows), so that nothing here imports the framework.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from tabulation.domain.mandates import Candidate
from tabulation.domain.record import RECORD_FIELDS, Record
from tabulation.domain.rounds import RoundStatus

# A station's place in the count, from the status of its current round.
COUNTED, HELD, ANNULLED, AWAITING = "counted", "held", "annulled", "awaiting"


class ElectionSetup(Protocol):
    @property
    def pk(self) -> Any: ...
    @property
    def slug(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def date(self) -> date: ...
    @property
    def seats(self) -> int: ...
    @property
    def threshold_percent(self) -> Decimal: ...
    @property
    def minority_bonus_percent(self) -> Decimal: ...
    @property
    def entry_deadline(self) -> datetime | None: ...
    @property
    def status(self) -> str: ...


class MunicipalitySetup(Protocol):
    @property
    def pk(self) -> Any: ...
    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def registered(self) -> int: ...


class ListSetup(Protocol):
    @property
    def pk(self) -> Any: ...
    @property
    def ballot_number(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def ballot_carrier(self) -> str: ...
    @property
    def minority(self) -> bool: ...
    @property
    def colour(self) -> str: ...


@dataclass(frozen=True, slots=True)
class StationRow:
    """A station with its current round (``rounds.current_round``)."""

    id: int
    code: str
    name: str
    number: int
    address: str
    municipality_id: int
    registered: int
    round_id: int | None
    round_number: int | None
    round_status: str | None
    ordered_at: datetime | None
    # The date a repeat vote (a round ordered by a decision) is held.
    voting_date: date | None = None

    @property
    def state(self) -> str:
        if self.round_status == RoundStatus.ACCEPTED:
            return COUNTED
        if self.round_status == RoundStatus.HELD:
            return HELD
        if self.round_status is None or self.round_status == RoundStatus.ANNULLED:
            return ANNULLED
        return AWAITING


@dataclass(frozen=True, slots=True)
class RecordRow:
    """An accepted record with its votes, and what every run derives from it.

    An accepted record never changes once stored (migration 0009): the
    selector keeps its row from one run to the next, so ``record`` and
    ``digest`` are worked out once per record, not once per run.
    """

    round_id: int
    record_id: int
    fields: dict[str, Any]
    votes: tuple[tuple[int, int], ...]  # (ballot number, votes), by ballot number
    # The record as the checks read it (W1, W5).
    record: Record = field(init=False, repr=False, compare=False)
    # SHA-256 of the record's id, figures and votes: its part of the inputs hash.
    digest: str = field(init=False, repr=False, compare=False)
    # Its columns in a station row: the fields, then the votes by ballot
    # number as text (station_rows.py). Shared by the rows of every run that
    # publishes the record: read, never changed.
    columns: dict[str, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "record", Record(**self.fields, votes=self.votes))
        columns = dict(self.fields)
        columns["votes"] = {str(number): votes for number, votes in self.votes}
        object.__setattr__(self, "columns", columns)
        material = [self.record_id, [self.fields[name] for name in RECORD_FIELDS], list(self.votes)]
        # repr of ints, booleans and None is deterministic and cheaper than JSON.
        digest = hashlib.sha256(repr(material).encode("utf-8")).hexdigest()
        object.__setattr__(self, "digest", digest)


@dataclass(frozen=True, slots=True)
class EarlierRound:
    """An annulled round of a station: published with it, never counted."""

    round_id: int
    station_id: int
    number: int
    ground: str | None  # the code the annulment rests on (its decision's payload)
    annulled_at: datetime | None  # when the annulling decision was taken
    repeat_voting_date: date | None  # the repeat vote it ordered
    record: RecordRow | None  # its live accepted record, if it had one


@dataclass(frozen=True, slots=True)
class MunicipalityTotals:
    counted: int = 0
    registered_counted: int = 0
    turned_out: int = 0
    voted: int = 0
    invalid: int = 0
    valid: int = 0


@dataclass(frozen=True, slots=True)
class StoredFinding:
    """A finding as stored: its round, code and status, the English message
    template it was raised with (``None`` for rows stored before messages
    were kept), its parameters, and whether a clerk's entry raised it."""

    round_id: int
    code: str
    status: str
    message: str | None
    params: dict[str, Any]
    from_entry: bool


@dataclass(slots=True)
class TabulationInputs:
    election: ElectionSetup
    municipalities: list[MunicipalitySetup]
    lists: list[ListSetup]
    candidates: dict[int, list[Candidate]]  # list id -> candidates
    stations: list[StationRow]
    records: dict[int, RecordRow]  # round id -> accepted record
    municipality_totals: dict[int, MunicipalityTotals]
    municipality_votes: dict[tuple[int, int], int]  # (municipality id, list id) -> votes
    lots_drawn: tuple[int, ...]  # ballot numbers, in the drawn order of priority
    # Published only once the round's record is accepted (station_rows.py).
    findings: list[StoredFinding]
    decisions: dict[int, list[dict[str, Any]]]  # station id -> decisions about it
    latest_version: int
    latest_accepted_at: datetime | None = None
    read_at: datetime | None = None
    # station id -> its annulled rounds, in round order (published, never counted)
    earlier_rounds: dict[int, list[EarlierRound]] = field(default_factory=dict)
