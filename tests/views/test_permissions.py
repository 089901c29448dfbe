"""The permission matrix and the blind-entry sweep, over every routed URL.

1. Every URL, every role: the status in tests/permission_matrix.py.
2. Nothing the first clerk of station A typed (tests/security_world.py),
   and no scan the clerk attached (its hash, its bytes), is in any answer to
   an anonymous reader, to the clerk of station B or to an observer, on any
   page, API endpoint or published file, while it is not accepted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.http import HttpResponse

from tabulation.services.scans import scan_open
from tests.permission_matrix import MATRIX
from tests.published import publish_dir_fixture  # noqa: F401 - fixture
from tests.scans import scan_storage_fixture  # noqa: F401 - fixture
from tests.security_world import ROLES, TYPED_FIGURE, World, admin_object_ids, world_build
from tests.url_catalogue import Route, routes

pytestmark = pytest.mark.django_db

REDIRECTS = {"/admin/login/": "admin-login", "/accounts/login/": "login"}


@pytest.fixture
def world(publish_dir: Any, scan_storage: Any) -> World:
    return world_build(publish_dir)


def outcome(response: HttpResponse) -> str:
    """The status as the matrix writes it."""
    if response.status_code in (301, 302):
        location = urlsplit(response["Location"]).path
        if "/accounts/second-factor/" in location:
            return "2fa"
        for marker, name in REDIRECTS.items():
            if marker in location:
                return name
    return str(response.status_code)


def paths(world: World) -> list[tuple[Route, str]]:
    ids = admin_object_ids()
    return [(route, route.path(world.parameters(route.name, ids))) for route in routes()]


def test_every_routed_url_is_in_the_matrix_and_nothing_else() -> None:
    routed = {route.name for route in routes()}

    assert sorted(routed - MATRIX.keys()) == [], "routed, but nobody said who may open it"
    assert sorted(MATRIX.keys() - routed) == [], "in the matrix, but no longer routed"


def test_each_role_gets_the_status_the_matrix_says(world: World) -> None:
    wrong = []
    for route, path in paths(world):
        expected = MATRIX.get(route.name, "").split()
        got = [outcome(world.clients[role].get(path)) for role in ROLES]
        if got != expected:
            wrong.append(f"{route.name} {path}: expected {expected}, got {got}")

    assert wrong == []


def test_no_typed_figure_of_an_unaccepted_entry_reaches_a_reader_or_the_other_clerk(
    world: World, publish_dir: Path
) -> None:
    assert world.scan is not None
    scan_hash = world.scan.sha256
    with scan_open(world.scan) as file:
        scan_bytes = file.read()

    def secret(body: bytes) -> bool:
        text = body.decode("utf-8", "replace")
        return bool(TYPED_FIGURE.search(text)) or scan_hash in text or scan_bytes in body

    seen = []
    for _route, path in paths(world):
        for role in ("anonymous", "clerk_b", "observer"):
            for language in ("", "/en"):
                url = f"{language}{path}" if not path.startswith("/api/") else path
                response = world.clients[role].get(url)
                body = b"".join(getattr(response, "streaming_content", [response.content]))
                if response.status_code == 200 and secret(body):
                    seen.append(f"{role} {url}")
    published = [
        str(file.relative_to(publish_dir))
        for file in Path(settings.PUBLISH_DIR).rglob("*")
        if file.is_file() and secret(file.read_bytes())
    ]

    assert seen == []
    assert published == []
    # The sweep can see it: the clerk who typed it and the commission do.
    station = f"/entry/{world.setup.election.slug}/{world.setup.station.code}/"
    own = world.clients["clerk_a"].get(station).content.decode()
    assert TYPED_FIGURE.search(own)
    assert scan_hash in own
    commission = f"/commission/{world.setup.election.slug}/stations/{world.setup.station.code}/"
    assert scan_hash in world.clients["member_2fa"].get(commission).content.decode()
