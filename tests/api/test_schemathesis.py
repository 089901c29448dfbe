"""Schemathesis against the API's own OpenAPI schema (/api/v1/schema/):
generated requests to every operation, anonymous and with a clerk's token,
must never get a server error, and every answer must be one the schema
documents (status, content type, body).

Half the generated elections and stations are replaced by real ones (the
world of tests/security_world.py), so requests reach past the 404s into
the stored data; which half is fixed by a checksum, so a failure replays.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from commission.wsgi import application
from tabulation.api.results import PublicReadThrottle
from tabulation.api.throttles import DecisionThrottle, EntryThrottle
from tests.published import publish_dir_fixture  # noqa: F401 - fixture
from tests.security_world import World, world_build

pytestmark = pytest.mark.django_db

CHECKS = (
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
)
# Operations times examples times two identities: a few thousand requests.
EXAMPLES = 80


@pytest.fixture
def world(publish_dir: Any, monkeypatch: pytest.MonkeyPatch) -> World:
    # The throttles would answer 429 to a fuzzer that is one client; their
    # own tests are in test_throttle.py.
    for throttle in (PublicReadThrottle, EntryThrottle, DecisionThrottle):
        monkeypatch.setattr(throttle, "rate", "1000000/min")
    return world_build(publish_dir)


@pytest.fixture(autouse=True)
def connection_kept_open() -> Iterator[None]:
    """Requests go through the WSGI application itself, whose end-of-request
    signal closes the database connection: the test's transaction with it.
    Django's test client unhooks the same receiver while it runs."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _exercise_every_operation(world: World, headers: dict[str, str]) -> int:
    """Run each operation's generated cases; the number of requests made.

    Hypothesis drives each operation's strategy itself (schemathesis' pytest
    plugin does not load under this pytest), with a fixed seed, so a failure
    replays; the first failure stops with schemathesis' own message."""
    api = schemathesis.openapi.from_wsgi("/api/v1/schema/", application)
    calls = 0

    for result in api.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def exercise(case: Any) -> None:
            nonlocal calls
            _real_half(case, world)
            response = case.call(headers=headers)
            calls += 1
            case.validate_response(response, checks=CHECKS)

        exercise()
    print(f"schemathesis: {calls} requests")  # shown with pytest -s
    return calls


def _real_half(case: Any, world: World) -> None:
    parameters = case.path_parameters or {}
    real = {"slug": world.setup.election.slug, "code": world.setup.station.code}
    for name, value in real.items():
        if name in parameters and zlib.crc32(str(parameters[name]).encode()) % 2:
            parameters[name] = value


def test_anonymous_requests_stay_within_the_schema(world: World) -> None:
    assert _exercise_every_operation(world, {}) > 500


def test_a_clerk_s_requests_stay_within_the_schema(world: World) -> None:
    token, _created = Token.objects.get_or_create(user=world.users["clerk_a"])
    assert _exercise_every_operation(world, {"Authorization": f"Token {token.key}"}) > 500
