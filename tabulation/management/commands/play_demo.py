"""`manage.py play_demo`: play the demo election's station results into the
database through the same service clerks use (tabulation/demo/README.md).

Clerk 1 of the municipality enters a station's record, then clerk 2 enters
it again (double entry). About 1 % of stations (chosen by the seed) get a
second entry with one number mistyped, so a reconciliation appears. Each
entry is its own short transaction, so the player runs beside the web server
and a worker on the embedded SQLite. Stations already entered are skipped:
stop it and start it again, it carries on.
"""

from __future__ import annotations

import csv
import random
import time
import uuid
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tabulation.domain.record import COUNT_FIELDS
from tabulation.models import Election, PollingStation, StationRound
from tabulation.selectors.stations import live_entries, round_current
from tabulation.services.election_setup import DEMO_DIRECTORY
from tabulation.services.records import EntryRefused, record_submit

DEMO_SLUG = "belgrade-2023"
RESULTS_FILE = Path(DEMO_DIRECTORY) / "results.csv"
MISTYPE_PER_MILLE = 10  # ~1 %
# Keys are stable per station, clerk and round: a player killed between two
# entries finds its entry again instead of storing a second one.
KEY_NAMESPACE = uuid.UUID("6f1d2c1e-3a51-4f0e-9a77-5b2e0c9d1b23")


def _values(row: dict[str, str]) -> dict[str, object]:
    values: dict[str, object] = {name: row[name] for name in COUNT_FIELDS}
    values["control_sheet_ok"] = row["control_sheet_ok"]
    return values


def _votes(row: dict[str, str]) -> list[tuple[object, object]]:
    return [
        (int(column.removeprefix("list_")), row[column])
        for column in row
        if column.startswith("list_")
    ]


def _mistype(rng: random.Random, votes: list[tuple[object, object]]) -> list[tuple[object, object]]:
    """One list's votes typed wrong by a few (never below zero, never right)."""
    index = rng.randrange(len(votes))
    number, count = votes[index]
    right = int(str(count))
    delta = rng.choice((-3, -2, -1, 1, 2, 3, 10))
    typed = right + delta if right + delta >= 0 else right + abs(delta)
    changed = list(votes)
    changed[index] = (number, typed)
    return changed


class Command(BaseCommand):
    help = "Play the demo election's station results through the clerks' entry service."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--rate", type=float, default=3.0, help="stations per second (0: as fast as possible)"
        )
        parser.add_argument("--limit", type=int, default=None, help="stop after N stations")
        parser.add_argument("--seed", type=int, default=2023, help="chooses the mistyped entries")

    def handle(self, *args: Any, rate: float, limit: int | None, seed: int, **options: Any) -> None:
        election = Election.objects.filter(slug=DEMO_SLUG).first()
        if election is None:
            raise CommandError("The demo election is not loaded: run `manage.py load_demo` first.")
        users = {
            user.username: user
            for user in get_user_model().objects.filter(username__startswith="clerk-")
        }
        stations = {
            station.code: station
            for station in PollingStation.objects.filter(election=election).select_related(
                "municipality", "election"
            )
        }
        with RESULTS_FILE.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))

        played = skipped = differ = 0
        interval = 1 / rate if rate > 0 else 0.0
        next_at = time.monotonic()
        for row in rows:
            if limit is not None and played >= limit:
                break
            station = stations.get(row["station"])
            if station is None:
                continue
            round = round_current(station)
            if round is None or round.status not in (
                StationRound.Status.AWAITING,
                StationRound.Status.FIRST_ENTRY,
            ):
                skipped += 1
                continue
            municipality = station.municipality.code
            clerks = [users.get(f"clerk-{municipality}-{number}") for number in (1, 2)]
            if None in clerks:
                raise CommandError(f"The demo clerks of {municipality} are missing.")
            if interval:
                delay = next_at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                next_at = max(next_at, time.monotonic()) + interval
            # One generator per station: a restarted player mistypes the same ones.
            rng = random.Random(f"{seed}:{station.code}")
            mistyped = rng.randrange(1000) < MISTYPE_PER_MILLE
            entered_by = {entry.clerk_id for entry in live_entries(round)}
            status = round.status
            for number, clerk in enumerate(clerks, start=1):
                assert clerk is not None
                if clerk.pk in entered_by:
                    continue
                votes = _votes(row)
                if number == 2 and mistyped:
                    votes = _mistype(rng, votes)
                key = uuid.uuid5(KEY_NAMESPACE, f"{station.code}:{round.pk}:{clerk.username}").hex
                try:
                    result = record_submit(
                        actor=clerk,
                        station=station,
                        values=_values(row),
                        votes=votes,
                        idempotency_key=key,
                    )
                except EntryRefused as error:
                    self.stderr.write(f"{station.code}: {error}")
                    break
                status = result.round.status
            played += 1
            differ += status == StationRound.Status.ENTRIES_DIFFER
            if options.get("verbosity", 1) >= 2:
                self.stdout.write(f"{station.code}: {status}")
        self.stdout.write(
            f"Played {played} stations ({differ} with entries that differ); "
            f"skipped {skipped} already entered."
        )
