"""Roles (Django groups with permissions) and clerk assignments.

Four roles, RULES.md and ARCHITECTURE.md "Users", named in
tabulation/domain/roles.py (the import reads them from clerks.csv).
"""

from __future__ import annotations

from typing import Any

from django.apps import apps as django_apps
from django.apps.registry import Apps
from django.contrib.auth.models import AbstractBaseUser, Group, User
from django.db import transaction

from tabulation.domain.roles import (
    ROLE_ADMINISTRATOR,
    ROLE_CLERK,
    ROLE_COMMISSION_MEMBER,
    ROLE_OBSERVER,
)
from tabulation.models import ClerkAssignment, Election, Municipality, PollingStation
from tabulation.services.audit import audit_append

# Custom permissions: (model, codename, name). They are declared on the
# models' Meta too; they are listed here so that the migration can create
# them before post_migrate does.
CUSTOM_PERMISSIONS = (
    ("recordentry", "enter_record", "Can enter polling-station records"),
    ("decision", "decide", "Can take decisions of the commission"),
    ("resultsnapshot", "certify", "Can certify official results"),
    ("election", "import_election", "Can import an election's setup"),
    ("observercopy", "submit_copy", "Can submit an observer's copy of a record"),
)

_ELECTION_MODELS = (
    "election",
    "municipality",
    "pollingstation",
    "electorallist",
    "candidate",
)
_COUNT_MODELS = (
    "stationround",
    "recordentry",
    "recordentryvote",
    "acceptedrecord",
    "acceptedvote",
    "finding",
    "decision",
    "resultsnapshot",
    "clerkassignment",
    "auditevent",
    "recordscan",
    "observer",
    "observercopy",
    "copyfinding",
)


def _view(models: tuple[str, ...]) -> list[tuple[str, str, str]]:
    return [("tabulation", model, f"view_{model}") for model in models]


# role -> [(app_label, model, codename)]
ROLE_PERMISSIONS: dict[str, list[tuple[str, str, str]]] = {
    ROLE_CLERK: [
        ("tabulation", "recordentry", "enter_record"),
        *_view(("election", "municipality", "pollingstation", "electorallist", "stationround")),
    ],
    ROLE_COMMISSION_MEMBER: [
        ("tabulation", "decision", "decide"),
        ("tabulation", "resultsnapshot", "certify"),
        *_view(_ELECTION_MODELS + _COUNT_MODELS),
    ],
    ROLE_ADMINISTRATOR: [
        ("tabulation", "election", "import_election"),
        *_view(_ELECTION_MODELS + _COUNT_MODELS),
        ("auth", "user", "view_user"),
        ("auth", "user", "add_user"),
        ("auth", "user", "change_user"),
        ("auth", "group", "view_group"),
    ],
    # Nothing to view: an observer reads only its own copies, through its
    # own pages, never a model's rows.
    ROLE_OBSERVER: [("tabulation", "observercopy", "submit_copy")],
}


def _permission_name(app_label: str, model: str, codename: str) -> str:
    for custom_model, custom_codename, name in CUSTOM_PERMISSIONS:
        if (custom_model, custom_codename) == (model, codename):
            return name
    action, _, _ = codename.partition("_")
    return f"Can {action} {model}"


def ensure_roles(*, apps: Apps | None = None) -> None:
    """Create the four groups and their permissions if missing; idempotent.

    Run by migration 0002 (with the historical app registry) and by the
    election import, because a flushed database (TransactionTestCase) loses
    groups. Permissions are created here too when missing, since in a fresh
    migrate Django creates them only after all migrations (post_migrate);
    post_migrate then finds them and leaves them be. Writes no audit event:
    it only brings the fixed role definitions into the database, it decides
    nothing (callers that do, such as the import, record their own event).
    """
    registry: Any = apps or django_apps
    group_model = registry.get_model("auth", "Group")
    permission_model = registry.get_model("auth", "Permission")
    content_type_model = registry.get_model("contenttypes", "ContentType")
    with transaction.atomic():
        for role, permissions in ROLE_PERMISSIONS.items():
            group, _ = group_model.objects.get_or_create(name=role)
            wanted = []
            for app_label, model, codename in permissions:
                content_type, _ = content_type_model.objects.get_or_create(
                    app_label=app_label, model=model
                )
                permission, _ = permission_model.objects.get_or_create(
                    content_type=content_type,
                    codename=codename,
                    defaults={"name": _permission_name(app_label, model, codename)},
                )
                wanted.append(permission)
            group.permissions.add(*wanted)


def roles_after_migrate(sender: Any, apps: Apps | None = None, **kwargs: Any) -> None:
    """``post_migrate`` receiver (``TabulationConfig.ready``): the roles
    again wherever Django rebuilt its own rows. A flush (``manage.py
    flush``, or a transactional test emptying the test database) deletes
    the groups that migrations 0002 and 0008 made, then sends
    ``post_migrate`` as ``migrate`` does, so the database is left with its
    roles as a freshly migrated one has them. ``apps``: the migrations'
    registry after ``migrate``; a flush sends none (the project's)."""
    ensure_roles(apps=apps)


def clerk_assign(
    *,
    actor: AbstractBaseUser | None,
    user: User,
    election: Election,
    station: PollingStation | None = None,
    municipality: Municipality | None = None,
    client_address: str | None = None,
) -> ClerkAssignment:
    """Let `user` enter one station, or every station of a municipality.

    Idempotent: assigning what is already assigned returns the existing row
    and records nothing.
    """
    if (station is None) == (municipality is None):
        raise ValueError("assign a clerk to exactly one of a station or a municipality")
    target = station or municipality
    assert target is not None
    if target.election_id != election.pk:
        raise ValueError(f"{target} is not part of {election}")
    with transaction.atomic():
        ensure_roles()
        assignment, created = ClerkAssignment.objects.get_or_create(
            election=election, user=user, station=station, municipality=municipality
        )
        if created:
            user.groups.add(Group.objects.get(name=ROLE_CLERK))
            audit_append(
                actor=actor,
                action="clerk.assign",
                obj=assignment,
                station_code=station.code if station else "",
                after={
                    "user": user.get_username(),
                    "election": election.slug,
                    "station": station.code if station else None,
                    "municipality": municipality.code if municipality else None,
                },
                client_address=client_address,
            )
        return assignment
