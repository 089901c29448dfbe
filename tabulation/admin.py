"""The admin site: a read-only window on the data.

Every change to an election goes through a service, which writes the audit
trail in the same transaction; an admin form would bypass it. So the admin
shows, searches and filters, and never adds, changes or deletes.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from tabulation import models


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


class RecordEntryVoteInline(admin.TabularInline):
    model = models.RecordEntryVote
    fields = ["electoral_list", "votes"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


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
