"""Published files are a public record: no file of any published version
ever changes or disappears, whatever is published after it or again
(services/publishing.py), and every stored version goes out."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.conf import settings
from django.core.cache import cache

from tabulation import models
from tabulation.selectors.open_data import OPEN_DATA_FILES
from tabulation.services import publishing
from tabulation.services import tabulation as service
from tabulation.services.publishing import snapshot_publish
from tests.factories_records import random_votes, record_accept, run_as_a_worker, small_election

pytestmark = [pytest.mark.django_db, pytest.mark.site_pages]


@pytest.fixture(autouse=True)
def _read_side(settings: Any, tmp_path: Path) -> Iterator[None]:
    settings.PUBLISH_DIR = tmp_path / "published"
    cache.clear()
    with mock.patch.object(service, "tabulation_enqueue", return_value=True):
        yield
    cache.clear()


class PublicRecord:
    """Every file under ``snapshots/`` seen so far, and every page of a
    version (``site/[<lang>/]results/<slug>/v<n>/...``), with its bytes."""

    def __init__(self, slug: str) -> None:
        self.folder = Path(settings.PUBLISH_DIR) / slug / "snapshots"
        self.site = Path(settings.PUBLISH_DIR) / "site"
        self.seen: dict[Path, bytes] = {}

    def check(self) -> None:
        """Nothing seen before has changed or gone; then remember what is new."""
        for path, content in self.seen.items():
            assert path.exists(), f"{path} disappeared"
            assert path.read_bytes() == content, f"{path} changed"
        for path in [*self.folder.rglob("*"), *self.site.rglob("v*/**/index.html")]:
            if path.is_file():
                self.seen[path] = path.read_bytes()

    def pages_of(self, version: int) -> set[str]:
        """The addresses of ``version``'s own pages, in every language."""
        return {
            "/" + str(path.parent.relative_to(self.site)) + "/"
            for path in self.seen
            if path.is_relative_to(self.site) and f"/v{version}/" in str(path)
        }

    def versions(self) -> list[int]:
        return sorted(int(path.name) for path in self.folder.iterdir())

    def files_of(self, version: int) -> set[str]:
        return {path.name for path in (self.folder / str(version)).iterdir()}


def run(election: models.Election) -> None:
    run_as_a_worker(election)


def test_no_published_file_of_any_version_ever_changes_or_disappears() -> None:
    made = small_election(lists=3, seats=7)
    rng = random.Random(3)
    first, second, third, *_rest = made.stations
    record_accept(made.rounds[first.code], random_votes(rng, made.lists, 1000))
    run(made.election)
    record = PublicRecord(made.election.slug)
    record.check()
    v1 = models.ResultSnapshot.objects.get(election=made.election, version=1)

    # The sweep publishes version 1 again (as if its first publishing had
    # stopped before it was marked done).
    models.TabulationState.objects.filter(pk=made.election.pk).update(published_version=0)
    run(made.election)
    record.check()

    # A new version, then version 1 published again: from the tables its
    # rows have moved on, and a publisher hands it other rows.
    record_accept(made.rounds[second.code], random_votes(rng, made.lists, 1000))
    run(made.election)
    record.check()
    snapshot_publish(snapshot=v1)
    snapshot_publish(snapshot=v1, stations=[])
    record.check()
    assert record.files_of(1) == set(OPEN_DATA_FILES)

    # Version 3's publishing fails; version 4 is stored and published:
    # version 3 goes out too, before it.
    record_accept(made.rounds[third.code], random_votes(rng, made.lists, 1000))
    with mock.patch.object(service, "snapshot_publish", side_effect=OSError("disk full")):
        run(made.election)
    record.check()
    assert record.versions() == [1, 2]
    models.Finding.objects.create(
        round=made.rounds[first.code], code="W2", category="W", message_params={}
    )
    run(made.election)
    record.check()

    assert record.versions() == [1, 2, 3, 4]
    for version in (1, 2, 4):
        assert record.files_of(version) == set(OPEN_DATA_FILES)
    # Each version's results page, in every language (services/site_pages.py).
    for version in (1, 2, 3, 4):
        assert record.pages_of(version) == {
            f"{prefix}/results/{made.election.slug}/v{version}/" for prefix in ("", "/sr", "/en")
        }
    # Version 3's station rows were never published and cannot be rebuilt
    # (its rows have moved on): its document is out, and no file pretends.
    assert record.files_of(3) == set(OPEN_DATA_FILES) - publishing.STATION_FILES


def test_an_official_snapshot_gets_the_station_files_of_the_version_it_certifies() -> None:
    made = small_election(lists=3, seats=7, municipalities=1, stations_per_municipality=2)
    rng = random.Random(5)
    for station in made.stations:
        record_accept(made.rounds[station.code], random_votes(rng, made.lists, 1000))
    run(made.election)
    provisional = models.ResultSnapshot.objects.get(election=made.election, version=1)
    official = models.ResultSnapshot.objects.create(
        election=made.election,
        version=2,
        kind=models.ResultSnapshot.Kind.OFFICIAL,
        inputs_hash=provisional.inputs_hash,
        payload={**provisional.payload, "version": 2, "status": "official"},
        audit_head=provisional.audit_head,
        audit_count=provisional.audit_count,
    )
    # A finding raised since: the tables no longer give the certified inputs.
    models.Finding.objects.create(
        round=made.rounds[made.stations[0].code], code="W2", category="W", message_params={}
    )
    record = PublicRecord(made.election.slug)
    record.check()

    snapshot_publish(snapshot=official)

    record.check()
    assert (record.folder / "2" / "stations.json").read_bytes() == (
        record.folder / "1" / "stations.json"
    ).read_bytes()
