"""The files of an election's setup, their columns, and the rows read from them."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from tabulation.domain.roles import ROLE_CLERK

# In the order problems are reported (docs/import-format.md).
FILES = (
    "election.csv",
    "municipalities.csv",
    "stations.csv",
    "lists.csv",
    "candidates.csv",
    "clerks.csv",
)

# file -> (required columns, optional columns)
COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "election.csv": (
        (
            "slug",
            "name",
            "date",
            "seats",
            "threshold_percent",
            "minority_bonus_percent",
            "entry_mode",
        ),
        ("entry_deadline",),
    ),
    "municipalities.csv": (("code", "name", "registered"), ()),
    "stations.csv": (("code", "municipality", "number", "name", "registered"), ("address",)),
    "lists.csv": (("ballot_number", "name", "minority"), ("ballot_carrier", "colour")),
    "candidates.csv": (("ballot_number", "position", "name"), ("withdrawn",)),
    "clerks.csv": (("username", "full_name", "role"), ("station", "municipality", "password")),
}


@dataclass(frozen=True)
class ImportProblem:
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.message}"


class ElectionImportError(Exception):
    """The files cannot be imported; `problems` lists every reason."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


@dataclass(frozen=True)
class ElectionRow:
    slug: str
    name: str
    date: date
    seats: int
    threshold_percent: Decimal
    minority_bonus_percent: Decimal
    entry_mode: str
    entry_deadline: datetime | None


@dataclass(frozen=True)
class MunicipalityRow:
    code: str
    name: str
    registered: int


@dataclass(frozen=True)
class StationRow:
    code: str
    municipality: str
    number: int
    name: str
    address: str
    registered: int


@dataclass(frozen=True)
class ListRow:
    ballot_number: int
    name: str
    ballot_carrier: str
    minority: bool
    colour: str


@dataclass(frozen=True)
class CandidateRow:
    ballot_number: int
    position: int
    name: str
    withdrawn: bool


@dataclass(frozen=True)
class AccountRow:
    username: str
    full_name: str
    role: str
    station: str
    municipality: str
    # Not part of the fingerprint: never hashed into the database.
    password: str = field(default="", repr=False)


@dataclass(frozen=True)
class ElectionSetup:
    election: ElectionRow
    municipalities: list[MunicipalityRow]
    stations: list[StationRow]
    lists: list[ListRow]
    candidates: list[CandidateRow]
    accounts: list[AccountRow]
    warnings: list[ImportProblem]

    def fingerprint(self) -> dict[str, str]:
        """SHA-256 per file of the parsed content (so a re-saved file with
        other line endings or quoting is still "unchanged")."""
        parts: dict[str, Any] = {
            "election.csv": [self.election],
            "municipalities.csv": self.municipalities,
            "stations.csv": self.stations,
            "lists.csv": self.lists,
            "candidates.csv": self.candidates,
            "clerks.csv": [
                {key: value for key, value in asdict(row).items() if key != "password"}
                for row in self.accounts
            ],
        }
        result = {}
        for name, rows in parts.items():
            data = [row if isinstance(row, dict) else asdict(row) for row in rows]
            text = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
            result[name] = hashlib.sha256(text.encode("utf-8")).hexdigest()
        return result

    def counts(self) -> dict[str, int]:
        """What the setup holds, as the import reports it and audits it."""
        return {
            "municipalities": len(self.municipalities),
            "stations": len(self.stations),
            "registered": sum(station.registered for station in self.stations),
            "lists": len(self.lists),
            "candidates": len(self.candidates),
            "accounts": len({account.username for account in self.accounts}),
            "assignments": sum(1 for account in self.accounts if account.role == ROLE_CLERK),
        }
