"""``manage.py allocate_seats FILE``: seats from an election file, as JSON.

Thin on purpose: reading the file is all it does; parsing, validation and the
law live in ``tabulation.domain`` (election_file.py, seats.py). ``-`` reads
standard input. Bad input exits with status 2 and one line on stderr.
"""

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tabulation.domain.election_file import allocation_as_data, parse_election_file
from tabulation.domain.errors import DomainError


class Command(BaseCommand):
    help = "Allocate seats (D'Hondt, threshold, minority bonus) for a JSON election file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the election file (JSON); - reads standard input")

    def handle(self, *args: Any, **options: Any) -> None:
        path: str = options["file"]
        try:
            if path == "-":
                text = sys.stdin.read()
            else:
                with open(path, encoding="utf-8") as handle:
                    text = handle.read()
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"{path}: cannot read: {error}", returncode=2) from None
        try:
            allocation = parse_election_file(text).allocate()
        except DomainError as error:
            # One line, whatever the message: the caller may be a script.
            raise CommandError(" ".join(str(error).split()), returncode=2) from None
        self.stdout.write(json.dumps(allocation_as_data(allocation), ensure_ascii=False, indent=2))
