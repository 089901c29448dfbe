"""Workers for the task tests: real processes on a private queue, started
with the environment a test chooses (say, a slow tabulation)."""

import os
import time
import uuid
from collections.abc import Callable, Iterator
from unittest import mock

import pytest

from tests.conftest import WorkerProcess


@pytest.fixture
def start_worker() -> Iterator[Callable[..., WorkerProcess]]:
    """``start_worker(**env)`` starts one more worker on the test's queue."""
    from commission.celery import app

    queue = f"test-{uuid.uuid4().hex[:12]}"
    previous = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    workers: list[WorkerProcess] = []

    def start(**env: str) -> WorkerProcess:
        worker = WorkerProcess(queue)
        worker.log = worker.log.with_name(f"worker-{queue}-{len(workers)}.log")
        with mock.patch.dict(os.environ, env):
            worker.start()
        workers.append(worker)
        return worker

    try:
        yield start
    finally:
        for worker in workers:
            worker.stop()
            worker.log.unlink(missing_ok=True)
        app.conf.task_default_queue = previous


def wait_until(check: Callable[[], object], *, timeout: float = 90, message: str = "") -> object:
    """Poll ``check`` until it returns something true; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting: {message}")
        time.sleep(0.2)
