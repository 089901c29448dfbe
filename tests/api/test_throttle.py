"""The public read throttle counts per client, and a client is its real
address: REMOTE_ADDR, or the address the one trusted proxy appended. What a
client writes in X-Forwarded-For cannot make it someone else, and requests
sent at the same moment are counted one by one."""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.test import Client
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from tabulation.api.results import PublicReadThrottle

URL = "/api/v1/elections/"


@pytest.fixture
def rate_3_per_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(PublicReadThrottle, "rate", "3/min")


def new_address() -> str:
    """An address of the documentation range no other test (or earlier run,
    the cache outlives a run) has counted."""
    part = uuid.uuid4().hex
    return f"2001:db8:{part[:4]}:{part[4:8]}:{part[8:12]}:{part[12:16]}:{part[16:20]}:1"


def test_a_different_x_forwarded_for_on_each_request_is_still_throttled(
    client: Client, rate_3_per_minute: None
) -> None:
    address = new_address()

    throttled = [
        client.get(URL, REMOTE_ADDR=address, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}").status_code == 429
        for n in range(5)
    ]

    assert throttled == [False, False, False, True, True]


def test_behind_the_trusted_proxy_the_address_it_appended_counts_not_the_client_s(
    client: Client, rate_3_per_minute: None, settings
) -> None:
    settings.TRUSTED_PROXY_HEADER = "HTTP_X_FORWARDED_FOR"
    proxy, reader, other_reader = "10.0.0.2", new_address(), new_address()

    forged = [
        client.get(
            URL, REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, {reader}"
        ).status_code
        == 429
        for n in range(5)
    ]
    other = client.get(URL, REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=other_reader)

    assert forged == [False, False, False, True, True]
    assert other.status_code != 429


def test_without_a_trusted_proxy_header_the_header_is_ignored(
    client: Client, rate_3_per_minute: None
) -> None:
    address = new_address()

    throttled = [
        client.get(URL, REMOTE_ADDR=address, HTTP_X_FORWARDED_FOR=new_address()).status_code == 429
        for _ in range(4)
    ]

    assert throttled == [False, False, False, True]


def test_sixteen_requests_at_the_same_moment_pass_no_more_than_the_rate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(PublicReadThrottle, "rate", "5/min")
    address = new_address()
    factory = APIRequestFactory()
    start = threading.Barrier(16)

    def attempt(_: int) -> bool:
        request = Request(factory.get(URL, REMOTE_ADDR=address))
        throttle = PublicReadThrottle()
        start.wait()
        return throttle.allow_request(request, None)

    with ThreadPoolExecutor(max_workers=16) as pool:
        allowed = list(pool.map(attempt, range(16)))

    assert sum(allowed) == 5


def test_a_throttled_client_is_told_when_to_come_back(
    client: Client, rate_3_per_minute: None
) -> None:
    address = new_address()
    responses = [client.get(URL, REMOTE_ADDR=address) for _ in range(4)]

    assert responses[-1].status_code == 429
    assert 1 <= int(responses[-1]["Retry-After"]) <= 60


def address_of(**meta: str) -> str | None:
    from tabulation.api.results import client_address

    return client_address(APIRequestFactory().get(URL, **meta))


def test_the_client_address_is_the_connection_s_without_a_trusted_proxy(settings) -> None:
    settings.TRUSTED_PROXY_HEADER = ""

    assert address_of(REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="1.2.3.4") == (
        "198.51.100.7"
    )


def test_behind_the_proxy_the_last_address_counts_and_garbage_falls_back(settings) -> None:
    settings.TRUSTED_PROXY_HEADER = "HTTP_X_FORWARDED_FOR"

    last = address_of(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7")
    garbage = address_of(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7, not-an-ip")
    direct = address_of(REMOTE_ADDR="198.51.100.9")

    assert (last, garbage, direct) == ("198.51.100.7", "10.0.0.2", "198.51.100.9")


def test_an_ipv6_client_is_counted_by_its_64(client: Client, rate_3_per_minute: None) -> None:
    network = new_address().rsplit(":", 4)[0]  # the first 64 bits, fresh

    throttled = [
        client.get(URL, REMOTE_ADDR=f"{network}:{n}:{n}:{n}:{n}").status_code == 429
        for n in range(1, 5)
    ]

    assert throttled == [False, False, False, True]


@pytest.mark.django_db
def test_the_entry_api_is_limited_per_clerk_not_per_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from tabulation.api.throttles import EntryThrottle
    from tests.views.entry_setup import entry_setup

    monkeypatch.setattr(EntryThrottle, "rate", "3/min")
    setup = entry_setup()
    url = f"/api/v1/elections/{setup.election.slug}/stations/"

    def client_of(user: object) -> APIClient:
        client = APIClient(REMOTE_ADDR="192.0.2.77")  # one polling station's address
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
        return client

    first, second = client_of(setup.clerk1), client_of(setup.clerk2)
    statuses = [first.get(url).status_code for _ in range(5)]

    assert statuses == [200, 200, 200, 429, 429]
    assert first.get(url).headers["Retry-After"]
    assert second.get(url).status_code == 200
