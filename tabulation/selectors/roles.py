"""Which stations a clerk may enter (RULES.md E3)."""

from __future__ import annotations

from typing import TypeGuard

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db.models import Q, QuerySet

from tabulation.models import ClerkAssignment, Election, PollingStation

ENTER_RECORD_PERMISSION = "tabulation.enter_record"


def _may_enter_records(user: AbstractBaseUser | AnonymousUser) -> TypeGuard[User]:
    return (
        isinstance(user, User)
        and user.is_authenticated
        and user.is_active
        and user.has_perm(ENTER_RECORD_PERMISSION)
    )


def stations_for_clerk(
    user: AbstractBaseUser | AnonymousUser, election: Election
) -> QuerySet[PollingStation]:
    """The stations of `election` that `user` may enter, in station order.

    A clerk needs both the permission (the "clerk" group) and an assignment:
    to the station itself or to its municipality. Staff without an
    assignment get none: the permission alone is not an assignment.
    """
    if not _may_enter_records(user):
        return PollingStation.objects.none()
    assignments = ClerkAssignment.objects.filter(user=user, election=election)
    return (
        PollingStation.objects.filter(election=election)
        .filter(
            Q(pk__in=assignments.filter(station__isnull=False).values("station_id"))
            | Q(
                municipality_id__in=assignments.filter(municipality__isnull=False).values(
                    "municipality_id"
                )
            )
        )
        .select_related("municipality")
        .order_by("municipality__name", "number")
    )


def clerk_may_enter(user: AbstractBaseUser | AnonymousUser, station: PollingStation) -> bool:
    """True when `user` may enter the record of `station` (else E3)."""
    if not _may_enter_records(user):
        return False
    return ClerkAssignment.objects.filter(
        Q(station_id=station.pk) | Q(municipality_id=station.municipality_id),
        user=user,
        election_id=station.election_id,
    ).exists()
