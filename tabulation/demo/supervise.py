"""Child processes of `make demo`, kept alive and stopped whole.

Each child starts in a process group of its own, so that what it starts in
turn (the beat scheduler that `celery worker --beat` forks, say) is stopped
with it: a signal to the group reaches them all, even once the child that
led it is gone. A child marked ``restart`` is started again when it dies
(the worker: without it nothing is tabulated or published); the others are
left to end, and are reported.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

STOP_GRACE = 10.0  # seconds a group has to stop on SIGTERM before SIGKILL


@dataclass
class Child:
    name: str
    command: Sequence[str]
    restart: bool = False
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    returncode: int | None = None


class Supervisor:
    def __init__(
        self,
        *,
        cwd: Path,
        write: Callable[[str], None],
        on_restart: Callable[[Child], None] | None = None,
    ) -> None:
        self.cwd = cwd
        self.write = write
        # Called once a child is started again: what the dead one held
        # (a worker's lease on a tabulation run) can be given up.
        self.on_restart = on_restart
        self.children: list[Child] = []

    def start(self, name: str, command: Sequence[str], *, restart: bool = False) -> Child:
        child = Child(name=name, command=list(command), restart=restart)
        self.children.append(child)
        self._spawn(child)
        return child

    def _spawn(self, child: Child) -> None:
        child.process = subprocess.Popen(child.command, cwd=self.cwd, start_new_session=True)
        child.returncode = None

    def poll(self) -> list[Child]:
        """Restart the children that must live; return those that ended."""
        ended = []
        for child in self.children:
            if child.process is None or child.returncode is not None:
                continue
            code = child.process.poll()
            if code is None:
                continue
            # Whatever the dead child left in its group goes with it (a
            # group outlives its leader while a member is alive).
            _group_kill(child.process.pid, signal.SIGKILL)
            if child.restart:
                child.restarts += 1
                self.write(f"The {child.name} stopped (exit {code}); starting it again.")
                self._spawn(child)
                if self.on_restart is not None:
                    self.on_restart(child)
            else:
                child.returncode = code
                ended.append(child)
        return ended

    def stop(self) -> None:
        """SIGTERM to every group, SIGKILL to what is left after the grace."""
        for child in reversed(self.children):
            if child.process is not None:
                _group_kill(child.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        for child in self.children:
            if child.process is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        for child in self.children:
            if child.process is not None:
                _group_kill(child.process.pid, signal.SIGKILL)
                child.process.wait()


def _group_kill(group: int, sig: int) -> None:
    # ProcessLookupError: the group is gone already.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, sig)
