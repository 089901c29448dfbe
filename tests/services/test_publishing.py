"""Publishing: a snapshot goes to the cache and to PUBLISH_DIR, and the
read-side selectors find it there (docs/results-format.md)."""

import csv
import io
import json
import random
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.core.cache import cache

from tabulation import models
from tabulation.selectors.published import published_results_get, published_versions_list
from tabulation.services import tabulation as service
from tabulation.services.publishing import snapshot_publish
from tabulation.services.tabulation import election_tabulate, tabulation_compute
from tests.factories_records import random_votes, record_accept, small_election


@pytest.fixture(autouse=True)
def _read_side(settings, tmp_path):
    settings.PUBLISH_DIR = tmp_path / "published"
    cache.clear()
    with mock.patch.object(service, "tabulation_enqueue", return_value=True):
        yield
    cache.clear()


def counted_election(*, skip_last=True):
    made = small_election(lists=3, seats=7)
    rng = random.Random(29)
    for station in made.stations[:-1] if skip_last else made.stations:
        record_accept(made.rounds[station.code], random_votes(rng, made.lists, 1000))
    return made


@pytest.mark.django_db
def test_a_published_snapshot_is_in_the_cache_and_in_the_files():
    made = counted_election()
    outcome = tabulation_compute(election_id=made.election.pk)
    slug = made.election.slug

    snapshot_publish(snapshot=outcome.snapshot, stations=outcome.stations)

    folder = Path(settings.PUBLISH_DIR) / slug
    for name in (
        "results.json",
        "totals.csv",
        "municipalities.csv",
        "municipalities.json",
        "stations.csv",
        "stations.json",
    ):
        assert (folder / name).read_bytes() == (folder / "snapshots" / "1" / name).read_bytes()
    assert json.loads((folder / "results.json").read_text()) == outcome.snapshot.payload
    assert cache.get(f"results:{slug}:latest") == outcome.snapshot.payload
    assert cache.get(f"results:{slug}:v1") == outcome.snapshot.payload
    assert cache.get(f"results:{slug}:stations:v1") == outcome.stations
    assert published_results_get(slug) == outcome.snapshot.payload
    assert [item["version"] for item in published_versions_list(slug)] == [1]
    elections = json.loads((folder.parent / "elections.json").read_text())
    assert {item["slug"] for item in elections} == {slug}
    assert not list(folder.rglob("*.tmp"))


@pytest.mark.django_db
def test_the_files_hold_the_totals_and_every_station():
    made = counted_election()
    outcome = tabulation_compute(election_id=made.election.pk)

    snapshot_publish(snapshot=outcome.snapshot, stations=outcome.stations)

    folder = Path(settings.PUBLISH_DIR) / made.election.slug
    totals = list(csv.DictReader(io.StringIO((folder / "totals.csv").read_text())))
    assert [int(row["votes"]) for row in totals] == [
        item["votes"] for item in outcome.snapshot.payload["lists"]
    ]
    stations = json.loads((folder / "stations.json").read_text())
    assert len(stations) == 6
    awaiting = [row for row in stations if row["status"] == "awaiting"]
    assert len(awaiting) == 1
    assert awaiting[0]["ballots_in_box"] is None
    assert awaiting[0]["votes"] == {}
    counted = [row for row in stations if row["status"] == "counted"]
    assert sum(row["ballots_in_box"] for row in counted) == outcome.snapshot.payload["voted"]
    rows = list(csv.DictReader(io.StringIO((folder / "stations.csv").read_text())))
    assert (
        sum(int(row["list_1"] or 0) for row in rows)
        == outcome.snapshot.payload["lists"][0]["votes"]
    )


@pytest.mark.django_db
def test_an_older_snapshot_never_replaces_the_latest():
    made = counted_election()
    first = tabulation_compute(election_id=made.election.pk)
    last = made.stations[-1]
    record_accept(made.rounds[last.code], {1: 5, 2: 6, 3: 7})
    second = tabulation_compute(election_id=made.election.pk)
    snapshot_publish(snapshot=second.snapshot, stations=second.stations)

    snapshot_publish(snapshot=first.snapshot, stations=first.stations)

    slug = made.election.slug
    assert published_results_get(slug)["version"] == 2
    assert published_results_get(slug, version=1)["version"] == 1
    assert [item["version"] for item in published_versions_list(slug)] == [1, 2]


@pytest.mark.django_db
def test_readers_fall_back_to_the_files_when_the_cache_is_empty():
    made = counted_election()
    outcome = tabulation_compute(election_id=made.election.pk)
    snapshot_publish(snapshot=outcome.snapshot, stations=outcome.stations)

    cache.clear()

    assert published_results_get(made.election.slug) == outcome.snapshot.payload


@pytest.mark.django_db
def test_a_snapshot_published_again_without_its_rows_rebuilds_them():
    made = counted_election()
    snapshot = election_tabulate(election_id=made.election.pk)

    snapshot_publish(snapshot=models.ResultSnapshot.objects.get(pk=snapshot.pk))

    rows = cache.get(f"results:{made.election.slug}:stations:v1")
    # In the published order: by municipality name, then station number.
    in_order = sorted(
        made.stations, key=lambda station: (station.municipality.name, station.number)
    )
    assert [row["code"] for row in rows] == [station.code for station in in_order]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name", ["totals.csv", "municipalities.csv", "stations.csv", "stations.json"]
)
def test_a_download_from_the_site_is_the_published_file_byte_for_byte(client, name):
    made = counted_election()
    outcome = tabulation_compute(election_id=made.election.pk)
    snapshot_publish(snapshot=outcome.snapshot, stations=outcome.stations)
    slug = made.election.slug

    response = client.get(f"/results/{slug}/data/{name}")

    assert response.status_code == 200
    assert response.content == (Path(settings.PUBLISH_DIR) / slug / name).read_bytes()


def _stations_json(slug: str, version: int) -> list[dict]:
    folder = Path(settings.PUBLISH_DIR) / slug / "snapshots" / str(version)
    return json.loads((folder / "stations.json").read_text())


@pytest.mark.django_db
def test_a_finding_reads_the_same_in_every_version_that_publishes_it():
    # Station 1 far above the others' turnout: W1, raised by the first run.
    made = small_election(lists=3, seats=7, municipalities=1, stations_per_municipality=5)
    first, *others = made.stations
    record_accept(made.rounds[first.code], {1: 600, 2: 300, 3: 70}, invalid=10)
    for number, station in enumerate(others[:-1]):
        record_accept(made.rounds[station.code], {1: 200 + number, 2: 150, 3: 40})
    one = tabulation_compute(election_id=made.election.pk)
    snapshot_publish(snapshot=one.snapshot, stations=one.stations)
    # The next version publishes the same W1, now read back from its row.
    record_accept(made.rounds[others[-1].code], {1: 210, 2: 140, 3: 45})
    two = tabulation_compute(election_id=made.election.pk)
    snapshot_publish(snapshot=two.snapshot, stations=two.stations)

    slug = made.election.slug
    in_one, in_two = (
        next(row for row in _stations_json(slug, version) if row["code"] == first.code)
        for version in (1, 2)
    )
    assert [item["code"] for item in in_one["findings"]] == ["W1"]
    assert in_two["findings"] == in_one["findings"]
    assert in_one["findings"][0]["message"].startswith("Turnout {turnout} %")
    assert models.Finding.MESSAGE_KEY not in in_two["findings"][0]["params"]
