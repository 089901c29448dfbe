"""`manage.py import_election DIR`: load an election's setup from CSV files.

The file formats are in docs/import-format.md.
"""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tabulation.demo.load import DEMO_PASSWORD
from tabulation.services.election_setup import (
    ElectionImportError,
    ElectionImportResult,
    election_import,
)


def describe_counts(result: ElectionImportResult) -> str:
    counts = result.counts
    return (
        f"{counts['municipalities']} municipalities, {counts['stations']} polling stations "
        f"({counts['registered']:,} registered voters), {counts['lists']} lists, "
        f"{counts['candidates']} candidates, {counts['accounts']} accounts, "
        f"{counts['assignments']} clerk assignments"
    )


def write_warnings(command: BaseCommand, result: ElectionImportResult) -> None:
    for warning in result.warnings:
        command.stderr.write(f"warning: {warning}")


class Command(BaseCommand):
    help = (
        "Import an election (municipalities, stations, lists, candidates, clerks) from CSV files."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path, help="folder with election.csv and the rest")
        parser.add_argument("--dry-run", action="store_true", help="check the files, write nothing")
        parser.add_argument(
            "--demo-passwords",
            action="store_true",
            help=f'give new accounts without a password column the password "{DEMO_PASSWORD}"',
        )

    def handle(self, *args: Any, **options: Any) -> None:
        directory: Path = options["directory"]
        try:
            result = election_import(
                directory=directory,
                dry_run=options["dry_run"],
                demo_password=DEMO_PASSWORD if options["demo_passwords"] else None,
            )
        except ElectionImportError as error:
            for problem in error.problems:
                self.stderr.write(str(problem))
            count = len(error.problems)
            raise CommandError(
                f"{count} problem{'s' if count != 1 else ''} found; nothing was written.",
                returncode=1,
            ) from None
        write_warnings(self, result)
        if result.outcome == "unchanged":
            self.stdout.write(
                f'Election "{result.slug}" is already loaded with the same data; nothing changed.'
            )
        elif result.outcome == "dry-run":
            self.stdout.write(
                f'Dry run: the files are valid. Would import election "{result.slug}": '
                f"{describe_counts(result)}. Nothing was written."
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(f'Imported election "{result.slug}": {describe_counts(result)}.')
            )
