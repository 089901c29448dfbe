"""`manage.py simulate_night SLUG [--speed N] [--seed S] [--certify]`: play a
whole election night on an imported election through the services people
use (tabulation/demo/night.py; tabulation/demo/README.md).

Thin on purpose: it parses the arguments, runs the night and prints it.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tabulation.demo.night import Night, NightError, NightStopped, election_get, night_summary

DEFAULT_SPEED = 40.0  # the night (about 9.5 simulated hours) in about 14 minutes
DEFAULT_SEED = 2023


class Command(BaseCommand):
    help = (
        "Simulate an election night: clerks' double entry, problems, the commission's "
        "decisions, repeat votes and (--certify) certification."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="the election, e.g. belgrade-2023")
        parser.add_argument(
            "--speed",
            type=float,
            default=DEFAULT_SPEED,
            help="simulated seconds per real second (0: as fast as it goes)",
        )
        parser.add_argument(
            "--seed", type=int, default=DEFAULT_SEED, help="the same seed plays the same night"
        )
        parser.add_argument("--certify", action="store_true", help="two members certify at the end")
        parser.add_argument(
            "--stop-after",
            type=int,
            default=None,
            help="stop after N entries and decisions (run again to carry on)",
        )

    def handle(
        self,
        *args: Any,
        slug: str,
        speed: float,
        seed: int,
        certify: bool,
        stop_after: int | None,
        **options: Any,
    ) -> None:
        if speed < 0:
            raise CommandError("--speed must be 0 (as fast as it goes) or more.")
        if stop_after is not None and stop_after < 1:
            raise CommandError("--stop-after must be 1 or more.")
        try:
            election = election_get(slug)
            night = Night(
                election,
                seed=seed,
                speed=speed,
                certify=certify,
                write=self.stdout.write,
                stop_after=stop_after,
            )
            report = night.run()
        except NightStopped:
            self.stdout.write(
                f"Stopped after {stop_after} actions; run the command again to carry on."
            )
            return
        except NightError as error:
            raise CommandError(str(error)) from None
        for line in night_summary(election, report):
            self.stdout.write(line)
