"""The read side: published snapshots, as the public pages and the read API see them.

This module is the ONLY way the results page, the open data and the read API
get at results. It never touches the write tables: it reads what publishing
(``tabulation/services/publishing.py``) wrote, under the names fixed in
docs/results-format.md ("The read side"):

- the cache first (``results:<slug>:latest``, ``results:<slug>:v<version>``,
  ``results:<slug>:stations:v<version>``, ``results:<slug>:versions``);
- the files in ``PUBLISH_DIR`` as the fallback, so a restarted Redis costs a
  file read, never a wrong or missing page.

A file read for an immutable entry (one version) is put back into the cache
with ``cache.add``: ``add`` never overwrites, so a reader holding an older file
cannot push back a newer entry that publishing has just set. ``latest`` is
backfilled the same way; publishing always ``set``s it, so the newer snapshot
wins whichever order the two happen in.
"""

import json
import re
import threading
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache

from tabulation.domain.fingerprint import fingerprint_document

# Slugs come from URLs; only these characters may reach a file path, so a
# crafted slug can never walk out of PUBLISH_DIR.
_SAFE_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def _publish_dir() -> Path:
    return Path(settings.PUBLISH_DIR)


def _read_json(path: Path) -> Any | None:
    try:
        with path.open("rb") as handle:
            return json.load(handle)
    except (FileNotFoundError, NotADirectoryError):
        return None


def _cached_or_file(key: str, paths: list[Path]) -> Any | None:
    value = cache.get(key)
    if value is not None:
        return value
    for path in paths:
        value = _read_json(path)
        if value is not None:
            cache.add(key, value, timeout=None)
            return value
    return None


def _valid(slug: str, version: int | None) -> bool:
    return bool(_SAFE_SLUG.match(slug)) and (version is None or version >= 1)


# The latest document per election, kept in this process for a moment: under a
# crowd, one cache round trip per second per process instead of one per
# request. Only callers that may be that stale ask for it (``fresh_within``);
# the read API may already be a few seconds stale (Cache-Control max-age).
_RECENT: dict[str, tuple[float, dict[str, Any]]] = {}
_RECENT_LOCK = threading.Lock()


def published_memo_clear() -> None:
    """Forget the documents held in this process (tests that publish twice)."""
    with _RECENT_LOCK:
        _RECENT.clear()


def published_results_get(
    slug: str, version: int | None = None, *, fresh_within: float = 0.0
) -> dict[str, Any] | None:
    """The published document of ``slug`` (the latest, or ``version``); None if none.

    ``fresh_within``: seconds; the latest document may come from this
    process's memory if it was read from the cache no longer ago than that.
    """
    if not _valid(slug, version):
        return None
    folder = _publish_dir() / slug
    if version is None:
        now = time.monotonic()
        if fresh_within > 0:
            recent = _RECENT.get(slug)
            if recent is not None and now - recent[0] <= fresh_within:
                return recent[1]
        document = _cached_or_file(f"results:{slug}:latest", [folder / "results.json"])
        if document is not None:
            with _RECENT_LOCK:
                _RECENT[slug] = (now, document)
        return document
    document = _cached_or_file(
        f"results:{slug}:v{version}",
        [folder / "snapshots" / str(version) / "results.json", folder / "results.json"],
    )
    # The top-level results.json is the fallback only when it is that version.
    if document is not None and document.get("version") != version:
        return None
    return document


def _version_paths(slug: str, version: int, name: str) -> list[Path]:
    """Where file ``name`` of ``version`` is: its snapshot's folder, then the
    top-level copy while ``version`` is the latest."""
    folder = _publish_dir() / slug
    paths = [folder / "snapshots" / str(version) / name]
    top = published_results_get(slug)
    if top is not None and top.get("version") == version:
        paths.append(folder / name)
    return paths


def published_stations_list(slug: str, version: int | None = None) -> list[dict[str, Any]] | None:
    """The station rows published beside a snapshot (the latest, or ``version``)."""
    if not _valid(slug, version):
        return None
    if version is None:
        latest = published_results_get(slug)
        if latest is None:
            return None
        version = int(latest["version"])
    rows = _cached_or_file(
        f"results:{slug}:stations:v{version}", _version_paths(slug, version, "stations.json")
    )
    # The file may wrap the rows with the version they belong to.
    if isinstance(rows, dict):
        rows = rows.get("stations")
    return rows


def published_versions_list(slug: str) -> list[dict[str, Any]]:
    """Every published version of ``slug``: ``{version, status, published_at}``, oldest first."""
    if not _valid(slug, None):
        return []
    versions = cache.get(f"results:{slug}:versions")
    if versions is not None:
        return list(versions)
    # No index in the cache: rebuild it from the snapshot folders. Not put
    # back: the next publish sets it, and a partial index must never stick.
    found: dict[int, dict[str, Any]] = {}
    folder = _publish_dir() / slug
    documents = [_read_json(path) for path in sorted(folder.glob("snapshots/*/results.json"))]
    documents.append(_read_json(folder / "results.json"))
    for document in documents:
        if document:
            found[int(document["version"])] = {
                "version": int(document["version"]),
                "status": document["status"],
                "published_at": document["published_at"],
            }
    return [found[number] for number in sorted(found)]


def published_elections_list() -> list[dict[str, Any]]:
    """Every election with a published snapshot: ``{slug, name, date, seats, status}``."""
    elections = _read_json(_publish_dir() / "elections.json")
    return list(elections or [])


def iso_date(value: Any) -> date | None:
    """A published ISO date as a date (None when blank or not a date)."""
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def iso_datetime(value: Any) -> datetime | None:
    """A published ISO timestamp as a datetime (None when blank or malformed)."""
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def published_fingerprint_get(slug: str, version: int) -> dict[str, Any] | None:
    """The fingerprint published beside snapshot ``version`` (fingerprint.json).
    A snapshot published before there was one has it counted from its
    station rows, so every version's pages draw it; None without rows."""
    if not _valid(slug, version):
        return None
    fingerprint = _cached_or_file(
        f"results:{slug}:fingerprint:v{version}", _version_paths(slug, version, "fingerprint.json")
    )
    if fingerprint is None:
        stations = published_stations_list(slug, version)
        if stations is not None:
            fingerprint = fingerprint_document(version, stations)
    return fingerprint
