"""Import an election's setup from a folder of CSV files (docs/import-format.md).

Two steps: `election_setup_read` reads and validates every file and returns
the whole setup or every problem found (file and line each); only then does
`election_import` write, all in one transaction with one audit event.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import AbstractBaseUser, Group
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import transaction
from django.utils import timezone

from tabulation.models import (
    Candidate,
    ClerkAssignment,
    Election,
    ElectoralList,
    Municipality,
    PollingStation,
    StationRound,
)
from tabulation.services.audit import audit_append
from tabulation.services.roles import ROLE_CLERK, ROLES, STAFF_ROLES, ensure_roles

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

# Colours for lists that name none, by ballot number (repeats after 14).
DEFAULT_COLOURS = (
    "#1f4e9c",
    "#d62728",
    "#2ca02c",
    "#8c564b",
    "#ff7f0e",
    "#9467bd",
    "#17becf",
    "#7f7f7f",
    "#bcbd22",
    "#e377c2",
    "#003f5c",
    "#ffa600",
    "#58508d",
    "#bc5090",
)

_YES = {"yes", "y", "true", "1", "da", "да"}
_NO = {"no", "n", "false", "0", "ne", "не", ""}
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_WHOLE_NUMBER = re.compile(r"^[0-9]+$")


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


@dataclass(frozen=True)
class ElectionImportResult:
    slug: str
    # "created", "unchanged" (already loaded with the same data) or "dry-run"
    outcome: str
    counts: dict[str, int]
    warnings: list[ImportProblem]
    election_id: int | None = None


# --- Reading ---------------------------------------------------------------------


def _text(value: str | None) -> str:
    # NFC so that "č" typed as c + combining caron equals the precomposed one.
    return unicodedata.normalize("NFC", (value or "").strip())


class _CsvFile:
    """Reads one file into (line number, row) pairs, recording problems."""

    def __init__(self, directory: Path, name: str, problems: list[ImportProblem]) -> None:
        self.name = name
        self.problems = problems
        self.rows: list[tuple[int, dict[str, str]]] = []
        path = directory / name
        required, optional = COLUMNS[name]
        if not path.is_file():
            self.problem(None, "file not found")
            return
        try:
            # utf-8-sig: a byte-order mark written by a spreadsheet is not data.
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as error:
            self.problem(
                None,
                f"not UTF-8 (byte 0x{error.object[error.start]:02x} at offset {error.start}); "
                "save the file as UTF-8",
            )
            return
        reader = csv.DictReader(text.splitlines(keepends=True), strict=True)
        try:
            header = [_text(column) for column in reader.fieldnames or []]
        except csv.Error as error:
            self.problem(1, f"cannot read the header: {error}")
            return
        reader.fieldnames = header
        if not header:
            self.problem(1, "the file is empty; the first line names the columns")
            return
        for column in required:
            if column not in header:
                self.problem(1, f'missing column "{column}"')
        for column, count in Counter(header).items():
            if count > 1:
                self.problem(1, f'column "{column}" appears {count} times')
            elif column not in required and column not in optional:
                known = ", ".join(required + optional)
                self.problem(1, f'unknown column "{column}" (the columns are: {known})')
        if any(problem.file == name for problem in problems):
            return
        try:
            for row in reader:
                if None in row:
                    self.problem(reader.line_num, "more values than columns")
                    continue
                values = {key: _text(value) for key, value in row.items()}
                if not any(values.values()):
                    continue  # a blank line
                self.rows.append((reader.line_num, values))
        except csv.Error as error:
            self.problem(reader.line_num, f"cannot read the line: {error}")

    def problem(self, line: int | None, message: str) -> None:
        self.problems.append(ImportProblem(self.name, line, message))

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        return iter(self.rows)

    # Field parsers: return None after recording a problem.

    def required(self, line: int, row: dict[str, str], column: str, label: str) -> str | None:
        value = row.get(column, "")
        if not value:
            self.problem(line, f"{label} is empty")
            return None
        return value

    def whole_number(
        self, line: int, row: dict[str, str], column: str, label: str, minimum: int = 0
    ) -> int | None:
        value = row.get(column, "")
        if not _WHOLE_NUMBER.match(value):
            self.problem(line, f'{label} "{value}" is not a whole number')
            return None
        number = int(value)
        if number < minimum:
            self.problem(line, f"{label} {number} is less than {minimum}")
            return None
        return number

    def yes_no(self, line: int, row: dict[str, str], column: str, label: str) -> bool | None:
        value = row.get(column, "").lower()
        if value in _YES:
            return True
        if value in _NO:
            return False
        self.problem(line, f'{label} "{row.get(column)}" is not yes or no')
        return None

    def code(self, line: int, row: dict[str, str], column: str, label: str) -> str | None:
        value = self.required(line, row, column, label)
        if value is None:
            return None
        try:
            validate_slug(value)
        except ValidationError:
            self.problem(
                line,
                f'{label} "{value}" may hold only Latin letters, digits, "-" and "_" '
                "(it appears in web addresses)",
            )
            return None
        return value

    def percent(self, line: int, row: dict[str, str], column: str, label: str) -> Decimal | None:
        value = row.get(column, "")
        try:
            number = Decimal(value)
        except InvalidOperation:
            self.problem(line, f'{label} "{value}" is not a number (use a dot: 3.5)')
            return None
        if not number.is_finite() or not 0 <= number <= 100:
            self.problem(line, f"{label} {value} is not between 0 and 100")
            return None
        if number != number.quantize(Decimal("0.01")):
            self.problem(line, f"{label} {value} has more than two decimals")
            return None
        return number.quantize(Decimal("0.01"))


def _duplicates(csv_file: _CsvFile, keyed: list[tuple[int, Any, str]]) -> None:
    """Report every repeat of a key, naming the line of its first use.

    `keyed` holds (line, key, how to name the thing in a message).
    """
    first_line: dict[Any, int] = {}
    for line, key, label in keyed:
        if key in first_line:
            csv_file.problem(line, f"{label} is already on line {first_line[key]}")
        else:
            first_line[key] = line


def _usable(problems: list[ImportProblem], name: str) -> bool:
    """False when the file itself could not be read (missing, not UTF-8,
    bad header): then its rows cannot be used to check other files."""
    return not any(p.file == name and p.line in (None, 1) for p in problems)


def _read_election(directory: Path, problems: list[ImportProblem]) -> ElectionRow | None:
    csv_file = _CsvFile(directory, "election.csv", problems)
    rows = list(csv_file)
    if not rows:
        if not any(problem.file == "election.csv" for problem in problems):
            csv_file.problem(2, "no election: one line after the header is expected")
        return None
    if len(rows) > 1:
        csv_file.problem(rows[1][0], "one election per folder: only one line is expected")
    line, row = rows[0]
    slug = csv_file.code(line, row, "slug", "slug")
    name = csv_file.required(line, row, "name", "name")
    day = None
    try:
        day = date.fromisoformat(row["date"])
    except ValueError:
        csv_file.problem(line, f'date "{row["date"]}" is not a date like 2023-12-17')
    seats = csv_file.whole_number(line, row, "seats", "seats", minimum=1)
    threshold = csv_file.percent(line, row, "threshold_percent", "threshold_percent")
    bonus = csv_file.percent(line, row, "minority_bonus_percent", "minority_bonus_percent")
    entry_mode = row["entry_mode"].lower()
    if entry_mode not in {"single", "double"}:
        csv_file.problem(line, f'entry_mode "{row["entry_mode"]}" is not "single" or "double"')
    deadline = None
    if row.get("entry_deadline"):
        try:
            deadline = datetime.fromisoformat(row["entry_deadline"])
            if timezone.is_naive(deadline):
                # Local time of the commission (settings.TIME_ZONE).
                deadline = timezone.make_aware(deadline)
        except ValueError:
            csv_file.problem(
                line,
                f'entry_deadline "{row["entry_deadline"]}" is not a time like 2023-12-18T06:00',
            )
    if None in (slug, name, day, seats, threshold, bonus) or entry_mode not in {
        "single",
        "double",
    }:
        return None
    return ElectionRow(
        slug=slug,  # type: ignore[arg-type]
        name=name,  # type: ignore[arg-type]
        date=day,  # type: ignore[arg-type]
        seats=seats,  # type: ignore[arg-type]
        threshold_percent=threshold,  # type: ignore[arg-type]
        minority_bonus_percent=bonus,  # type: ignore[arg-type]
        entry_mode=entry_mode,
        entry_deadline=deadline,
    )


def _raw_values(directory: Path, name: str, column: str) -> set[str]:
    """The values of one column as typed, valid or not: a row with a bad
    number is reported once, not again by every file that refers to it."""
    csv_file = _CsvFile(directory, name, [])
    return {row.get(column, "") for _, row in csv_file}


def _read_municipalities(directory: Path, problems: list[ImportProblem]) -> list[MunicipalityRow]:
    csv_file = _CsvFile(directory, "municipalities.csv", problems)
    result = []
    for line, row in csv_file:
        code = csv_file.code(line, row, "code", "code")
        name = csv_file.required(line, row, "name", "name")
        registered = csv_file.whole_number(line, row, "registered", "registered voters")
        if code is not None and name is not None and registered is not None:
            result.append(MunicipalityRow(code=code, name=name, registered=registered))
    _duplicates(
        csv_file,
        [(line, row["code"], f'municipality code "{row["code"]}"') for line, row in csv_file],
    )
    _duplicates(
        csv_file,
        [(line, row["name"].casefold(), f'municipality "{row["name"]}"') for line, row in csv_file],
    )
    return result


def _read_stations(
    directory: Path, problems: list[ImportProblem], municipality_codes: set[str] | None
) -> list[StationRow]:
    csv_file = _CsvFile(directory, "stations.csv", problems)
    result = []
    for line, row in csv_file:
        code = csv_file.code(line, row, "code", "code")
        municipality = csv_file.required(line, row, "municipality", "municipality")
        if (
            municipality is not None
            and municipality_codes is not None
            and municipality not in municipality_codes
        ):
            csv_file.problem(line, f'municipality "{municipality}" is not in municipalities.csv')
            municipality = None
        number = csv_file.whole_number(line, row, "number", "number", minimum=1)
        name = csv_file.required(line, row, "name", "name")
        registered = csv_file.whole_number(line, row, "registered", "registered voters")
        if None not in (code, municipality, number, name, registered):
            result.append(
                StationRow(
                    code=code,  # type: ignore[arg-type]
                    municipality=municipality,  # type: ignore[arg-type]
                    number=number,  # type: ignore[arg-type]
                    name=name,  # type: ignore[arg-type]
                    address=row.get("address", ""),
                    registered=registered,  # type: ignore[arg-type]
                )
            )
    _duplicates(
        csv_file, [(line, row["code"], f'station code "{row["code"]}"') for line, row in csv_file]
    )
    _duplicates(
        csv_file,
        [
            (
                line,
                (row["municipality"], row["number"]),
                f'station number {row["number"]} in municipality "{row["municipality"]}"',
            )
            for line, row in csv_file
        ],
    )
    return result


def _read_lists(directory: Path, problems: list[ImportProblem]) -> list[ListRow]:
    csv_file = _CsvFile(directory, "lists.csv", problems)
    result = []
    for line, row in csv_file:
        ballot_number = csv_file.whole_number(
            line, row, "ballot_number", "ballot number", minimum=1
        )
        name = csv_file.required(line, row, "name", "name")
        minority = csv_file.yes_no(line, row, "minority", "minority")
        colour = row.get("colour", "")
        if colour and not _COLOUR.match(colour):
            csv_file.problem(line, f'colour "{colour}" is not like #1f4e9c')
            continue
        if ballot_number is not None and name is not None and minority is not None:
            result.append(
                ListRow(
                    ballot_number=ballot_number,
                    name=name,
                    ballot_carrier=row.get("ballot_carrier", ""),
                    minority=minority,
                    colour=(colour or DEFAULT_COLOURS[(ballot_number - 1) % 14]).lower(),
                )
            )
    _duplicates(
        csv_file,
        [
            (line, row["ballot_number"], f"ballot number {row['ballot_number']}")
            for line, row in csv_file
        ],
    )
    _duplicates(
        csv_file,
        [(line, row["name"].casefold(), f'the list "{row["name"]}"') for line, row in csv_file],
    )
    # Lists are numbered on the ballot in the order they were proclaimed.
    numbers = {row.ballot_number for row in result}
    if numbers and len(result) == len(csv_file.rows):
        missing = sorted(set(range(1, max(numbers) + 1)) - numbers)
        if missing:
            csv_file.problem(
                None,
                "ballot numbers must run from 1 without gaps; missing: "
                + ", ".join(str(number) for number in missing),
            )
    return result


def _read_candidates(
    directory: Path, problems: list[ImportProblem], ballot_numbers: set[int] | None
) -> list[CandidateRow]:
    csv_file = _CsvFile(directory, "candidates.csv", problems)
    result = []
    for line, row in csv_file:
        ballot_number = csv_file.whole_number(
            line, row, "ballot_number", "ballot number", minimum=1
        )
        if (
            ballot_number is not None
            and ballot_numbers is not None
            and ballot_number not in ballot_numbers
        ):
            csv_file.problem(line, f"ballot number {ballot_number} is not in lists.csv")
            ballot_number = None
        position = csv_file.whole_number(line, row, "position", "position", minimum=1)
        name = csv_file.required(line, row, "name", "name")
        withdrawn = csv_file.yes_no(line, row, "withdrawn", "withdrawn")
        if None not in (ballot_number, position, name, withdrawn):
            result.append(
                CandidateRow(
                    ballot_number=ballot_number,  # type: ignore[arg-type]
                    position=position,  # type: ignore[arg-type]
                    name=name,  # type: ignore[arg-type]
                    withdrawn=withdrawn,  # type: ignore[arg-type]
                )
            )
    _duplicates(
        csv_file,
        [
            (
                line,
                (row["ballot_number"], row["position"]),
                f"position {row['position']} on list {row['ballot_number']}",
            )
            for line, row in csv_file
        ],
    )
    return result


def _read_accounts(
    directory: Path,
    problems: list[ImportProblem],
    station_codes: set[str] | None,
    municipality_codes: set[str] | None,
) -> list[AccountRow]:
    csv_file = _CsvFile(directory, "clerks.csv", problems)
    username_validator = UnicodeUsernameValidator()
    result = []
    for line, row in csv_file:
        username = csv_file.required(line, row, "username", "username")
        if username is not None:
            try:
                username_validator(username)
            except ValidationError:
                csv_file.problem(
                    line, f'username "{username}" may hold only letters, digits and @.+-_'
                )
                username = None
        full_name = csv_file.required(line, row, "full_name", "full name")
        role = row["role"].lower()
        if role not in ROLES:
            csv_file.problem(
                line,
                f'role "{row["role"]}" is not one of ' + ", ".join(f'"{r}"' for r in ROLES),
            )
            continue
        station, municipality = row.get("station", ""), row.get("municipality", "")
        if role == ROLE_CLERK:
            if bool(station) == bool(municipality):
                csv_file.problem(
                    line, "a clerk is assigned to exactly one of a station or a municipality"
                )
                continue
            if station and station_codes is not None and station not in station_codes:
                csv_file.problem(line, f'station "{station}" is not in stations.csv')
                continue
            if (
                municipality
                and municipality_codes is not None
                and municipality not in municipality_codes
            ):
                csv_file.problem(
                    line, f'municipality "{municipality}" is not in municipalities.csv'
                )
                continue
        elif station or municipality:
            csv_file.problem(line, f"a {role} is not assigned to a station or a municipality")
            continue
        if username is not None and full_name is not None:
            result.append(
                AccountRow(
                    username=username,
                    full_name=full_name,
                    role=role,
                    station=station,
                    municipality=municipality,
                    password=row.get("password", ""),
                )
            )
    # A clerk may appear on several lines (several assignments), a staff
    # account once; nobody in two roles.
    roles_by_user: dict[str, tuple[int, str]] = {}
    for line, row in csv_file:
        username, role = row["username"], row["role"].lower()
        if username in roles_by_user:
            first_line, first_role = roles_by_user[username]
            if role != first_role or role != ROLE_CLERK:
                csv_file.problem(line, f'username "{username}" is already on line {first_line}')
        else:
            roles_by_user[username] = (line, role)
    _duplicates(
        csv_file,
        [
            (
                line,
                (row["username"], row.get("station", ""), row.get("municipality", "")),
                f'the assignment of "{row["username"]}" to '
                f'"{row.get("station") or row.get("municipality")}"',
            )
            for line, row in csv_file
            if row["role"].lower() == ROLE_CLERK
        ],
    )
    return result


def election_setup_read(*, directory: Path) -> ElectionSetup:
    """Read and check every file; raise ElectionImportError listing every problem."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ElectionImportError([ImportProblem(str(directory), None, "not a folder")])
    problems: list[ImportProblem] = []
    election = _read_election(directory, problems)
    municipalities = _read_municipalities(directory, problems)
    # Rows that failed their own checks are already reported; cross-file
    # checks use the raw codes so that one typo is reported once.
    municipality_codes = (
        _raw_values(directory, "municipalities.csv", "code")
        if _usable(problems, "municipalities.csv")
        else None
    )
    stations = _read_stations(directory, problems, municipality_codes)
    station_codes = (
        _raw_values(directory, "stations.csv", "code")
        if _usable(problems, "stations.csv")
        else None
    )
    lists = _read_lists(directory, problems)
    ballot_numbers = (
        {
            int(value)
            for value in _raw_values(directory, "lists.csv", "ballot_number")
            if _WHOLE_NUMBER.match(value)
        }
        if _usable(problems, "lists.csv")
        else None
    )
    candidates = _read_candidates(directory, problems, ballot_numbers)
    accounts = _read_accounts(directory, problems, station_codes, municipality_codes)

    warnings: list[ImportProblem] = []
    station_registered: dict[str, int] = defaultdict(int)
    for station in stations:
        station_registered[station.municipality] += station.registered
    for municipality in municipalities:
        if municipality.code not in station_registered:
            warnings.append(
                ImportProblem(
                    "stations.csv", None, f'municipality "{municipality.code}" has no station'
                )
            )
        elif station_registered[municipality.code] != municipality.registered:
            warnings.append(
                ImportProblem(
                    "stations.csv",
                    None,
                    f'the stations of "{municipality.code}" have '
                    f"{station_registered[municipality.code]} registered voters, "
                    f"municipalities.csv says {municipality.registered}",
                )
            )
    lists_with_candidates = {candidate.ballot_number for candidate in candidates}
    for electoral_list in lists:
        if electoral_list.ballot_number not in lists_with_candidates:
            warnings.append(
                ImportProblem(
                    "candidates.csv",
                    None,
                    f"list {electoral_list.ballot_number} has no candidates",
                )
            )

    if problems or election is None:
        # Files first in the documented order, then by line.
        order = {name: index for index, name in enumerate(FILES)}
        problems.sort(key=lambda p: (order.get(p.file, -1), p.line or 0))
        raise ElectionImportError(problems)
    return ElectionSetup(
        election=election,
        municipalities=municipalities,
        stations=stations,
        lists=lists,
        candidates=candidates,
        accounts=accounts,
        warnings=warnings,
    )


# --- Writing ---------------------------------------------------------------------


def _counts(setup: ElectionSetup) -> dict[str, int]:
    return {
        "municipalities": len(setup.municipalities),
        "stations": len(setup.stations),
        "registered": sum(station.registered for station in setup.stations),
        "lists": len(setup.lists),
        "candidates": len(setup.candidates),
        "accounts": len({account.username for account in setup.accounts}),
        "assignments": sum(1 for account in setup.accounts if account.role == ROLE_CLERK),
    }


def _split_name(full_name: str) -> tuple[str, str]:
    first, _, last = full_name.rpartition(" ")
    return (first, last) if first else (last, "")


def election_import(
    *,
    directory: Path,
    actor: AbstractBaseUser | None = None,
    dry_run: bool = False,
    demo_password: str | None = None,
    client_address: str | None = None,
) -> ElectionImportResult:
    """Import the election in `directory` (docs/import-format.md).

    Safe to run twice: when the election (by slug) is already loaded with the
    same data, nothing is written and the outcome is "unchanged". When it is
    loaded with different data, the import refuses (ElectionImportError)
    rather than guess what an edit means; see the docs for why.

    Accounts: new accounts get the password from the `password` column, else
    `demo_password` if given, else an unusable password. Existing accounts
    keep theirs.
    """
    setup = election_setup_read(directory=Path(directory))
    counts = _counts(setup)
    fingerprint = setup.fingerprint()
    slug = setup.election.slug

    with transaction.atomic():
        # Checked inside the write transaction: two imports of the same
        # election at once cannot both create it (and the slug is unique).
        existing = Election.objects.filter(slug=slug).first()
        if existing is not None:
            return _already_loaded(existing, setup, fingerprint, counts)
        if dry_run:
            return ElectionImportResult(
                slug=slug, outcome="dry-run", counts=counts, warnings=setup.warnings
            )
        election = _write(setup, fingerprint=fingerprint, demo_password=demo_password)
        audit_append(
            actor=actor,
            action="election.import",
            obj=election,
            after={"slug": slug, "counts": counts, "fingerprint": fingerprint},
            reason=f"imported from {Path(directory).name}",
            client_address=client_address,
        )
    return ElectionImportResult(
        slug=slug,
        outcome="created",
        counts=counts,
        warnings=setup.warnings,
        election_id=election.pk,
    )


def _already_loaded(
    existing: Election,
    setup: ElectionSetup,
    fingerprint: dict[str, str],
    counts: dict[str, int],
) -> ElectionImportResult:
    if existing.setup_fingerprint == fingerprint:
        return ElectionImportResult(
            slug=existing.slug,
            outcome="unchanged",
            counts=counts,
            warnings=setup.warnings,
            election_id=existing.pk,
        )
    changed = [
        name for name in FILES if existing.setup_fingerprint.get(name) != fingerprint.get(name)
    ]
    # Refusing is the safe choice: an edited file may rename, renumber or
    # drop a station, and entries, findings and the audit trail refer to the
    # rows as imported. See docs/import-format.md.
    raise ElectionImportError(
        [
            ImportProblem(
                "election.csv",
                2,
                f'election "{existing.slug}" is already loaded with different data '
                f"(changed: {', '.join(changed)}); the import never changes a loaded "
                "election: import it under a new slug, or start from an empty database "
                "for a rehearsal",
            )
        ]
    )


def _write(
    setup: ElectionSetup, *, fingerprint: dict[str, str], demo_password: str | None
) -> Election:
    row = setup.election
    election = Election.objects.create(
        slug=row.slug,
        name=row.name,
        date=row.date,
        seats=row.seats,
        threshold_percent=row.threshold_percent,
        minority_bonus_percent=row.minority_bonus_percent,
        entry_mode=row.entry_mode,
        entry_deadline=row.entry_deadline,
        setup_fingerprint=fingerprint,
    )
    municipalities = {
        municipality.code: municipality
        for municipality in Municipality.objects.bulk_create(
            Municipality(election=election, code=m.code, name=m.name, registered=m.registered)
            for m in setup.municipalities
        )
    }
    stations = {
        station.code: station
        for station in PollingStation.objects.bulk_create(
            (
                PollingStation(
                    election=election,
                    municipality=municipalities[s.municipality],
                    code=s.code,
                    number=s.number,
                    name=s.name,
                    address=s.address,
                    registered=s.registered,
                )
                for s in setup.stations
            ),
            batch_size=500,
        )
    }
    # Every station starts in round 1, awaiting its record, so that "record
    # not received" (U2) is a query for rounds still awaiting.
    StationRound.objects.bulk_create(
        (StationRound(station=station, number=1) for station in stations.values()),
        batch_size=500,
    )
    lists = {
        electoral_list.ballot_number: electoral_list
        for electoral_list in ElectoralList.objects.bulk_create(
            ElectoralList(
                election=election,
                ballot_number=lst.ballot_number,
                name=lst.name,
                ballot_carrier=lst.ballot_carrier,
                minority=lst.minority,
                colour=lst.colour,
            )
            for lst in setup.lists
        )
    }
    Candidate.objects.bulk_create(
        (
            Candidate(
                electoral_list=lists[c.ballot_number],
                position=c.position,
                name=c.name,
                withdrawn=c.withdrawn,
            )
            for c in setup.candidates
        ),
        batch_size=1000,
    )
    _write_accounts(setup, election, stations, municipalities, demo_password)
    return election


def _write_accounts(
    setup: ElectionSetup,
    election: Election,
    stations: dict[str, PollingStation],
    municipalities: dict[str, Municipality],
    demo_password: str | None,
) -> None:
    ensure_roles()
    user_model = get_user_model()
    groups = {group.name: group for group in Group.objects.filter(name__in=ROLES)}
    first_rows: dict[str, AccountRow] = {}
    for account in setup.accounts:
        first_rows.setdefault(account.username, account)
    existing = {
        user.get_username(): user
        for user in user_model.objects.filter(username__in=list(first_rows))
    }
    # Password hashing is slow on purpose (PBKDF2): hash a shared demo
    # password once, not once per account.
    demo_hash = make_password(demo_password) if demo_password else None
    new_users = []
    for username, account in first_rows.items():
        if username in existing:
            continue
        first_name, last_name = _split_name(account.full_name)
        if account.password:
            password = make_password(account.password)
        else:
            password = demo_hash or make_password(None)
        new_users.append(
            user_model(
                username=username,
                first_name=first_name[:150],
                last_name=last_name[:150],
                is_staff=account.role in STAFF_ROLES,
                password=password,
            )
        )
    user_model.objects.bulk_create(new_users)
    # Existing accounts keep their password; a staff role needs the admin site.
    staff_usernames = [
        username
        for username, account in first_rows.items()
        if username in existing and account.role in STAFF_ROLES
    ]
    user_model.objects.filter(username__in=staff_usernames).update(is_staff=True)
    users = {
        user.get_username(): user
        for user in user_model.objects.filter(username__in=list(first_rows))
    }
    memberships = user_model.groups.through
    memberships.objects.bulk_create(
        (
            memberships(user_id=users[username].pk, group_id=groups[account.role].pk)
            for username, account in first_rows.items()
        ),
        ignore_conflicts=True,
    )
    ClerkAssignment.objects.bulk_create(
        ClerkAssignment(
            election=election,
            user=users[account.username],
            station=stations.get(account.station) if account.station else None,
            municipality=(
                municipalities.get(account.municipality) if account.municipality else None
            ),
        )
        for account in setup.accounts
        if account.role == ROLE_CLERK
    )
