"""Shapes of the commission's decisions API (docs/api.md, docs/commission.md).

The request serializers both validate the body (malformed input: 400 with
field errors, nothing stored) and document it for the OpenAPI schema. What
they leave to the services: the figures of a correction (parsed and checked
by the same code as an entry: E1/E2 come back as 422) and every rule of the
state (409 with the service's code and message).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.settings import api_settings

from tabulation.api.entry import _votes_pairs
from tabulation.api.serializers_entry import (
    EntryRequestSerializer,
    RoundStateSerializer,
    error_data,
    round_data,
)
from tabulation.models import Decision, Finding, Objection, PollingStation

# The reason is what makes it a decision: the service's own words when it is missing.
REASON_MISSING = gettext_lazy("Give the reason for the decision.")


# --- Fields -------------------------------------------------------------------------


class JsonBooleanField(serializers.BooleanField):
    """JSON true or false only: no "yes", "0" or "on" for a decision."""

    def to_internal_value(self, data: Any) -> bool:
        if isinstance(data, bool):
            return data
        self.fail("invalid", input=data)
        raise AssertionError  # fail() raises


def reason_field() -> serializers.CharField:
    return serializers.CharField(
        help_text="Why the commission decided so; required, blank is refused (400).",
        error_messages={"required": REASON_MISSING, "blank": REASON_MISSING},
    )


def round_version_field() -> serializers.CharField:
    return serializers.CharField(
        required=False,
        help_text="The round's version the decision was read from (the entry API's "
        "`round.version`); a stale one gives 409 `conflict`.",
    )


class DecisionRecordValuesSerializer(EntryRequestSerializer):
    """The record's fields, as in the entry API's body (without its votes)."""

    votes = None  # type: ignore[assignment]
    round_version = None  # type: ignore[assignment]
    correct = None  # type: ignore[assignment]


@extend_schema_field(DecisionRecordValuesSerializer)
class RecordValuesField(serializers.DictField):
    """An object of record fields, passed to the service as typed: its checks
    report what is wrong with a value (E1, 422), like the entry API's."""


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "integer", "minimum": 0},
        "description": 'Votes by ballot number, every list once: {"1": 300, "2": 200}. '
        'The entry API\'s list [{"ballot_number": 1, "votes": 300}] is accepted too.',
    }
)
class VotesField(serializers.Field):
    default_error_messages = {
        "invalid": gettext_lazy("votes must be a list of the lists' votes."),
    }

    def to_internal_value(self, data: Any) -> list[tuple[object, object]]:
        pairs = _votes_pairs(data)
        if pairs is None:
            self.fail("invalid")
        return pairs or []

    def to_representation(self, value: Any) -> Any:
        return value


# --- Requests: one station --------------------------------------------------------------


class StationDecisionKindSerializer(serializers.Serializer):
    """The first thing read from the body: which decision it is."""

    kind = serializers.ChoiceField(choices=["reconcile", "correct", "acknowledge", "annul"])


class ReconcileDecisionRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["reconcile"])
    reason = reason_field()
    keep_entry_number = serializers.IntegerField(
        min_value=1,
        max_value=2,
        required=False,
        help_text="The entry that matches the paper record: it becomes the accepted record.",
    )
    return_for_entry = JsonBooleanField(
        required=False,
        help_text="true: both entries are set aside and the station awaits entry again.",
    )
    round_version = round_version_field()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        keep = attrs.get("keep_entry_number") is not None
        back = attrs.get("return_for_entry") is True
        if keep == back:
            raise serializers.ValidationError(
                gettext_lazy("Choose one entry to keep, or return the station for entry."),
                code="invalid",
            )
        return attrs


class CorrectDecisionRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["correct"])
    reason = reason_field()
    values = RecordValuesField(help_text="The corrected record's fields.")
    votes = VotesField()
    round_version = round_version_field()


class AcknowledgeDecisionRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["acknowledge"])
    reason = reason_field()
    finding = serializers.IntegerField(
        min_value=1, help_text="The id of an open C or W finding of this station."
    )

    def validate_finding(self, value: int) -> Finding:
        station: PollingStation = self.context["station"]
        finding = (
            Finding.objects.select_related("round").filter(pk=value, round__station=station).first()
        )
        if finding is None:
            raise serializers.ValidationError(
                gettext_lazy("No finding of this station has that number."),
                code="does_not_exist",
            )
        return finding


class AnnulDecisionRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["annul"])
    reason = reason_field()
    ground = serializers.CharField(
        max_length=8,
        help_text="R1, R2, R3, R4, U1, U2, U3 or U4: one the round allows (else 409).",
    )
    voting_date = serializers.DateField(
        help_text="The repeat vote's day: after today and within 10 days (else 409)."
    )
    round_version = round_version_field()


STATION_DECISION_REQUESTS: dict[str, type[serializers.Serializer]] = {
    "reconcile": ReconcileDecisionRequestSerializer,
    "correct": CorrectDecisionRequestSerializer,
    "acknowledge": AcknowledgeDecisionRequestSerializer,
    "annul": AnnulDecisionRequestSerializer,
}


# --- Requests: the election -------------------------------------------------------------


class ObjectionRequestSerializer(serializers.Serializer):
    filed_at = serializers.DateTimeField(
        help_text="When it was filed (ISO 8601; without an offset: the commission's time zone)."
    )
    filed_by = serializers.CharField(max_length=300, help_text="Who filed it, as on the paper.")
    subject = serializers.ChoiceField(choices=Objection.Subject.choices)
    station = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="The station's code; required when subject is station.",
    )
    decision = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        help_text="The decision's id; required when subject is decision.",
    )
    grounds = serializers.CharField(help_text="The grounds as filed.")

    def validate_station(self, value: str | None) -> PollingStation | None:
        if not value:
            return None
        station = PollingStation.objects.filter(
            election=self.context["election"], code=value.strip()
        ).first()
        if station is None:
            raise serializers.ValidationError(
                gettext_lazy("No station of this election has that code."), code="does_not_exist"
            )
        return station

    def validate_decision(self, value: int | None) -> Decision | None:
        if value is None:
            return None
        decision = Decision.objects.filter(election=self.context["election"], pk=value).first()
        if decision is None:
            raise serializers.ValidationError(
                gettext_lazy("No decision of this election has that number."),
                code="does_not_exist",
            )
        return decision

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        subject = attrs.get("subject")
        if subject == Objection.Subject.STATION and attrs.get("station") is None:
            raise serializers.ValidationError(
                {"station": gettext("Name the polling station the objection is against.")},
                code="required",
            )
        if subject == Objection.Subject.DECISION and attrs.get("decision") is None:
            raise serializers.ValidationError(
                {"decision": gettext("Name the decision the objection is against.")},
                code="required",
            )
        return attrs


class ObjectionDecisionRequestSerializer(serializers.Serializer):
    upheld = JsonBooleanField(help_text="true: upheld; false: rejected.")
    reason = reason_field()


class LotsRequestSerializer(serializers.Serializer):
    lots_drawn = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        allow_empty=False,
        help_text="The ballot numbers of the tied lists in the order drawn, each once.",
    )
    reason = reason_field()


# --- Answers ------------------------------------------------------------------------------


class DecisionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(
        choices=Decision.Kind.choices,
        help_text="reconcile, correct, dismiss_warning (acknowledge), annul_and_order_repeat "
        "(annul), drawing_of_lots or objection_decided.",
    )
    station = serializers.CharField(allow_null=True, help_text="The station's code, or null.")
    round = RoundStateSerializer(
        allow_null=True,
        help_text="The round decided on, as it stands after the decision; null for the "
        "election's decisions.",
    )
    reason = serializers.CharField()
    payload = serializers.DictField(help_text="What was decided; depends on the kind.")
    decided_at = serializers.DateTimeField()
    decided_by = serializers.CharField(help_text="The member's username.")


class ObjectionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    filed_at = serializers.DateTimeField()
    filed_by = serializers.CharField()
    subject = serializers.ChoiceField(choices=Objection.Subject.choices)
    station = serializers.CharField(allow_null=True)
    decision = serializers.IntegerField(allow_null=True)
    grounds = serializers.CharField()
    status = serializers.CharField(help_text="open, upheld or rejected.")
    registered_at = serializers.DateTimeField()
    registered_by = serializers.CharField()


class DetailSerializer(serializers.Serializer):
    """401, 403 and 404 answer as DRF does, as in the entry API."""

    detail = serializers.CharField()


def _timestamp(value: Any) -> Any:
    return serializers.DateTimeField().to_representation(value)


def decision_data(decision: Decision) -> dict[str, Any]:
    decision = Decision.objects.select_related("station", "round", "decided_by").get(pk=decision.pk)
    return {
        "id": decision.pk,
        "kind": decision.kind,
        "station": decision.station.code if decision.station is not None else None,
        "round": round_data(decision.round),
        "reason": decision.reason,
        "payload": decision.payload,
        "decided_at": _timestamp(decision.decided_at),
        "decided_by": decision.decided_by.get_username(),
    }


def objection_data(objection: Objection) -> dict[str, Any]:
    objection = Objection.objects.select_related("station", "registered_by").get(pk=objection.pk)
    return {
        "id": objection.pk,
        "filed_at": _timestamp(objection.filed_at),
        "filed_by": objection.filed_by,
        "subject": objection.subject,
        "station": objection.station.code if objection.station is not None else None,
        "decision": objection.decision_id,
        "grounds": objection.grounds,
        "status": objection.status,
        "registered_at": _timestamp(objection.registered_at),
        "registered_by": objection.registered_by.get_username(),
    }


def validation_errors_data(detail: Any) -> dict[str, Any]:
    """DRF's validation errors as the entry API's ``{"errors": [...]}``: one
    per problem, with DRF's code and the field's path (``lots_drawn[1]``)."""
    return {"errors": _flatten(detail, None)}


def _flatten(detail: Any, field: str | None) -> list[dict[str, Any]]:
    if isinstance(detail, Mapping):
        errors = []
        for key, value in detail.items():
            if key == api_settings.NON_FIELD_ERRORS_KEY:
                path = field
            elif field is None:
                path = str(key)
            elif isinstance(key, int):
                path = f"{field}[{key}]"
            else:
                path = f"{field}.{key}"
            errors += _flatten(value, path)
        return errors
    if isinstance(detail, list):
        errors = []
        for item in detail:
            errors += _flatten(item, field)
        return errors
    return [error_data(getattr(detail, "code", None) or "invalid", field, str(detail))]
