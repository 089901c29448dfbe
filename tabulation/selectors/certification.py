"""Reads for certification: what still blocks it, and the open proposal."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from tabulation.domain.certification import Blocker, certification_blockers
from tabulation.domain.results import results_build
from tabulation.models import Certification, Election, ResultSnapshot, StationRound
from tabulation.selectors.commission import Dashboard, current_rounds, dashboard_get
from tabulation.selectors.tabulation import tabulation_inputs_get


def latest_snapshot(election: Election) -> ResultSnapshot | None:
    return ResultSnapshot.objects.filter(election=election).order_by("-version").first()


def result_is_current(election: Election, snapshot: ResultSnapshot, now: datetime) -> bool:
    """True when a recount now would give the snapshot's inputs: nothing that
    counts changed since it was stored (RULES.md section 5: the figures
    certified are the figures of the rows)."""
    built = results_build(tabulation_inputs_get(election_id=election.pk), now=now)
    return built.inputs_hash == snapshot.inputs_hash


def blockers_get(
    election: Election, *, now: datetime | None = None, dashboard: Dashboard | None = None
) -> list[Blocker]:
    """Everything that still stands between the count and its certification."""
    now = now or timezone.now()
    dashboard = dashboard or dashboard_get(election, now=now)
    latest = latest_snapshot(election)
    not_counted = tuple(
        sorted(
            round.station.code
            for round in current_rounds(election).values()
            if round.status != StationRound.Status.ACCEPTED
        )
    )
    queues = dashboard.queues

    def codes(name: str) -> tuple[str, ...]:
        return tuple(item.station_code for item in queues[name])

    provisional = latest is not None and latest.kind == ResultSnapshot.Kind.PROVISIONAL
    return certification_blockers(
        has_result=latest is not None,
        result_current=latest is None
        or not provisional
        or result_is_current(election, latest, now),
        not_counted=not_counted,
        entries_differ=codes("entries_differ"),
        held=codes("held"),
        warnings=codes("warnings"),
        objections_open=tuple(str(item.object_id) for item in queues["objections"]),
        objection_window_closes=dashboard.objection_window_closes,
        lots_required=tuple(item for tie in queues["ties"] for item in tie.codes),
        now=now,
    )


def open_proposal_get(election: Election) -> Certification | None:
    return (
        Certification.objects.filter(election=election, status=Certification.Status.PROPOSED)
        .select_related("snapshot", "proposed_by")
        .first()
    )


def certifications_list(election: Election) -> list[Certification]:
    return list(
        Certification.objects.filter(election=election)
        .select_related("snapshot", "official", "proposed_by", "confirmed_by")
        .order_by("-proposed_at", "-pk")
    )
