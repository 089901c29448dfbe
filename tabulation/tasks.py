"""Celery tasks: an interface like the views. They take ids, call a service,
and are safe to run twice.

Acknowledged late (CELERY_TASK_ACKS_LATE, globally); the global soft and hard
time limits apply, and the tabulation tasks retry with backoff when the
database is unreachable for a moment.
"""

import os
import socket

from celery import shared_task
from django.db import InterfaceError, OperationalError

from tabulation.models import Election
from tabulation.services.tabulation import (
    SITE_PAGES_TASK,
    TABULATE_TASK,
    tabulation_run,
    tabulation_sweep,
)

# A database restart or a locked SQLite file is worth waiting for; a bug is not.
DATABASE_RETRY = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 8,
}


@shared_task(name="tabulation.ping")
def ping() -> dict[str, object]:
    """Answer from a worker process: proves the broker and a worker are alive."""
    return {"pong": True, "hostname": socket.gethostname(), "pid": os.getpid()}


@shared_task(name=TABULATE_TASK, **DATABASE_RETRY)
def tabulate(election_id: int) -> str:
    """Recount the election from its accepted records and publish a snapshot.

    Record entry enqueues it on commit (the name and the one int argument are
    the contract). Duplicates, late runs and bursts are harmless: the run
    claims the election or leaves the work pending for the run that holds it
    (services/tabulation.py, docs/tabulation.md).
    """
    try:
        return tabulation_run(election_id=election_id)
    except Election.DoesNotExist:
        return "no such election"


@shared_task(name="tabulation.sweep", **DATABASE_RETRY)
def sweep() -> list[int]:
    """Every 30 s (beat): request a run for each election that needs one."""
    return tabulation_sweep()


@shared_task(name=SITE_PAGES_TASK, **DATABASE_RETRY)
def site_pages(election_id: int) -> int | None:
    """PAGES_AFTER_SECONDS after a tabulation run (one task for the runs of
    that time): the public pages of the election's latest published version,
    unless they are out already (the version written). Safe twice or late:
    an older version never replaces a newer one's pages."""
    from tabulation.services.site_pages import site_pages_latest

    slug = Election.objects.filter(pk=election_id).values_list("slug", flat=True).first()
    return None if slug is None else site_pages_latest(slug)


@shared_task(name="tabulation.site_pages_fill")
def site_pages_fill() -> dict[str, int]:
    """Every 30 s (beat): the public pages that runs left to Django, batch
    after batch for up to FILL_SECONDS, for each election whose tabulation
    is idle. Imported here: the pages' module imports the views."""
    from tabulation.services.site_pages import site_pages_fill_idle

    return site_pages_fill_idle()
