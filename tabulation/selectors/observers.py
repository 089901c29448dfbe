"""Reads about observers and their copies (docs/observers.md).

Three readers, three views: an observer reads its own copies (what it
typed, never the record they were compared with); the commission reads
every copy and every difference; the public reads how many independent
copies agree with the accepted record.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from tabulation.models import (
    CopyComparison,
    CopyFinding,
    Election,
    Observer,
    ObserverCopy,
    PollingStation,
)


def observer_list(user: AbstractBaseUser | AnonymousUser) -> list[Observer]:
    """The user's accreditations (one per election at most)."""
    if not user.is_authenticated:
        return []
    return list(
        Observer.objects.filter(user_id=user.pk).select_related("election", "electoral_list")
    )


def observer_get(user: AbstractBaseUser | AnonymousUser, slug: str) -> Observer | None:
    return next((item for item in observer_list(user) if item.election.slug == slug), None)


def own_copies(observer: Observer) -> QuerySet[ObserverCopy]:
    """The observer's live copies, newest first."""
    return (
        ObserverCopy.objects.filter(observer=observer, superseded_at__isnull=True)
        .select_related("round__station", "scan")
        .order_by("-submitted_at", "-pk")
    )


def _live_comparisons(election: Election) -> QuerySet[CopyComparison]:
    """Comparisons of live copies with the live accepted record of their round."""
    return CopyComparison.objects.filter(
        copy__superseded_at__isnull=True,
        accepted_record__superseded_at__isnull=True,
        copy__round__station__election=election,
    )


def copy_findings_list(election: Election) -> list[CopyFinding]:
    """Every difference of a live copy from the live record, for the dashboard."""
    return list(
        CopyFinding.objects.filter(comparison__in=_live_comparisons(election))
        .select_related(
            "comparison__copy__observer__electoral_list",
            "comparison__copy__round__station",
        )
        .order_by("comparison__copy__round__station__code", "comparison__copy__pk", "pk")
    )


def station_copies(station: PollingStation) -> list[ObserverCopy]:
    """The live copies of the station's rounds, with their comparisons."""
    return list(
        ObserverCopy.objects.filter(round__station=station, superseded_at__isnull=True)
        .select_related("observer__electoral_list", "observer__user", "round", "scan")
        .prefetch_related("votes__electoral_list", "comparisons__findings")
        .order_by("round__number", "pk")
    )


@dataclass(frozen=True)
class Agreement:
    agree: int
    differ: int


def copies_agreement(election: Election) -> dict[str, Agreement]:
    """For each station with an accepted record and at least one copy
    compared with it: how many independent copies (one per list or
    organisation) agree with the live record, and how many differ. A body
    whose observers disagree among themselves counts as differing."""
    bodies: dict[str, dict[str, bool]] = {}
    comparisons = _live_comparisons(election).select_related(
        "copy__observer", "copy__round__station"
    )
    for comparison in comparisons:
        station = bodies.setdefault(comparison.copy.round.station.code, {})
        body = comparison.copy.observer.body
        station[body] = station.get(body, True) and comparison.differences == 0
    return {
        code: Agreement(
            agree=sum(1 for value in verdicts.values() if value),
            differ=sum(1 for value in verdicts.values() if not value),
        )
        for code, verdicts in bodies.items()
    }
