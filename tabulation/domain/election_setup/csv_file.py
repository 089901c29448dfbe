"""One file of an election's setup read into rows, with the parsers of its fields.

Every problem is recorded, file and line, and reading goes on: the person
who prepared the files gets every problem at once, not one per attempt.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from tabulation.domain.election_setup.rows import COLUMNS, ImportProblem

_YES = {"yes", "y", "true", "1", "da", "да"}
_NO = {"no", "n", "false", "0", "ne", "не", ""}
WHOLE_NUMBER = re.compile(r"^[0-9]+$")
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
# What Django's validate_slug accepts: the codes appear in web addresses.
_CODE = re.compile(r"^[-a-zA-Z0-9_]+\Z")


def _text(value: str | None) -> str:
    # NFC so that "č" typed as c + combining caron equals the precomposed one.
    return unicodedata.normalize("NFC", (value or "").strip())


# The setup's files as read from its folder: name -> bytes; a missing file
# has no entry.
Files = Mapping[str, bytes]


class CsvFile:
    """Reads one file of `files` into (line number, row) pairs, recording
    problems."""

    def __init__(self, files: Files, name: str, problems: list[ImportProblem]) -> None:
        self.name = name
        self.problems = problems
        self.rows: list[tuple[int, dict[str, str]]] = []
        content = files.get(name)
        if content is None:
            self.problem(None, "file not found")
            return
        try:
            # utf-8-sig: a byte-order mark written by a spreadsheet is not data.
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            self.problem(
                None,
                f"not UTF-8 (byte 0x{error.object[error.start]:02x} at offset {error.start}); "
                "save the file as UTF-8",
            )
            return
        # Universal newlines, as a file opened in text mode reads them.
        text = text.replace("\r\n", "\n").replace("\r", "\n")
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
        self._check_header(header)
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

    def _check_header(self, header: list[str]) -> None:
        required, optional = COLUMNS[self.name]
        for column in required:
            if column not in header:
                self.problem(1, f'missing column "{column}"')
        for column, count in Counter(header).items():
            if count > 1:
                self.problem(1, f'column "{column}" appears {count} times')
            elif column not in required and column not in optional:
                known = ", ".join(required + optional)
                self.problem(1, f'unknown column "{column}" (the columns are: {known})')

    def problem(self, line: int | None, message: str) -> None:
        self.problems.append(ImportProblem(self.name, line, message))

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        return iter(self.rows)

    def duplicates(self, keyed: list[tuple[int, Any, str]]) -> None:
        """Report every repeat of a key, naming the line of its first use.

        `keyed` holds (line, key, how to name the thing in a message).
        """
        first_line: dict[Any, int] = {}
        for line, key, label in keyed:
            if key in first_line:
                self.problem(line, f"{label} is already on line {first_line[key]}")
            else:
                first_line[key] = line

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
        if not WHOLE_NUMBER.match(value):
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
        if not _CODE.match(value):
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
