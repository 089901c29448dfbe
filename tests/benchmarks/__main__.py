"""`make bench`: run every benchmark module (bench_*.py) in this folder.

Benchmarks print figures; they assert nothing about time. What each module
prints is written to docs/BENCHMARKS.md, in a section of its own that the
next run replaces, with the command, the machine, the date and how busy the
machine was meanwhile (`--no-write` leaves the file alone). Each module
prints its figures beside their reference measured in the same run: the
bare SQL GROUP BY for tabulation, nginx serving the same file for reads.

    python -m tests.benchmarks [bench_<name> ...] [--no-write]
"""

import contextlib
import datetime
import importlib
import io
import os
import pkgutil
import platform
import sys
import time
from pathlib import Path
from typing import TextIO

import django

from loadtest.machine import (
    busy_cores,
    cpu_ticks,
    load_average,
    machine_description,
    other_work,
)
from loadtest.report import section_update

BENCHMARKS = Path(__file__).resolve().parent.parent.parent / "docs" / "BENCHMARKS.md"


class _Tee(io.TextIOBase):
    """Prints as usual and keeps a copy of what was printed."""

    def __init__(self, terminal: TextIO) -> None:
        self.terminal = terminal
        self.copy = io.StringIO()

    def write(self, text: str) -> int:
        self.copy.write(text)
        return self.terminal.write(text)

    def flush(self) -> None:
        self.terminal.flush()


def _store() -> str:
    """The database and cache the figures were taken on (the vendor, not the URL)."""
    from django.conf import settings
    from django.db import connection

    cache = "Redis" if os.environ.get("REDIS_URL") else "file"
    return f"{connection.vendor} database, {cache} cache ({settings.CACHES['default']['BACKEND']})"


def _command(names: list[str]) -> str:
    if not names:
        return "make bench"
    return f"python -m tests.benchmarks {' '.join(names)}"


def section_lines(name: str, command: str, printed: str, context: str) -> list[str]:
    """A module's section: where and when its figures were taken, then the figures."""
    return [
        f"## `{name}`: the last run of `{command}`",
        "",
        f"Command: `{command}` (module `tests/benchmarks/{name}.py`), "
        f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC. {context}",
        "",
        "```",
        printed.strip("\n"),
        "```",
    ]


def run(name: str, package: str) -> tuple[str, str]:
    """Run one module; what it printed, and the machine while it ran."""
    load_before = load_average()[0]
    ticks, own, began = cpu_ticks(), os.times(), time.monotonic()
    tee = _Tee(sys.stdout)
    with contextlib.redirect_stdout(tee):
        importlib.import_module(f"{package}.{name}").main()
    seconds = max(time.monotonic() - began, 1e-9)
    busy, after = busy_cores(ticks, cpu_ticks()), os.times()
    # User and system time of this process and of the children it waited for
    # (wrk, nginx, gunicorn, a worker); a child still running is not counted.
    own_cores = (sum(after[:4]) - sum(own[:4])) / seconds
    context = (
        f"Machine: {machine_description()}, Python {platform.python_version()}, "
        f"{_store()}. Load average (1 min) before {load_before:.2f}, after "
        f"{load_average()[0]:.2f}; over its {seconds:.0f} s the cores were {busy:.1f} busy "
        f"on average, {own_cores:.1f} of them by the benchmark; {other_work(busy, own_cores)}."
    )
    return tee.copy.getvalue(), context


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commission.settings")
    django.setup()
    print(f"# {platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()}")
    arguments = sys.argv[1:]
    write = "--no-write" not in arguments
    wanted = [argument for argument in arguments if argument != "--no-write"]
    package = sys.modules[__package__ or "tests.benchmarks"]
    for module in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if not module.name.startswith("bench_"):
            continue
        if wanted and module.name not in wanted:
            continue
        print(f"\n## {module.name}")
        printed, context = run(module.name, package.__name__)
        if write:
            command = _command(wanted)
            lines = section_lines(module.name, command, printed, context)
            section_update(BENCHMARKS, f"bench:{module.name}", command, lines)
            print(f"(written to {BENCHMARKS})")


if __name__ == "__main__":
    main()
