"""A night of small changes publishes, for its latest version, exactly what
one run from scratch publishes: every file, the pages included, byte for
byte (the pages of a run are only those that changed: services/site_pages.py)."""

from __future__ import annotations

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
from tabulation.selectors.published import published_memo_clear
from tabulation.services import site_pages
from tabulation.services import tabulation as service
from tabulation.services.publishing import snapshot_publish
from tabulation.services.tabulation import tabulation_run
from tests.factories_records import random_votes, record_accept, small_election

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
        assert tabulation_run(election_id=made.election.pk) == "done"
    models.Finding.objects.create(
        round=made.rounds[made.stations[2].code], code="W2", category="W", message_params={}
    )
    assert tabulation_run(election_id=made.election.pk) == "done"
    for station in made.stations[8:11]:
        record_accept(made.rounds[station.code], random_votes(rng, made.lists, 1000))
        assert tabulation_run(election_id=made.election.pk) == "done"
    latest = models.ResultSnapshot.objects.filter(election=made.election).latest("version")
    assert latest.version == 12
    after_small_runs = files_of_latest(root, slug, latest.version)

    # From scratch: nothing published, the latest snapshot published once.
    shutil.rmtree(root)
    cache.clear()
    published_memo_clear()
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
