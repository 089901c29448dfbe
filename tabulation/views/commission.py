"""Pages for the commission: the dashboard with its work queues, a station's
whole story with the decisions its state allows, objections and the drawing
of lots (docs/commission.md).

Thin: read through selectors/commission.py, decide through
services/decisions.py with the user from the request, render. Only users
with `tabulation.decide` get here; anyone else gets 403.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from tabulation.domain.codes import CHECKS
from tabulation.domain.record import RECORD_FIELDS
from tabulation.domain.rounds import repeat_vote_window
from tabulation.forms import (
    AcknowledgeForm,
    AnnulForm,
    CorrectForm,
    LotsForm,
    ObjectionDecideForm,
    ObjectionForm,
    ReconcileForm,
)
from tabulation.models import Decision, Election, Finding, Objection, PollingStation, RecordEntry
from tabulation.selectors.certification import (
    blockers_get,
    certifications_list,
    open_proposal_get,
)
from tabulation.selectors.commission import (
    PROGRESS_COLUMNS,
    StationDetail,
    commission_version,
    dashboard_get,
    decisions_list,
    objections_list,
    station_detail_get,
)
from tabulation.selectors.observers import copy_findings_list, station_copies
from tabulation.selectors.scans import commission_scans
from tabulation.selectors.stations import ballot_list, round_version
from tabulation.services.certification import (
    certification_confirm,
    certification_propose,
    certification_reopen,
)
from tabulation.services.decisions import (
    DECIDE_PERMISSION,
    entries_reconcile,
    finding_acknowledge,
    lots_draw,
    lots_required_get,
    objection_decide,
    objection_register,
    record_correct,
    station_annul,
)
from tabulation.services.records import EntryRefused, InputRefused, NotPermitted

View = Callable[..., HttpResponseBase]


def member_required(view: View) -> View:
    """Logged in, and a commission member: a clerk or reader gets 403."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.has_perm(DECIDE_PERMISSION):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _client_address(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _refusal(error: EntryRefused) -> str:
    return gettext(error.message).format(**error.params)


@member_required
def commission_home(request: HttpRequest) -> HttpResponse:
    elections = list(Election.objects.order_by("-date", "slug"))
    if len(elections) == 1:
        return redirect("commission:dashboard", slug=elections[0].slug)
    return render(request, "commission/elections.html", {"elections": elections})


def _dashboard_context(election: Election, user: Any) -> dict[str, Any]:
    dashboard = dashboard_get(election)
    proposal = open_proposal_get(election)
    return {
        "election": election,
        "dashboard": dashboard,
        "columns": PROGRESS_COLUMNS,
        "checks": CHECKS,
        "blockers": [
            {
                "code": blocker.code,
                "text": gettext(blocker.message).format(
                    until=date_format(timezone.localtime(blocker.until), "DATETIME_FORMAT")
                    if blocker.until
                    else ""
                ),
                "items": blocker.items[:MAX_BLOCKER_ITEMS],
                "more": max(0, blocker.count - MAX_BLOCKER_ITEMS),
                "count": blocker.count,
            }
            for blocker in blockers_get(election, dashboard=dashboard)
        ]
        if election.status != Election.Status.CERTIFIED
        else [],
        "proposal": proposal,
        "may_confirm": proposal is not None and proposal.proposed_by_id != user.pk,
        "certifications": certifications_list(election),
        "copy_findings": copy_findings_list(election),
    }


# A blocker names at most this many stations on the dashboard; the queues
# below list them all.
MAX_BLOCKER_ITEMS = 20


@member_required
@require_GET
def dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    election = get_object_or_404(Election, slug=slug)
    return render(request, "commission/dashboard.html", _dashboard_context(election, request.user))


@member_required
@require_GET
def dashboard_live(request: HttpRequest, slug: str) -> HttpResponse:
    """The dashboard's live parts, for the page's own refresh."""
    election = get_object_or_404(Election, slug=slug)
    return render(request, "commission/_live.html", _dashboard_context(election, request.user))


@member_required
@require_GET
def dashboard_version(request: HttpRequest, slug: str) -> HttpResponse:
    """A tiny answer that changes whenever the dashboard may have changed."""
    election = get_object_or_404(Election, slug=slug)
    version = commission_version(election)
    etag = f'"{version}"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        response = JsonResponse({"version": version})
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    return response


# --- One station ------------------------------------------------------------------------


def _record_initial(detail: StationDetail) -> dict[str, Any]:
    """The correction form starts from the accepted record as it stands."""
    initial: dict[str, Any] = {}
    current = detail.current
    if current is None or current.live_record is None:
        return initial
    record = current.live_record.record
    for name in RECORD_FIELDS:
        value = getattr(record, name)
        if name == "control_sheet_ok":
            value = "" if value is None else ("yes" if value else "no")
        initial[name] = "" if value is None else value
    for number, votes in current.live_record.votes.items():
        initial[f"votes[{number}]"] = votes
    initial["round_version"] = round_version(current.round)
    return initial


def _ground_choices(detail: StationDetail) -> list[tuple[str, str]]:
    return [(code, f"{code}: {gettext(CHECKS[code].title)}") for code in detail.actions.grounds]


def _shown(name: str, value: Any) -> Any:
    """A record's value as the page shows it: the control sheet in words."""
    if name == "control_sheet_ok" and value is not None:
        return gettext("yes") if value else gettext("no")
    return value


def _field_label(name: str) -> str:
    return str(RecordEntry.field_label(name)).capitalize()


def _round_tables(detail: StationDetail, lists: list[Any]) -> list[tuple[Any, list[Any]]]:
    """Each round, latest first, with its entries and accepted records as
    columns of one table: field by field, then list by list."""
    tables = []
    for view in reversed(detail.rounds):
        columns = [(item.entry, item.votes) for item in view.entries] + [
            (item.record, item.votes) for item in view.records
        ]
        rows: list[tuple[str, list[Any]]] = [
            (_field_label(name), [_shown(name, getattr(row, name)) for row, _votes in columns])
            for name in RECORD_FIELDS
        ]
        rows += [
            (
                f"{item.ballot_number}. {item.name}",
                [votes.get(item.ballot_number) for _row, votes in columns],
            )
            for item in lists
        ]
        tables.append((view, rows))
    return tables


def _compare_rows(detail: StationDetail) -> list[dict[str, Any]]:
    """The two live entries side by side, for reconciliation."""
    if detail.current is None:
        return []
    columns = detail.current.live_entries[:2]
    rows: list[dict[str, Any]] = []
    for name in RECORD_FIELDS:
        values = [_shown(name, getattr(item.entry, name)) for item in columns]
        rows.append(
            {
                "label": _field_label(name),
                "values": values,
                "differ": len(set(values)) > 1,
            }
        )
    for item in ballot_list(detail.station.election):
        values = [entry.votes.get(item.ballot_number) for entry in columns]
        rows.append(
            {
                "label": f"{item.ballot_number}. {item.name}",
                "values": values,
                "differ": len(set(values)) > 1,
            }
        )
    return rows


def _station_page(
    request: HttpRequest,
    election: Election,
    detail: StationDetail,
    *,
    forms: dict[str, Any] | None = None,
    status: int = 200,
    refusal: str = "",
) -> HttpResponse:
    forms = forms or {}
    lists = ballot_list(election)
    version = round_version(detail.current.round) if detail.current is not None else ""
    window = repeat_vote_window(timezone.localdate())
    context = {
        "election": election,
        "detail": detail,
        "station": detail.station,
        "lists": lists,
        "compare_rows": _compare_rows(detail),
        "rounds": _round_tables(detail, lists),
        # Three forms on one page: each its own ids (auto_id), the same names.
        "reconcile_form": forms.get("reconcile")
        or ReconcileForm(initial={"round_version": version}, auto_id="reconcile_%s"),
        "correct_form": forms.get("correct")
        or CorrectForm(lists=lists, initial=_record_initial(detail), auto_id="correct_%s"),
        "annul_form": forms.get("annul")
        or AnnulForm(
            grounds=_ground_choices(detail),
            initial={"round_version": version, "voting_date": window.earliest},
            auto_id="annul_%s",
        ),
        "acknowledge_errors": forms.get("acknowledge"),
        "window": window,
        "refusal": refusal,
        "ballot_names": {item.ballot_number: item.name for item in lists},
        "scans": commission_scans(detail.station),
        "copies": station_copies(detail.station),
    }
    return render(request, "commission/station.html", context, status=status)


@member_required
def station(request: HttpRequest, slug: str, code: str) -> HttpResponse:
    """GET: the station's whole story. POST: one decision (`action`)."""
    election = get_object_or_404(Election, slug=slug)
    detail = station_detail_get(election, code, user=request.user)
    if detail is None:
        raise Http404
    if request.method != "POST":
        return _station_page(request, election, detail)
    action = request.POST.get("action", "")
    handler = _ACTIONS.get(action)
    if handler is None:
        return _station_page(
            request, election, detail, status=400, refusal=gettext("Unknown action.")
        )
    form, error_status, refusal = handler(request, election, detail)
    if form is None and not refusal:
        return redirect("commission:station", slug=slug, code=code)
    # Fresh state for the page, the typed form kept with its errors.
    detail = station_detail_get(election, code, user=request.user) or detail
    return _station_page(
        request,
        election,
        detail,
        forms={action: form} if form is not None else None,
        status=error_status,
        refusal=refusal,
    )


ActionResult = tuple[Any, int, str]


def _decide(
    request: HttpRequest, form: Any, call: Callable[[], object], success: str
) -> ActionResult:
    """Run a decision (or an objection's registration); (form or None,
    status, refusal) for the page, the success message queued."""
    try:
        call()
    except NotPermitted as error:
        raise PermissionDenied from error
    except InputRefused as error:
        form.add_findings(error.findings)
        return form, 422, gettext("Nothing was stored: correct the fields marked below.")
    except EntryRefused as error:
        return form, 409, _refusal(error)
    messages.success(request, success)
    return None, 200, ""


def _reconcile(request: HttpRequest, election: Election, detail: StationDetail) -> ActionResult:
    form = ReconcileForm(request.POST, auto_id="reconcile_%s")
    if not form.is_valid() or detail.current is None:
        return form, 422, gettext("Nothing was stored: correct the fields marked below.")
    choice = form.cleaned_data["choice"]
    keep = None
    if choice in ("keep_1", "keep_2"):
        number = 1 if choice == "keep_1" else 2
        keep = next(
            (
                item.entry
                for item in detail.current.live_entries
                if item.entry.entry_number == number
            ),
            None,
        )
        if keep is None:
            return form, 409, gettext("That entry is no longer there; reload the page.")
    return _decide(
        request,
        form,
        lambda: entries_reconcile(
            actor=request.user,
            round=detail.current.round,  # type: ignore[union-attr]
            keep_entry=keep,
            return_for_entry=choice == "return",
            reason=form.cleaned_data["reason"],
            round_version_seen=form.cleaned_data["round_version"] or None,
            client_address=_client_address(request),
        ),
        gettext("The reconciliation is recorded."),
    )


def _correct(request: HttpRequest, election: Election, detail: StationDetail) -> ActionResult:
    form = CorrectForm(request.POST, lists=ballot_list(election), auto_id="correct_%s")
    form.is_valid()  # the counts are text; the reason is required
    if detail.current is None or "reason" in form.errors:
        return form, 422, gettext("Nothing was stored: correct the fields marked below.")
    return _decide(
        request,
        form,
        lambda: record_correct(
            actor=request.user,
            round=detail.current.round,  # type: ignore[union-attr]
            values=form.values(),
            votes=form.votes(),
            reason=form.cleaned_data["reason"],
            round_version_seen=form.cleaned_data.get("round_version") or None,
            client_address=_client_address(request),
        ),
        gettext("The correction is recorded; the checks ran again on the corrected record."),
    )


def _acknowledge(request: HttpRequest, election: Election, detail: StationDetail) -> ActionResult:
    form = AcknowledgeForm(request.POST)
    if not form.is_valid():
        return form, 422, gettext("Give the reason for the decision.")
    finding = Finding.objects.filter(
        pk=form.cleaned_data["finding"], round__station=detail.station
    ).first()
    if finding is None:
        return form, 409, gettext("That finding is no longer there; reload the page.")
    return _decide(
        request,
        form,
        lambda: finding_acknowledge(
            actor=request.user,
            finding=finding,
            reason=form.cleaned_data["reason"],
            client_address=_client_address(request),
        ),
        gettext("The finding is acknowledged."),
    )


def _annul(request: HttpRequest, election: Election, detail: StationDetail) -> ActionResult:
    form = AnnulForm(request.POST, grounds=_ground_choices(detail), auto_id="annul_%s")
    if not form.is_valid():
        return form, 422, gettext("Nothing was stored: correct the fields marked below.")
    return _decide(
        request,
        form,
        lambda: station_annul(
            actor=request.user,
            station=detail.station,
            ground=form.cleaned_data["ground"],
            voting_date=form.cleaned_data["voting_date"],
            reason=form.cleaned_data["reason"],
            round_version_seen=form.cleaned_data["round_version"] or None,
            client_address=_client_address(request),
        ),
        gettext("The station is annulled and its repeat vote ordered."),
    )


_ACTIONS: dict[str, Callable[[HttpRequest, Election, StationDetail], ActionResult]] = {
    "reconcile": _reconcile,
    "correct": _correct,
    "acknowledge": _acknowledge,
    "annul": _annul,
}


# --- Objections, decisions, the drawing of lots --------------------------------------------


@member_required
def objections(request: HttpRequest, slug: str) -> HttpResponse:
    """The objections filed, and the form to register one as it was filed."""
    election = get_object_or_404(Election, slug=slug)
    status = 200
    refusal = ""
    initial = {
        "filed_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "station": request.GET.get("station", ""),
        "subject": "station" if request.GET.get("station") else "result",
    }
    form = ObjectionForm(initial=initial)
    if request.method == "POST":
        form = ObjectionForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            station = None
            decision = None
            if data["station"]:
                station = PollingStation.objects.filter(
                    election=election, code=data["station"].strip()
                ).first()
                if station is None:
                    form.add_error("station", gettext("No station of this election has that code."))
            if data["decision"]:
                decision = Decision.objects.filter(election=election, pk=data["decision"]).first()
                if decision is None:
                    form.add_error(
                        "decision", gettext("No decision of this election has that number.")
                    )
            if not form.errors:
                filed_at: datetime = data["filed_at"]
                if timezone.is_naive(filed_at):
                    filed_at = timezone.make_aware(filed_at)
                _form, status, refusal = _decide(
                    request,
                    form,
                    lambda: objection_register(
                        actor=request.user,
                        election=election,
                        filed_at=filed_at,
                        filed_by=data["filed_by"],
                        subject=data["subject"],
                        grounds=data["grounds"],
                        station=station,
                        decision=decision,
                        client_address=_client_address(request),
                    ),
                    gettext("The objection is registered."),
                )
                if not refusal:
                    return redirect("commission:objections", slug=slug)
        if form.errors:
            status = 422
    context = {
        "election": election,
        "form": form,
        "objections": objections_list(election),
        "decide_form": ObjectionDecideForm(),
        "refusal": refusal,
    }
    return render(request, "commission/objections.html", context, status=status)


@member_required
@require_POST
def objection_decision(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    election = get_object_or_404(Election, slug=slug)
    objection = get_object_or_404(Objection, election=election, pk=pk)
    form = ObjectionDecideForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("Choose uphold or reject, and give the reason."))
        return redirect("commission:objections", slug=slug)
    try:
        objection_decide(
            actor=request.user,
            objection=objection,
            upheld=form.cleaned_data["outcome"] == "upheld",
            reason=form.cleaned_data["reason"],
            client_address=_client_address(request),
        )
    except NotPermitted as error:
        raise PermissionDenied from error
    except EntryRefused as error:
        messages.error(request, _refusal(error))
        return redirect("commission:objections", slug=slug)
    messages.success(request, gettext("The objection is decided."))
    if form.cleaned_data["outcome"] == "upheld" and objection.station is not None:
        # What follows an upheld objection is a decision on the station.
        return redirect("commission:station", slug=slug, code=objection.station.code)
    return redirect("commission:objections", slug=slug)


@member_required
def decisions(request: HttpRequest, slug: str) -> HttpResponse:
    election = get_object_or_404(Election, slug=slug)
    return render(
        request,
        "commission/decisions.html",
        {"election": election, "decisions": decisions_list(election)},
    )


@member_required
def lots(request: HttpRequest, slug: str) -> HttpResponse:
    """Record the drawing of lots the latest result asks for."""
    election = get_object_or_404(Election, slug=slug)
    required = lots_required_get(election)
    form = LotsForm(initial={"order": ", ".join(str(number) for number in required)})
    status = 200
    refusal = ""
    if request.method == "POST":
        form = LotsForm(request.POST)
        if form.is_valid():
            _form, status, refusal = _decide(
                request,
                form,
                lambda: lots_draw(
                    actor=request.user,
                    election=election,
                    lots_drawn=form.cleaned_data["order"],
                    reason=form.cleaned_data["reason"],
                    client_address=_client_address(request),
                ),
                gettext("The drawing of lots is recorded."),
            )
            if not refusal:
                return redirect(reverse("commission:dashboard", kwargs={"slug": slug}))
        else:
            status = 422
    names = {item.ballot_number: item.name for item in ballot_list(election)}
    context = {
        "election": election,
        "form": form,
        "required": [(number, names.get(number, "")) for number in required],
        "refusal": refusal,
    }
    return render(request, "commission/lots.html", context, status=status)


@member_required
@require_POST
def certify(request: HttpRequest, slug: str) -> HttpResponse:
    """Propose, confirm or reopen the official result (RULES.md section 5)."""
    election = get_object_or_404(Election, slug=slug)
    action = request.POST.get("action", "")
    try:
        if action == "propose":
            certification_propose(
                actor=request.user, election=election, client_address=_client_address(request)
            )
            messages.success(
                request, gettext("Certification proposed: a second member must confirm it.")
            )
        elif action == "confirm":
            proposal = open_proposal_get(election)
            if proposal is None or str(proposal.pk) != request.POST.get("proposal", ""):
                messages.error(
                    request, gettext("This proposal is no longer open; reload the page.")
                )
            else:
                certification_confirm(
                    actor=request.user,
                    certification=proposal,
                    client_address=_client_address(request),
                )
                messages.success(request, gettext("The results are certified and published."))
        elif action == "reopen":
            certification_reopen(
                actor=request.user,
                election=election,
                reason=request.POST.get("reason", ""),
                client_address=_client_address(request),
            )
            messages.success(request, gettext("The certified result is reopened."))
        else:
            messages.error(request, gettext("Unknown action."))
    except NotPermitted as error:
        raise PermissionDenied from error
    except EntryRefused as error:
        messages.error(request, _refusal(error))
    return redirect(reverse("commission:dashboard", kwargs={"slug": slug}) + "#certification")
