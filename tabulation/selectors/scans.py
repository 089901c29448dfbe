"""Who may see which scan (docs/observers.md, "Who sees a scan").

The second entry stays blind (house rule 13): a scan a clerk attached with
an entry is seen by that clerk and by the commission, by nobody else, until
the round's record is accepted. From then on the record's scans are public:
on the station page, in ``scans.csv``. An observer's photo stays with the
commission.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Exists, OuterRef, QuerySet

from tabulation.models import AcceptedRecord, Election, PollingStation, RecordScan


def _accepted() -> Exists:
    # Any accepted record, live or superseded: once accepted, a round's
    # record was public, even if a later decision corrected or annulled it.
    return Exists(AcceptedRecord.objects.filter(round=OuterRef("round")))


def public_scans(election: Election) -> QuerySet[RecordScan]:
    """Every public scan of the election: the record's, of accepted rounds."""
    return (
        RecordScan.objects.filter(round__station__election=election, kind=RecordScan.Kind.RECORD)
        .filter(_accepted())
        .select_related("round__station__municipality")
        .order_by("round__station__code", "round__number", "uploaded_at", "pk")
    )


def station_public_scans(election: Election, code: str) -> list[RecordScan]:
    return list(public_scans(election).filter(round__station__code=code))


def public_scan_get(election: Election, filename: str) -> RecordScan | None:
    return next(
        (scan for scan in public_scans(election).filter(storage_name__endswith=f"/{filename}")),
        None,
    )


def commission_scans(station: PollingStation) -> list[RecordScan]:
    """Every scan of every round of the station, for the commission."""
    return list(
        RecordScan.objects.filter(round__station=station)
        .select_related("round", "uploaded_by", "entry")
        .order_by("round__number", "uploaded_at", "pk")
    )


def commission_scan_get(election: Election, filename: str) -> RecordScan | None:
    return (
        RecordScan.objects.filter(
            round__station__election=election, storage_name__endswith=f"/{filename}"
        )
        .order_by("pk")
        .first()
    )


def own_scans(user: AbstractBaseUser | AnonymousUser, station: PollingStation) -> list[RecordScan]:
    """The scans ``user`` attached to the station's records: a clerk sees
    their own, never the other clerk's."""
    if not user.is_authenticated:
        return []
    return list(
        RecordScan.objects.filter(round__station=station, uploaded_by=user).order_by(
            "uploaded_at", "pk"
        )
    )
