"""The real parts: a task goes through the configured broker (the filesystem
transport by default, Redis under CI) to a real worker process and back."""

import pytest
from django.conf import settings

from commission.celery import app
from tabulation.tasks import ping

pytestmark = pytest.mark.services


def test_a_task_sent_through_the_broker_is_run_by_a_worker_process(celery_worker):
    result = ping.delay()

    answer = result.get(timeout=60)

    assert answer["pong"] is True
    assert answer["pid"] == celery_worker.process.pid


def test_under_ci_the_broker_is_redis(require_redis):
    assert app.conf.broker_url.startswith("redis://")
    assert settings.CELERY_RESULT_BACKEND.startswith("redis://")


def test_the_redis_broker_redelivers_only_after_the_hard_time_limit(require_redis):
    options = app.conf.broker_transport_options

    assert options["visibility_timeout"] > app.conf.task_time_limit


def test_tasks_are_acknowledged_late_and_json_only():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_serializer == "json"
    assert app.conf.task_soft_time_limit < app.conf.task_time_limit
