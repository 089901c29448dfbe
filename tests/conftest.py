"""Shared fixtures.

Under CI (CI=true) the suite runs against the real PostgreSQL and Redis and a
test that needs them fails when they are missing. On a developer's machine
with the embedded default, such a test is skipped and pytest says so.
"""

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.utils import translation

UNDER_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(autouse=True)
def default_language() -> Iterator[None]:
    """Each test starts in the default language: a request to /en/ activates
    English for the thread, which would otherwise leak into the next test."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True, scope="session")
def fast_password_hashing() -> Iterator[None]:
    """MD5 for the suite's passwords, as Django's testing guide advises:
    the production hasher (PBKDF2, a million rounds) costs about half a
    second a login or a set password, and it was a quarter of the suite's
    time. What the tests prove of passwords does not depend on the hash."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True)
def site_pages_only_where_tested(request: pytest.FixtureRequest, settings: Any) -> None:
    """Publishing writes the public pages as files only in the tests marked
    ``site_pages``: rendering them in three languages on every publish
    would double the suite's time, and Django answers the same pages
    without the files (services/site_pages.py). pytest-django's
    ``settings`` puts the value back after the test."""
    settings.PUBLISH_SITE_PAGES = request.node.get_closest_marker("site_pages") is not None


def missing_service(reason: str) -> None:
    """Fail under CI, skip elsewhere: a missing service is never a pass."""
    if UNDER_CI:
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def require_postgresql(db: None) -> None:
    if connection.vendor != "postgresql":
        missing_service(f"this test needs PostgreSQL; the database is {connection.vendor}")


@pytest.fixture
def require_redis() -> str:
    if not settings.REDIS_URL:
        missing_service("this test needs Redis; REDIS_URL is not set")
    return settings.REDIS_URL


def pytest_sessionstart(session: pytest.Session) -> None:
    """Under CI, refuse to run at all on the embedded default."""
    if not UNDER_CI:
        return
    problems = []
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        problems.append("DATABASE_URL does not name PostgreSQL")
    if not os.environ.get("REDIS_URL", "").startswith("redis://"):
        problems.append("REDIS_URL does not name Redis")
    if not problems:
        problems = unreachable_services()
    if problems:
        raise pytest.UsageError("CI=true, but " + "; ".join(problems))


def unreachable_services() -> list[str]:
    """Connect to PostgreSQL and Redis once, for one clear line if either is down."""
    import psycopg
    import redis

    problems = []
    try:
        # The server, not the named database: pytest-django makes its own.
        psycopg.connect(os.environ["DATABASE_URL"], dbname="postgres", connect_timeout=5).close()
    except psycopg.Error as error:
        problems.append(f"PostgreSQL cannot be reached: {error}".strip())
    try:
        redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=5).ping()
    except redis.RedisError as error:
        problems.append(f"Redis cannot be reached: {error}")
    return problems


def database_url_for_subprocess() -> str:
    """The database this test process uses (the test database once a db
    fixture ran), as a URL that a worker process started by a test can use."""
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings_dict['NAME']}"
    user = settings_dict.get("USER") or ""
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{settings_dict['NAME']}"


class WorkerProcess:
    """A real `celery worker` process, listening on a queue of its own so that
    messages left over from other runs never reach it."""

    def __init__(self, queue: str) -> None:
        self.queue = queue
        self.process: subprocess.Popen[bytes] | None = None
        self.log = Path(settings.VAR_DIR) / f"worker-{queue}.log"

    def start(self) -> None:
        env = {**os.environ, "DATABASE_URL": database_url_for_subprocess()}
        env["PUBLISH_SITE_PAGES"] = str(settings.PUBLISH_SITE_PAGES)
        env["CELERY_TASK_DEFAULT_QUEUE"] = self.queue
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "commission",
                    "worker",
                    "--pool=solo",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "--loglevel=INFO",
                    "-Q",
                    self.queue,
                    "-n",
                    f"{self.queue}@%h",
                ],
                cwd=settings.BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def celery_worker() -> Iterator[WorkerProcess]:
    """Start a real worker process; tasks sent by the test go to its queue."""
    from commission.celery import app

    queue = f"test-{uuid.uuid4().hex[:12]}"
    previous = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    worker = WorkerProcess(queue)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()
        app.conf.task_default_queue = previous
        worker.log.unlink(missing_ok=True)
