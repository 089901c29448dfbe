"""Certifying official results, and reopening them (RULES.md section 5;
docs/commission.md "Official results").

- ``certification_propose``: one member proposes; the figures are frozen at
  the latest provisional snapshot, which must be current (a recount now
  gives the same inputs) with nothing blocking (domain/certification.py).
- ``certification_confirm``: a second, different member confirms that same
  snapshot; a proposal made stale by any later change is refused. It stores
  the official snapshot (the provisional figures, with who certified them and
  when, the commission's decisions and objections, and the audit chain head
  after the certification's own event) and sets the election certified.
  From then on entries and decisions are refused and tabulation stops.
- ``certification_reopen``: the one change after certification, a recorded
  decision with its reason (a court ruling, say); certifying again makes a
  new official version, and every earlier version stays published.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial
from typing import Any, cast

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from tabulation.domain.certification import (
    ElectionEvent,
    ElectionTransitionRefused,
    election_transition,
)
from tabulation.domain.i18n import _
from tabulation.domain.results import results_build
from tabulation.models import (
    Certification,
    Decision,
    Election,
    Objection,
    ResultSnapshot,
    TabulationState,
)
from tabulation.selectors.audit import audit_head
from tabulation.selectors.certification import blockers_get, latest_snapshot, result_is_current
from tabulation.selectors.tabulation import tabulation_inputs_get
from tabulation.services.audit import audit_append, format_timestamp
from tabulation.services.decisions import DecisionRefused, permission_require
from tabulation.services.records import User

logger = logging.getLogger(__name__)

CERTIFY_PERMISSION = "tabulation.certify"


class CertificationRefused(DecisionRefused):
    code = "certification_refused"


def _certifier(actor: User) -> None:
    permission_require(actor, CERTIFY_PERMISSION, _("Only commission members may certify results."))


def member_name(user: Any) -> str:
    """A certifier as the documents name them: full name, else username."""
    full = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return full or user.get_username()


def _lock_election(election: Election) -> Election:
    return Election.objects.select_for_update().get(pk=election.pk)


def _status_change(election: Election, event: ElectionEvent) -> str:
    try:
        status = election_transition(election.status, event)
    except ElectionTransitionRefused as error:
        if election.status == Election.Status.CERTIFIED:
            raise CertificationRefused(_("The results are already certified.")) from error
        raise CertificationRefused(_("The results are not certified.")) from error
    election.status = status
    election.save(update_fields=["status"])
    return status


def certification_propose(
    *,
    actor: User,
    election: Election,
    client_address: str | None = None,
    now: datetime | None = None,
) -> Certification:
    """Propose to certify the latest provisional result as it stands."""
    _certifier(actor)
    now = now or timezone.now()
    with transaction.atomic():
        election = _lock_election(election)
        if election.status == Election.Status.CERTIFIED:
            raise CertificationRefused(_("The results are already certified."))
        blockers = blockers_get(election, now=now)
        if blockers:
            raise CertificationRefused(
                _("Certification is not possible yet: {reasons}."),
                reasons="; ".join(blocker.code for blocker in blockers),
            )
        snapshot = latest_snapshot(election)
        assert snapshot is not None  # "no_result" blocks otherwise
        # One open proposal at a time: a newer one withdraws the older.
        withdrawn = list(
            Certification.objects.filter(
                election=election, status=Certification.Status.PROPOSED
            ).values_list("pk", flat=True)
        )
        Certification.objects.filter(pk__in=withdrawn).update(status=Certification.Status.WITHDRAWN)
        proposal = Certification.objects.create(
            election=election, snapshot=snapshot, proposed_by=cast(Any, actor)
        )
        audit_append(
            actor=actor,
            action="results.certification_propose",
            obj=proposal,
            after={
                "election": election.slug,
                "snapshot": snapshot.version,
                "inputs_hash": snapshot.inputs_hash,
                "withdrawn": withdrawn,
            },
            client_address=client_address,
        )
    return proposal


def _proceedings(election: Election) -> dict[str, Any]:
    """The commission's decisions and objections, frozen into the official
    document so that the report printed from it never changes."""

    def station_code(decision: Decision) -> str | None:
        station = decision.station or (decision.round.station if decision.round else None)
        return station.code if station is not None else None

    decisions = [
        {
            "id": decision.pk,
            "kind": decision.kind,
            "station": station_code(decision),
            "round": decision.round.number if decision.round else None,
            "reason": decision.reason,
            "decided_at": format_timestamp(decision.decided_at),
            "decided_by": member_name(decision.decided_by),
            "payload": decision.payload,
        }
        for decision in Decision.objects.filter(election=election)
        .select_related("station", "round__station", "decided_by")
        .order_by("decided_at", "pk")
    ]
    objections = [
        {
            "id": objection.pk,
            "filed_at": format_timestamp(objection.filed_at),
            "filed_by": objection.filed_by,
            "subject": objection.subject,
            "station": objection.station.code if objection.station else None,
            "decision": objection.decision_id,
            "grounds": objection.grounds,
            "status": objection.status,
            "decided_by_decision": objection.decided_by_id,
            "decision_reason": objection.decided_by.reason if objection.decided_by else None,
        }
        for objection in Objection.objects.filter(election=election)
        .select_related("station", "decided_by")
        .order_by("filed_at", "pk")
    ]
    return {"decisions": decisions, "objections": objections}


def certification_confirm(
    *,
    actor: User,
    certification: Certification,
    client_address: str | None = None,
    now: datetime | None = None,
) -> ResultSnapshot:
    """A second member confirms the proposal: the official snapshot is stored
    and published, and the election is certified."""
    _certifier(actor)
    now = now or timezone.now()
    with transaction.atomic():
        election = _lock_election(certification.election)
        proposal = (
            Certification.objects.select_for_update()
            .select_related("snapshot", "proposed_by")
            .get(pk=certification.pk)
        )
        if proposal.status != Certification.Status.PROPOSED:
            raise CertificationRefused(_("This proposal is no longer open."))
        if proposal.proposed_by_id == actor.pk:
            raise CertificationRefused(
                _("A second member must confirm: you proposed this certification.")
            )
        latest = latest_snapshot(election)
        if (
            latest is None
            or latest.pk != proposal.snapshot_id
            or not result_is_current(election, proposal.snapshot, now)
        ):
            raise CertificationRefused(
                _("The result changed after this proposal: propose again from the latest result.")
            )
        blockers = blockers_get(election, now=now)
        if blockers:
            raise CertificationRefused(
                _("Certification is not possible yet: {reasons}."),
                reasons="; ".join(blocker.code for blocker in blockers),
            )
        _status_change(election, ElectionEvent.CERTIFY)
        official_version = (
            ResultSnapshot.objects.filter(
                election=election, kind=ResultSnapshot.Kind.OFFICIAL
            ).count()
            + 1
        )
        version = latest.version + 1
        certifiers = [member_name(proposal.proposed_by), member_name(actor)]
        certification_data = {
            "certifies_version": proposal.snapshot.version,
            "official_version": official_version,
            "proposed_at": format_timestamp(proposal.proposed_at),
            "certified_at": format_timestamp(now),
            "certified_by": certifiers,
        }
        audit_append(
            actor=actor,
            action="results.certify",
            object_type=ResultSnapshot._meta.label_lower,
            object_id=f"{election.slug}/v{version}",
            after={
                "election": election.slug,
                "version": version,
                "kind": ResultSnapshot.Kind.OFFICIAL.value,
                "inputs_hash": proposal.snapshot.inputs_hash,
                **certification_data,
            },
            reason="Official results certified by two members of the commission.",
            client_address=client_address,
        )
        head = audit_head()
        payload = {
            **proposal.snapshot.payload,
            "status": ResultSnapshot.Kind.OFFICIAL.value,
            "version": version,
            "published_at": format_timestamp(now),
            "audit_head": head.head_hash,
            "audit_count": head.count,
            "certified_at": certification_data["certified_at"],
            "certified_by": certifiers,
            "certification": certification_data,
            "proceedings": _proceedings(election),
        }
        official = ResultSnapshot.objects.create(
            election=election,
            version=version,
            kind=ResultSnapshot.Kind.OFFICIAL,
            inputs_hash=proposal.snapshot.inputs_hash,
            payload=payload,
            audit_head=head.head_hash,
            audit_count=head.count,
        )
        proposal.status = Certification.Status.CONFIRMED
        proposal.confirmed_by = cast(AbstractBaseUser, actor)  # type: ignore[assignment]
        proposal.confirmed_at = now
        proposal.official = official
        proposal.save(update_fields=["status", "confirmed_by", "confirmed_at", "official"])
        TabulationState.objects.get_or_create(election_id=election.pk)
        transaction.on_commit(partial(_publish, official.pk), robust=True)
    return official


def _publish(snapshot_id: int) -> None:
    """Publish the official snapshot with its station rows; a failure is
    logged and left to ``tabulation_sweep``'s publishing check."""
    from tabulation.services.publishing import snapshot_publish

    snapshot = ResultSnapshot.objects.get(pk=snapshot_id)
    built = results_build(
        tabulation_inputs_get(election_id=snapshot.election_id), now=snapshot.created_at
    )
    stations = built.stations if built.inputs_hash == snapshot.inputs_hash else None
    try:
        snapshot_publish(snapshot=snapshot, stations=stations)
    except Exception:
        logger.exception("official snapshot %s could not be published", snapshot.version)
        return
    TabulationState.objects.filter(
        pk=snapshot.election_id, published_version__lt=snapshot.version
    ).update(published_version=snapshot.version)


def certification_reopen(
    *, actor: User, election: Election, reason: str, client_address: str | None = None
) -> Decision:
    """Reopen certified results by a recorded decision (a court ruling, say):
    entries and decisions are possible again, tabulation resumes, and the
    next certification makes a new official version. Every published version
    stays as it is."""
    _certifier(actor)
    text = (reason or "").strip()
    if not text:
        raise CertificationRefused(_("Give the reason for the decision."))
    with transaction.atomic():
        election = _lock_election(election)
        before = election.status
        _status_change(election, ElectionEvent.REOPEN)
        decision = Decision.objects.create(
            election=election,
            kind=Decision.Kind.REOPEN,
            decided_by=cast(Any, actor),
            reason=text,
            payload={"official_version": _latest_official_version(election)},
        )
        audit_append(
            actor=actor,
            action="decision.reopen",
            obj=decision,
            before={"status": before},
            after={"decision": decision.pk, "status": election.status},
            reason=text,
            client_address=client_address,
        )
    return decision


def _latest_official_version(election: Election) -> int | None:
    return (
        ResultSnapshot.objects.filter(election=election, kind=ResultSnapshot.Kind.OFFICIAL)
        .order_by("-version")
        .values_list("version", flat=True)
        .first()
    )
