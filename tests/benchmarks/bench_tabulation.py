"""Timings of tabulation: at Belgrade and at Serbia scale, the aggregation
queries a run issues beside a bare SQL GROUP BY over the same rows, a full
run (read, compute, store, publish) and each part of it; and freshness
(record accepted -> snapshot published) during a burst, with a real worker
process.

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
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from tabulation import models
from tabulation.domain.results import (
    context_findings,
    inputs_hash,
    results_build,
    station_states,
)
from tabulation.domain.results_inputs import TabulationInputs
from tabulation.selectors.tabulation import municipality_aggregates_get, tabulation_inputs_get
from tabulation.services.publishing import snapshot_publish
from tabulation.services.site_pages import site_pages_fill, site_pages_latest
from tabulation.services.tabulation import _store, tabulation_compute
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


def read_in_transaction(election_id: int) -> TabulationInputs:
    """The read of one run, in a transaction set up as the service sets it up."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        return tabulation_inputs_get(election_id=election_id)


def best_of_prepared(
    repeats: int, prepare: Callable[[], object], work: Callable[[], object]
) -> float:
    """``best_of``, with ``prepare`` run untimed before each run of ``work``."""
    timings = []
    for _ in range(repeats):
        prepare()
        start = time.perf_counter()
        work()
        timings.append(time.perf_counter() - start)
    return min(timings)


def full_run(label: str, election: models.Election, repeats: int = 3) -> None:
    """Aggregation beside the bare GROUP BY (the same rows, like for like),
    then a full run that stores and publishes a new version, and its parts."""
    pk = election.pk
    warm = tabulation_compute(election_id=pk)  # warm up; stores version 1
    assert warm.snapshot is not None
    # Every public page written once, as a night's first runs leave them
    # (services/site_pages.py): the runs below write only what changed.
    start = time.perf_counter()
    snapshot_publish(snapshot=warm.snapshot, stations=warm.stations)
    site_pages_fill(election.slug)
    every_page = time.perf_counter() - start
    pages = (
        models.PollingStation.objects.filter(election=election).count()
        + models.Municipality.objects.filter(election=election).count()
    )
    bare = best_of(5, lambda: bare_group_by(pk))
    aggregation = best_of(5, lambda: municipality_aggregates_get(election_id=pk))

    # A full run as election night makes it: one record corrected since the
    # last run (untimed; a record never changes in place, migration 0009:
    # the correction replaces it with one vote more), then read, compute,
    # store a new version, publish it.
    def one_vote_more() -> None:
        record = (
            models.AcceptedRecord.objects.filter(
                round__station__election_id=pk, superseded_at__isnull=True
            )
            .select_related("decision")
            .earliest("round_id")
        )
        votes = list(record.votes.order_by("electoral_list__ballot_number"))
        record.superseded_at = timezone.now()
        record.save(update_fields=["superseded_at"])
        record.pk = None
        record.superseded_at = None
        record.ballots_valid = (record.ballots_valid or 0) + 1
        record.ballots_in_box = (record.ballots_in_box or 0) + 1
        record.save()
        models.AcceptedVote.objects.bulk_create(
            models.AcceptedVote(
                accepted_record=record,
                electoral_list_id=vote.electoral_list_id,
                votes=vote.votes + (1 if index == 0 else 0),
            )
            for index, vote in enumerate(votes)
        )

    def run_and_publish() -> None:
        outcome = tabulation_compute(election_id=pk)
        assert outcome.created and outcome.snapshot is not None
        snapshot_publish(snapshot=outcome.snapshot, stations=outcome.stations, pages=False)

    full = best_of_prepared(repeats, one_vote_more, run_and_publish)
    unchanged = best_of(repeats, lambda: tabulation_compute(election_id=pk))

    read = best_of(repeats, lambda: read_in_transaction(pk))
    inputs = read_in_transaction(pk)
    now = timezone.now()
    compute = best_of(repeats, lambda: results_build(inputs, now=now))
    states = station_states(inputs)
    checks = best_of(repeats, lambda: context_findings(inputs, states, now))
    built = results_build(inputs, now=now)
    hashing = best_of(repeats, lambda: inputs_hash(inputs, built.findings_to_raise))

    def latest_version() -> None:
        inputs.latest_version = models.ResultSnapshot.objects.filter(election_id=pk).count()

    # Storing a new version: the same document under a hash not seen before.
    store = best_of_prepared(
        repeats,
        latest_version,
        lambda: _store(inputs, replace(built, inputs_hash=uuid.uuid4().hex * 2)),
    )
    outcome = tabulation_compute(election_id=pk)
    snapshot = outcome.snapshot
    assert snapshot is not None
    publish = best_of(
        repeats,
        lambda: snapshot_publish(snapshot=snapshot, stations=outcome.stations, pages=False),
    )
    after_record, record_compute, record_pages = one_new_record(election, repeats)
    print(
        f"{label} (best of {repeats}):\n"
        f"  aggregation (the 2 GROUP BY queries a run issues) {aggregation * 1000:.1f} ms; "
        f"bare GROUP BY {bare * 1000:.1f} ms -> {aggregation / bare:.1f}x\n"
        f"  full run, new version stored and published {full * 1000:.0f} ms "
        f"-> {full / bare:.1f}x the bare GROUP BY; inputs unchanged (nothing stored) "
        f"{unchanged * 1000:.0f} ms\n"
        f"  parts: read {read * 1000:.0f} ms (aggregation included), compute "
        f"{compute * 1000:.0f} ms (checks W1/W5/U2 {checks * 1000:.0f} ms, inputs hash "
        f"{hashing * 1000:.0f} ms, the rest: seats, settled, mandates, document, station "
        f"rows), store {store * 1000:.0f} ms, publish (files and cache) "
        f"{publish * 1000:.0f} ms\n"
        f"  publishing every page once (version 1, {pages:,} municipality and station "
        f"pages in 3 languages): {every_page:.1f} s\n"
        f"  a run after one new record {after_record * 1000:.0f} ms "
        f"-> {after_record / bare:.1f}x the bare GROUP BY: read, compute, store "
        f"{record_compute * 1000:.0f} ms -> {record_compute / bare:.1f}x, publish the files and "
        f"the cache {(after_record - record_compute) * 1000:.0f} ms; then, in the pages task, "
        f"the pages that changed {record_pages * 1000:.0f} ms"
    )


def one_new_record(election: models.Election, repeats: int) -> tuple[float, float, float]:
    """A run after one record accepted at an awaiting station, as election
    night makes them, every published page out (site_pages_fill): read,
    compute, store, publish the files and the cache, as the tabulation task
    does; then, apart, the pages task it asks for (the pages that changed)."""
    from tests.factories_records import random_votes, record_accept

    rng = random.Random(7)
    lists = list(election.electoral_lists.order_by("ballot_number"))
    waiting = iter(
        models.StationRound.objects.filter(
            station__election=election, status=models.StationRound.Status.AWAITING
        ).select_related("station")
    )
    site_pages_fill(election.slug)
    runs = []
    for _ in range(repeats):
        station_round = next(waiting)
        record_accept(station_round, random_votes(rng, lists, station_round.station.registered))
        start = time.perf_counter()
        outcome = tabulation_compute(election_id=election.pk)
        computed = time.perf_counter()
        assert outcome.created and outcome.snapshot is not None
        snapshot_publish(snapshot=outcome.snapshot, stations=outcome.stations, pages=False)
        published = time.perf_counter()
        assert site_pages_latest(election.slug) == outcome.snapshot.version
        runs.append((published - start, computed - start, time.perf_counter() - published))
    # (the run, its read-compute-store part, its pages task), of the fastest run
    return min(runs)


BELGRADE = {"stations": 1180, "lists": 14, "seats": 110, "municipalities": 17}
SERBIA = {"stations": 8300, "lists": 25, "seats": 250, "municipalities": 174}


def freshness(
    rng: random.Random,
    *,
    label: str,
    scale: dict[str, int],
    rate: int = 50,
    records: int = 250,
    workers: int = 1,
) -> None:
    """Accept ``records`` records at ``rate`` a second with ``workers`` real
    worker processes running, into an election of ``scale`` with half its
    stations counted; for each, the time until a published snapshot
    includes it."""
    from commission.celery import app
    from tests.conftest import WorkerProcess
    from tests.factories_records import random_votes, record_accept

    counted = scale["stations"] // 2
    election = build_election(rng, slug=f"fresh-{uuid.uuid4().hex[:8]}", counted=counted, **scale)
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
    running = [WorkerProcess(queue) for _ in range(workers)]
    for worker in running:
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
        while (not seen or seen[-1][1] < counted + len(waiting)) and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        watcher.join()
    finally:
        for worker in running:
            worker.stop()
            worker.log.unlink(missing_ok=True)
        app.conf.task_default_queue = previous
    delays = []
    for index, moment in enumerate(accepted_at):
        needed = counted + index + 1
        published = next((when for when, shown in seen if shown >= needed), None)
        if published is not None:
            delays.append(published - moment)
    missing = len(accepted_at) - len(delays)
    quantiles = statistics.quantiles(delays, n=20) if len(delays) > 1 else [0.0] * 19
    print(
        f"freshness, {workers} worker{'s' if workers > 1 else ''}, {len(accepted_at)} records "
        f"at {achieved:.0f}/s into a {label} "
        f"election ({counted:,} of {scale['stations']:,} counted): "
        f"p50 {statistics.median(delays):.2f} s, "
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
            counted=1170,  # 10 awaiting: the new records of ``one_new_record``
        )
        full_run("Belgrade, 1,180 stations (1,170 counted) x 14 lists, 110 seats", belgrade)
        serbia = build_election(
            rng,
            slug="bench-serbia",
            stations=8300,
            lists=25,
            seats=250,
            municipalities=174,
            counted=8290,
        )
        full_run("Serbia, 8,300 stations (8,290 counted) x 25 lists, 250 seats", serbia)
        freshness(rng, label="Belgrade-scale", scale=BELGRADE)
        freshness(rng, label="Serbia-scale", scale=SERBIA)
        freshness(rng, label="Serbia-scale", scale=SERBIA, workers=2)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
