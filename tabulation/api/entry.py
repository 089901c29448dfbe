"""Entry API for scanning and field apps: the same service and checks as the
form (docs/entry.md). Token authentication; a station that is not the
clerk's answers 404 (E3). Bodies are JSON of at most 64 KB, 32 levels deep
(api/parsers.py); every refusal but 401, 403 and 404 answers
``{"errors": [{"code", "field", "message"}]}``."""

from __future__ import annotations

import uuid

from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tabulation.api.parsers import JSONBodyParser
from tabulation.api.serializers_entry import (
    DetailAnswerSerializer,
    EntryRequestSerializer,
    EntryResponseSerializer,
    ErrorsSerializer,
    StationStateSerializer,
    entry_response_data,
    error_data,
    input_errors_data,
    refusal_data,
    station_state_data,
)
from tabulation.api.throttles import TOO_MANY, EntryThrottle
from tabulation.domain.record import RECORD_FIELDS
from tabulation.models import Election, RecordEntry, StationRound
from tabulation.selectors.stations import (
    ClerkStation,
    clerk_station_get,
    clerk_station_list,
    entry_findings,
)
from tabulation.services.records import (
    EntryRefused,
    InputRefused,
    StationNotAllowed,
    entry_withdraw,
    record_submit,
)

REFUSAL_STATUS = {
    "conflict": status.HTTP_409_CONFLICT,
    "same_clerk": status.HTTP_409_CONFLICT,
    "closed": status.HTTP_409_CONFLICT,
    # A key used for another entry, or again with other figures: a conflict
    # with what is stored, like a stale round (docs/entry.md, idempotency).
    "idempotency_key": status.HTTP_409_CONFLICT,
    "refused": status.HTTP_400_BAD_REQUEST,
}


# The answers every endpoint shares (DRF's own shape, {"detail"}).
NOT_AUTHENTICATED = OpenApiResponse(
    DetailAnswerSerializer, description="No credentials, or wrong ones."
)
NO_CSRF = OpenApiResponse(
    DetailAnswerSerializer,
    description="A logged-in session without its CSRF token (token authentication needs none).",
)


def _client_address(request: Request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _station(request: Request, slug: str, code: str) -> ClerkStation:
    clerk_station = clerk_station_get(request.user, slug, code)
    if clerk_station is None:
        raise NotFound
    return clerk_station


def _votes_pairs(raw: object) -> list[tuple[object, object]] | None:
    """(ballot number, votes) pairs from a list of objects or a mapping."""
    if isinstance(raw, dict):
        return list(raw.items())
    if isinstance(raw, list):
        pairs: list[tuple[object, object]] = []
        for item in raw:
            if isinstance(item, dict):
                pairs.append((item.get("ballot_number"), item.get("votes")))
            else:
                pairs.append((str(item)[:20], None))
        return pairs
    return None


class StationListView(APIView):
    permission_classes = [IsAuthenticated]
    throttle_classes = [EntryThrottle]

    @extend_schema(
        summary="The clerk's stations in an election, with the state of each",
        responses={
            200: StationStateSerializer(many=True),
            401: NOT_AUTHENTICATED,
            429: TOO_MANY,
            404: OpenApiResponse(
                DetailAnswerSerializer,
                description="No such election, or none of its stations is this clerk's.",
            ),
        },
    )
    def get(self, request: Request, slug: str) -> Response:
        election = Election.objects.filter(slug=slug).first()
        rows = clerk_station_list(request.user, election) if election is not None else []
        if not rows:
            raise NotFound
        return Response([station_state_data(row) for row in rows])


class EntryCreateView(APIView):
    permission_classes = [IsAuthenticated]
    throttle_classes = [EntryThrottle]
    parser_classes = [JSONBodyParser]

    @extend_schema(
        summary="Enter a station's record (first, second or corrected entry)",
        request=EntryRequestSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                description="8-64 characters [A-Za-z0-9_.:-]; a retry with the same key "
                "and the same record returns the stored entry with 200; the same key "
                "with other figures is refused with 409 `idempotency_key`.",
            )
        ],
        responses={
            201: EntryResponseSerializer,
            200: OpenApiResponse(EntryResponseSerializer, description="A retry: the stored entry"),
            400: OpenApiResponse(
                ErrorsSerializer,
                description="The record's input errors (E1, E2), one per field; a body that "
                "is not a JSON object (E1); JSON that does not parse (`parse_error`) or is "
                "nested more than 32 levels deep (`too_deep`). Nothing stored.",
            ),
            401: NOT_AUTHENTICATED,
            429: TOO_MANY,
            403: NO_CSRF,
            404: OpenApiResponse(
                DetailAnswerSerializer,
                description="No such election or station, or not this clerk's (E3).",
            ),
            409: OpenApiResponse(
                ErrorsSerializer,
                description="A stale `round_version` (`conflict`), a record no longer open "
                "for entry (`closed`), the clerk's second entry (`same_clerk`), or an "
                "`Idempotency-Key` already used for another entry or with other figures "
                "(`idempotency_key`). Nothing stored.",
            ),
            413: OpenApiResponse(
                ErrorsSerializer, description="The body is over 64 KB (`too_large`)."
            ),
            415: OpenApiResponse(
                ErrorsSerializer,
                description="The body is not sent as JSON (`unsupported_media_type`).",
            ),
        },
    )
    def post(self, request: Request, slug: str, code: str) -> Response:
        clerk_station = _station(request, slug, code)
        body = request.data
        if not isinstance(body, dict):
            return Response(
                {"errors": [error_data("E1", None, gettext("The body must be a JSON object."))]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        votes = _votes_pairs(body.get("votes"))
        if votes is None:
            return Response(
                {
                    "errors": [
                        error_data(
                            "E1", "votes", gettext("votes must be a list of the lists' votes.")
                        )
                    ]
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        key = request.headers.get("Idempotency-Key") or uuid.uuid4().hex
        round_version_seen = body.get("round_version")
        try:
            result = record_submit(
                actor=request.user,
                station=clerk_station.station,
                values={name: body.get(name) for name in RECORD_FIELDS},
                votes=votes,
                idempotency_key=str(key),
                round_version_seen=(
                    str(round_version_seen) if round_version_seen is not None else None
                ),
                correct_own=body.get("correct") is True,
                client_address=_client_address(request),
            )
        except StationNotAllowed as error:
            raise NotFound from error
        except InputRefused as error:
            return Response(input_errors_data(error.findings), status=status.HTTP_400_BAD_REQUEST)
        except EntryRefused as error:
            return Response(
                refusal_data(error.code, error.message, error.params),
                status=REFUSAL_STATUS.get(error.code, status.HTTP_400_BAD_REQUEST),
            )
        return self._answer(result.entry, clerk_station, created=result.created)

    def _answer(
        self, entry: RecordEntry, clerk_station: ClerkStation, *, created: bool
    ) -> Response:
        # Read back from the database, so that a retry answers with the same body.
        entry = RecordEntry.objects.select_related("clerk").get(pk=entry.pk)
        round = StationRound.objects.get(pk=entry.round_id)
        data = entry_response_data(
            entry,
            round,
            clerk_station.station.code,
            entry_findings(entry, clerk_station.station),
        )
        return Response(data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class EntryWithdrawView(APIView):
    permission_classes = [IsAuthenticated]
    throttle_classes = [EntryThrottle]

    @extend_schema(
        summary="Withdraw the clerk's own entry (before the record is accepted)",
        request=None,
        responses={
            200: StationStateSerializer,
            401: NOT_AUTHENTICATED,
            429: TOO_MANY,
            403: NO_CSRF,
            404: OpenApiResponse(
                DetailAnswerSerializer,
                description="No such station or entry, or not the clerk's own entry of "
                "their station.",
            ),
            409: OpenApiResponse(
                ErrorsSerializer,
                description="The record is no longer open for entry (`closed`).",
            ),
        },
    )
    def post(self, request: Request, slug: str, code: str, entry_id: int) -> Response:
        clerk_station = _station(request, slug, code)
        entry = RecordEntry.objects.filter(
            pk=entry_id, clerk_id=request.user.pk, round__station=clerk_station.station
        ).first()
        if entry is None:
            raise NotFound
        try:
            entry_withdraw(actor=request.user, entry=entry, client_address=_client_address(request))
        except StationNotAllowed as error:
            raise NotFound from error
        except EntryRefused as error:
            return Response(
                refusal_data(error.code, error.message, error.params),
                status=REFUSAL_STATUS.get(error.code, status.HTTP_400_BAD_REQUEST),
            )
        return Response(station_state_data(_station(request, slug, code)))
