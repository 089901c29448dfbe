"""Timings of tabulation: a full run at Belgrade and at Serbia scale beside a
bare SQL GROUP BY over the same rows, and freshness (record accepted ->
snapshot published) during a burst, with a real worker process.

Run with ``python -m tests.benchmarks bench_tabulation`` on the embedded
default (SQLite, filesystem broker), or with ``DATABASE_URL=postgres://...
REDIS_URL=redis://...`` for PostgreSQL and Redis. It creates a database of
its own (the test database of the configured one: ``test_<name>``, or
``$VAR_DIR/test.sqlite3``) and drops it at the end. Prints figures; asserts
nothing about time.
"""

from __future__ import annotations

import random
import statistics
import threading
import time
import uuid
from datetime import date
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection

from tabulation import models
from tabulation.selectors.tabulation import results_build, tabulation_inputs_get
from tabulation.services.publishing import snapshot_publish
from tabulation.services.tabulation import tabulation_compute
from tests.benchmarks.bench_domain import best_of

BARE_GROUP_BY = """
SELECT s.municipality_id, v.electoral_list_id, SUM(v.votes)
FROM tabulation_acceptedvote v
JOIN tabulation_acceptedrecord r ON r.id = v.accepted_record_id
JOIN tabulation_stationround sr ON sr.id = r.round_id
JOIN tabulation_pollingstation s ON s.id = sr.station_id
WHERE s.election_id = %s AND sr.status = 'accepted'
GROUP BY s.municipality_id, v.electoral_list_id
"""


def build_election(
    rng: random.Random,
    *,
    slug: str,
    stations: int,
    lists: int,
    seats: int,
    municipalities: int,
    counted: int,
) -> models.Election:
    """An election with ``counted`` accepted records, written with bulk_create."""
    election = models.Election.objects.create(
        name=slug,
        slug=slug,
        date=date(2024, 6, 2),
        seats=seats,
        threshold_percent=Decimal("3"),
        minority_bonus_percent=Decimal("35"),
        status=models.Election.Status.COUNTING,
    )
    made_lists = models.ElectoralList.objects.bulk_create(
        models.ElectoralList(
            election=election, ballot_number=number, name=f"List {number}", minority=number % 7 == 0
        )
        for number in range(1, lists + 1)
    )
    models.Candidate.objects.bulk_create(
        models.Candidate(electoral_list=item, position=position, name=f"Candidate {position}")
        for item in made_lists
        for position in range(1, seats + 1)
    )
    made_municipalities = models.Municipality.objects.bulk_create(
        models.Municipality(election=election, code=f"m{index}", name=f"M {index}", registered=0)
        for index in range(municipalities)
    )
    made_stations = models.PollingStation.objects.bulk_create(
        models.PollingStation(
            election=election,
            municipality=made_municipalities[index % municipalities],
            code=f"s{index}",
            number=index // municipalities + 1,
            name=f"Station {index}",
            registered=rng.randint(600, 2500),
        )
        for index in range(stations)
    )
    rounds = models.StationRound.objects.bulk_create(
        models.StationRound(
            station=station,
            status=(
                models.StationRound.Status.ACCEPTED
                if index < counted
                else models.StationRound.Status.AWAITING
            ),
        )
        for index, station in enumerate(made_stations)
    )
    user, _ = get_user_model().objects.get_or_create(username="bench-commission")
    decision = models.Decision.objects.create(
        election=election,
        kind=models.Decision.Kind.OBJECTION_DECIDED,
        decided_by=user,
        reason="Benchmark data.",
    )
    weights = [rng.random() ** 2 + 0.01 for _ in made_lists]
    records = []
    all_votes = []
    for station, station_round in zip(made_stations[:counted], rounds[:counted], strict=True):
        budget = rng.randint(station.registered // 3, (station.registered * 2) // 3)
        votes = [int(budget * weight / sum(weights) * rng.uniform(0.7, 1.3)) for weight in weights]
        valid = sum(votes)
        invalid = rng.randint(0, 30)
        records.append(
            models.AcceptedRecord(
                round=station_round,
                source=models.AcceptedRecord.Source.DECISION,
                decision=decision,
                registered=station.registered,
                ballots_received=station.registered,
                ballots_unused=station.registered - valid - invalid,
                turned_out=valid + invalid + 1,
                ballots_in_box=valid + invalid,
                ballots_invalid=invalid,
                ballots_valid=valid,
                control_sheet_ok=True,
                board_signatures=5,
            )
        )
        all_votes.append(votes)
    made_records = models.AcceptedRecord.objects.bulk_create(records, batch_size=2000)
    models.AcceptedVote.objects.bulk_create(
        (
            models.AcceptedVote(accepted_record=record, electoral_list=item, votes=count)
            for record, votes in zip(made_records, all_votes, strict=True)
            for item, count in zip(made_lists, votes, strict=True)
        ),
        batch_size=5000,
    )
    return election


def bare_group_by(election_id: int) -> list[tuple[int, int, int]]:
    with connection.cursor() as cursor:
        cursor.execute(BARE_GROUP_BY, [election_id])
        return cursor.fetchall()


def full_run(label: str, election: models.Election, repeats: int = 3) -> None:
    tabulation_compute(election_id=election.pk)  # warm up; stores version 1
    bare = best_of(5, lambda: bare_group_by(election.pk))
    full = best_of(repeats, lambda: tabulation_compute(election_id=election.pk))
    read = best_of(repeats, lambda: tabulation_inputs_get(election_id=election.pk))
    inputs = tabulation_inputs_get(election_id=election.pk)
    from django.utils import timezone

    build = best_of(repeats, lambda: results_build(inputs, now=timezone.now()))
    outcome = tabulation_compute(election_id=election.pk)
    publish = best_of(
        repeats, lambda: snapshot_publish(snapshot=outcome.snapshot, stations=outcome.stations)
    )
    print(
        f"{label}: full tabulation {full * 1000:.0f} ms (read {read * 1000:.0f} ms, "
        f"build {build * 1000:.0f} ms); bare GROUP BY {bare * 1000:.1f} ms "
        f"-> {full / bare:.1f}x; publishing {publish * 1000:.0f} ms (best of {repeats})"
    )


def freshness(rng: random.Random, *, rate: int = 50, records: int = 250) -> None:
    """Accept ``records`` records at ``rate`` a second with a real worker
    running; for each, the time until a published snapshot includes it."""
    from commission.celery import app
    from tests.conftest import WorkerProcess
    from tests.factories_records import random_votes, record_accept

    election = build_election(
        rng,
        slug=f"fresh-{uuid.uuid4().hex[:8]}",
        stations=1180,
        lists=14,
        seats=110,
        municipalities=17,
        counted=600,
    )
    tabulation_compute(election_id=election.pk)
    waiting = list(
        models.StationRound.objects.filter(
            station__election=election, status=models.StationRound.Status.AWAITING
        ).select_related("station")[:records]
    )
    lists = list(election.electoral_lists.order_by("ballot_number"))
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    previous = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    worker = WorkerProcess(queue)
    worker.start()
    key = f"results:{election.slug}:latest"
    seen: list[tuple[float, int]] = []  # (time first seen, stations counted)
    stop = threading.Event()

    def watch() -> None:
        last = -1
        while not stop.is_set():
            document = cache.get(key)
            if document and document["stations"]["counted"] != last:
                last = document["stations"]["counted"]
                seen.append((time.monotonic(), last))
            time.sleep(0.01)

    try:
        # Let the worker come up and publish the starting point first.
        from tabulation.services.tabulation import tabulation_request

        tabulation_request(election_id=election.pk, force=True)
        deadline = time.monotonic() + 60
        while cache.get(key) is None and time.monotonic() < deadline:
            time.sleep(0.1)
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        accepted_at = []
        start = time.monotonic()
        for index, station_round in enumerate(waiting):
            wait = start + index / rate - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            record_accept(station_round, random_votes(rng, lists, station_round.station.registered))
            accepted_at.append(time.monotonic())
        achieved = len(waiting) / (time.monotonic() - start)
        deadline = time.monotonic() + 60
        while (not seen or seen[-1][1] < 600 + len(waiting)) and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        watcher.join()
    finally:
        worker.stop()
        worker.log.unlink(missing_ok=True)
        app.conf.task_default_queue = previous
    delays = []
    for index, moment in enumerate(accepted_at):
        needed = 600 + index + 1
        published = next((when for when, counted in seen if counted >= needed), None)
        if published is not None:
            delays.append(published - moment)
    missing = len(accepted_at) - len(delays)
    quantiles = statistics.quantiles(delays, n=20) if len(delays) > 1 else [0.0] * 19
    print(
        f"freshness, {len(accepted_at)} records at {achieved:.0f}/s into a Belgrade-scale "
        f"election (600 of 1,180 counted): p50 {statistics.median(delays):.2f} s, "
        f"p95 {quantiles[18]:.2f} s, max {max(delays):.2f} s, "
        f"{len(seen)} snapshots seen, {missing} never published"
    )


def main() -> None:
    old_name = connection.settings_dict["NAME"]
    test_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    print(f"database: {connection.vendor} ({test_name}); cache: {cache.__class__.__name__}")
    try:
        rng = random.Random(2024)
        belgrade = build_election(
            rng,
            slug="bench-belgrade",
            stations=1180,
            lists=14,
            seats=110,
            municipalities=17,
            counted=1180,
        )
        full_run("Belgrade, 1,180 stations x 14 lists, 110 seats", belgrade)
        serbia = build_election(
            rng,
            slug="bench-serbia",
            stations=8300,
            lists=25,
            seats=250,
            municipalities=174,
            counted=8300,
        )
        full_run("Serbia, 8,300 stations x 25 lists, 250 seats", serbia)
        freshness(rng)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
