"""Pages for observers (under /observe/): their copies of the records, a
copy typed with its photo, and a parallel tabulation in bulk as CSV
(docs/observers.md).

An observer sees only what it submitted: none of these pages shows a
clerk's entry, the accepted record or a comparison. Anyone who is not an
accredited observer of the election gets 403.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from tabulation.forms import RecordEntryForm
from tabulation.models import Observer, ObserverCopy
from tabulation.selectors.observers import observer_get, observer_list, own_copies
from tabulation.selectors.stations import ballot_list, entry_votes, finding_text
from tabulation.services.observers import (
    SUBMIT_PERMISSION,
    CsvRefused,
    copies_import_csv,
    copy_submit,
)
from tabulation.services.records import InputRefused
from tabulation.services.scans import ScanRefused
from tabulation.views.scans import refusal_text, upload_checked

View = Callable[..., HttpResponse]
# A parallel tabulation of every station of Belgrade is about 200 KB.
CSV_MAX_BYTES = 2 * 1024 * 1024


def _client_address(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def observer_required(view: View) -> View:
    """Logged in, and an accredited observer of the election in the URL."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, slug: str, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.has_perm(SUBMIT_PERMISSION):
            raise PermissionDenied
        observer = observer_get(request.user, slug)
        if observer is None:
            raise PermissionDenied
        return view(request, observer, *args, **kwargs)

    return wrapped


@login_required
@require_GET
def observe_home(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(SUBMIT_PERMISSION):
        raise PermissionDenied
    observers = observer_list(request.user)
    if len(observers) == 1:
        return redirect("observe:copies", slug=observers[0].election.slug)
    return render(request, "observe/home.html", {"observers": observers})


def _copy_rows(observer: Observer) -> list[dict[str, Any]]:
    return [
        {"copy": copy, "votes": entry_votes(copy)}  # type: ignore[arg-type]
        for copy in own_copies(observer)
    ]


@observer_required
@require_GET
def copies(request: HttpRequest, observer: Observer) -> HttpResponse:
    """The observer's own copies, and the way to a station's form."""
    code = (request.GET.get("station") or "").strip()
    if code and observer.election.stations.filter(code=code).exists():
        return redirect("observe:station", slug=observer.election.slug, code=code)
    context = {
        "observer": observer,
        "election": observer.election,
        "lists": ballot_list(observer.election),
        "rows": _copy_rows(observer),
        "unknown_station": code,
    }
    return render(request, "observe/copies.html", context)


@observer_required
def station(request: HttpRequest, observer: Observer, code: str) -> HttpResponse:
    """GET: the copy form. POST: store the copy (and its photo)."""
    election = observer.election
    station = election.stations.filter(code=code).select_related("municipality").first()
    if station is None:
        raise Http404
    lists = ballot_list(election)
    form = RecordEntryForm(request.POST or None, lists=lists)
    status = 200
    refusal = ""
    if request.method == "POST":
        form.is_valid()
        try:
            photo = upload_checked(request, "photo")
            copy_submit(
                actor=request.user,
                station=station,
                values=form.values(),
                votes=form.votes(),
                source=ObserverCopy.Source.FORM,
                photo=photo,
                client_address=_client_address(request),
            )
        except ScanRefused as error:
            status, refusal = 422, refusal_text(error)
        except InputRefused as error:
            form.add_findings(error.findings)
            status = 422
            refusal = gettext("Nothing was stored: correct the fields marked below.")
        else:
            messages.success(request, gettext("Your copy is stored."))
            return redirect("observe:copies", slug=election.slug)
    context = {
        "observer": observer,
        "election": election,
        "station": station,
        "form": form,
        "refusal": refusal,
    }
    return render(request, "observe/station.html", context, status=status)


def _csv_refusals(error: CsvRefused) -> list[dict[str, Any]]:
    return [
        {
            "line": row.line,
            "station": row.station,
            "errors": [finding_text(item) for item in row.findings] or [gettext(row.message)],
        }
        for row in error.rows
    ]


@observer_required
def upload(request: HttpRequest, observer: Observer) -> HttpResponse:
    """GET: the CSV form. POST: every row stored, or none (the refused rows shown)."""
    context: dict[str, Any] = {"observer": observer, "election": observer.election}
    status = 200
    if request.method == "POST":
        file = request.FILES.get("file")
        text = None
        if file is None or file.size is None or file.size > CSV_MAX_BYTES:
            context["refusal"] = gettext("Choose a CSV file of at most 2 MB.")
        else:
            try:
                text = file.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                context["refusal"] = gettext("The file is not UTF-8 text.")
        if text is not None:
            try:
                stored = copies_import_csv(
                    actor=request.user,
                    election=observer.election,
                    text=text,
                    client_address=_client_address(request),
                )
            except CsvRefused as error:
                context["refusal"] = gettext("Nothing was stored: correct the rows below.")
                context["refused_rows"] = _csv_refusals(error)
            else:
                messages.success(
                    request,
                    gettext("%(count)d copies are stored.") % {"count": len(stored)},
                )
                return redirect("observe:copies", slug=observer.election.slug)
        status = 422
    return render(request, "observe/upload.html", context, status=status)
