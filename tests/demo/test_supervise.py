"""`make demo`'s children (tabulation/demo/supervise.py): a worker that dies
is started again, and nothing a child started is left running, neither
when it dies nor when the demo stops."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from tabulation.demo.supervise import Supervisor

# A child that starts a grandchild of its own (as `celery worker --beat`
# forks its beat scheduler) and writes the grandchild's pid.
PARENT = """
import subprocess, sys, time
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
with open(sys.argv[1], "a") as file:
    file.write(f"{grandchild.pid}\\n")
time.sleep(300)
"""


def alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in {"Z", "X"}


def wait_for(check, timeout: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def grandchildren(path: Path, count: int) -> list[int]:
    assert wait_for(lambda: path.exists() and len(path.read_text().split()) >= count)
    return [int(line) for line in path.read_text().split()]


def test_a_child_that_dies_is_started_again_and_its_own_children_go_with_it(tmp_path) -> None:
    pids = tmp_path / "pids"
    lines: list[str] = []
    restarted: list[object] = []
    supervisor = Supervisor(cwd=tmp_path, write=lines.append, on_restart=restarted.append)
    child = supervisor.start("worker", [sys.executable, "-c", PARENT, str(pids)], restart=True)
    try:
        assert child.process is not None
        first, (orphan,) = child.process.pid, grandchildren(pids, 1)

        os.kill(first, signal.SIGKILL)  # as the OOM killer would
        assert wait_for(lambda: child.process.poll() is not None)  # type: ignore[union-attr]
        assert supervisor.poll() == []

        assert child.restarts == 1 and child.process.pid != first
        assert restarted == [child]
        assert lines == ["The worker stopped (exit -9); starting it again."]
        assert wait_for(lambda: not alive(orphan))
        assert alive(grandchildren(pids, 2)[1])
    finally:
        supervisor.stop()


def test_stopping_leaves_nothing_running_and_reports_a_child_that_ended(tmp_path) -> None:
    pids = tmp_path / "pids"
    supervisor = Supervisor(cwd=tmp_path, write=lambda line: None)
    worker = supervisor.start("worker", [sys.executable, "-c", PARENT, str(pids)], restart=True)
    night = supervisor.start("night", [sys.executable, "-c", "raise SystemExit(3)"])
    (grandchild,) = grandchildren(pids, 1)
    assert wait_for(lambda: night.process.poll() is not None)  # type: ignore[union-attr]
    assert supervisor.poll() == [night] and night.returncode == 3

    supervisor.stop()

    assert worker.process is not None and worker.process.poll() is not None
    assert not alive(worker.process.pid)
    # The grandchild got its SIGKILL; it is not ours to wait for, and on a
    # busy machine it may take a moment to be gone (seen under load).
    assert wait_for(lambda: not alive(grandchild), timeout=5)
