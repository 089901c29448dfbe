"""Every file of an election's setup in order, the checks across files, and
the warnings: the whole setup, or ElectionImportError with every problem."""

from __future__ import annotations

from collections import defaultdict
from datetime import tzinfo

from tabulation.domain.election_setup.accounts import read_accounts
from tabulation.domain.election_setup.csv_file import WHOLE_NUMBER, CsvFile, Files
from tabulation.domain.election_setup.rows import (
    FILES,
    CandidateRow,
    ElectionImportError,
    ElectionSetup,
    ImportProblem,
    ListRow,
    MunicipalityRow,
    StationRow,
)
from tabulation.domain.election_setup.tables import (
    read_candidates,
    read_election,
    read_lists,
    read_municipalities,
    read_stations,
)


def _raw_values(files: Files, name: str, column: str) -> set[str]:
    """The values of one column as typed, valid or not: a row with a bad
    number is reported once, not again by every file that refers to it."""
    csv_file = CsvFile(files, name, [])
    return {row.get(column, "") for _, row in csv_file}


def _usable(problems: list[ImportProblem], name: str) -> bool:
    """False when the file itself could not be read (missing, not UTF-8,
    bad header): then its rows cannot be used to check other files."""
    return not any(p.file == name and p.line in (None, 1) for p in problems)


def election_setup_parse(files: Files, *, local_timezone: tzinfo) -> ElectionSetup:
    """Read and check every file; raise ElectionImportError listing every
    problem. A deadline without a time zone is in `local_timezone`."""
    problems: list[ImportProblem] = []
    election = read_election(files, problems, local_timezone=local_timezone)
    municipalities = read_municipalities(files, problems)
    # Rows that failed their own checks are already reported; cross-file
    # checks use the raw codes so that one typo is reported once.
    municipality_codes = (
        _raw_values(files, "municipalities.csv", "code")
        if _usable(problems, "municipalities.csv")
        else None
    )
    stations = read_stations(files, problems, municipality_codes)
    station_codes = (
        _raw_values(files, "stations.csv", "code") if _usable(problems, "stations.csv") else None
    )
    lists = read_lists(files, problems)
    ballot_numbers = (
        {
            int(value)
            for value in _raw_values(files, "lists.csv", "ballot_number")
            if WHOLE_NUMBER.match(value)
        }
        if _usable(problems, "lists.csv")
        else None
    )
    candidates = read_candidates(files, problems, ballot_numbers)
    accounts = read_accounts(files, problems, station_codes, municipality_codes)

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
        warnings=_warnings(municipalities, stations, lists, candidates),
    )


def _warnings(
    municipalities: list[MunicipalityRow],
    stations: list[StationRow],
    lists: list[ListRow],
    candidates: list[CandidateRow],
) -> list[ImportProblem]:
    """What may be a mistake but does not stop the import: a municipality
    without stations or whose stations' voters do not add up to its own
    figure, a list without candidates."""
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
    return warnings
