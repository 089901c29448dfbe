"""`make demo`: one command that brings up the whole embedded election night.

It migrates the embedded database, loads the demo election, and starts, each
in a process group of its own (tabulation/demo/supervise.py):

- a Celery worker with the beat scheduler inside it, on the filesystem
  broker, started again whenever it dies;
- `simulate_night belgrade-2023 --certify`: clerks, problems, the
  commission's decisions, repeat votes and certification (about 15 minutes);
- the web server.

Ctrl-C (or SIGTERM) stops every group it started, and nothing else.
"""

from __future__ import annotations

import signal
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from tabulation.demo.load import DEMO_SLUG
from tabulation.demo.supervise import Child, Supervisor
from tabulation.management.commands.simulate_night import DEFAULT_SEED, DEFAULT_SPEED
from tabulation.models import Election
from tabulation.services.tabulation import tabulation_lease_release

POLL_EVERY = 0.5  # seconds between two looks at the children


class Stop(Exception):
    pass


def _stop(*_: object) -> None:
    raise Stop


def _leases_release(child: Child) -> None:
    """The worker died mid-run: its lease would hold every election's
    tabulation back for a minute. The new worker takes over at once."""
    if child.name != "worker":
        return
    for election_id in Election.objects.exclude(status=Election.Status.CERTIFIED).values_list(
        "pk", flat=True
    ):
        tabulation_lease_release(election_id=election_id)


class Command(BaseCommand):
    help = "Run the demo election night: load the demo, a worker kept alive, the night, the site."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000", help="where to serve the site")
        parser.add_argument(
            "--speed",
            type=float,
            default=DEFAULT_SPEED,
            help="simulated seconds per real second (the default: about 15 minutes)",
        )
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="which night")
        parser.add_argument("--no-night", action="store_true", help="serve without the night")

    def handle(
        self, *args: Any, addr: str, speed: float, seed: int, no_night: bool, **options: Any
    ) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("load_demo")
        call_command("collectstatic", interactive=False, verbosity=0)

        python = sys.executable
        manage = [python, str(settings.BASE_DIR / "manage.py")]
        supervisor = Supervisor(
            cwd=settings.BASE_DIR, write=self.stdout.write, on_restart=_leases_release
        )
        # A plain `kill` stops the children too, as Ctrl-C does.
        previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            worker = supervisor.start(
                "worker",
                [
                    *(python, "-m", "celery", "-A", "commission", "worker", "--beat"),
                    "--pool=solo",
                    "--loglevel=WARNING",
                    f"--schedule={settings.CELERY_BEAT_SCHEDULE_FILENAME}",
                ],
                restart=True,
            )
            assert worker.process is not None
            self.stdout.write(
                f"Celery worker started (pid {worker.process.pid}); it is restarted if it dies."
            )
            if no_night:
                pass
            elif Election.objects.filter(slug=DEMO_SLUG, status="certified").exists():
                self.stdout.write(
                    "The demo night is over and certified: `make clean` and `make demo` "
                    "play a new one."
                )
            else:
                supervisor.start(
                    "night",
                    [
                        *manage,
                        "simulate_night",
                        DEMO_SLUG,
                        "--certify",
                        f"--speed={speed:g}",
                        f"--seed={seed}",
                    ],
                )
            supervisor.start("web server", [*manage, "runserver", addr, "--noreload"])
            self._welcome(addr)
            self._watch(supervisor)
        except Stop:
            self.stdout.write("Stopping the demo.")
        finally:
            supervisor.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _watch(self, supervisor: Supervisor) -> None:
        while True:
            for child in supervisor.poll():
                if child.name == "web server":
                    self.stderr.write(f"The web server stopped (exit {child.returncode}).")
                    return
                if child.returncode == 0:
                    self.stdout.write(
                        self.style.SUCCESS("The night is over; the site keeps serving it.")
                    )
                else:
                    self.stderr.write(
                        f"The night stopped (exit {child.returncode}); "
                        "`make demo` again carries it on."
                    )
            time.sleep(POLL_EVERY)

    def _welcome(self, addr: str) -> None:
        base = f"http://{addr}"
        self.stdout.write(
            self.style.SUCCESS(
                f"Serving the election night on {base}/ (README: what to watch and when)\n"
                f"  results:     {base}/results/{DEMO_SLUG}/\n"
                f"  in Cyrillic: {base}/sr/results/{DEMO_SLUG}/\n"
                f"  commission:  {base}/commission/ (member1 / izbori2023)\n"
                f"  clerks:      {base}/entry/\n"
                f"  read API:    {base}/api/v1/docs/"
            )
        )
