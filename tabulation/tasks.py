"""Celery tasks: an interface like the views. They take ids, call a service,
and are safe to run twice."""

import os
import socket

from celery import shared_task


@shared_task(name="tabulation.ping")
def ping() -> dict[str, object]:
    """Answer from a worker process: proves the broker and a worker are alive."""
    return {"pong": True, "hostname": socket.gethostname(), "pid": os.getpid()}


@shared_task(name="tabulation.tabulate")
def tabulate(election_id: int) -> None:
    """Recount the election from its accepted records and publish a snapshot.

    Placeholder until tabulation lands; the name and argument are the contract
    that record entry enqueues against.
    """
