"""Conditional responses for what is published: one ETag and Last-Modified rule.

The results pages, the open-data files and the read API all answer from a
published snapshot, which never changes once written. So a response is named
by its election, its snapshot version and what it shows of it (the page, a
file, a station, the language), and dated by the snapshot's ``published_at``:
a client or CDN that holds that name gets a bodiless 304, and nothing is
rendered or encoded for it.
"""

from collections.abc import Callable
from datetime import datetime

from django.http import HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date

# How long a browser or CDN may reuse a response without asking: short, so a
# new snapshot reaches readers within seconds, long enough to absorb a crowd.
MAX_AGE_SECONDS = 5


def snapshot_etag(slug: str, version: int | str, *parts: str) -> str:
    """``"<slug>-v<version>[-<part>...]"``: one snapshot, one view of it."""
    return '"{}"'.format("-".join([slug, f"v{version}", *parts]))


def _timestamp(published_at: str | None) -> int | None:
    # HTTP dates have whole seconds.
    return int(datetime.fromisoformat(published_at).timestamp()) if published_at else None


def conditional_response(
    request: HttpRequest,
    *,
    etag: str,
    published_at: str | None,
    build: Callable[[], HttpResponse],
) -> HttpResponse:
    """``build()`` the response unless the client already holds ``etag``;
    either way with the ETag, Last-Modified and a short public max-age. An
    error that ``build()`` answers (a PDF renderer that is down) is none of
    these: it goes out as it is, for no cache to keep."""
    last_modified = _timestamp(published_at)
    response = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if response is None:
        response = build()
        if response.status_code != 200:
            return response
    response["ETag"] = etag
    if last_modified is not None:
        response["Last-Modified"] = http_date(last_modified)
    patch_cache_control(response, public=True, max_age=MAX_AGE_SECONDS)
    return response
