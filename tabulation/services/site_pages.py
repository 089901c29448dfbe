"""The public pages of a published snapshot, as files (docs/tabulation.md).

Publishing (services/publishing.py) calls ``site_pages_publish`` once a
snapshot's data files and cache entries are in place. The pages are rendered
by the very functions the views answer with (views/results.py: no request,
so nothing of a reader gets in), in each language of the site, and written
under ``PUBLISH_DIR/site/`` at their own addresses: ``/en/results/<slug>/``
is ``site/en/results/<slug>/index.html``. nginx serves them from there
(docker/nginx/commission.conf.template); Django renders the same bytes when
a file is not there.

- A version's own pages (``v<n>/``, its municipalities' ``v<n>/municipalities/
  <code>/``) are written once and never replaced: a public record, as the
  version's data files are.
- The latest pages (the results page, its live part, each municipality's
  page) are replaced with every newer snapshot, each atomically.
- A station's latest page is written only when what it shows changed
  (``station_page_inputs``: its row, its paper record, the document's
  status), found by a digest of each kept in ``site/<slug>.stations.json``.
  Publishing and the paper record (services/scans.py) both update them,
  so they take turns on a lock file.
- ``<slug>/version.json``, what a results page polls, is written last: a
  reader that sees the new version finds every live part already there.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import translation

from tabulation.selectors.published import published_results_get, published_stations_list
from tabulation.services.publishing import _write_atomic, _write_once
from tabulation.views import results as pages
from tabulation.views.scans import station_paper

SITE_FOLDER = "site"
VERSION_FILE = "version.json"


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
def _stations_locked(slug: str) -> Iterator[Path]:
    """The digests' file of ``slug``'s station pages, held by this process
    alone until the block ends (a lock beside it, as the files are shared
    by every worker and web process on the published volume)."""
    folder = Path(settings.PUBLISH_DIR) / SITE_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f".{slug}.stations.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield folder / f"{slug}.stations.json"
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _station_pages_write(
    document: dict[str, Any], stations: list[dict[str, Any]], *, only: set[str] | None = None
) -> list[str]:
    """Write the latest page of each station whose page would change (of
    those in ``only``, if given); the codes written."""
    slug = document["election"]["slug"]
    written = []
    with _stations_locked(slug) as digests_path:
        try:
            digests = json.loads(digests_path.read_bytes())
        except FileNotFoundError:
            digests = {}
        for station in stations:
            code = station["code"]
            if only is not None and code not in only:
                continue
            paper, _part = station_paper(slug, code)
            digest = _digest(pages.station_page_inputs(document, station, paper))
            if digests.get(code) == digest:
                continue
            for language in site_languages():
                with translation.override(language):
                    address = reverse("results:station", args=[slug, code])
                    _write_atomic(
                        site_file(address),
                        pages.station_html(document, station, paper, latest=True),
                    )
            digests[code] = digest
            written.append(code)
        if written:
            _write_atomic(digests_path, json.dumps(digests, sort_keys=True).encode())
    return written


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
    pages and the stations' are left to Django."""
    slug = document["election"]["slug"]
    version = document["version"]
    rows = stations or []
    municipalities = document["municipalities"] if stations is not None else []
    for language in site_languages():
        with translation.override(language):
            _write_page_once(
                reverse("results:election-version", args=[slug, version]),
                lambda: pages.election_html(document, versions, latest=False),
            )
            for municipality in municipalities:
                code = municipality["code"]
                _write_page_once(
                    reverse("results:municipality-version", args=[slug, version, code]),
                    partial(pages.municipality_html, document, municipality, rows, latest=False),
                )
            if not latest:
                continue
            _write_atomic(
                site_file(reverse("results:election", args=[slug])),
                pages.election_html(document, versions, latest=True),
            )
            _write_atomic(
                site_file(reverse("results:live", args=[slug])), pages.live_html(document)
            )
            for municipality in municipalities:
                _write_atomic(
                    site_file(reverse("results:municipality", args=[slug, municipality["code"]])),
                    pages.municipality_html(document, municipality, rows, latest=True),
                )
    if not latest:
        return
    if stations is not None:
        _station_pages_write(document, stations)
    _write_atomic(Path(settings.PUBLISH_DIR) / slug / VERSION_FILE, pages.version_json(document))


def site_station_pages_refresh(slug: str, codes: set[str] | None = None) -> list[str]:
    """Write again the latest pages of the stations whose paper record
    changed (services/scans.py calls it after ``paper.json``); the codes
    written. Nothing before a snapshot is published."""
    document = published_results_get(slug)
    stations = published_stations_list(slug)
    if document is None or stations is None:
        return []
    return _station_pages_write(document, stations, only=codes)
