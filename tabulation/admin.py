"""The admin site: a read-only window on the data, and the accounts.

Every change to an election goes through a service, which writes the audit
trail in the same transaction; an admin form would bypass it. So the admin
shows, searches and filters the election's data, and never adds, changes or
deletes it. Users and groups are the exception (end of this module): only a
superuser grants access, and every save is an audit event.
"""

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.http import HttpRequest
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import TokenProxy

from tabulation import models
from tabulation.api.results import client_address
from tabulation.services.audit import audit_append


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    """Rows shown inside their parent, read-only like every admin page here."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.fields


class MunicipalityInline(ReadOnlyInline):
    model = models.Municipality
    fields = ["code", "name", "registered"]
    show_change_link = True


@admin.register(models.Election)
class ElectionAdmin(ReadOnlyAdmin):
    list_display = ["name", "slug", "date", "seats", "entry_mode", "status"]
    list_filter = ["status", "entry_mode"]
    search_fields = ["name", "slug"]
    inlines = [MunicipalityInline]


@admin.register(models.Municipality)
class MunicipalityAdmin(ReadOnlyAdmin):
    list_display = ["name", "code", "election", "registered"]
    list_filter = ["election"]
    search_fields = ["name", "code"]


@admin.register(models.PollingStation)
class PollingStationAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "municipality", "number", "registered"]
    list_filter = ["election", "municipality"]
    search_fields = ["code", "name", "address"]
    list_select_related = ["municipality"]


class CandidateInline(ReadOnlyInline):
    model = models.Candidate
    fields = ["position", "name", "withdrawn"]


@admin.register(models.ElectoralList)
class ElectoralListAdmin(ReadOnlyAdmin):
    list_display = ["ballot_number", "name", "ballot_carrier", "minority", "colour", "election"]
    list_filter = ["election", "minority"]
    search_fields = ["name", "ballot_carrier"]
    inlines = [CandidateInline]


@admin.register(models.Candidate)
class CandidateAdmin(ReadOnlyAdmin):
    list_display = ["name", "position", "electoral_list", "withdrawn"]
    list_filter = ["electoral_list__election", "withdrawn"]
    search_fields = ["name"]


@admin.register(models.ClerkAssignment)
class ClerkAssignmentAdmin(ReadOnlyAdmin):
    list_display = ["user", "station", "municipality", "election"]
    list_filter = ["election", "municipality"]
    search_fields = ["user__username", "station__code", "municipality__code"]


@admin.register(models.StationRound)
class StationRoundAdmin(ReadOnlyAdmin):
    list_display = ["station", "number", "status", "ordered_at", "status_changed_at"]
    list_filter = ["status", "station__election", "station__municipality"]
    search_fields = ["station__code", "station__name"]
    list_select_related = ["station"]


class RecordEntryVoteInline(ReadOnlyInline):
    model = models.RecordEntryVote
    fields = ["electoral_list", "votes"]


@admin.register(models.RecordEntry)
class RecordEntryAdmin(ReadOnlyAdmin):
    list_display = ["round", "entry_number", "clerk", "created_at", "superseded_at"]
    list_filter = ["entry_number", "round__station__municipality"]
    search_fields = ["round__station__code", "clerk__username", "idempotency_key"]
    inlines = [RecordEntryVoteInline]


class AcceptedVoteInline(RecordEntryVoteInline):
    model = models.AcceptedVote  # type: ignore[assignment]


@admin.register(models.AcceptedRecord)
class AcceptedRecordAdmin(ReadOnlyAdmin):
    list_display = ["round", "source", "accepted_at"]
    list_filter = ["source", "round__station__municipality"]
    search_fields = ["round__station__code"]
    inlines = [AcceptedVoteInline]


@admin.register(models.Finding)
class FindingAdmin(ReadOnlyAdmin):
    list_display = ["code", "round", "status", "raised_at", "resolved_at"]
    list_filter = ["status", "category", "code"]
    search_fields = ["code", "round__station__code"]


@admin.register(models.Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ["kind", "election", "station", "decided_by", "decided_at"]
    list_filter = ["kind", "election"]
    search_fields = ["station__code", "decided_by__username", "reason"]


@admin.register(models.ResultSnapshot)
class ResultSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["election", "version", "kind", "created_at", "audit_head"]
    list_filter = ["election", "kind"]


@admin.register(models.AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = [
        "sequence",
        "occurred_at",
        "actor_username",
        "action",
        "object_type",
        "object_id",
        "station_code",
    ]
    list_filter = ["action"]
    # By station, user and action (the three questions of a trail).
    search_fields = ["station_code", "actor_username", "action", "object_id"]
    ordering = ["-sequence"]


# --- Users and groups ----------------------------------------------------------------
# The one place where the admin writes: accounts are set up here. Who may
# grant what is fixed below, and every save is an audit event (house rule 13:
# every change of a user, role or permission), in the admin's transaction.

# The fields that grant access. Only a superuser may set them, and nobody on
# their own account: no one raises their own privileges, or takes a
# superuser's away by accident.
PRIVILEGE_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")


def _permission_names(permissions: Any) -> list[str]:
    return sorted(
        f"{app_label}.{codename}"
        for app_label, codename in permissions.values_list("content_type__app_label", "codename")
    )


def user_state(user: User) -> dict[str, Any]:
    """What the trail records of an account: never the password hash, only
    whether there is a usable password."""
    return {
        "username": user.get_username(),
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": user.is_active,
        "is_staff": user.is_staff,
        "is_superuser": user.is_superuser,
        "usable_password": user.has_usable_password(),
        "groups": sorted(user.groups.values_list("name", flat=True)),
        "user_permissions": _permission_names(user.user_permissions.all()),
    }


def group_state(group: Group) -> dict[str, Any]:
    return {"name": group.name, "permissions": _permission_names(group.permissions.all())}


def changed_only(
    before: dict[str, Any], after: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields whose values differ, as (before, after)."""
    names = [name for name in after if before.get(name) != after[name]]
    return {name: before.get(name) for name in names}, {name: after[name] for name in names}


class AuditedAdmin(admin.ModelAdmin):
    """Appends `<noun>.add`, `<noun>.change` and `<noun>.delete` with the
    changed fields before and after. The state before is read from the
    database in `save_model`; the state after in `save_related`, once the
    many-to-many fields (groups, permissions) are saved too."""

    audit_noun = ""

    def state(self, obj: Any) -> dict[str, Any]:
        raise NotImplementedError

    def _audit(self, request: HttpRequest, action: str, obj: Any, before: Any, after: Any) -> None:
        audit_append(
            actor=request.user,
            action=f"{self.audit_noun}.{action}",
            obj=obj,
            before=before,
            after=after,
            client_address=client_address(request),
        )

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        stored = type(obj)._default_manager.get(pk=obj.pk) if change else None
        form._audit_before = self.state(stored) if stored is not None else None
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        after = self.state(form.instance)
        if form._audit_before is None:
            self._audit(request, "add", form.instance, None, after)
        else:
            before, after = changed_only(form._audit_before, after)
            self._audit(request, "change", form.instance, before, after)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self._audit(request, "delete", obj, self.state(obj), None)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        with transaction.atomic():
            for obj in queryset:
                self._audit(request, "delete", obj, self.state(obj), None)
            super().delete_queryset(request, queryset)


admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class UserAdmin(AuditedAdmin, DjangoUserAdmin):
    audit_noun = "user"

    def state(self, obj: Any) -> dict[str, Any]:
        return user_state(obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Recorded by the system, not typed in.
        readonly = [*super().get_readonly_fields(request, obj), "last_login", "date_joined"]
        # Read-only fields are left out of the form altogether, so a forged
        # POST that carries them is not read either.
        if obj is not None and (not request.user.is_superuser or obj.pk == request.user.pk):
            readonly += PRIVILEGE_FIELDS
        return readonly

    def _superusers_only(self, request: HttpRequest, obj: Any) -> bool:
        """Whether `obj` is an account only a superuser may change or delete:
        a superuser's or another staff member's. Whoever sets the password of
        such an account can act as it: an administrator who reset a member's
        password could decide in the member's name."""
        return (
            obj is not None
            and not request.user.is_superuser
            and obj.pk != request.user.pk
            and (obj.is_superuser or obj.is_staff)
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if self._superusers_only(request, obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if self._superusers_only(request, obj):
            return False
        return super().has_delete_permission(request, obj)

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> Any:
        # One transaction for the new password and its audit event (log_change).
        with transaction.atomic():
            return super().user_change_password(request, id, form_url)

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        entry = super().log_change(request, obj, message)
        match = request.resolver_match
        if match is not None and match.url_name == "auth_user_password_change":
            # The new password is never recorded; only that it was set.
            self._audit(
                request,
                "password_change",
                obj,
                None,
                {"usable_password": obj.has_usable_password()},
            )
        return entry


@admin.register(Group)
class GroupAdmin(AuditedAdmin, DjangoGroupAdmin):
    audit_noun = "group"

    def state(self, obj: Any) -> dict[str, Any]:
        return group_state(obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly.append("permissions")
        return readonly


# Accounts' secrets have no admin pages: an API token is issued, and a lost
# second factor reset, only by the audited commands `issue_token` and
# `reset_second_factor` (docs/security.md). The pages DRF and django-otp add
# would hand out tokens unaudited and show members' authenticator keys.
for _secret_model in (TokenProxy, TOTPDevice, StaticDevice):
    if admin.site.is_registered(_secret_model):
        admin.site.unregister(_secret_model)
