"""Tabulation: recount an election from its accepted records, store a
numbered provisional snapshot when the inputs changed, and publish it.

The design, with its races, is in docs/tabulation.md. In short:

- ``election_tabulate`` reads every input in one consistent transaction
  (REPEATABLE READ on PostgreSQL; SQLite transactions already are), builds
  the document (selectors/tabulation.py) and stores it in a second, short
  transaction that holds the election's ``TabulationState`` row. A snapshot
  is stored only when the inputs hash differs from the latest snapshot's, and
  only when no other run stored one since this run's read began (else it
  reads again): a slow run can never publish an older picture over a newer.
- ``tabulation_request`` is what other code calls after a change: it sets
  the election's ``pending`` flag with a conditional UPDATE and enqueues the
  task only when it flipped the flag, so a burst of records queues one task.
- ``tabulation_run`` (the task's body) claims a lease with a conditional
  UPDATE, tabulates and publishes, and goes round again while ``pending``
  was set meanwhile. A duplicate or late task finds the lease taken, leaves
  ``pending`` set for the holder, and stops.
- ``tabulation_sweep`` (every 30 s) requests a run for every election whose
  accepted records are newer than its last run, whose pending work lost its
  task, or whose latest snapshot is not published yet.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from tabulation.domain.results import BuiltResults, results_build
from tabulation.domain.results_inputs import TabulationInputs
from tabulation.models import (
    AcceptedRecord,
    Election,
    Finding,
    ResultSnapshot,
    TabulationState,
)
from tabulation.selectors.audit import audit_head
from tabulation.selectors.tabulation import tabulation_inputs_get
from tabulation.services.audit import audit_append, format_timestamp
from tabulation.services.publishing import snapshot_publish

logger = logging.getLogger(__name__)

# A run holds its election this long, renewed on every round; a worker
# killed mid-run (SIGKILL) leaves a lease that simply expires. Correctness
# never depends on it (a stale run cannot store, see _store): it only keeps
# two workers from doing the same work.
LEASE = timedelta(seconds=getattr(settings, "TABULATION_LEASE_SECONDS", 60))
# A pending request older than this with nobody running lost its task
# (broker down, worker killed): the next request or the sweep enqueues again.
REQUEST_STALE = timedelta(seconds=getattr(settings, "TABULATION_REQUEST_STALE_SECONDS", 15))
# A run goes round while work keeps coming, but hands over to a fresh task
# after this long, well inside the task's soft time limit.
RUN_BUDGET_SECONDS = 60
# A run that goes round again starts its next round this long after the
# previous one started, at the soonest. Each round reads the whole election
# again; back to back, rounds took a worker's whole core while records kept
# coming, which the clerks' requests then waited for. Freshness (accepted ->
# published) keeps well inside its 2 s (docs/BENCHMARKS.md).
ROUND_INTERVAL_SECONDS = 1.0
# Records commit a moment after their accepted_at is set: the sweep looks
# this far behind the last read.
SWEEP_MARGIN = timedelta(seconds=5)
STALE_READ_RETRIES = 5
# The name of the task that runs ``tabulation_run`` (tasks.py).
TABULATE_TASK = "tabulation.tabulate"
# The task that writes the public pages of the latest published version
# (services/site_pages.py, ``site_pages_latest``), and how long after a
# run it runs: the versions a burst publishes meanwhile go out in one task.
# An open results page polls every 5 s (static/js/results.js); the JSON
# never waits for the pages.
SITE_PAGES_TASK = "tabulation.site_pages"
PAGES_AFTER_SECONDS = 3.0
# Test-only: seconds to sleep between reading and storing, so that a test
# can kill a worker in the middle of a run deterministically.
TEST_DELAY_ENV = "TABULATION_TEST_DELAY_SECONDS"


class _StaleRead(Exception):
    """Another run stored a snapshot after this run began reading."""


class TabulationConflictError(Exception):
    """Runs kept storing snapshots under this one's feet (should not happen
    while the lease works); the work stays pending for the sweep."""


@dataclass(frozen=True, slots=True)
class TabulationOutcome:
    """The latest snapshot after a run, whether this run stored it, and the
    station rows that belong with it (for publishing)."""

    snapshot: ResultSnapshot | None
    created: bool
    stations: list[dict[str, Any]] | None


# --- One tabulation ------------------------------------------------------------------


def election_tabulate(*, election_id: int) -> ResultSnapshot | None:
    """Recount ``election_id`` from its rows; the new snapshot, or None when
    the inputs did not change since the latest one (RULES.md section 5)."""
    outcome = tabulation_compute(election_id=election_id)
    return outcome.snapshot if outcome.created else None


def tabulation_compute(*, election_id: int) -> TabulationOutcome:
    """``election_tabulate``, returning the latest snapshot and its station rows."""
    TabulationState.objects.get_or_create(election_id=election_id)
    for _attempt in range(STALE_READ_RETRIES):
        inputs, built = _read(election_id)
        if inputs.election.status == Election.Status.CERTIFIED:
            # Official results are certified by people; provisional runs
            # stop. The latest (official) snapshot is handed back all the
            # same, so that a run the sweep asked for publishes it when its
            # publishing at certification failed.
            latest = (
                ResultSnapshot.objects.filter(election_id=election_id).order_by("-version").first()
            )
            return TabulationOutcome(snapshot=latest, created=False, stations=None)
        try:
            return _store(inputs, built)
        except _StaleRead:
            continue
    raise TabulationConflictError(f"election {election_id}: snapshots kept changing during reads")


def _read(election_id: int) -> tuple[TabulationInputs, BuiltResults]:
    now = timezone.now()
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            # One snapshot of the database for every query of the read, so
            # the aggregates, the station rows and the hash agree. Read only:
            # such a transaction never fails to serialize.
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        inputs = tabulation_inputs_get(election_id=election_id, read_at=now)
    delay = os.environ.get(TEST_DELAY_ENV)
    if delay:
        time.sleep(float(delay))
    return inputs, results_build(inputs, now=now)


def _store(inputs: TabulationInputs, built: BuiltResults) -> TabulationOutcome:
    election = inputs.election
    with transaction.atomic():
        # Writers of one election take turns on its state row. The election
        # row first, as an entry or a decision locks it before asking for a
        # tabulation (which updates the state row): the snapshot's and the
        # findings' foreign keys would otherwise wait on an entry that waits
        # on this state row, a deadlock on PostgreSQL.
        Election.objects.select_for_update(no_key=True).get(pk=election.pk)
        TabulationState.objects.select_for_update().get(pk=election.pk)
        latest = ResultSnapshot.objects.filter(election_id=election.pk).order_by("-version").first()
        latest_version = latest.version if latest else 0
        if latest_version != inputs.latest_version:
            raise _StaleRead
        raised = _findings_raise(built)
        state_update: dict[str, Any] = {"last_read_at": inputs.read_at}
        if latest is not None and latest.inputs_hash == built.inputs_hash:
            TabulationState.objects.filter(pk=election.pk).update(**state_update)
            return TabulationOutcome(snapshot=latest, created=False, stations=built.stations)

        version = latest_version + 1
        document = built.document
        audit_append(
            actor=None,
            action="results.snapshot",
            object_type=ResultSnapshot._meta.label_lower,
            object_id=f"{election.slug}/v{version}",
            after={
                "election": election.slug,
                "version": version,
                "kind": ResultSnapshot.Kind.PROVISIONAL.value,
                "inputs_hash": built.inputs_hash,
                "stations_counted": document["stations"]["counted"],
                "findings_raised": raised,
            },
            reason="Provisional results recomputed from the accepted records.",
        )
        # The head now includes the event announcing this snapshot.
        head = audit_head()
        payload = {
            "format": document["format"],
            "election": document["election"],
            "status": document["status"],
            "version": version,
            "published_at": format_timestamp(timezone.now()),
            "inputs_hash": built.inputs_hash,
            "audit_head": head.head_hash,
            "audit_count": head.count,
        } | {key: value for key, value in document.items() if key not in {"format", "election"}}
        snapshot = ResultSnapshot.objects.create(
            election_id=election.pk,
            version=version,
            kind=ResultSnapshot.Kind.PROVISIONAL,
            inputs_hash=built.inputs_hash,
            payload=payload,
            audit_head=head.head_hash,
            audit_count=head.count,
        )
        state_update["last_snapshot_inputs_hash"] = built.inputs_hash
        TabulationState.objects.filter(pk=election.pk).update(**state_update)
    # The payload as the database gives it back: PostgreSQL's jsonb keeps no
    # key order, so publishing from the dict built here and publishing the
    # same version later from the stored row (the sweep, a republish) would
    # write results.json with its keys in another order. Read back, every
    # path publishes the same bytes.
    snapshot.refresh_from_db(fields=["payload"])
    return TabulationOutcome(snapshot=snapshot, created=True, stations=built.stations)


def _findings_raise(built: BuiltResults) -> list[str]:
    """Store the context findings (W1, W5, U2) not raised before for their
    round. Checked again here, under the state lock: one finding per code
    per round, whatever its status (a dismissed warning stays dismissed)."""
    if not built.findings_to_raise:
        return []
    round_ids = {round_id for round_id, _finding in built.findings_to_raise}
    existing = set(Finding.objects.filter(round_id__in=round_ids).values_list("round_id", "code"))
    new = [
        Finding.from_domain(finding, round_id=round_id)
        for round_id, finding in built.findings_to_raise
        if (round_id, finding.code) not in existing
    ]
    Finding.objects.bulk_create(new)
    return sorted(f"{finding.code}:{finding.round_id}" for finding in new)


# --- Coalescing: at most one run per election, at most one waiting --------------------


def tabulation_request(*, election_id: int, force: bool = False) -> bool:
    """Ask for a tabulation of ``election_id`` once the current transaction commits.

    Sets the election's ``pending`` flag with a conditional UPDATE and
    enqueues the task only when this call flipped it (or the flag is stale,
    or ``force``), so a burst of accepted records queues one task while a
    run is going. Returns whether a task will be enqueued. A broker that is
    down is logged, never raised: the record is stored and the sweep
    recovers (docs/tabulation.md).
    """
    TabulationState.objects.get_or_create(election_id=election_id)
    now = timezone.now()
    wanted = TabulationState.objects.filter(pk=election_id)
    if not force:
        wanted = wanted.filter(
            Q(pending=False)
            | Q(requested_at__isnull=True)
            | Q(requested_at__lt=now - REQUEST_STALE)
        )
    flipped = wanted.update(pending=True, requested_at=now) == 1
    if flipped:
        transaction.on_commit(partial(tabulation_enqueue, election_id), robust=True)
    return flipped


def tabulation_enqueue(election_id: int) -> bool:
    """Send the task now; False (and a log line) when the broker refuses."""
    return _send(TABULATE_TASK, election_id)


def _send(task: str, election_id: int, *, countdown: float | None = None) -> bool:
    """Send ``task`` for ``election_id`` (to run ``countdown`` seconds from
    now, if given); False (and a log line) when the broker refuses.

    The task is named, not imported: ``tasks.py`` calls this module, and
    this module knows the task only by its name and its one argument (the
    contract, ``tasks.tabulate``), so the two import in one direction only.
    """
    try:
        current_app.signature(task, args=(election_id,)).apply_async(
            countdown=countdown,
            retry=True,
            # One quick retry re-opens a pooled connection that a restarted
            # broker closed; a broker that is down fails fast.
            retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2},
        )
    except Exception:
        # Any broker failure (kombu, redis, socket): the accepting
        # transaction has committed and must not be disturbed.
        logger.warning(
            "%s of election %s could not be enqueued; the beat will retry",
            task,
            election_id,
            exc_info=True,
        )
        return False
    return True


def _claim(election_id: int, token: str) -> bool:
    now = timezone.now()
    return (
        TabulationState.objects.filter(pk=election_id)
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now))
        .update(
            run_token=token,
            run_started_at=now,
            lease_expires_at=now + LEASE,
            pending=False,
        )
        == 1
    )


def _leave_pending(election_id: int) -> bool:
    """Someone holds the lease: tell them more work came in. False when the
    lease was released meanwhile (then try to claim it)."""
    now = timezone.now()
    return (
        TabulationState.objects.filter(pk=election_id, lease_expires_at__gte=now).update(
            pending=True, requested_at=now
        )
        == 1
    )


def _release_if_idle(election_id: int, token: str) -> bool:
    return (
        TabulationState.objects.filter(pk=election_id, run_token=token, pending=False).update(
            run_token="", lease_expires_at=None
        )
        == 1
    )


def _take_pending(election_id: int, token: str) -> bool:
    """Clear ``pending`` and renew the lease, if this run still holds it."""
    return (
        TabulationState.objects.filter(pk=election_id, run_token=token).update(
            pending=False, lease_expires_at=timezone.now() + LEASE
        )
        == 1
    )


def _release(election_id: int, token: str, *, pending: bool | None = None) -> None:
    changes: dict[str, Any] = {"run_token": "", "lease_expires_at": None}
    if pending is not None:
        changes["pending"] = pending
        changes["requested_at"] = timezone.now()
    TabulationState.objects.filter(pk=election_id, run_token=token).update(**changes)


def tabulation_run(*, election_id: int) -> str:
    """The body of the ``tabulation.tabulate`` task; safe to run twice or late.

    Returns "done", "deferred" (another run holds the election and will go
    round again) or "handed_over" (worked its budget, enqueued a fresh task).
    """
    TabulationState.objects.get_or_create(election_id=election_id)
    token = uuid.uuid4().hex
    claimed = _claim(election_id, token)
    attempts = 0
    while not claimed:
        if _leave_pending(election_id):
            return "deferred"
        attempts += 1
        if attempts > 3:
            return "deferred"
        claimed = _claim(election_id, token)
    started = time.monotonic()
    try:
        while True:
            round_started = time.monotonic()
            outcome = tabulation_compute(election_id=election_id)
            _publish_latest(election_id, outcome)
            if _release_if_idle(election_id, token):
                return "done"
            # Work came in while this run read: go round again, unless the
            # budget is spent (then a fresh task takes over, `pending` stays).
            if time.monotonic() - started > RUN_BUDGET_SECONDS:
                _release(election_id, token)
                tabulation_enqueue(election_id)
                return "handed_over"
            # What came in meanwhile waits out the round interval: it goes
            # out in the next round with whatever else comes by then.
            time.sleep(max(0.0, ROUND_INTERVAL_SECONDS - (time.monotonic() - round_started)))
            if not _take_pending(election_id, token):
                # The lease expired and another run holds it now.
                return "deferred"
    except BaseException:
        # Leave the work pending so that a retry or the sweep finishes it.
        _release(election_id, token, pending=True)
        raise


def _publish_latest(election_id: int, outcome: TabulationOutcome) -> None:
    """Publish the latest snapshot if it is not published yet, and before it
    any version stored since the last one published (its publishing failed,
    or its worker died): every stored version goes out, in order.

    A publishing failure (a full disk, the cache down) is logged and left to
    the sweep: the snapshot is stored, and `published_version` says it is
    not out yet.
    """
    snapshot = outcome.snapshot
    if snapshot is None:
        return
    published = (
        TabulationState.objects.filter(pk=election_id)
        .values_list("published_version", flat=True)
        .first()
    ) or 0
    if snapshot.version <= published:
        return
    skipped = ResultSnapshot.objects.filter(
        election_id=election_id, version__gt=published, version__lt=snapshot.version
    ).order_by("version")
    try:
        # The data files and the cache here; the pages in a task of their
        # own, after (SITE_PAGES_TASK), so the JSON never waits on them.
        for earlier in skipped:
            # Its rows have moved on since (a later version exists): its
            # station rows are those on record, if any (publishing.py).
            snapshot_publish(snapshot=earlier, rebuild=False, pages=False)
        snapshot_publish(snapshot=snapshot, stations=outcome.stations, pages=False)
    except Exception:
        logger.exception(
            "snapshot %s of election %s could not be published; the sweep will retry",
            snapshot.version,
            election_id,
        )
        return
    TabulationState.objects.filter(pk=election_id, published_version__lt=snapshot.version).update(
        published_version=snapshot.version
    )
    if settings.PUBLISH_SITE_PAGES:
        pages_request(election_id)


def pages_request_key(election_id: int) -> str:
    return f"tabulation:{election_id}:pages-requested"


def pages_request(election_id: int) -> bool:
    """Send the pages task for ``election_id`` unless one was sent in the last
    PAGES_AFTER_SECONDS (it will write whatever is latest when it runs);
    whether this call sent it. A lost task leaves the pages to the beat
    (``site_pages_fill_idle``); a duplicate finds nothing to do."""
    if not cache.add(pages_request_key(election_id), True, timeout=PAGES_AFTER_SECONDS):
        return False
    return _send(SITE_PAGES_TASK, election_id, countdown=PAGES_AFTER_SECONDS)


# --- The periodic sweep -----------------------------------------------------------------


def tabulation_sweep(*, now: datetime | None = None) -> list[int]:
    """Request a run for every election that needs one; the ids requested.

    An election needs one when an accepted record is newer than its last
    read, when its pending work has no live run and no recent request (the
    task was lost: broker down, worker killed), when its latest snapshot is
    not published, or when its entry deadline passed since its last read
    (U2 for the records not received). A certified election needs one only
    when its official snapshot is not published yet.
    """
    now = now or timezone.now()
    latest_accepted = dict(
        AcceptedRecord.objects.values("round__station__election_id")
        .annotate(latest=Max("accepted_at"))
        .values_list("round__station__election_id", "latest")
    )
    latest_version = dict(
        ResultSnapshot.objects.values("election_id")
        .annotate(latest=Max("version"))
        .values_list("election_id", "latest")
    )
    states = {state.pk: state for state in TabulationState.objects.all()}
    wanted = []
    for election_id, deadline, status in Election.objects.values_list(
        "id", "entry_deadline", "status"
    ):
        state = states.get(election_id)
        unpublished = latest_version.get(election_id, 0) > (state.published_version if state else 0)
        if status == Election.Status.CERTIFIED:
            # Nothing is counted any more; only an official snapshot whose
            # publishing failed is still owed to the readers.
            if unpublished:
                wanted.append(election_id)
            continue
        last_read = state.last_read_at if state else None
        lease_live = bool(state and state.lease_expires_at and state.lease_expires_at > now)
        accepted = latest_accepted.get(election_id)
        if (
            (accepted is not None and (last_read is None or accepted > last_read - SWEEP_MARGIN))
            or (
                state is not None
                and state.pending
                and not lease_live
                and (state.requested_at is None or state.requested_at < now - REQUEST_STALE)
            )
            or unpublished
            or (
                deadline is not None
                and deadline < now
                and (last_read is None or last_read < deadline)
            )
        ):
            wanted.append(election_id)
    for election_id in wanted:
        tabulation_request(election_id=election_id, force=True)
    return wanted


def tabulation_lease_release(*, election_id: int) -> bool:
    """Give up the lease of a run whose worker is known to be dead, and ask
    for a run: the next worker need not wait out the lease (a minute).

    `make demo` calls it when it starts its worker again. Safe even if the
    run were alive after all: the lease only spares work, and a stale run
    cannot store (``_store``). True when a lease was held.
    """
    released = (
        TabulationState.objects.filter(pk=election_id, lease_expires_at__isnull=False).update(
            run_token="", lease_expires_at=None
        )
        == 1
    )
    tabulation_request(election_id=election_id, force=True)
    return released
