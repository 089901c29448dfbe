"""Pages for polling-board clerks: their stations, the record form, and the
staff page that reconciles two entries that differ (docs/entry.md).

Thin: find the station through the selectors (404 when it is not the
user's: E3), call a service with the user from the request, render.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from tabulation.domain.record import RECORD_FIELDS
from tabulation.domain.record import Finding as DomainFinding
from tabulation.forms import RecordEntryForm
from tabulation.models import Election, Finding, RecordEntry, StationRound
from tabulation.selectors.scans import own_scans
from tabulation.selectors.stations import (
    ClerkStation,
    ballot_list,
    clerk_elections_list,
    clerk_station_get,
    clerk_station_list,
    entry_findings,
    entry_votes,
    finding_text,
    round_version,
)
from tabulation.services.records import (
    EntryRefused,
    InputRefused,
    StationNotAllowed,
    entry_withdraw,
    record_submit,
)


def _client_address(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _finding_rows(
    findings: tuple[DomainFinding, ...] | list[DomainFinding],
) -> list[dict[str, Any]]:
    """Findings as the templates show them: code, kind, words."""
    return [
        {
            "code": finding.code,
            "category": Finding.Category(finding.category.value).label,
            "holds_back": finding.holds_back,
            "text": finding_text(finding),
            "fields": finding.fields,
        }
        for finding in findings
    ]


def _entry_rows(entry: RecordEntry) -> list[tuple[str, object]]:
    rows: list[tuple[str, object]] = []
    for name in RECORD_FIELDS:
        value = getattr(entry, name)
        if name == "control_sheet_ok" and value is not None:
            value = gettext("yes") if value else gettext("no")
        rows.append((str(RecordEntry._meta.get_field(name).verbose_name), value))
    return rows


def _station_or_404(request: HttpRequest, slug: str, code: str) -> ClerkStation:
    clerk_station = clerk_station_get(request.user, slug, code)
    if clerk_station is None:
        # E3: a station that is not the user's looks like one that does not exist.
        raise Http404
    return clerk_station


@login_required
def entry_home(request: HttpRequest) -> HttpResponse:
    elections = list(clerk_elections_list(request.user))
    if len(elections) == 1:
        return redirect("entry:stations", slug=elections[0].slug)
    return render(request, "entry/elections.html", {"elections": elections})


@login_required
def station_list(request: HttpRequest, slug: str) -> HttpResponse:
    election = get_object_or_404(Election, slug=slug)
    rows = clerk_station_list(request.user, election)
    # No station of one's own is an answer, not an error: a commission member
    # finds the way to their own pages from here.
    return render(request, "entry/stations.html", {"election": election, "rows": rows})


def _form_for(
    clerk_station: ClerkStation, *, lists: list[Any], correcting: bool, data: Any = None
) -> RecordEntryForm:
    initial: dict[str, Any] = {}
    round = clerk_station.round
    if round is not None:
        initial["round_version"] = round_version(round)
    own = clerk_station.own_entry
    if correcting and own is not None:
        # The clerk's own entry only: never the other clerk's (the second
        # entry is blind).
        for name in RECORD_FIELDS:
            value = getattr(own, name)
            if name == "control_sheet_ok":
                value = "" if value is None else ("yes" if value else "no")
            initial[name] = "" if value is None else value
        for number, votes in entry_votes(own).items():
            initial[f"votes[{number}]"] = votes
    return RecordEntryForm(data, lists=lists, initial=initial)


@login_required
def station_entry(request: HttpRequest, slug: str, code: str) -> HttpResponse:
    """GET: the station's state, the clerk's own entry and the form.
    POST: submit the form to `record_submit`."""
    clerk_station = _station_or_404(request, slug, code)
    station = clerk_station.station
    lists = ballot_list(station.election)
    correcting = (request.GET.get("correct") or request.POST.get("correct")) == "1" and (
        clerk_station.own_entry is not None
    )
    status = 200
    refusal = ""
    if request.method == "POST":
        form = _form_for(clerk_station, lists=lists, correcting=correcting, data=request.POST)
        form.is_valid()  # every field is optional text: this only fills cleaned_data
        try:
            result = record_submit(
                actor=request.user,
                station=station,
                values=form.values(),
                votes=form.votes(),
                idempotency_key=form.cleaned_data.get("idempotency_key") or "",
                round_version_seen=form.cleaned_data.get("round_version") or "",
                correct_own=correcting,
                client_address=_client_address(request),
            )
        except StationNotAllowed as error:
            raise Http404 from error
        except InputRefused as error:
            form.add_findings(error.findings)
            status = 422
            refusal = gettext("Nothing was stored: correct the fields marked below.")
        except EntryRefused as error:
            refusal = gettext(error.message).format(**error.params)
            status = 409
            # Fresh state: the typed values stay, the clerk reads the message
            # and the station's new state before sending again.
            clerk_station = _station_or_404(request, slug, code)
            data = request.POST.copy()
            data["idempotency_key"] = uuid.uuid4().hex
            if clerk_station.round is not None:
                data["round_version"] = round_version(clerk_station.round)
            form = _form_for(clerk_station, lists=lists, correcting=correcting, data=data)
        else:
            if result.round.status == StationRound.Status.ACCEPTED:
                messages.success(request, gettext("Your entry is stored and the record accepted."))
            elif result.round.status == StationRound.Status.HELD:
                # Accepted, but not counted: the clerk must not read "accepted"
                # while the badge says held.
                messages.warning(
                    request,
                    gettext(
                        "Your entry is stored. The record is held for the commission: "
                        "it is not counted until the commission decides."
                    ),
                )
            else:
                messages.success(request, gettext("Your entry is stored."))
            return redirect("entry:station", slug=slug, code=code)
    else:
        form = _form_for(clerk_station, lists=lists, correcting=correcting)

    own = clerk_station.own_entry
    show_form = clerk_station.may_enter and (own is None or correcting)
    context = {
        "election": station.election,
        "clerk_station": clerk_station,
        "station": station,
        "form": form if show_form else None,
        "correcting": correcting,
        "refusal": refusal,
        "own_entry": own,
        "own_rows": _entry_rows(own) if own is not None else [],
        "own_votes": _own_votes(own, lists) if own is not None else [],
        "own_findings": _finding_rows(entry_findings(own, station)) if own is not None else [],
        "may_withdraw": own is not None and clerk_station.may_enter,
        "own_scans": own_scans(request.user, station) if own is not None else [],
    }
    return render(request, "entry/station.html", context, status=status)


def _own_votes(entry: RecordEntry, lists: list[Any]) -> list[tuple[str, int | None]]:
    votes = entry_votes(entry)
    return [(f"{item.ballot_number}. {item.name}", votes.get(item.ballot_number)) for item in lists]


@login_required
@require_POST
def station_withdraw(request: HttpRequest, slug: str, code: str) -> HttpResponse:
    clerk_station = _station_or_404(request, slug, code)
    entry = clerk_station.own_entry
    if entry is None:
        messages.info(request, gettext("You have no entry to withdraw."))
        return redirect("entry:station", slug=slug, code=code)
    try:
        entry_withdraw(actor=request.user, entry=entry, client_address=_client_address(request))
    except StationNotAllowed as error:
        raise Http404 from error
    except EntryRefused as error:
        messages.error(request, gettext(error.message).format(**error.params))
    else:
        messages.success(
            request, gettext("Your entry is withdrawn; you may enter the record again.")
        )
    return redirect("entry:station", slug=slug, code=code)


# --- Staff: reconciliation moved to the commission's station page ---------------


@login_required
def station_reconcile(request: HttpRequest, slug: str, code: str) -> HttpResponse:
    """The old address of the reconciliation page: it is a decision now, on
    the commission's station page."""
    return redirect("commission:station", slug=slug, code=code)
