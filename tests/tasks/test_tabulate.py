"""The tabulation task under faults, with real worker processes: duplicates,
two workers at once, a worker killed mid-run, the broker gone mid-burst."""

import random
import shutil
import signal
import socket
import subprocess
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from kombu import pools as kombu_pools

from commission.celery import app
from tabulation import models
from tabulation.selectors.published import published_results_get
from tabulation.services.tabulation import TEST_DELAY_ENV, tabulation_sweep
from tabulation.tasks import tabulate
from tests.conftest import missing_service
from tests.factories_records import random_votes, record_accept, recount, small_election
from tests.tasks.conftest import wait_until

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def election(**sizes):
    return small_election(slug=f"t-{uuid.uuid4().hex[:12]}", **sizes)


def accept(made, stations, rng, *, request=False):
    for station in stations:
        record_accept(
            made.rounds[station.code],
            random_votes(rng, made.lists, station.registered),
            request=request,
        )


def latest(made):
    return models.ResultSnapshot.objects.filter(election=made.election).order_by("-version").first()


def assert_equals_recount(payload, made):
    expected = recount(made.election)
    assert payload["stations"]["counted"] == expected["totals"]["counted"]
    assert payload["voted"] == expected["totals"]["voted"]
    assert payload["valid"] == expected["totals"]["valid"]
    assert {item["ballot_number"]: item["votes"] for item in payload["lists"]} == {
        item.ballot_number: expected["lists"].get(item.ballot_number, 0) for item in made.lists
    }


def published_version(made):
    document = published_results_get(made.election.slug)
    return document["version"] if document else 0


def test_the_task_sent_twice_stores_one_snapshot(start_worker):
    start_worker()
    made = election()
    accept(made, made.stations, random.Random(31))

    first, second = tabulate.delay(made.election.pk), tabulate.delay(made.election.pk)

    assert first.get(timeout=90) in {"done", "deferred"}
    assert second.get(timeout=90) in {"done", "deferred"}
    snapshots = models.ResultSnapshot.objects.filter(election=made.election)
    assert snapshots.count() == 1
    assert_equals_recount(snapshots.get().payload, made)
    assert published_results_get(made.election.slug) == snapshots.get().payload


def test_two_worker_processes_at_once_store_one_snapshot(start_worker):
    start_worker()
    start_worker()
    made = election(municipalities=3, stations_per_municipality=10)
    accept(made, made.stations, random.Random(37))

    results = [tabulate.delay(made.election.pk) for _ in range(4)]

    assert {result.get(timeout=90) for result in results} <= {"done", "deferred"}
    wait_until(
        lambda: (
            not models.TabulationState.objects.filter(
                pk=made.election.pk, lease_expires_at__isnull=False
            ).exists()
        ),
        message="the last run to release the election",
    )
    snapshots = models.ResultSnapshot.objects.filter(election=made.election)
    assert snapshots.count() == 1
    assert_equals_recount(snapshots.get().payload, made)


def test_a_worker_killed_mid_run_loses_nothing(start_worker):
    slow = start_worker(**{TEST_DELAY_ENV: "30"})
    made = election(municipalities=2, stations_per_municipality=5)
    rng = random.Random(41)
    accept(made, made.stations[:5], rng)
    tabulate.delay(made.election.pk)
    wait_until(
        lambda: models.TabulationState.objects.filter(
            pk=made.election.pk, lease_expires_at__isnull=False
        ).exists(),
        message="the slow worker to claim the run",
    )
    accept(made, made.stations[5:], rng)  # while the doomed run sleeps

    slow.stop(signal.SIGKILL)
    start_worker()
    # The killed run's lease would expire on its own after LEASE; the test
    # moves its expiry to now instead of waiting.
    models.TabulationState.objects.filter(pk=made.election.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    tabulation_sweep()

    snapshot = wait_until(
        lambda: (s := latest(made)) and s.payload["stations"]["counted"] == 10 and s,
        message="a snapshot with all ten records",
    )
    wait_until(lambda: published_version(made) == snapshot.version, message="publishing")
    assert_equals_recount(published_results_get(made.election.slug), made)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivateRedis:
    """A throw-away redis-server: stopping it never touches the shared one."""

    def __init__(self):
        self.port = free_port()
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        wait_until(lambda: _pings(redis, self.url), timeout=20, message="redis-server to start")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


def reset_broker_connections():
    """Close this process's broker connections and forget the pools, so the
    next task is sent to the broker now configured (what Celery does after
    a fork)."""
    kombu_pools.reset()  # closes the pools and empties kombu's registries
    app._after_fork()


def _pings(redis, url):
    try:
        return redis.Redis.from_url(url, socket_timeout=1).ping()
    except redis.RedisError:
        return False


def test_records_accepted_while_redis_is_down_all_reach_the_snapshot(require_redis, start_worker):
    if shutil.which("redis-server") is None:
        missing_service("redis-server is not on PATH")
    broker = PrivateRedis()
    broker.start()
    previous_broker = app.conf.broker_url
    app.conf.broker_url = broker.url
    reset_broker_connections()
    try:
        start_worker(REDIS_URL=broker.url)
        made = election(municipalities=4, stations_per_municipality=50)
        rng = random.Random(43)
        for index, station in enumerate(made.stations):
            if index == 60:
                broker.stop()
            if index == 130:
                broker.start()
            # Every acceptance commits, broker or not; the enqueue on commit
            # logs a broker error instead of raising.
            record_accept(
                made.rounds[station.code],
                random_votes(rng, made.lists, station.registered),
            )
        assert (
            models.AcceptedRecord.objects.filter(round__station__election=made.election).count()
            == 200
        )

        def all_counted():
            tabulation_sweep()  # what beat does every 30 s
            snapshot = latest(made)
            return snapshot is not None and snapshot.payload["stations"]["counted"] == 200

        wait_until(all_counted, timeout=120, message="a snapshot with all 200 records")
        assert_equals_recount(latest(made).payload, made)
    finally:
        broker.stop()
        app.conf.broker_url = previous_broker
        reset_broker_connections()
