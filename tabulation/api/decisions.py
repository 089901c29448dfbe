"""The commission's decisions through the API (docs/api.md): the same services
as the commission's pages (services/decisions.py), with the request's user
as the member who decides.

Token or session authentication, as the entry API; only users with
`tabulation.decide` (commission members) get past the door: 401 without
credentials, 403 for anyone else, before anything is looked up. Then:
404 for an unknown election, station or objection; 400 for a body that is
not what the endpoint takes (field by field, nothing stored); 422 for the
input errors (E1/E2) of a correction's figures; 409 when the service refuses
the decision in the state things are in (its `code`, its message in the
request's language); 201 with the decision (or the registered objection).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext, gettext_lazy, gettext_noop
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import status
from rest_framework.exceptions import NotFound, ParseError, PermissionDenied, UnsupportedMediaType
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from tabulation.api.parsers import JSONBodyParser
from tabulation.api.serializers_decisions import (
    STATION_DECISION_REQUESTS,
    DecisionSerializer,
    DetailSerializer,
    LotsRequestSerializer,
    ObjectionDecisionRequestSerializer,
    ObjectionRequestSerializer,
    ObjectionSerializer,
    StationDecisionKindSerializer,
    decision_data,
    objection_data,
    validation_errors_data,
)
from tabulation.api.serializers_entry import (
    ErrorsSerializer,
    error_data,
    input_errors_data,
    refusal_data,
)
from tabulation.api.throttles import TOO_MANY, DecisionThrottle
from tabulation.domain.record import RECORD_FIELDS
from tabulation.models import Decision, Election, Objection, PollingStation, StationRound
from tabulation.selectors.accounts import second_factor_verified
from tabulation.selectors.stations import round_current
from tabulation.services.accounts import second_factor_code_matches
from tabulation.services.decisions import (
    DECIDE_PERMISSION,
    DecisionRefused,
    entries_reconcile,
    finding_acknowledge,
    lots_draw,
    objection_decide,
    objection_register,
    record_correct,
    station_annul,
)
from tabulation.services.records import EntryRefused, InputRefused, NotPermitted

# A token is a password that does not expire: a member's decision through
# the API also needs a current authenticator code, in this header, unless
# the session (the pages' login) has proved the second factor.
SECOND_FACTOR_HEADER = "X-OTP"
SECOND_FACTOR_PARAMETER = OpenApiParameter(
    SECOND_FACTOR_HEADER,
    str,
    OpenApiParameter.HEADER,
    description="The member's current six-digit authenticator code (each code works once). "
    "Needed with token authentication; a session that proved the second factor on the "
    "pages needs none. Without it: 403 `second_factor`.",
)


class MayDecide(BasePermission):
    """A commission member who has proved the second factor: the permission
    the services check themselves, and the factor only a request can show."""

    message = gettext_lazy("Only commission members may take decisions.")

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.has_perm(DECIDE_PERMISSION)):
            return False
        if second_factor_verified(user) or second_factor_code_matches(
            user, request.headers.get(SECOND_FACTOR_HEADER, "")
        ):
            return True
        raise PermissionDenied(
            gettext(
                "Decisions need the second factor: send your current authenticator code "
                "in the {header} header."
            ).format(header=SECOND_FACTOR_HEADER),
            code="second_factor",
        )


def _client_address(request: Request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _election(slug: str) -> Election:
    election = Election.objects.filter(slug=slug).first()
    if election is None:
        raise NotFound
    return election


def _invalid(errors: Any) -> Response:
    return Response(validation_errors_data(errors), status=status.HTTP_400_BAD_REQUEST)


def _not_an_object() -> Response:
    return Response(
        {"errors": [error_data("invalid", None, gettext("The body must be a JSON object."))]},
        status=status.HTTP_400_BAD_REQUEST,
    )


def _decided(
    call: Callable[[], Any], answer: Callable[[Any], dict[str, Any]] = decision_data
) -> Response:
    """Run a service; its refusal as the answer, or 201 with what it stored."""
    try:
        stored = call()
    except NotPermitted as error:
        raise PermissionDenied(gettext(error.message).format(**error.params)) from error
    except InputRefused as error:
        return Response(
            input_errors_data(error.findings), status=status.HTTP_422_UNPROCESSABLE_ENTITY
        )
    except EntryRefused as error:
        return Response(
            refusal_data(error.code, error.message, error.params), status=status.HTTP_409_CONFLICT
        )
    return Response(answer(stored), status=status.HTTP_201_CREATED)


class DecisionView(APIView):
    """What every decision endpoint shares: who may call it, JSON bodies,
    and every 400 in the entry API's ``{"errors": [...]}`` shape."""

    permission_classes = [IsAuthenticated, MayDecide]
    throttle_classes = [DecisionThrottle]
    # JSON of at most 64 KB, 32 levels deep (api/parsers.py).
    parser_classes = [JSONBodyParser]

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, ParseError | UnsupportedMediaType):
            detail = exc.detail
            code = getattr(detail, "code", None) or exc.default_code
            return Response(
                {"errors": [error_data(str(code), None, str(detail))]}, status=exc.status_code
            )
        return super().handle_exception(exc)

    def body(self, request: Request, serializer_class: type[Serializer], **context: Any) -> Any:
        """The validated body, or the 400 answer (a Response)."""
        if not isinstance(request.data, dict):
            return _not_an_object()
        serializer = serializer_class(data=request.data, context=context)
        if not serializer.is_valid():
            return _invalid(serializer.errors)
        return serializer.validated_data


# --- The documentation of the answers --------------------------------------------------------


def _responses(created: Any, *, not_found: str, correction: bool = False) -> dict[int, Any]:
    responses: dict[int, Any] = {
        201: created,
        400: OpenApiResponse(
            ErrorsSerializer,
            description="Malformed body: JSON that does not parse (`parse_error`), not a "
            "JSON object, a field missing or of the wrong type, no reason (`reason`, code "
            "`required` or `blank`), an unknown finding, station or decision in the body "
            "(`does_not_exist`). One error per problem, with DRF's code and the field; "
            "nothing stored.",
        ),
        401: OpenApiResponse(DetailSerializer, description="No credentials, or wrong ones."),
        403: OpenApiResponse(
            DetailSerializer,
            description="Not a commission member (no `tabulation.decide`), e.g. a clerk; or "
            "a member without the second factor (`X-OTP` header missing or wrong).",
        ),
        404: OpenApiResponse(DetailSerializer, description=not_found),
        429: TOO_MANY,
        415: OpenApiResponse(
            ErrorsSerializer,
            description="The body is not sent as JSON (`Content-Type: application/json`).",
        ),
        409: OpenApiResponse(
            ErrorsSerializer,
            description="The service refuses the decision in the current state; one error "
            "with its `code` (`refused`, `own_entry` for four eyes, `conflict` for a stale "
            "`round_version`) and its message in the request's language. Nothing stored.",
        ),
    }
    if correction:
        responses[422] = OpenApiResponse(
            ErrorsSerializer,
            description="A correction's figures have input errors (E1, E2): one per field, "
            "as the entry API reports them. Nothing stored.",
        )
    return responses


STATION_DECISION_REQUEST = PolymorphicProxySerializer(
    component_name="StationDecisionRequest",
    serializers=STATION_DECISION_REQUESTS,
    resource_type_field_name="kind",
)


# --- One station: reconcile, correct, acknowledge, annul ----------------------------------


class StationDecisionView(DecisionView):
    @extend_schema(
        parameters=[SECOND_FACTOR_PARAMETER],
        summary="Take a decision on a station: reconcile, correct, acknowledge or annul",
        description="`kind` says which; the acting member is the request's user. The answer "
        "is the stored decision, with the round as it stands after it.",
        request=STATION_DECISION_REQUEST,
        responses=_responses(
            DecisionSerializer, not_found="No such election or station.", correction=True
        ),
        examples=[
            OpenApiExample(
                "Keep the second entry",
                value={"kind": "reconcile", "keep_entry_number": 2, "reason": "As on paper."},
                request_only=True,
            ),
            OpenApiExample(
                "Annul and order the repeat vote",
                value={
                    "kind": "annul",
                    "ground": "R1",
                    "voting_date": "2026-12-08",
                    "reason": "More ballots in the box than voters: Art. 116.",
                },
                request_only=True,
            ),
        ],
    )
    def post(self, request: Request, slug: str, code: str) -> Response:
        station = (
            PollingStation.objects.select_related("election")
            .filter(election=_election(slug), code=code)
            .first()
        )
        if station is None:
            raise NotFound
        kind = self.body(request, StationDecisionKindSerializer)
        if isinstance(kind, Response):
            return kind
        data = self.body(request, STATION_DECISION_REQUESTS[kind["kind"]], station=station)
        if isinstance(data, Response):
            return data
        take = getattr(self, f"_{kind['kind']}")
        return _decided(lambda: take(request, station, data))

    def _round(self, station: PollingStation) -> StationRound:
        round = round_current(station)
        if round is None:
            raise DecisionRefused(
                gettext_noop("Station {station} has no round to decide on."),
                station=station.code,
            )
        return round

    def _reconcile(self, request: Request, station: PollingStation, data: Any) -> Decision:
        round = self._round(station)
        keep = None
        number = data.get("keep_entry_number")
        if number is not None:
            keep = round.entries.filter(superseded_at__isnull=True, entry_number=number).first()
            if keep is None:
                raise DecisionRefused(
                    gettext_noop(
                        "Station {station} is {status}: this decision is not possible now."
                    ),
                    station=station.code,
                    status=round.status,
                )
        return entries_reconcile(
            actor=request.user,
            round=round,
            keep_entry=keep,
            return_for_entry=data.get("return_for_entry") is True,
            reason=data["reason"],
            round_version_seen=data.get("round_version"),
            client_address=_client_address(request),
        )

    def _correct(self, request: Request, station: PollingStation, data: Any) -> Decision:
        values = data["values"]
        return record_correct(
            actor=request.user,
            round=self._round(station),
            values={name: values.get(name) for name in RECORD_FIELDS},
            votes=data["votes"],
            reason=data["reason"],
            round_version_seen=data.get("round_version"),
            client_address=_client_address(request),
        )

    def _acknowledge(self, request: Request, station: PollingStation, data: Any) -> Decision:
        return finding_acknowledge(
            actor=request.user,
            finding=data["finding"],
            reason=data["reason"],
            client_address=_client_address(request),
        )

    def _annul(self, request: Request, station: PollingStation, data: Any) -> Decision:
        return station_annul(
            actor=request.user,
            station=station,
            ground=data["ground"],
            voting_date=data["voting_date"],
            reason=data["reason"],
            round_version_seen=data.get("round_version"),
            client_address=_client_address(request),
        )


# --- The election: objections and the drawing of lots ---------------------------------------


class ObjectionRegisterView(DecisionView):
    @extend_schema(
        parameters=[SECOND_FACTOR_PARAMETER],
        summary="Register an objection as it was filed",
        description="Refused (409) when filed outside the 72 hours after the act it is "
        "against, or before any provisional result is published.",
        request=ObjectionRequestSerializer,
        responses=_responses(ObjectionSerializer, not_found="No such election."),
    )
    def post(self, request: Request, slug: str) -> Response:
        election = _election(slug)
        data = self.body(request, ObjectionRequestSerializer, election=election)
        if isinstance(data, Response):
            return data
        return _decided(
            lambda: objection_register(
                actor=request.user,
                election=election,
                filed_at=data["filed_at"],
                filed_by=data["filed_by"],
                subject=data["subject"],
                grounds=data["grounds"],
                station=data.get("station"),
                decision=data.get("decision"),
                client_address=_client_address(request),
            ),
            objection_data,
        )


class ObjectionDecideView(DecisionView):
    @extend_schema(
        parameters=[SECOND_FACTOR_PARAMETER],
        summary="Decide an objection: upheld or rejected",
        request=ObjectionDecisionRequestSerializer,
        responses=_responses(
            DecisionSerializer, not_found="No such election, or no such objection of it."
        ),
    )
    def post(self, request: Request, slug: str, objection_id: int) -> Response:
        objection = Objection.objects.filter(election=_election(slug), pk=objection_id).first()
        if objection is None:
            raise NotFound
        data = self.body(request, ObjectionDecisionRequestSerializer)
        if isinstance(data, Response):
            return data
        return _decided(
            lambda: objection_decide(
                actor=request.user,
                objection=objection,
                upheld=data["upheld"],
                reason=data["reason"],
                client_address=_client_address(request),
            )
        )


class LotsView(DecisionView):
    @extend_schema(
        parameters=[SECOND_FACTOR_PARAMETER],
        summary="Record the drawing of lots the latest result asks for",
        request=LotsRequestSerializer,
        responses=_responses(DecisionSerializer, not_found="No such election."),
    )
    def post(self, request: Request, slug: str) -> Response:
        election = _election(slug)
        data = self.body(request, LotsRequestSerializer)
        if isinstance(data, Response):
            return data
        return _decided(
            lambda: lots_draw(
                actor=request.user,
                election=election,
                lots_drawn=data["lots_drawn"],
                reason=data["reason"],
                client_address=_client_address(request),
            )
        )
