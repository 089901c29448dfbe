"""Who may see which scan (docs/observers.md, "Who sees a scan"), and the
public "paper record" of each station as published in ``paper.json``.

The second entry stays blind (house rule 13): a scan a clerk attached with
an entry is seen by that clerk and by the commission, by nobody else, until
the round's record is accepted. From then on the record's scans are public:
on the station page, in ``scans.csv``. An observer's photo stays with the
commission.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Exists, OuterRef, QuerySet

from tabulation.models import AcceptedRecord, Election, PollingStation, RecordScan
from tabulation.selectors.observers import copies_agreement

PAPER_FILE = "paper.json"
_SAFE_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
# The file read last, by path: (mtime, size, content); a page view costs a stat.
_paper_memo: dict[str, tuple[int, int, dict[str, Any]]] = {}


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
        RecordScan.objects.filter(round__station=station, uploaded_by_id=user.pk).order_by(
            "uploaded_at", "pk"
        )
    )


def paper_document(election: Election) -> dict[str, Any]:
    """Each station's public paper record, by code: its scans (of accepted
    records) and how many independent copies agree with the record and
    differ from it. What ``paper.json`` holds."""
    stations: dict[str, dict[str, Any]] = {}
    for scan in public_scans(election):
        station = stations.setdefault(scan.round.station.code, {"scans": []})
        station["scans"].append(
            {
                "round": scan.round.number,
                "filename": scan.filename,
                "sha256": scan.sha256,
                "content_type": scan.content_type,
                "width": scan.width,
                "height": scan.height,
            }
        )
    for code, agreement in copies_agreement(election).items():
        station = stations.setdefault(code, {"scans": []})
        station["agreement"] = {"agree": agreement.agree, "differ": agreement.differ}
    return {"election": election.slug, "stations": stations}


def paper_path(slug: str) -> Path:
    return Path(settings.PUBLISH_DIR) / slug / PAPER_FILE


def published_paper_get(slug: str, code: str) -> dict[str, Any]:
    """The station's published paper record (``{}`` when it has none), read
    from ``paper.json``: the public page never touches the write tables."""
    if not _SAFE_SLUG.match(slug):
        return {}
    path = paper_path(slug)
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return {}
    memo = _paper_memo.get(str(path))
    if memo is None or memo[:2] != (status.st_mtime_ns, status.st_size):
        document = json.loads(path.read_bytes())
        memo = (status.st_mtime_ns, status.st_size, document)
        _paper_memo[str(path)] = memo
    return dict(memo[2].get("stations", {}).get(code, {}))
