"""The beat's schedule names tasks the workers have (a typo would be silent:
beat sends the message, and no worker knows its name)."""

import tabulation.tasks  # noqa: F401 - registers the tasks, as a worker does
from commission.celery import app


def test_every_scheduled_task_is_registered() -> None:
    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}

    assert scheduled == {"tabulation.sweep", "tabulation.site_pages_fill"}
    assert scheduled <= set(app.tasks)
