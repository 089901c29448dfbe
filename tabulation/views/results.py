"""The public results pages and open-data downloads: no login, no database.

Every view reads published snapshots through ``tabulation.selectors.published``
(the cache, or the files in PUBLISH_DIR) and nothing else, so a crowd on
election night never reaches the write tables. Responses carry an ETag and
Last-Modified and may be held by a CDN for a few seconds; a repeated request
with If-None-Match gets a bodiless 304.
"""

import json
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from tabulation.domain.record import RECORD_FIELDS
from tabulation.models import AcceptedRecord
from tabulation.selectors.open_data import OPEN_DATA_FILES, STATION_FILES
from tabulation.selectors.open_data import open_data_file as open_data_file_bytes
from tabulation.selectors.published import (
    iso_date,
    iso_datetime,
    published_elections_list,
    published_fingerprint_get,
    published_results_get,
    published_stations_list,
    published_versions_list,
)
from tabulation.views.conditional import MAX_AGE_SECONDS, conditional_response, snapshot_etag
from tabulation.views.scans import station_paper

# Bump when the page markup changes, so a revalidating browser gets the new page.
PAGE_REVISION = "5"
# The results page names at most this many pending repeat votes (the soonest
# first) and gives the count of the rest: the list must stay short.
REPEAT_VOTES_LISTED = 10
# The results and open-data pages name the newest few snapshots; every one is
# in the paged index (a night publishes hundreds, and each stays downloadable).
RECENT_SNAPSHOTS = 5
SNAPSHOTS_PER_PAGE = 50

# The station page and the data dictionary name each field of the paper record.
# (field, label): the record's own names (tabulation/models.py, RecordFields).
RECORD_FIELD_LABELS = [(name, capfirst(AcceptedRecord.field_label(name))) for name in RECORD_FIELDS]
STATION_STATUSES = {
    "counted": _("Counted"),
    "accepted": _("Counted"),
    "awaiting": _("Awaiting the record"),
    "first_entry": _("Being entered"),
    "second_entry": _("Being entered"),
    "entries_differ": _("Entries being reconciled"),
    "held": _("Held for a commission decision"),
    "annulled": _("Annulled: repeat vote"),
}
DECISION_KINDS = {
    "correct": _("Correction"),
    "annul_and_order_repeat": _("Annulment and repeat vote ordered"),
    "dismiss_warning": _("Warning dismissed"),
    "drawing_of_lots": _("Drawing of lots"),
    "objection_decided": _("Objection decided"),
    "reconcile": _("Entries that differed reconciled"),
    "reopen": _("Certified result reopened"),
}
FINDING_STATUSES = {"open": _("open"), "resolved": _("resolved"), "dismissed": _("dismissed")}


# --- Conditional responses -----------------------------------------------------------


def _cacheable(
    request: HttpRequest,
    document: dict[str, Any],
    build: Callable[[], HttpResponse],
    *parts: str,
) -> HttpResponse:
    """``build()`` the response unless the client already has this view of
    this snapshot (tabulation/views/conditional.py)."""
    return conditional_response(
        request,
        etag=snapshot_etag(document["election"]["slug"], document["version"], *parts),
        published_at=document["published_at"],
        build=build,
    )


def _page_parts() -> tuple[str, str]:
    return (get_language() or "sr-latn", PAGE_REVISION)


def _document_or_404(slug: str, version: int | None = None) -> dict[str, Any]:
    document = published_results_get(slug, version)
    if document is None:
        raise Http404("No published results for this election or version.")
    return document


# --- Pages anyone may be served: rendered without a request --------------------------
#
# The results page, its live part, the version document, a municipality's
# page and a station's page are also published as files (services/
# publishing.py, docs/tabulation.md) that nginx serves with Django stopped.
# So each is rendered by one function below, from the published data alone
# and WITHOUT the request: no context processor runs, nothing of the reader
# (session, user, CSRF token, query string) can reach the page, and the
# language switcher links the page's own address (``page_path``). The view
# and the publisher call the same function, in the same language, so the
# file and Django's answer are the same bytes (a test compares them).


def _page(template: str, context: dict[str, Any], page_path: str) -> bytes:
    return render_to_string(template, {**context, "page_path": page_path}).encode()


def _html(content: bytes) -> HttpResponse:
    return HttpResponse(content, content_type="text/html; charset=utf-8")


def _address(name: str, document: dict[str, Any], *args: Any, latest: bool) -> str:
    """The page's address in the current language: ``results:<name>`` of the
    latest, ``results:<name>-version`` of an earlier snapshot."""
    slug = document["election"]["slug"]
    if latest:
        return reverse(f"results:{name}", args=[slug, *args])
    return reverse(f"results:{name}-version", args=[slug, document["version"], *args])


def version_json(document: dict[str, Any]) -> bytes:
    """The tiny document the results page polls: which snapshot is the latest."""
    latest = {
        "version": document["version"],
        "status": document["status"],
        "published_at": document["published_at"],
    }
    return json.dumps(latest, cls=DjangoJSONEncoder).encode()


def _live_part(document: dict[str, Any], *, latest: bool) -> bytes:
    context = _results_context(document, latest=latest)
    context["fingerprint"] = _fingerprint(document)
    return render_to_string("results/_live.html", context).encode()


def live_html(document: dict[str, Any]) -> bytes:
    """The changing parts of the latest results page, for its script to swap in."""
    return _live_part(document, latest=True)


def election_html(
    document: dict[str, Any],
    versions: list[dict[str, Any]],
    *,
    latest: bool,
    live: bytes | None = None,
) -> bytes:
    """The results page, around its live part (``live``: the latest's, when
    already rendered). An earlier snapshot's page names the snapshots up to
    itself only: it is published once and never changes."""
    if not latest:
        versions = [item for item in versions if int(item["version"]) <= int(document["version"])]
    if live is None:
        live = _live_part(document, latest=latest)
    context = _results_context(document, latest=latest)
    context.update(_recent_versions(versions))
    context["earlier_official"] = _earlier_official(document, versions)
    # Rendered by our own template, escaped there.
    context["live"] = mark_safe(live.decode())
    address = _address("election", document, latest=latest)
    return _page("results/election.html", context, address)


def municipality_html(
    document: dict[str, Any],
    municipality: dict[str, Any],
    stations: list[dict[str, Any]],
    *,
    latest: bool,
) -> bytes:
    code = municipality["code"]
    context = _results_context(document, latest=latest)
    context.update(
        municipality=municipality,
        stations=[_as_shown(row) for row in stations if row.get("municipality") == code],
        station_statuses=STATION_STATUSES,
        fingerprint=_fingerprint(document, code),
    )
    address = _address("municipality", document, code, latest=latest)
    return _page("results/municipality.html", context, address)


def _municipality_of(document: dict[str, Any], station: dict[str, Any]) -> dict[str, Any] | None:
    code = station.get("municipality")
    return next((item for item in document["municipalities"] if item["code"] == code), None)


def station_html(
    document: dict[str, Any], station: dict[str, Any], paper: dict[str, Any], *, latest: bool
) -> bytes:
    """A station's page. The latest one names no snapshot: it is published
    again only when its station, its paper record or the document's status
    changes (``station_page_inputs``), and must read the same until then."""
    context = _results_context(document, latest=latest)
    municipality = _municipality_of(document, station)
    context.update(
        station=station,
        municipality=municipality,
        status_label=STATION_STATUSES.get(station.get("status", ""), station.get("status")),
        record=_station_record(station),
        earlier_rounds=_earlier_rounds(station),
        decision_kinds=DECISION_KINDS,
        finding_statuses=FINDING_STATUSES,
        **paper,
    )
    address = _address("station", document, station["code"], latest=latest)
    return _page("results/station.html", context, address)


def _page_frame(document: dict[str, Any]) -> dict[str, Any]:
    """What every latest municipality and station page shows of the document
    besides its own rows: the election, the status and the lists."""
    return {
        "status": document["status"],
        "election": document["election"],
        "lists": [(item["ballot_number"], item["name"]) for item in document["lists"]],
    }


def municipality_page_inputs(
    document: dict[str, Any], municipality: dict[str, Any], stations: list[dict[str, Any]]
) -> dict[str, Any]:
    """Everything of the published data that a latest municipality page
    shows: when it is the same for two snapshots, so is the page."""
    code = municipality["code"]
    fingerprint = _fingerprint(document, code) or {}
    return {
        **_page_frame(document),
        "municipality": municipality,
        "stations": [row for row in stations if row.get("municipality") == code],
        "fingerprint": {key: fingerprint.get(key) for key in ("area", "bins", "corner", "flagged")},
    }


def station_page_inputs(
    document: dict[str, Any], station: dict[str, Any], paper: dict[str, Any]
) -> dict[str, Any]:
    """Everything of the published data that the latest station page shows:
    when it is the same for two snapshots, so is the page."""
    municipality = _municipality_of(document, station) or {}
    return {
        **_page_frame(document),
        "station": station,
        "paper": paper,
        "municipality": (municipality.get("code"), municipality.get("name")),
    }


# --- Pages -------------------------------------------------------------------


def results_index(request: HttpRequest) -> HttpResponse:
    response = render(request, "results/index.html", {"elections": published_elections_list()})
    patch_cache_control(response, public=True, max_age=MAX_AGE_SECONDS)
    return response


def _repeat_votes(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The pending repeat votes, the soonest first (those without a date
    last), each with its date as a ``date`` for the page's format."""
    pending = [
        {**item, "voting_date": iso_date(item.get("voting_date"))}
        for item in document.get("pending_repeat_votes") or ()
    ]
    return sorted(
        pending, key=lambda item: (item["voting_date"] is None, item["voting_date"] or date.min)
    )


def _certification(document: dict[str, Any]) -> dict[str, Any] | None:
    """Who certified an official document, when, and which versions it ties
    together (RULES.md section 5); None for a provisional one. Reads the
    ``certification`` block, falling back to the top-level keys."""
    if document.get("status") != "official":
        return None
    block = document.get("certification") or {}
    certified_at = block.get("certified_at") or document.get("certified_at")
    return {
        "certified_at": iso_datetime(certified_at),
        "certified_at_iso": certified_at or "",
        "certified_by": list(block.get("certified_by") or document.get("certified_by") or ()),
        "official_version": block.get("official_version"),
        "certifies_version": block.get("certifies_version"),
    }


def _councillors(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The lists that won seats, in ballot order, each with its elected
    candidates in list order (``mandates``, RULES.md section 3, rule 8)."""
    return sorted(
        (item for item in document["lists"] if item.get("mandates")),
        key=lambda item: item["ballot_number"],
    )


def _results_context(document: dict[str, Any], *, latest: bool) -> dict[str, Any]:
    election = document["election"]
    repeat_votes = _repeat_votes(document)
    certification = _certification(document)
    return {
        "document": document,
        "election": election,
        "election_date": date.fromisoformat(election["date"]),
        "published_at": datetime.fromisoformat(document["published_at"]),
        "latest": latest,
        # Keyed like the municipalities' votes: ballot numbers as strings.
        "lists_by_number": {str(item["ballot_number"]): item for item in document["lists"]},
        "seats_listed": [item for item in document["lists"] if item.get("seats")],
        "repeat_votes": repeat_votes[:REPEAT_VOTES_LISTED],
        "repeat_votes_unlisted": max(0, len(repeat_votes) - REPEAT_VOTES_LISTED),
        "official": certification is not None,
        "certification": certification,
        # Elected only once certified: a provisional document's mandates are
        # a projection (they are in its open data, marked provisional).
        "councillors": _councillors(document) if certification is not None else [],
    }


def _earlier_official(
    document: dict[str, Any], versions: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """The newest official version before a provisional ``document``: the
    certified result that a decision reopened (RULES.md section 5)."""
    if document.get("status") == "official":
        return None
    earlier = [
        item
        for item in versions
        if item.get("status") == "official" and int(item["version"]) < int(document["version"])
    ]
    return earlier[-1] if earlier else None


def _recent_versions(versions: list[dict[str, Any]]) -> dict[str, Any]:
    """The newest RECENT_SNAPSHOTS versions, newest first, and how many there
    are in all (the rest are in the paged index, ``snapshots_page``)."""
    return {
        "recent_versions": list(reversed(versions[-RECENT_SNAPSHOTS:])),
        "versions_count": len(versions),
    }


def _fingerprint(
    document: dict[str, Any], municipality: str | None = None
) -> dict[str, Any] | None:
    """The published fingerprint of ``document`` (the whole election, or one
    municipality's), with the flagged stations it covers; None before any."""
    fingerprint = published_fingerprint_get(document["election"]["slug"], int(document["version"]))
    if fingerprint is None:
        return None
    if municipality is None:
        area = fingerprint["election"]
    else:
        area = fingerprint["municipalities"].get(municipality) or {}
    flagged = [
        row
        for row in fingerprint.get("flagged") or ()
        if municipality is None or row.get("municipality") == municipality
    ]
    return {**fingerprint, "area": area, "flagged": flagged}


def results_page(request: HttpRequest, slug: str, version: int | None = None) -> HttpResponse:
    document = _document_or_404(slug, version)

    def build() -> HttpResponse:
        versions = published_versions_list(slug)
        return _html(election_html(document, versions, latest=version is None))

    return _cacheable(request, document, build, "page", *_page_parts())


def results_live(request: HttpRequest, slug: str) -> HttpResponse:
    """The changing parts of the results page, for the page's script to swap in."""
    document = _document_or_404(slug)
    return _cacheable(request, document, lambda: _html(live_html(document)), "live", *_page_parts())


def results_version(request: HttpRequest, slug: str) -> HttpResponse:
    """A tiny document the page polls: which snapshot is the latest."""
    document = _document_or_404(slug)

    def build() -> HttpResponse:
        return HttpResponse(version_json(document), content_type="application/json")

    return _cacheable(request, document, build, "version")


def municipality_page(
    request: HttpRequest, slug: str, code: str, version: int | None = None
) -> HttpResponse:
    document = _document_or_404(slug, version)
    municipality = next((item for item in document["municipalities"] if item["code"] == code), None)
    if municipality is None:
        raise Http404("No such municipality in this election.")

    def build() -> HttpResponse:
        stations = published_stations_list(slug, document["version"]) or []
        return _html(municipality_html(document, municipality, stations, latest=version is None))

    return _cacheable(request, document, build, "municipality", code, *_page_parts())


def _earlier_rounds(station: dict[str, Any]) -> list[dict[str, Any]]:
    """A station's annulled rounds (``earlier_rounds`` of its published row;
    absent from rows published before rounds were), ready for the page."""
    return [
        {
            "round": item.get("round"),
            "ground": item.get("ground"),
            "annulled_at": iso_datetime(item.get("annulled_at")),
            "repeat_voting_date": iso_date(item.get("repeat_voting_date")),
            "record": [(label, item.get(field)) for field, label in RECORD_FIELD_LABELS],
            "votes": item.get("votes") or {},
            "findings": item.get("findings") or [],
        }
        for item in station.get("earlier_rounds") or ()
    ]


def _as_shown(station: dict[str, Any]) -> dict[str, Any]:
    """A station's row as the pages show it. Until its record is counted the
    record's fields are blank, but its registered voters are known from the
    start: the register's figure (``registered_in_register``) stands in."""
    if station.get("registered") is not None:
        return station
    return {**station, "registered": station.get("registered_in_register")}


def _station_record(station: dict[str, Any]) -> list[tuple[Any, Any]]:
    """(label, value) of each field of a station's current record."""
    shown = _as_shown(station)
    return [(label, shown.get(field)) for field, label in RECORD_FIELD_LABELS]


def station_page(
    request: HttpRequest, slug: str, code: str, version: int | None = None
) -> HttpResponse:
    document = _document_or_404(slug, version)
    stations = published_stations_list(slug, document["version"]) or []
    station = next((row for row in stations if row.get("code") == code), None)
    if station is None:
        raise Http404("No such polling station in this election.")
    paper, paper_part = station_paper(slug, code)

    def build() -> HttpResponse:
        return _html(station_html(document, station, paper, latest=version is None))

    return _cacheable(request, document, build, "station", code, paper_part, *_page_parts())


def open_data_page(request: HttpRequest, slug: str) -> HttpResponse:
    document = _document_or_404(slug)

    def build() -> HttpResponse:
        context = _results_context(document, latest=True)
        context.update(
            _recent_versions(published_versions_list(slug)),
            files=OPEN_DATA_FILES,
            record_fields=RECORD_FIELD_LABELS,
        )
        return render(request, "results/open_data.html", context)

    return _cacheable(request, document, build, "data", *_page_parts())


def snapshots_page(request: HttpRequest, slug: str) -> HttpResponse:
    """Every published snapshot, newest first, SNAPSHOTS_PER_PAGE a page: a
    link to each one's page and to each of its files."""
    document = _document_or_404(slug)
    paginator = Paginator(list(reversed(published_versions_list(slug))), SNAPSHOTS_PER_PAGE)
    snapshots = paginator.get_page(request.GET.get("page"))

    def build() -> HttpResponse:
        context = _results_context(document, latest=True)
        context.update(
            snapshots=snapshots,
            page_range=list(paginator.get_elided_page_range(snapshots.number)),
            ellipsis=paginator.ELLIPSIS,
            files=OPEN_DATA_FILES,
        )
        return render(request, "results/snapshots.html", context)

    parts = ("snapshots", f"p{snapshots.number}", *_page_parts())
    return _cacheable(request, document, build, *parts)


# --- Open data downloads ---------------------------------------------------------


def open_data_file(
    request: HttpRequest, slug: str, filename: str, version: int | None = None
) -> HttpResponse:
    if filename not in OPEN_DATA_FILES:
        raise Http404("No such open data file.")
    document = _document_or_404(slug, version)

    def build() -> HttpResponse:
        stations = None
        if filename in STATION_FILES:
            stations = published_stations_list(slug, document["version"]) or []
        content = open_data_file_bytes(filename, document, stations)
        kind = "text/csv" if filename.endswith(".csv") else "application/json"
        response = HttpResponse(content, content_type=f"{kind}; charset=utf-8")
        response["Content-Disposition"] = (
            f'inline; filename="{slug}-v{document["version"]}-{filename}"'
        )
        response["Access-Control-Allow-Origin"] = "*"  # open data: any site may fetch it
        return response

    return _cacheable(request, document, build, "file", filename)
