"""Observers' API: submit a copy of a station's record, list one's own
copies (docs/observers.md, docs/api.md). Token authentication (``manage.py
issue_token``); anyone but an accredited observer of the election gets 403.
The answers hold what the observer sent, never the accepted record."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tabulation.api.entry import NOT_AUTHENTICATED, _votes_pairs
from tabulation.api.parsers import JSONBodyParser
from tabulation.api.serializers_entry import (
    DetailAnswerSerializer,
    EntryRequestSerializer,
    ErrorsSerializer,
    error_data,
    input_errors_data,
    refusal_data,
)
from tabulation.api.throttles import TOO_MANY, EntryThrottle
from tabulation.domain.record import RECORD_FIELDS
from tabulation.models import Election, Observer, ObserverCopy
from tabulation.selectors.observers import observer_get, own_copies
from tabulation.selectors.stations import entry_votes
from tabulation.services.observers import copy_submit
from tabulation.services.records import EntryRefused, InputRefused


class CopyRequestSerializer(EntryRequestSerializer):
    """The copy as the entry API takes a record, with the station's code."""

    station = serializers.CharField(help_text="The station's code.")


class CopySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    station = serializers.CharField()
    round = serializers.IntegerField()
    source = serializers.CharField()
    submitted_at = serializers.DateTimeField()
    registered = serializers.IntegerField(allow_null=True)
    ballots_received = serializers.IntegerField(allow_null=True)
    ballots_unused = serializers.IntegerField(allow_null=True)
    turned_out = serializers.IntegerField(allow_null=True)
    ballots_in_box = serializers.IntegerField(allow_null=True)
    ballots_invalid = serializers.IntegerField(allow_null=True)
    ballots_valid = serializers.IntegerField(allow_null=True)
    control_sheet_ok = serializers.BooleanField(allow_null=True)
    board_signatures = serializers.IntegerField(allow_null=True)
    votes = serializers.DictField(child=serializers.IntegerField())
    photo_sha256 = serializers.CharField(allow_null=True)


def copy_data(copy: ObserverCopy) -> dict[str, Any]:
    return {
        "id": copy.pk,
        "station": copy.round.station.code,
        "round": copy.round.number,
        "source": copy.source,
        "submitted_at": copy.submitted_at.isoformat(),
        **{name: getattr(copy, name) for name in RECORD_FIELDS},
        "votes": {str(number): votes for number, votes in entry_votes(copy).items()},  # type: ignore[arg-type]
        "photo_sha256": copy.scan.sha256 if copy.scan else None,
    }


def _observer(request: Request, slug: str) -> Observer:
    election = Election.objects.filter(slug=slug).first()
    if election is None:
        raise NotFound
    observer = observer_get(request.user, slug)
    if observer is None:
        raise PermissionDenied
    return observer


def _bad(field: str | None, message: str) -> Response:
    return Response({"errors": [error_data("E1", field, message)]}, status=400)


class CopiesView(APIView):
    permission_classes = [IsAuthenticated]
    throttle_classes = [EntryThrottle]
    parser_classes = [JSONBodyParser]

    @extend_schema(
        summary="The observer's own live copies in an election",
        responses={
            200: CopySerializer(many=True),
            401: NOT_AUTHENTICATED,
            403: OpenApiResponse(DetailAnswerSerializer, description="Not an observer of it."),
            404: OpenApiResponse(DetailAnswerSerializer, description="No such election."),
            429: TOO_MANY,
        },
    )
    def get(self, request: Request, slug: str) -> Response:
        observer = _observer(request, slug)
        return Response([copy_data(copy) for copy in own_copies(observer)])

    @extend_schema(
        summary="Submit the observer's copy of a station's record",
        request=CopyRequestSerializer,
        responses={
            201: CopySerializer,
            400: OpenApiResponse(
                ErrorsSerializer,
                description="Input errors (E1, E2), one per field, or no such station; "
                "JSON that does not parse or is too deep. Nothing stored.",
            ),
            401: NOT_AUTHENTICATED,
            403: OpenApiResponse(
                DetailAnswerSerializer,
                description="Not an observer of this election, or a session without CSRF.",
            ),
            404: OpenApiResponse(DetailAnswerSerializer, description="No such election."),
            409: OpenApiResponse(ErrorsSerializer, description="The station has no live round."),
            413: OpenApiResponse(ErrorsSerializer, description="The body is over 64 KB."),
            415: OpenApiResponse(ErrorsSerializer, description="The body is not JSON."),
            429: TOO_MANY,
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        observer = _observer(request, slug)
        body = request.data
        if not isinstance(body, dict):
            return _bad(None, gettext("The body must be a JSON object."))
        votes = _votes_pairs(body.get("votes"))
        if votes is None:
            return _bad("votes", gettext("votes must be a list of the lists' votes."))
        station = observer.election.stations.filter(code=str(body.get("station") or "")).first()
        if station is None:
            return _bad("station", gettext("No such station in this election."))
        try:
            copy = copy_submit(
                actor=request.user,
                station=station,
                values={name: body.get(name) for name in RECORD_FIELDS},
                votes=votes,
                source=ObserverCopy.Source.API,
                client_address=request.META.get("REMOTE_ADDR") or None,
            )
        except InputRefused as error:
            return Response(input_errors_data(error.findings), status=400)
        except EntryRefused as error:
            return Response(
                refusal_data(error.code, error.message, error.params),
                status=status.HTTP_409_CONFLICT,
            )
        return Response(copy_data(copy), status=status.HTTP_201_CREATED)
