"""The election, its municipalities, stations, lists and candidates, each
read from its file and checked line by line; the checks across files take
the codes of the file they refer to (parse.py)."""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from tabulation.domain.election_setup.csv_file import COLOUR, CsvFile, Files
from tabulation.domain.election_setup.rows import (
    CandidateRow,
    ElectionRow,
    ImportProblem,
    ListRow,
    MunicipalityRow,
    StationRow,
)

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


def read_election(
    files: Files, problems: list[ImportProblem], *, local_timezone: tzinfo
) -> ElectionRow | None:
    csv_file = CsvFile(files, "election.csv", problems)
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
            if deadline.utcoffset() is None:
                # Local time of the commission: the service passes settings.TIME_ZONE.
                deadline = deadline.replace(tzinfo=local_timezone)
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


def read_municipalities(files: Files, problems: list[ImportProblem]) -> list[MunicipalityRow]:
    csv_file = CsvFile(files, "municipalities.csv", problems)
    result = []
    for line, row in csv_file:
        code = csv_file.code(line, row, "code", "code")
        name = csv_file.required(line, row, "name", "name")
        registered = csv_file.whole_number(line, row, "registered", "registered voters")
        if code is not None and name is not None and registered is not None:
            result.append(MunicipalityRow(code=code, name=name, registered=registered))
    csv_file.duplicates(
        [(line, row["code"], f'municipality code "{row["code"]}"') for line, row in csv_file],
    )
    csv_file.duplicates(
        [(line, row["name"].casefold(), f'municipality "{row["name"]}"') for line, row in csv_file],
    )
    return result


def read_stations(
    files: Files, problems: list[ImportProblem], municipality_codes: set[str] | None
) -> list[StationRow]:
    csv_file = CsvFile(files, "stations.csv", problems)
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
    csv_file.duplicates(
        [(line, row["code"], f'station code "{row["code"]}"') for line, row in csv_file]
    )
    csv_file.duplicates(
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


def read_lists(files: Files, problems: list[ImportProblem]) -> list[ListRow]:
    csv_file = CsvFile(files, "lists.csv", problems)
    result = []
    for line, row in csv_file:
        ballot_number = csv_file.whole_number(
            line, row, "ballot_number", "ballot number", minimum=1
        )
        name = csv_file.required(line, row, "name", "name")
        minority = csv_file.yes_no(line, row, "minority", "minority")
        colour = row.get("colour", "")
        if colour and not COLOUR.match(colour):
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
    csv_file.duplicates(
        [
            (line, row["ballot_number"], f"ballot number {row['ballot_number']}")
            for line, row in csv_file
        ],
    )
    csv_file.duplicates(
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


def read_candidates(
    files: Files, problems: list[ImportProblem], ballot_numbers: set[int] | None
) -> list[CandidateRow]:
    csv_file = CsvFile(files, "candidates.csv", problems)
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
    csv_file.duplicates(
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
