"""Observers' copies compared with the accepted record (docs/observers.md).

A copy is compared with the round's live accepted record when it arrives
(if the record is accepted by then), and again whenever a record is accepted
or corrected later: ``records._accept`` and ``decisions.record_correct`` call
``copies_compare_round`` in their own transaction. Each comparison is stored
once per copy and record (the unique constraint makes a second call a
no-op), with one ``CopyFinding`` per difference (codes O1-O3).
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from tabulation.domain.copies import copy_differences
from tabulation.models import (
    AcceptedRecord,
    CopyComparison,
    CopyFinding,
    ObserverCopy,
    StationRound,
)
from tabulation.selectors.stations import entry_record
from tabulation.services.audit import audit_append
from tabulation.services.scans import paper_publish_on_commit


def _compare(
    copy: ObserverCopy, record: AcceptedRecord, actor: AbstractBaseUser | AnonymousUser | None
) -> CopyComparison:
    differences = copy_differences(entry_record(cast(Any, copy)), entry_record(record))
    comparison = CopyComparison.objects.create(
        copy=copy, accepted_record=record, differences=len(differences)
    )
    CopyFinding.objects.bulk_create(
        CopyFinding(
            comparison=comparison,
            code=item.code,
            field=item.field,
            copy_value=item.copy_value,
            record_value=item.record_value,
        )
        for item in differences
    )
    # The codes and fields only: the figures stay with the commission.
    audit_append(
        actor=actor,
        action="copy.compare",
        obj=comparison,
        station_code=copy.round.station.code,
        after={
            "copy": copy.pk,
            "accepted_record": record.pk,
            "differences": [[item.code, item.field] for item in differences],
        },
    )
    return comparison


def copies_compare_round(
    *, round: StationRound, actor: AbstractBaseUser | AnonymousUser | None = None
) -> list[CopyComparison]:
    """Compare every live copy of ``round`` not yet compared with its live
    accepted record. Call inside the transaction that holds the round."""
    record = AcceptedRecord.objects.filter(round=round, superseded_at__isnull=True).first()
    if record is None:
        return []
    # An accepted record makes the round's scans public, whether or not a
    # copy waits for it.
    paper_publish_on_commit(round.station.election_id)
    copies = (
        ObserverCopy.objects.filter(round=round, superseded_at__isnull=True)
        .exclude(comparisons__accepted_record=record)
        .select_related("round__station")
        .order_by("pk")
    )
    return [_compare(copy, record, actor) for copy in copies]
