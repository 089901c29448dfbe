"""Reads of the audit trail: its head (for result snapshots) and its proof."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tabulation.models import GENESIS_HASH, AuditEvent, AuditHead, ResultSnapshot
from tabulation.services.audit import audit_key, stored_event_hash


@dataclass(frozen=True)
class AuditHeadInfo:
    count: int
    head_hash: str


@dataclass(frozen=True)
class AuditVerification:
    ok: bool
    count: int
    head_hash: str
    # The first event that is wrong (or the sequence number that is missing).
    broken_sequence: int | None = None
    problem: str = ""


@dataclass(frozen=True)
class PublishedHead:
    """A head of the chain that left the database: (count, hash) as a result
    snapshot published it or an observer saved it, and where it comes from."""

    count: int
    head_hash: str
    source: str


def audit_head() -> AuditHeadInfo:
    """(count, head hash) of the chain: goes into every result snapshot.

    Read from the last event rather than the head row, so that a snapshot
    names an event that exists. Inside a transaction that has just appended,
    this includes that append.
    """
    last = AuditEvent.objects.order_by("-sequence").values("sequence", "hash").first()
    if last is None:
        return AuditHeadInfo(count=0, head_hash=GENESIS_HASH)
    return AuditHeadInfo(count=last["sequence"], head_hash=last["hash"])


def audit_chain_verify(*, chunk_size: int = 2000) -> AuditVerification:
    """Walk the whole chain in sequence order and recompute every HMAC.

    Detects a changed or forged event (its HMAC under the audit key does not
    match: whoever rewrote it did not hold the key), a removed one (a gap in
    the sequence, or a head row ahead of the last event), and reordered ones
    (previous hash mismatch). A removed tail with the head row moved back
    leaves a consistent chain: only the heads published before can show it
    (`audit_heads_verify`).
    """
    key = audit_key()
    expected_sequence = 1
    prev_hash = GENESIS_HASH
    for event in AuditEvent.objects.order_by("sequence").iterator(chunk_size=chunk_size):
        count = expected_sequence - 1
        if event.sequence != expected_sequence:
            return AuditVerification(
                ok=False,
                count=count,
                head_hash=prev_hash,
                broken_sequence=expected_sequence,
                problem=(
                    f"event {expected_sequence} is missing "
                    f"(the next stored event is {event.sequence})"
                ),
            )
        if event.prev_hash != prev_hash:
            return AuditVerification(
                ok=False,
                count=count,
                head_hash=prev_hash,
                broken_sequence=event.sequence,
                problem=(
                    f"event {event.sequence}: previous hash {event.prev_hash} does not match "
                    f"the hash of event {event.sequence - 1} ({prev_hash})"
                ),
            )
        recomputed = stored_event_hash(event, key=key)
        if recomputed != event.hash:
            return AuditVerification(
                ok=False,
                count=count,
                head_hash=prev_hash,
                broken_sequence=event.sequence,
                problem=(
                    f"event {event.sequence} ({event.action}) was changed or not written "
                    f"with the audit key: stored hash {event.hash}, recomputed {recomputed}"
                ),
            )
        prev_hash = event.hash
        expected_sequence += 1

    count = expected_sequence - 1
    head = AuditHead.objects.filter(pk=1).first()
    if head is not None and (head.sequence, head.hash) != (count, prev_hash):
        if head.sequence > count:
            problem = (
                f"event {count + 1} is missing: the chain head says {head.sequence} events, "
                f"{count} are stored"
            )
        else:
            problem = (
                f"the chain head (event {head.sequence}, {head.hash}) does not match "
                f"the last stored event ({count}, {prev_hash})"
            )
        return AuditVerification(
            ok=False,
            count=count,
            head_hash=prev_hash,
            broken_sequence=count + 1 if head.sequence > count else head.sequence,
            problem=problem,
        )
    return AuditVerification(ok=True, count=count, head_hash=prev_hash)


def snapshot_heads() -> tuple[list[PublishedHead], list[str]]:
    """The head every stored result snapshot published, oldest first, and
    the problems of the snapshot rows themselves.

    Versions run from 1 without a gap per election: a missing one was
    removed. A snapshot's `audit_head`/`audit_count` columns are the head its
    `results.json` published (the payload holds the same two values); a
    snapshot whose columns and payload disagree was changed after it was
    published, which is a problem of its own.
    """
    heads: list[PublishedHead] = []
    problems: list[str] = []
    rows = (
        ResultSnapshot.objects.order_by("election__slug", "version")
        .values_list(
            "election__slug",
            "version",
            "audit_count",
            "audit_head",
            "payload__audit_count",
            "payload__audit_head",
        )
        .iterator(chunk_size=2000)
    )
    previous: tuple[str, int] | None = None
    for slug, version, count, head_hash, published_count, published_hash in rows:
        source = f"snapshot {slug} v{version}"
        # Versions run 1, 2, 3, ... per election: a gap is a removed snapshot.
        expected_version = previous[1] + 1 if previous and previous[0] == slug else 1
        if version != expected_version:
            problems.append(
                f"snapshot {slug} v{expected_version}"
                + (f" to v{version - 1}" if version - 1 > expected_version else "")
                + f" missing (the next stored version is v{version})"
            )
        previous = (slug, version)
        heads.append(PublishedHead(count=count, head_hash=head_hash, source=source))
        if published_count is None and published_hash is None:
            continue  # a payload without the head (none is stored by the services)
        if (published_count, published_hash) != (count, head_hash):
            problems.append(
                f"{source} stores the head (event {count}, {head_hash}) but its document "
                f"published (event {published_count}, {published_hash})"
            )
            if isinstance(published_count, int) and isinstance(published_hash, str):
                heads.append(
                    PublishedHead(
                        count=published_count,
                        head_hash=published_hash,
                        source=f"{source} (its document)",
                    )
                )
    return heads, problems


def audit_heads_verify(heads: Iterable[PublishedHead], *, chunk_size: int = 500) -> list[str]:
    """One problem line for every head that the stored trail does not contain.

    A head (count, hash) holds when the stored event with sequence `count`
    has that hash (count 0: the genesis hash). A trail that was cut back
    after a head was published no longer has that event; one that was
    rewritten from an earlier event on has other hashes there, whether or
    not the forger held the key.
    """
    heads = list(heads)
    wanted = sorted({head.count for head in heads if head.count > 0})
    stored: dict[int, str] = {}
    for start in range(0, len(wanted), chunk_size):
        stored.update(
            AuditEvent.objects.filter(sequence__in=wanted[start : start + chunk_size]).values_list(
                "sequence", "hash"
            )
        )
    last = AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0
    problems = []
    for head in heads:
        if head.count == 0:
            expected: str | None = GENESIS_HASH
        else:
            expected = stored.get(head.count)
        if expected == head.head_hash:
            continue
        named = f"{head.source} published event {head.count} with hash {head.head_hash}"
        if head.count == 0:
            problems.append(f"{named}, but an empty trail has the hash {GENESIS_HASH}")
        elif expected is None and head.count > last:
            problems.append(f"{named}, but the trail ends at event {last}")
        elif expected is None:
            problems.append(f"{named}, but event {head.count} is not stored")
        else:
            problems.append(f"{named}, but the stored event {head.count} has hash {expected}")
    return problems
