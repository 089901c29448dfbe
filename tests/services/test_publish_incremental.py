"""A night of small changes publishes, for its latest version, exactly what
one run from scratch publishes: every file, the pages included, byte for
byte. A run reads only the records it has not seen before
(selectors/tabulation.py) and its pages task writes only the pages that
changed (services/site_pages.py)."""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.conf import settings
from django.core.cache import cache

from tabulation import models
from tabulation.selectors.published import (
    published_memo_clear,
    published_results_get,
    published_stations_list,
    published_versions_list,
)
from tabulation.selectors.tabulation import records_memo_clear
from tabulation.services import site_pages
from tabulation.services import tabulation as service
from tabulation.services.publishing import snapshot_publish
from tests.factories_records import random_votes, record_accept, run_as_a_worker, small_election

pytestmark = [pytest.mark.django_db, pytest.mark.site_pages]


@pytest.fixture(autouse=True)
def _read_side(settings: Any, tmp_path: Path) -> Iterator[None]:
    settings.PUBLISH_DIR = tmp_path / "published"
    cache.clear()
    published_memo_clear()
    with mock.patch.object(service, "tabulation_enqueue", return_value=True):
        yield
    cache.clear()
    published_memo_clear()


def files_of_latest(root: Path, slug: str, version: int) -> dict[str, bytes]:
    """Every published file that belongs to the latest version: the top-level
    files, the version's folder, the latest pages and the version's own."""
    found = {}
    for path in root.rglob("*"):
        name = str(path.relative_to(root))
        if not path.is_file() or path.name.startswith("."):
            continue
        if "/snapshots/" in name and f"/snapshots/{version}/" not in name:
            continue
        if "/v" in name and f"/v{version}/" not in name:
            continue  # an earlier version's page
        found[name] = path.read_bytes()
    return found


def test_many_small_runs_publish_what_one_run_from_scratch_publishes() -> None:
    made = small_election(municipalities=3, stations_per_municipality=4, lists=4, seats=9)
    rng = random.Random(11)
    slug = made.election.slug
    root = Path(settings.PUBLISH_DIR)
    # One record a run, a finding raised on a counted round, more records.
    for station in made.stations[:8]:
        record_accept(made.rounds[station.code], random_votes(rng, made.lists, 1000))
        run_as_a_worker(made.election)
    models.Finding.objects.create(
        round=made.rounds[made.stations[2].code], code="W2", category="W", message_params={}
    )
    run_as_a_worker(made.election)
    for station in made.stations[8:11]:
        record_accept(made.rounds[station.code], random_votes(rng, made.lists, 1000))
        run_as_a_worker(made.election)
    latest = models.ResultSnapshot.objects.filter(election=made.election).latest("version")
    assert latest.version == 12
    after_small_runs = files_of_latest(root, slug, latest.version)

    # From scratch: nothing published, nothing remembered (the records read
    # by the runs), the latest snapshot published once from the tables.
    shutil.rmtree(root)
    cache.clear()
    published_memo_clear()
    records_memo_clear()
    snapshot_publish(snapshot=latest)
    site_pages.site_pages_fill(slug)
    from_scratch = files_of_latest(root, slug, latest.version)

    assert sorted(after_small_runs) == sorted(from_scratch)
    assert f"site/results/{slug}/stations/{made.stations[2].code}/index.html" in from_scratch
    assert f"site/en/results/{slug}/municipalities/{made.municipalities[0].code}/index.html" in (
        from_scratch
    )
    for name, content in from_scratch.items():
        assert after_small_runs[name] == content, name


def test_a_run_publishes_the_data_and_leaves_the_pages_to_their_task() -> None:
    made = small_election(municipalities=2, stations_per_municipality=2, lists=3, seats=7)
    slug = made.election.slug
    root = Path(settings.PUBLISH_DIR)
    record_accept(
        made.rounds[made.stations[0].code], random_votes(random.Random(1), made.lists, 900)
    )

    with mock.patch.object(service, "_send", return_value=True) as sent:
        assert service.tabulation_run(election_id=made.election.pk) == "done"

    assert sent.call_args_list == [
        mock.call(service.SITE_PAGES_TASK, made.election.pk, countdown=service.PAGES_AFTER_SECONDS)
    ]
    assert json.loads((root / slug / "results.json").read_bytes())["version"] == 1
    assert not (root / "site").exists() and site_pages.pages_version(slug) == 0
    assert site_pages.site_pages_latest(slug) == 1
    assert site_pages.pages_version(slug) == 1
    assert (root / "site" / "en" / "results" / slug / "index.html").exists()
    # Twice, or late: nothing more to write.
    assert site_pages.site_pages_latest(slug) is None


def test_pages_never_go_back_to_an_older_version() -> None:
    made = small_election(municipalities=2, stations_per_municipality=2, lists=3, seats=7)
    slug = made.election.slug
    rng = random.Random(2)
    for station in made.stations[:2]:
        record_accept(made.rounds[station.code], random_votes(rng, made.lists, 900))
        with mock.patch.object(service, "_send", return_value=True):
            service.tabulation_run(election_id=made.election.pk)
    latest = Path(settings.PUBLISH_DIR) / "site" / "en" / "results" / slug / "index.html"

    # Both versions' data are out; one pages task writes version 2's pages
    # and version 1's own page.
    assert site_pages.site_pages_latest(slug) == 2
    page = latest.read_bytes()
    assert (latest.parent / "v1" / "index.html").exists()
    # A publisher of version 1 that found it the latest before version 2
    # went out (two workers) reaches its pages last: it writes version 1's
    # own page only, and the latest pages stay version 2's.
    site_pages.site_pages_publish(
        document=published_results_get(slug, 1),
        stations=published_stations_list(slug, 1),
        versions=published_versions_list(slug),
        latest=True,
    )

    assert site_pages.pages_version(slug) == 2
    assert latest.read_bytes() == page


def test_the_beat_writes_the_pages_of_a_run_whose_pages_task_was_lost() -> None:
    made = small_election(municipalities=2, stations_per_municipality=2, lists=3, seats=7)
    slug = made.election.slug
    record_accept(
        made.rounds[made.stations[0].code], random_votes(random.Random(3), made.lists, 900)
    )
    with mock.patch.object(service, "_send", return_value=False):  # the broker refused
        assert service.tabulation_run(election_id=made.election.pk) == "done"
    assert site_pages.pages_version(slug) == 0

    site_pages.site_pages_fill_idle()

    assert site_pages.pages_version(slug) == 1


def test_a_burst_of_runs_asks_for_the_pages_once() -> None:
    made = small_election(municipalities=2, stations_per_municipality=2, lists=3, seats=7)
    rng = random.Random(4)
    with mock.patch.object(service, "_send", return_value=True) as sent:
        for station in made.stations[:3]:
            record_accept(made.rounds[station.code], random_votes(rng, made.lists, 900))
            assert service.tabulation_run(election_id=made.election.pk) == "done"

    # Three versions published; one task, which writes the latest (and the
    # own pages of the two before it) when it runs.
    assert models.ResultSnapshot.objects.filter(election=made.election).count() == 3
    assert sent.call_args_list == [
        mock.call(service.SITE_PAGES_TASK, made.election.pk, countdown=service.PAGES_AFTER_SECONDS)
    ]
    assert site_pages.site_pages_latest(made.election.slug) == 3
