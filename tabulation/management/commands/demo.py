"""`make demo`: one command that brings up the whole embedded election night.

It migrates the embedded database, loads the demo election, starts a real
Celery worker (with the beat scheduler inside it) on the filesystem broker,
and serves the site. Ctrl-C stops everything it started.
"""

import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run the demo election night: migrate, load the demo, start a worker, serve the site."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000", help="where to serve the site")

    def handle(self, *args: object, addr: str, **options: object) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        if "load_demo" in get_commands():
            call_command("load_demo")
        call_command("collectstatic", interactive=False, verbosity=0)

        worker = subprocess.Popen(
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
        self.stdout.write(f"Celery worker started (pid {worker.pid}).")
        self.stdout.write(self.style.SUCCESS(f"Serving the election night on http://{addr}/"))
        # A plain `kill` should stop the worker too, as Ctrl-C does.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            call_command("runserver", addr, use_reloader=False)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
