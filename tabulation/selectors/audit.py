"""Reads of the audit trail: its head (for result snapshots) and its proof."""

from __future__ import annotations

from dataclasses import dataclass

from tabulation.models import GENESIS_HASH, AuditEvent, AuditHead
from tabulation.services.audit import stored_event_hash


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
    """Walk the whole chain in sequence order and recompute every hash.

    Detects a changed event (hash mismatch), a removed one (a gap in the
    sequence, or a head row ahead of the last event), and reordered ones
    (previous hash mismatch).
    """
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
        recomputed = stored_event_hash(event)
        if recomputed != event.hash:
            return AuditVerification(
                ok=False,
                count=count,
                head_hash=prev_hash,
                broken_sequence=event.sequence,
                problem=(
                    f"event {event.sequence} ({event.action}) was changed: stored hash "
                    f"{event.hash}, recomputed {recomputed}"
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
