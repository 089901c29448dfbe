"""The accounts of an election and the clerks' assignments (clerks.csv).

A clerk is assigned to one station or to one municipality a line, and may
have several lines; a commission member or an administrator has one line
and no assignment (they see everything).
"""

from __future__ import annotations

import re

from tabulation.domain.election_setup.csv_file import CsvFile, Files
from tabulation.domain.election_setup.rows import AccountRow, ImportProblem
from tabulation.domain.roles import ROLE_CLERK, ROLES

# What Django's UnicodeUsernameValidator accepts (\w is Unicode): a name
# the accounts it creates can have.
_USERNAME = re.compile(r"^[\w.@+-]+\Z")


def read_accounts(
    files: Files,
    problems: list[ImportProblem],
    station_codes: set[str] | None,
    municipality_codes: set[str] | None,
) -> list[AccountRow]:
    csv_file = CsvFile(files, "clerks.csv", problems)
    result = []
    for line, row in csv_file:
        username = csv_file.required(line, row, "username", "username")
        if username is not None and not _USERNAME.match(username):
            csv_file.problem(line, f'username "{username}" may hold only letters, digits and @.+-_')
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
    csv_file.duplicates(
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
