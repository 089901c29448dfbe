"""Shapes of the entry API (docs/entry.md). The request serializer documents
the body for the OpenAPI schema; the body itself is parsed by the service, so
that every problem comes back as a check code (E1, E2) like in the form."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext
from rest_framework import serializers

from tabulation.domain.record import Finding as DomainFinding
from tabulation.models import RecordEntry, StationRound
from tabulation.selectors.stations import ClerkStation, entry_votes, finding_text, round_version


class EntryVoteSerializer(serializers.Serializer):
    ballot_number = serializers.IntegerField(min_value=1)
    # Never blank: a list's votes are always on the paper (RULES.md E1).
    votes = serializers.IntegerField(min_value=0)


class EntryRequestSerializer(serializers.Serializer):
    """RULES.md E1: the four totals that may be blank on the paper (C1, C2,
    C4, C5) may be null or left out; every other field, and every list's
    votes, is required (E1 when missing)."""

    registered = serializers.IntegerField(
        min_value=0,
        allow_null=True,
        required=False,
        help_text="Blank on the paper: null or left out (C1).",
    )
    ballots_received = serializers.IntegerField(min_value=0)
    ballots_unused = serializers.IntegerField(min_value=0)
    turned_out = serializers.IntegerField(
        min_value=0,
        allow_null=True,
        required=False,
        help_text="Blank on the paper: null or left out (C2).",
    )
    ballots_in_box = serializers.IntegerField(
        min_value=0,
        allow_null=True,
        required=False,
        help_text="Blank on the paper: null or left out (C4).",
    )
    ballots_invalid = serializers.IntegerField(min_value=0)
    ballots_valid = serializers.IntegerField(
        min_value=0,
        allow_null=True,
        required=False,
        help_text="Blank on the paper: null or left out (C5).",
    )
    control_sheet_ok = serializers.BooleanField()
    board_signatures = serializers.IntegerField(min_value=0)
    votes = EntryVoteSerializer(many=True, help_text="Every list on the ballot, once.")
    round_version = serializers.CharField(
        required=False,
        help_text="The round's version the data was read from; a stale one gives 409.",
    )
    correct = serializers.BooleanField(
        required=False, default=False, help_text="Replace this clerk's own live entry."
    )


class FindingSerializer(serializers.Serializer):
    code = serializers.CharField()
    category = serializers.CharField()
    fields = serializers.ListField(child=serializers.CharField())
    expected = serializers.IntegerField(allow_null=True)
    actual = serializers.IntegerField(allow_null=True)
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    field = serializers.CharField(allow_null=True)
    message = serializers.CharField()


class ErrorsSerializer(serializers.Serializer):
    errors = ErrorSerializer(many=True)


class DetailAnswerSerializer(serializers.Serializer):
    """DRF's own answer, one ``detail``: 401, 403 and 404."""

    detail = serializers.CharField()


class RoundStateSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    status = serializers.CharField()
    version = serializers.CharField()


class EntryBodySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    entry_number = serializers.IntegerField()
    clerk = serializers.CharField()
    created_at = serializers.DateTimeField()
    values = serializers.DictField()
    votes = EntryVoteSerializer(many=True)


class EntryResponseSerializer(serializers.Serializer):
    station = serializers.CharField()
    entry = EntryBodySerializer()
    round = RoundStateSerializer()
    findings = FindingSerializer(many=True)


class StationStateSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    municipality = serializers.CharField()
    state = serializers.CharField()
    round = RoundStateSerializer(allow_null=True)
    may_enter = serializers.BooleanField()


def finding_data(finding: DomainFinding) -> dict[str, Any]:
    return {
        "code": finding.code,
        "category": finding.category.value,
        "fields": list(finding.fields),
        "expected": finding.expected,
        "actual": finding.actual,
        "message": finding_text(finding),
    }


def error_data(code: str, field: str | None, message: str) -> dict[str, Any]:
    return {"code": code, "field": field, "message": message}


def input_errors_data(findings: tuple[DomainFinding, ...]) -> dict[str, Any]:
    return {
        "errors": [
            error_data(
                finding.code, finding.fields[0] if finding.fields else None, finding_text(finding)
            )
            for finding in findings
        ]
    }


def refusal_data(code: str, message: str, params: dict[str, object]) -> dict[str, Any]:
    return {"errors": [error_data(code, None, gettext(message).format(**params))]}


def round_data(round: StationRound | None) -> dict[str, Any] | None:
    if round is None:
        return None
    return {"number": round.number, "status": round.status, "version": round_version(round)}


def entry_response_data(
    entry: RecordEntry, round: StationRound, station_code: str, findings: tuple[DomainFinding, ...]
) -> dict[str, Any]:
    return {
        "station": station_code,
        "entry": {
            "id": entry.pk,
            "entry_number": entry.entry_number,
            "clerk": entry.clerk.get_username(),
            "created_at": serializers.DateTimeField().to_representation(entry.created_at),
            "values": {name: getattr(entry, name) for name in RecordEntry.RECORD_FIELD_NAMES},
            "votes": [
                {"ballot_number": number, "votes": votes}
                for number, votes in entry_votes(entry).items()
            ],
        },
        "round": round_data(round),
        "findings": [finding_data(finding) for finding in findings],
    }


def station_state_data(row: ClerkStation) -> dict[str, Any]:
    return {
        "code": row.station.code,
        "name": row.station.name,
        "municipality": row.station.municipality.name,
        "state": row.state,
        "round": round_data(row.round),
        "may_enter": row.may_enter,
    }
