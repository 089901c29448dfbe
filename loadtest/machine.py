"""What the machine is and how busy it was: for the figures' context in
docs/BENCHMARKS.md (the load test and `make bench`). Linux only: it reads
/proc, as the machines this project runs its figures on are Linux.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Iterable
from pathlib import Path

PROC = Path("/proc")
# Clock ticks a second, the unit of the CPU times in /proc/<pid>/stat.
TICKS = os.sysconf("SC_CLK_TCK")


def machine_description() -> str:
    """Cores, processor and memory, e.g. "2 cores (AMD EPYC), 24 GiB memory"."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in (PROC / "cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    memory_kib = next(
        int(line.split()[1])
        for line in (PROC / "meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    return f"{os.cpu_count()} cores ({model}), {memory_kib / 1024 / 1024:.0f} GiB memory"


def load_average() -> tuple[float, float, float]:
    """The 1, 5 and 15 minute load averages."""
    one, five, fifteen = (float(value) for value in (PROC / "loadavg").read_text().split()[:3])
    return one, five, fifteen


def cpu_ticks() -> tuple[int, int]:
    """(busy, total) ticks of all cores since boot; two readings apart give
    how busy the machine was between them, whoever kept it busy."""
    fields = [int(value) for value in (PROC / "stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle and waiting for I/O
    return sum(fields[:8]) - idle, sum(fields[:8])


def busy_cores(before: tuple[int, int], after: tuple[int, int]) -> float:
    """How many cores were busy on average between two ``cpu_ticks``."""
    total = after[1] - before[1]
    if total <= 0:
        return 0.0
    return (after[0] - before[0]) / total * (os.cpu_count() or 1)


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:  # it ended meanwhile
        return None
    # The command name is in parentheses and may hold spaces: split after it.
    return text.rsplit(")", 1)[1].split()


def process_seconds(pids: Iterable[int]) -> float:
    """CPU seconds (user and system) the processes have used so far."""
    total = 0
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is not None:
            total += int(fields[11]) + int(fields[12])
    return total / TICKS


def group_members(group: int) -> list[int]:
    """The processes of one process group (a child started in its own session)."""
    members = []
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields is not None and int(fields[2]) == group:
                members.append(int(entry.name))
    return members


def other_work(busy: float, own: float) -> str:
    """Says whether other work shared the cores: ``busy`` cores were busy on
    average while the figures were taken, ``own`` of them by the measurement."""
    others = max(0.0, busy - own)
    if others < 0.2:
        return "nothing else of note ran on the machine"
    return (
        f"other work on the machine (other engineers' test runs) kept about {others:.1f} "
        "cores busy besides: the figures were taken under that load"
    )
