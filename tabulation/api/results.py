"""The public read API (v1): published results, snapshots and station records.

No login and no database: every view reads published snapshots through
``tabulation.selectors.published`` (cache first, files as the fallback), so a
crowd of readers never reaches the write tables. Each response carries an
ETag and Last-Modified; a client (or CDN) that already holds the version gets
a bodiless 304. Documents are sent as published, encoded to JSON once per
process and version (snapshots are immutable), because re-serialising a
published document on every request would spend the CPU a crowd needs.
"""

import hashlib
import ipaddress
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.filebased import FileBasedCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.memcached import BaseMemcachedCache
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django_redis.cache import RedisCache as DjangoRedisLibraryCache
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from tabulation.api.serializers_results import (
    ApiRootSerializer,
    PublishedElectionSerializer,
    PublishedElectionSummarySerializer,
    PublishedMandatesSerializer,
    PublishedResultsSerializer,
    PublishedSnapshotSerializer,
    PublishedStationSerializer,
)
from tabulation.selectors.open_data import json_bytes
from tabulation.selectors.published import (
    published_elections_list,
    published_results_get,
    published_stations_list,
    published_versions_list,
)
from tabulation.views.conditional import conditional_response, snapshot_etag

# The latest document may be this old in a worker's memory: well inside the
# staleness clients already accept, and it halves the cache round trips.
FRESH_WITHIN_SECONDS = 1.0

IF_NONE_MATCH = OpenApiParameter(
    name="If-None-Match",
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description="The ETag of a response you hold: an unchanged resource answers 304.",
)
NOT_MODIFIED = OpenApiResponse(description="Not modified: the ETag you sent is current.")
NOT_FOUND = OpenApiResponse(description="No such election, snapshot version or station.")
THROTTLED = OpenApiResponse(description="Too many requests from this client; see Retry-After.")


def read_responses(ok: Any, *, can_miss: bool = True) -> dict[int, Any]:
    """What every public read may answer: the document, 304 for a reader who
    holds it, 404 when the election or the item is unknown, 429 when throttled."""
    responses = {200: ok, 304: NOT_MODIFIED, 404: NOT_FOUND, 429: THROTTLED}
    if not can_miss:
        del responses[404]
    return responses


def _parsed_address(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def client_address(request: HttpRequest) -> str | None:
    """The client's address, as far as this server can trust it.

    REMOTE_ADDR is the other end of the connection: a client cannot choose
    it. X-Forwarded-For and its like are written by whoever sends the
    request, so they count only when settings.TRUSTED_PROXY_HEADER names the
    header our own reverse proxy sets, and then only its last address: the
    one the proxy appended, the peer it saw. Whatever stands to its left came
    from the client. Without the header the request did not pass the proxy,
    and its peer is the client. Used by the throttle, the login lockout
    (AXES_CLIENT_IP_CALLABLE) and the audit trail.
    """
    header = getattr(settings, "TRUSTED_PROXY_HEADER", "")
    forwarded = request.META.get(header, "") if header else ""
    if forwarded:
        appended = _parsed_address(forwarded.split(",")[-1])
        if appended is not None:
            return appended
    return _parsed_address(request.META.get("REMOTE_ADDR", ""))


def client_network(request: HttpRequest) -> str | None:
    """What one client controls: its IPv4 address, or the /64 of its IPv6
    address (a home or a server is given a whole /64, so counting single IPv6
    addresses would give one client 2**64 fresh starts). Given as the
    network's first address, so that it still reads as an IP address."""
    address = client_address(request)
    if address is None:
        return None
    parsed = ipaddress.ip_address(address)
    if parsed.version == 6 and parsed.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    return address


_COUNTER_LOCK = threading.Lock()


@contextmanager
def _counter_lock(cache: BaseCache) -> Iterator[None]:
    """Held while a counter is read and written back: by the threads of this
    process, and by every process that shares a file cache's folder."""
    with _COUNTER_LOCK:
        if not isinstance(cache, FileBasedCache):
            yield
            return
        import fcntl  # POSIX; the file cache is the embedded default's

        os.makedirs(cache._dir, exist_ok=True)
        with open(os.path.join(cache._dir, "counters.lock"), "a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)


def counter_increment(cache: BaseCache, key: str, *, timeout: int) -> int:
    """Add one to the counter at `key` and return the new count. Atomic: of
    callers that arrive together, each gets a count of its own.

    Redis (Django's backend or django-redis's, which the settings use),
    memcached and the local-memory cache increment atomically, and
    `add` creates a counter only if it is missing, so two first callers do
    not both start it at 1. Other backends (the embedded default's file
    cache) implement incr as a read and a write, so there the counter is
    read and written under a lock.
    """
    if isinstance(cache, DjangoRedisLibraryCache | RedisCache | BaseMemcachedCache | LocMemCache):
        try:
            return cache.incr(key)
        except ValueError:  # no counter yet
            if cache.add(key, 1, timeout):
                return 1
            return cache.incr(key)
    with _counter_lock(cache):
        count = int(cache.get(key, 0)) + 1
        cache.set(key, count, timeout)
        return count


class PublicReadThrottle(SimpleRateThrottle):
    """Per client, counted in the Django cache (Redis in production).

    A client is its user where there is one, else its trusted address
    (`client_network`): a fresh X-Forwarded-For does not make a new client.

    Generous: a results page polls every few seconds and a newsroom may sit
    behind one address; the limit is there to stop a runaway scraper.

    Counted as a sliding window over two fixed windows' counters, each
    increased atomically. DRF's own throttles read the list of recent
    requests, append and write it back: requests that arrive together all
    read the same list, and all pass. The previous window's count, weighted
    by the part of it still inside the last `duration` seconds, keeps a
    client from spending the rate twice around a window's edge.
    """

    scope = "public_read"
    rate = "600/min"

    def get_cache_key(self, request: Any, view: Any) -> str:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            ident = f"user-{user.pk}"
        else:
            ident = f"address-{client_network(request) or 'unknown'}"
        return f"throttle-{self.scope}-{ident}"

    def allow_request(self, request: Any, view: Any) -> bool:
        if self.rate is None:
            return True
        # The backend itself, not django.core.cache.cache (a proxy to it):
        # counter_increment looks at which backend it is.
        cache = caches[DEFAULT_CACHE_ALIAS]
        key = self.get_cache_key(request, view)
        window, elapsed = divmod(self.timer(), self.duration)
        count = counter_increment(cache, f"{key}-{int(window)}", timeout=2 * self.duration)
        previous = int(cache.get(f"{key}-{int(window) - 1}", 0))
        self.retry_after = self.duration - elapsed
        return previous * (self.duration - elapsed) / self.duration + count <= self.num_requests

    def wait(self) -> float:
        return self.retry_after


# Encoded bodies per (cache key, identity of the version): a version is
# immutable, so its bytes are too. Bounded, so a long-lived worker never grows.
_ENCODED: dict[tuple[str, ...], bytes] = {}
_ENCODED_MAX = 256


def _encoded(key: tuple[str, ...], data: Any) -> bytes:
    body = _ENCODED.get(key)
    if body is None:
        body = json_bytes(data)
        if len(_ENCODED) >= _ENCODED_MAX:
            _ENCODED.clear()
        _ENCODED[key] = body
    return body


def _identity(document: dict[str, Any]) -> tuple[str, ...]:
    """What names one published version, even across a reset demo that
    numbers its snapshots from 1 again."""
    return (
        document["election"]["slug"],
        str(document["version"]),
        document["published_at"],
        str(document.get("inputs_hash", "")),
    )


def _json_response(
    request: HttpRequest, *, etag: str, published_at: str | None, body: Any
) -> HttpResponse:
    """A cacheable JSON response, or 304 when the client holds ``etag``
    (tabulation/views/conditional.py). ``body`` is bytes, or a callable that
    makes them (only when needed)."""

    def build() -> HttpResponse:
        content = body() if callable(body) else body
        return HttpResponse(content, content_type="application/json")

    response = conditional_response(request, etag=etag, published_at=published_at, build=build)
    response["Access-Control-Allow-Origin"] = "*"  # open data: any site may read it
    return response


def _document_or_404(slug: str, version: int | None = None) -> dict[str, Any]:
    document = published_results_get(slug, version, fresh_within=FRESH_WITHIN_SECONDS)
    if document is None:
        raise NotFound("No published results for this election or version.")
    return document


def _latest_part_response(
    request: HttpRequest, slug: str, part: str, encode: Callable[[dict[str, Any]], bytes]
) -> HttpResponse:
    """One view (``part``) of the latest snapshot of ``slug``, encoded only
    when the client does not hold it already."""
    document = _document_or_404(slug)
    return _json_response(
        request,
        etag=snapshot_etag(slug, document["version"], part),
        published_at=document["published_at"],
        body=lambda: encode(document),
    )


class PublicReadView(APIView):
    """Anonymous, read-only, throttled; no authentication, so no session or
    token lookup can touch the database."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes = [PublicReadThrottle]


def _url(request: HttpRequest, name: str, *args: Any) -> str:
    return request.build_absolute_uri(reverse(name, args=args))


# Stand-ins that the URL patterns accept (a slug, an int), put where a
# template's {placeholder} goes and swapped for it after reversing.
_STAND_INS = {"slug": "slug-stand-in", "code": "code-stand-in", "version": "987654321"}


def _url_template(request: HttpRequest, name: str, *args: str) -> str:
    """An absolute URL where an argument written ``"{slug}"``, ``"{code}"``
    or ``"{version}"`` stays a placeholder (an RFC 6570 template)."""
    placeholders = {arg: _STAND_INS[arg.strip("{}")] for arg in args if arg.startswith("{")}
    url = _url(request, name, *(placeholders.get(arg, arg) for arg in args))
    for placeholder, stand_in in placeholders.items():
        url = url.replace(stand_in, placeholder)
    return url


class ApiRootView(PublicReadView):
    """What the API offers, as links: a client starts here and follows them."""

    @extend_schema(
        operation_id="root_retrieve",
        summary="The API's entry point: links to its endpoints",
        responses={200: ApiRootSerializer, 429: THROTTLED},
    )
    def get(self, request: Request) -> HttpResponse:
        links = {
            "elections": _url(request, "api-elections"),
            "election": _url_template(request, "api-election", "{slug}"),
            "results": _url_template(request, "api-results", "{slug}"),
            "snapshots": _url_template(request, "api-results-snapshots", "{slug}"),
            "snapshot": _url_template(request, "api-results-snapshot", "{slug}", "{version}"),
            "mandates": _url_template(request, "api-results-mandates", "{slug}"),
            "station": _url_template(request, "api-results-station", "{slug}", "{code}"),
            "schema": _url(request, "api-schema"),
            "docs": _url(request, "api-docs"),
        }
        response = HttpResponse(json_bytes({"version": "v1", "links": links}))
        response["Content-Type"] = "application/json"
        response["Access-Control-Allow-Origin"] = "*"
        return response


def _election_summary(request: HttpRequest, document: dict[str, Any]) -> dict[str, Any]:
    """An election as its latest snapshot gives it, and where to read more."""
    slug = document["election"]["slug"]
    return {
        **document["election"],
        "status": document["status"],
        "version": document["version"],
        "published_at": document["published_at"],
        "stations": {key: document["stations"][key] for key in ("counted", "total")},
        "links": {
            "results": _url(request, "api-results", slug),
            "snapshots": _url(request, "api-results-snapshots", slug),
            "mandates": _url(request, "api-results-mandates", slug),
            "station": _url_template(request, "api-results-station", slug, "{code}"),
        },
    }


class ElectionView(PublicReadView):
    @extend_schema(
        operation_id="elections_retrieve",
        summary="One election: its rules, the state of its latest snapshot, links to its results",
        parameters=[IF_NONE_MATCH],
        responses=read_responses(PublishedElectionSummarySerializer),
    )
    def get(self, request: Request, slug: str) -> HttpResponse:
        return _latest_part_response(
            request,
            slug,
            "election",
            lambda document: json_bytes(_election_summary(request, document)),
        )


class ElectionListView(PublicReadView):
    @extend_schema(
        operation_id="elections_list",
        summary="Elections with published results",
        parameters=[IF_NONE_MATCH],
        responses=read_responses(PublishedElectionSerializer(many=True), can_miss=False),
    )
    def get(self, request: Request) -> HttpResponse:
        elections = published_elections_list()
        body = json_bytes(elections)
        latest = [published_results_get(item["slug"]) for item in elections]
        stamps = [document["published_at"] for document in latest if document]
        newest = max(stamps, key=lambda stamp: datetime.fromisoformat(stamp)) if stamps else None
        etag = f'"elections-{hashlib.sha256(body).hexdigest()[:32]}"'
        return _json_response(request, etag=etag, published_at=newest, body=body)


class ResultsView(PublicReadView):
    @extend_schema(
        operation_id="elections_results_retrieve",
        summary="The latest published snapshot of an election",
        parameters=[IF_NONE_MATCH],
        responses=read_responses(PublishedResultsSerializer),
    )
    def get(self, request: Request, slug: str) -> HttpResponse:
        document = _document_or_404(slug)
        return _snapshot_response(request, document)


def _snapshot_response(request: HttpRequest, document: dict[str, Any]) -> HttpResponse:
    return _json_response(
        request,
        etag=snapshot_etag(document["election"]["slug"], document["version"]),
        published_at=document["published_at"],
        body=lambda: _encoded(("results", *_identity(document)), document),
    )


class SnapshotListView(PublicReadView):
    @extend_schema(
        operation_id="elections_snapshots_list",
        summary="Every published snapshot of an election, oldest first",
        parameters=[IF_NONE_MATCH],
        responses=read_responses(PublishedSnapshotSerializer(many=True)),
    )
    def get(self, request: Request, slug: str) -> HttpResponse:
        versions = published_versions_list(slug)
        if not versions:
            raise NotFound("No published results for this election.")
        newest = versions[-1]

        def body() -> bytes:
            items = [
                {
                    **item,
                    "url": request.build_absolute_uri(
                        reverse("api-results-snapshot", args=[slug, item["version"]])
                    ),
                }
                for item in versions
            ]
            return json_bytes(items)

        return _json_response(
            request,
            etag=snapshot_etag(slug, newest["version"], "snapshots"),
            published_at=newest["published_at"],
            body=body,
        )


class SnapshotView(PublicReadView):
    @extend_schema(
        operation_id="elections_snapshots_retrieve",
        summary="One published snapshot, by version",
        parameters=[IF_NONE_MATCH],
        responses=read_responses(PublishedResultsSerializer),
    )
    def get(self, request: Request, slug: str, version: int) -> HttpResponse:
        return _snapshot_response(request, _document_or_404(slug, version))


class StationView(PublicReadView):
    @extend_schema(
        operation_id="elections_stations_retrieve",
        summary="One polling station's published record and status (latest snapshot)",
        parameters=[IF_NONE_MATCH],
        responses=read_responses(PublishedStationSerializer),
    )
    def get(self, request: Request, slug: str, code: str) -> HttpResponse:
        document = _document_or_404(slug)
        rows = published_stations_list(slug, document["version"]) or []
        row = next((item for item in rows if item.get("code") == code), None)
        if row is None:
            raise NotFound("No such polling station in this election.")
        data = {"election": slug, "version": document["version"], **row}
        return _json_response(
            request,
            etag=snapshot_etag(slug, document["version"], "station", code),
            published_at=document["published_at"],
            body=lambda: json_bytes(data),
        )


def _mandates_of(document: dict[str, Any]) -> dict[str, Any]:
    """The councillors of a published document, by list: each list that won
    seats, in ballot order, with its ``mandates`` in list order."""
    certification = document.get("certification") or {}
    official = document["status"] == "official"
    return {
        "election": document["election"]["slug"],
        "version": document["version"],
        "status": document["status"],
        "published_at": document["published_at"],
        "certified_at": (
            (certification.get("certified_at") or document.get("certified_at"))
            if official
            else None
        ),
        "certified_by": (
            list(certification.get("certified_by") or document.get("certified_by") or ())
            if official
            else []
        ),
        "lists": [
            {
                "ballot_number": item["ballot_number"],
                "name": item["name"],
                "seats": item.get("seats", 0),
                "mandates": list(item.get("mandates") or ()),
            }
            for item in sorted(document["lists"], key=lambda item: item["ballot_number"])
            if item.get("seats") or item.get("mandates")
        ],
    }


class MandatesView(PublicReadView):
    @extend_schema(
        operation_id="elections_mandates_retrieve",
        summary="The councillors by list (latest snapshot): elected once the results are official",
        parameters=[IF_NONE_MATCH],
        responses=read_responses(PublishedMandatesSerializer),
    )
    def get(self, request: Request, slug: str) -> HttpResponse:
        return _latest_part_response(
            request,
            slug,
            "mandates",
            lambda document: _encoded(("mandates", *_identity(document)), _mandates_of(document)),
        )
