"""Scans of the paper record: attaching one (a clerk with the entry, the
commission on the station's page), and reading one back (the commission
any, the public those of accepted records) (docs/observers.md).

Thin: who may is decided here from the selectors, the file is checked and
stored by services/scans.py.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Callable
from typing import cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from tabulation.models import Election, RecordEntry, RecordScan, StationRound
from tabulation.selectors.scans import (
    commission_scan_get,
    public_scan_get,
    public_scans,
    published_paper_get,
)
from tabulation.selectors.stations import clerk_station_get, round_current
from tabulation.services.scans import (
    CheckedScan,
    ScanRefused,
    scan_attach,
    scan_check,
    scan_open,
    too_large,
)
from tabulation.views.commission import member_required

SCAN_NAME = re.compile(r"[0-9a-f]{64}\.(?:jpg|png|pdf)")
# Room for the multipart envelope and the form's other fields.
ENVELOPE_BYTES = 64 * 1024
SCANS_CSV_COLUMNS = (
    "station",
    "municipality",
    "round",
    "sha256",
    "upload_sha256",
    "content_type",
    "size",
    "uploaded_at",
    "url",
)


def _client_address(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def refusal_text(error: ScanRefused) -> str:
    return gettext(error.message).format(**error.params)


def upload_checked(request: HttpRequest, field: str = "scan") -> CheckedScan | None:
    """The request's file ``field`` checked, None when none was sent, or
    ScanRefused. A body larger than any scan is refused before Django reads
    it (it would spool it to a temporary file first)."""
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > settings.SCAN_MAX_BYTES + ENVELOPE_BYTES:
        raise too_large()
    upload = request.FILES.get(field)
    if upload is None:
        return None
    return scan_check(name=upload.name or "", file=upload)


def _attach(request: HttpRequest, *, round: StationRound, entry: RecordEntry | None = None) -> bool:
    try:
        checked = upload_checked(request)
    except ScanRefused as error:
        messages.error(request, refusal_text(error))
        return False
    if checked is None:
        messages.error(request, gettext("Choose the file of the scan."))
        return False
    scan_attach(
        actor=cast(User, request.user),
        round=round,
        entry=entry,
        checked=checked,
        client_address=_client_address(request),
    )
    messages.success(request, gettext("The scan is stored."))
    return True


@login_required
@require_POST
def entry_scan(request: HttpRequest, slug: str, code: str) -> HttpResponse:
    """A clerk attaches the scan to their own entry (E3: 404 otherwise)."""
    clerk_station = clerk_station_get(request.user, slug, code)
    if clerk_station is None:
        raise Http404
    entry = clerk_station.own_entry
    if entry is None:
        messages.error(request, gettext("Store your entry first, then attach the scan."))
    else:
        _attach(request, round=entry.round, entry=entry)
    return redirect("entry:station", slug=slug, code=code)


@member_required
@require_POST
def commission_scan_upload(request: HttpRequest, slug: str, code: str) -> HttpResponse:
    election = get_object_or_404(Election, slug=slug)
    station = get_object_or_404(election.stations, code=code)
    round = round_current(station) or station.rounds.order_by("-number").first()
    if round is None:
        raise Http404
    _attach(request, round=round)
    return redirect(reverse("commission:station", args=[slug, code]) + "#scans")


def _file(scan: RecordScan, *, public: bool) -> FileResponse:
    response = FileResponse(scan_open(scan), content_type=scan.content_type)
    response["Content-Disposition"] = f'inline; filename="{scan.filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    # A PDF opened in the browser runs in a sandbox: no script, no form.
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'"
    # Named by its hash, a file never changes; the commission's stay private.
    response["Cache-Control"] = (
        "public, max-age=31536000, immutable" if public else "private, no-store"
    )
    return response


def _serve(
    slug: str, scan: str, find: Callable[[Election, str], RecordScan | None], *, public: bool
) -> FileResponse:
    election = get_object_or_404(Election, slug=slug)
    found = find(election, scan) if SCAN_NAME.fullmatch(scan) else None
    if found is None:
        raise Http404
    return _file(found, public=public)


@member_required
@require_GET
def commission_scan(request: HttpRequest, slug: str, scan: str) -> FileResponse:
    return _serve(slug, scan, commission_scan_get, public=False)


@require_GET
def public_scan(request: HttpRequest, slug: str, scan: str) -> FileResponse:
    """A scan of an accepted record; before acceptance it does not exist."""
    return _serve(slug, scan, public_scan_get, public=True)


@require_GET
def scans_csv(request: HttpRequest, slug: str) -> HttpResponse:
    """Open data: every public scan with its SHA-256, one row a scan."""
    election = get_object_or_404(Election, slug=slug)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(SCANS_CSV_COLUMNS)
    for scan in public_scans(election):
        station = scan.round.station
        writer.writerow(
            [
                station.code,
                station.municipality.code,
                scan.round.number,
                scan.sha256,
                scan.upload_sha256,
                scan.content_type,
                scan.size,
                scan.uploaded_at.isoformat(),
                request.build_absolute_uri(
                    reverse("results:scan", kwargs={"slug": slug, "scan": scan.filename})
                ),
            ]
        )
    response = HttpResponse(buffer.getvalue().encode(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{slug}-scans.csv"'
    response["Access-Control-Allow-Origin"] = "*"
    return response


def station_paper(slug: str, code: str) -> tuple[dict[str, object], str]:
    """The public station page's paper record, from ``paper.json``: its scans
    once accepted, how many independent copies agree; and a part of the
    page's ETag, so that a scan or a copy that comes after the snapshot shows
    without waiting for the next one."""
    paper = published_paper_get(slug, code)
    part = hashlib.sha256(json.dumps(paper, sort_keys=True).encode()).hexdigest()[:12]
    return station_paper_shown(paper), part


def station_paper_shown(paper: dict[str, object]) -> dict[str, object]:
    """What the public station page shows of a published paper record."""
    return {"scans": paper.get("scans", []), "agreement": paper.get("agreement")}
