"""Celery tasks: an interface like the views. They take ids, call a service,
and are safe to run twice."""

import os
import socket

from celery import shared_task


@shared_task(name="tabulation.ping")
def ping() -> dict[str, object]:
    """Answer from a worker process: proves the broker and a worker are alive."""
    return {"pong": True, "hostname": socket.gethostname(), "pid": os.getpid()}
