"""The public pages of a published snapshot, as files (docs/tabulation.md).

Publishing (services/publishing.py) calls ``site_pages_publish`` once a
snapshot's data files and cache entries are in place. The pages are rendered
by the very functions the views answer with (views/results.py: no request,
so nothing of a reader gets in), in each language of the site, and written
under ``PUBLISH_DIR/site/`` at their own addresses: ``/en/results/<slug>/``
is ``site/en/results/<slug>/index.html``. nginx serves them from there
(docker/nginx/commission.conf.template); Django renders the same bytes when
a file is not there.

- A version's own results page (``v<n>/``) is written once and never
  replaced: a public record, as the version's data files are. Its other
  pages (``v<n>/municipalities/...``, ``v<n>/stations/...``) are Django's,
  rendered on demand from the version's files: written for every version,
  they would cost a run seconds at Belgrade scale.
- The latest results page and its live part are replaced with every newer
  snapshot, each atomically.
- A municipality's or a station's latest page is written only when what it
  shows changed (``municipality_page_inputs``, ``station_page_inputs`` in
  views/results.py: its rows, its paper record, the document's status...),
  found by a digest of each kept in ``site/<slug>.pages.json``. So a run
  after one new record writes the pages of one municipality and one
  station. Publishing and the paper record (services/scans.py) both update
  them, so they take turns on a lock file.
- ``<slug>/version.json``, what a results page polls, is written last: a
  reader that sees the new version finds every live part already there.
- A tabulation run publishes the data files and the cache, then asks for
  the pages in a task of their own (``site_pages_latest``, task
  ``tabulation.site_pages``): rendering them costs several times the rest
  of a run, and the JSON should not wait for it. Pages of one election are
  written by one process at a time (a lock file), and never for a version
  older than the one ``version.json`` already names, so a late task cannot
  put an older picture back.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation

from tabulation.models import Election, TabulationState
from tabulation.selectors.published import (
    published_results_get,
    published_stations_list,
    published_versions_list,
)
from tabulation.selectors.scans import published_paper_get
from tabulation.services.publishing import _write_atomic, _write_once, version_in
from tabulation.views import results as pages
from tabulation.views.scans import station_paper_shown

SITE_FOLDER = "site"
# The latest municipality and station pages one pages task writes at most, each in
# every language (about 10 ms a page and language at Belgrade scale). The
# first snapshot of a night has every station page to write (8,300 at
# Serbia scale): written at once they would hold the run, and freshness,
# for minutes. The rest are Django's until a later run or the beat's
# ``site_pages_fill_idle`` writes them.
PAGES_PER_RUN = 60
VERSION_FILE = "version.json"
# How long the beat's fill goes on writing batches of pages, of the 30 s
# between two beats (site_pages_fill_idle).
FILL_SECONDS = 10.0


def site_languages() -> list[str]:
    """Every language of the site; each has its pages (its URL prefix)."""
    return [code for code, _name in settings.LANGUAGES]


def site_file(address: str) -> Path:
    """The file of a page's address: ``/en/results/x/`` is
    ``PUBLISH_DIR/site/en/results/x/index.html``."""
    return Path(settings.PUBLISH_DIR) / SITE_FOLDER / address.strip("/") / "index.html"


def _write_page_once(address: str, render: Callable[[], bytes]) -> None:
    path = site_file(address)
    if not path.exists():  # rendered only when not on record yet
        _write_once(path, render())


def _digest(inputs: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()


@contextmanager
def _lock_file(name: str) -> Iterator[Path]:
    """``PUBLISH_DIR/site/.<name>.lock``, held by this process alone until
    the block ends (the site folder, yielded, is shared by every worker and
    web process on the published volume)."""
    folder = Path(settings.PUBLISH_DIR) / SITE_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f".{name}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield folder
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextmanager
def _digests_locked(slug: str) -> Iterator[dict[str, str]]:
    """The digests of ``slug``'s latest municipality and station pages
    (``m:<code>``, ``s:<code>``), held by this process alone until the block
    ends, then saved."""
    with _lock_file(f"{slug}.pages") as folder:
        path = folder / f"{slug}.pages.json"
        try:
            digests = json.loads(path.read_bytes())
        except FileNotFoundError:
            digests = {}
        before = dict(digests)
        yield digests
        if digests != before:
            _write_atomic(path, json.dumps(digests, sort_keys=True).encode())


def _write_if_changed(
    digests: dict[str, str],
    key: str,
    inputs: dict[str, Any],
    address: Callable[[], str],
    render: Callable[[], bytes],
    budget: list[int],
) -> bool:
    """Write the latest page ``key`` in every language unless what it shows
    (``inputs``) is what it showed when last written; whether it was. With
    no ``budget`` left, a page that would change is removed instead: nginx
    then asks Django, which renders it from the same data, until a later
    run or the beat writes it (``site_pages_fill_idle``)."""
    digest = _digest(inputs)
    if digests.get(key) == digest:
        return False
    for language in site_languages():
        with translation.override(language):
            path = site_file(address())
            if budget[0] > 0:
                _write_atomic(path, render())
            else:
                path.unlink(missing_ok=True)
    if budget[0] <= 0:
        digests.pop(key, None)
        return False
    budget[0] -= 1
    digests[key] = digest
    return True


def _latest_pages_write(
    document: dict[str, Any],
    stations: list[dict[str, Any]],
    *,
    municipalities: bool = True,
    only: set[str] | None = None,
    budget: int | None = None,
) -> list[str]:
    """Write the latest page of each municipality (with ``municipalities``)
    and of each station (of those in ``only``, if given) whose page would
    change, ``budget`` pages at most; the keys written."""
    slug = document["election"]["slug"]
    written = []
    left = [PAGES_PER_RUN if budget is None else budget]
    with _digests_locked(slug) as digests:
        for key, inputs, address, render in _latest_pages(
            document, stations, municipalities=municipalities, only=only
        ):
            if _write_if_changed(digests, key, inputs(), address, render, left):
                written.append(key)
    return written


def _latest_pages(
    document: dict[str, Any],
    stations: list[dict[str, Any]],
    *,
    municipalities: bool,
    only: set[str] | None,
) -> Iterator[tuple[str, Callable[[], dict[str, Any]], Callable[[], str], Callable[[], bytes]]]:
    """Each latest municipality and station page: its key in the digests,
    what it shows, its address and its renderer (each called when needed)."""
    slug = document["election"]["slug"]
    # Each municipality's own rows, grouped once: the page functions keep
    # a municipality's rows of whatever list they get, and 174 municipalities
    # each filtering 8,300 rows cost a national night's task seconds.
    rows_of: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in stations:
        rows_of[row.get("municipality", "")].append(row)
    for municipality in document["municipalities"] if municipalities else ():
        code = municipality["code"]
        own = rows_of[code]
        yield (
            f"m:{code}",
            partial(pages.municipality_page_inputs, document, municipality, own),
            partial(reverse, "results:municipality", args=[slug, code]),
            partial(pages.municipality_html, document, municipality, own, latest=True),
        )
    for station in stations:
        code = station["code"]
        if only is not None and code not in only:
            continue
        paper = station_paper_shown(published_paper_get(slug, code))
        yield (
            f"s:{code}",
            partial(pages.station_page_inputs, document, station, paper),
            partial(reverse, "results:station", args=[slug, code]),
            partial(pages.station_html, document, station, paper, latest=True),
        )


def site_pages_publish(
    *,
    document: dict[str, Any],
    stations: list[dict[str, Any]] | None,
    versions: list[dict[str, Any]],
    latest: bool,
) -> None:
    """Write the pages of ``document`` (see the module's docstring);
    ``latest``: whether it is the latest published version, whose pages
    replace the latest ones. Without its station rows, its municipalities'
    pages and the stations' are left to Django. Nothing when
    PUBLISH_SITE_PAGES is off (commission/settings.py)."""
    if not settings.PUBLISH_SITE_PAGES:
        return
    slug = document["election"]["slug"]
    with _site_locked(slug):
        _pages_write(document, stations, versions, latest=latest)


def _pages_write(
    document: dict[str, Any],
    stations: list[dict[str, Any]] | None,
    versions: list[dict[str, Any]],
    *,
    latest: bool,
) -> None:
    slug = document["election"]["slug"]
    version = document["version"]
    # Pages of a later version went out meanwhile: this one's own page
    # only. (The same version again writes its latest pages again.)
    latest = latest and pages_version(slug) <= version
    for language in site_languages():
        with translation.override(language):
            _write_page_once(
                reverse("results:election-version", args=[slug, version]),
                lambda: pages.election_html(document, versions, latest=False),
            )
            if latest:
                live = pages.live_html(document)
                _write_atomic(site_file(reverse("results:live", args=[slug])), live)
                _write_atomic(
                    site_file(reverse("results:election", args=[slug])),
                    pages.election_html(document, versions, latest=True, live=live),
                )
    if not latest:
        return
    if stations is not None:
        _latest_pages_write(document, stations)
    _write_atomic(Path(settings.PUBLISH_DIR) / slug / VERSION_FILE, pages.version_json(document))


@contextmanager
def _site_locked(slug: str) -> Iterator[None]:
    """One writer of ``slug``'s pages at a time, across processes."""
    with _lock_file(f"{slug}.site"):
        yield


def pages_version(slug: str) -> int:
    """The version whose pages are out (``version.json``); 0 before any."""
    return version_in(Path(settings.PUBLISH_DIR) / slug / VERSION_FILE)


def site_pages_latest(slug: str) -> int | None:
    """Write the pages of ``slug``'s latest published version unless they
    are out already (task ``tabulation.site_pages``, after each run), and
    the own page of each version published since the last pages went out;
    the latest version written, or None. Reads what is published, never the
    tables: the pages show exactly the published files."""
    if not settings.PUBLISH_SITE_PAGES:
        return None
    with _site_locked(slug):
        document = published_results_get(slug)
        done = pages_version(slug)
        if document is None or done >= document["version"]:
            return None
        versions = published_versions_list(slug)
        for item in versions:
            # Coalesced runs publish several versions before this task runs.
            if done < int(item["version"]) < int(document["version"]):
                earlier = published_results_get(slug, int(item["version"]))
                if earlier is not None:
                    _pages_write(earlier, None, versions, latest=False)
        stations = published_stations_list(slug, document["version"])
        _pages_write(document, stations, versions, latest=True)
        return int(document["version"])


def _latest_refresh(slug: str, **options: Any) -> list[str]:
    if not settings.PUBLISH_SITE_PAGES:
        return []
    document = published_results_get(slug)
    stations = published_stations_list(slug)
    if document is None or stations is None:
        return []
    return _latest_pages_write(document, stations, **options)


def site_station_pages_refresh(slug: str, codes: set[str] | None = None) -> list[str]:
    """Write again the latest pages of the stations whose paper record
    changed (services/scans.py calls it after ``paper.json``); the codes
    written. Nothing before a snapshot is published."""
    written = _latest_refresh(slug, municipalities=False, only=codes)
    return [key.removeprefix("s:") for key in written]


def _busy_elections() -> QuerySet[TabulationState, Any]:
    """The elections a run holds or wants (as ids, for ``pk__in``)."""
    return TabulationState.objects.filter(
        Q(pending=True) | Q(lease_expires_at__gt=timezone.now())
    ).values("election_id")


def site_pages_fill_idle(seconds: float = FILL_SECONDS) -> dict[str, int]:
    """The latest pages that runs left to Django, for each election whose
    tabulation is idle (no run holds it and none is wanted), batch after
    batch (PAGES_PER_RUN) for ``seconds`` at most, the first batch always.
    The beat calls it every 30 s (``tasks.site_pages_fill``), so a night's
    first snapshot, and the official one, which changes every page, have
    every page as a file soon after without holding back a run: an election
    that gets busy is left after the batch in hand. The slugs written to,
    with how many pages each (none when PUBLISH_SITE_PAGES is off: see
    ``_latest_refresh``)."""
    deadline = time.monotonic() + seconds
    filled: dict[str, int] = {}
    for slug in Election.objects.exclude(pk__in=_busy_elections()).values_list("slug", flat=True):
        # The latest version's own pages first, should its task have been
        # lost (a broker down, a worker killed).
        site_pages_latest(slug)
        while written := _latest_refresh(slug):
            filled[slug] = filled.get(slug, 0) + len(written)
            busy = _busy_elections().filter(election__slug=slug).exists()
            if busy or time.monotonic() >= deadline:
                break
    return filled


def site_pages_fill(slug: str) -> int:
    """Write every latest page that is missing or out of date, PAGES_PER_RUN
    at a time (so that a run's publishing waits on the lock for one batch
    at most); how many were written."""
    total = 0
    while written := _latest_refresh(slug):
        total += len(written)
    return total
