"""`make demo`: one command that brings up the whole embedded election night.

It migrates the embedded database, loads the demo election, starts a real
Celery worker (with the beat scheduler inside it) on the filesystem broker,
starts the player that types the stations' records in through the clerks'
entry service (double entry included), and serves the site. Ctrl-C stops
everything it started.
"""

import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from tabulation.management.commands.play_demo import DEMO_SLUG


class Command(BaseCommand):
    help = "Run the demo election night: load the demo, start a worker and the player, serve."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000", help="where to serve the site")
        parser.add_argument(
            "--rate", type=float, default=3.0, help="stations the player enters per second"
        )
        parser.add_argument("--no-player", action="store_true", help="serve without playing")

    def handle(
        self, *args: object, addr: str, rate: float, no_player: bool, **options: object
    ) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("load_demo")
        call_command("collectstatic", interactive=False, verbosity=0)

        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        children = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "commission",
                    "worker",
                    "--beat",
                    "--pool=solo",
                    "--loglevel=WARNING",
                    f"--schedule={settings.CELERY_BEAT_SCHEDULE_FILENAME}",
                ],
                cwd=settings.BASE_DIR,
            )
        ]
        self.stdout.write(f"Celery worker started (pid {children[0].pid}).")
        if not no_player:
            children.append(
                subprocess.Popen([*manage, "play_demo", "--rate", str(rate)], cwd=settings.BASE_DIR)
            )
            self.stdout.write(f"Player started: {rate:g} stations a second, two clerks each.")
        self.stdout.write(
            self.style.SUCCESS(
                f"Serving the election night on http://{addr}/\n"
                f"  results:     http://{addr}/results/{DEMO_SLUG}/\n"
                f"  in Cyrillic: http://{addr}/sr/results/{DEMO_SLUG}/\n"
                f"  clerks:      http://{addr}/entry/\n"
                f"  read API:    http://{addr}/api/v1/docs/"
            )
        )
        # A plain `kill` should stop the children too, as Ctrl-C does.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            call_command("runserver", addr, use_reloader=False)
        finally:
            for child in reversed(children):
                child.terminate()
            for child in children:
                child.wait(timeout=30)
