"""The Celery app. Configuration is read from Django settings (CELERY_*)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commission.settings")

app = Celery("commission")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The safety net of tabulation (docs/tabulation.md): a lost or delayed task
# never loses a record, because this re-requests any election whose accepted
# records are newer than its last run. A sweep not started within its own
# period is dropped: the next one does the same work.
app.conf.beat_schedule = {
    "tabulation-sweep": {
        "task": "tabulation.sweep",
        "schedule": 30.0,
        "options": {"expires": 25},
    },
    # The public pages a run left to Django, written as files in quiet
    # moments (services/site_pages.py): one batch an election and a tick.
    "site-pages-fill": {
        "task": "tabulation.site_pages_fill",
        "schedule": 30.0,
        "options": {"expires": 25},
    },
}
