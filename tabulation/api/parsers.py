"""What the write APIs (entry, decisions) take as a body, and how they
refuse one (docs/api.md, docs/entry.md).

A record or a decision is a few hundred bytes of JSON three levels deep.
``JSONBodyParser`` reads the request in chunks and stops at ``max_bytes``
(413 ``too_large``, whatever the ``Content-Length`` says), refuses JSON
nested deeper than ``max_depth`` before decoding it (400 ``too_deep``: the
decoder recurses, and a few thousand brackets end in ``RecursionError``, a
500) and answers JSON that does not parse with 400 ``parse_error``.

``api_exception_handler`` (DRF's ``EXCEPTION_HANDLER``) gives every refusal
of a body the API's error shape, ``{"errors": [{"code", "field",
"message"}]}``: these three, an unsupported media type (415), and Django's
own ``RequestDataTooBig`` (``DATA_UPLOAD_MAX_MEMORY_SIZE``, raised when a
body is read through ``request.body``), which Django would answer with an
HTML page. Every other exception gets DRF's answer.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError, UnsupportedMediaType
from rest_framework.parsers import BaseParser, get_encoding
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.utils import json

from tabulation.api.serializers_entry import error_data

_CHUNK = 8 * 1024


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


def too_large(limit: int) -> BodyTooLarge:
    return BodyTooLarge(
        gettext("The body is larger than {limit} bytes; nothing was stored.").format(limit=limit),
        code="too_large",
    )


def nesting_deeper_than(text: str, limit: int) -> bool:
    """Whether JSON ``text`` nests arrays and objects more than ``limit`` deep.

    One pass, character by character, brackets inside strings skipped: a
    pattern for strings would backtrack over a body of escaped quotes.
    """
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "[" or char == "{":
            depth += 1
            if depth > limit:
                return True
        elif char == "]" or char == "}":
            depth -= 1
    return False


class JSONBodyParser(BaseParser):
    """JSON of at most ``max_bytes`` (and Django's DATA_UPLOAD_MAX_MEMORY_SIZE)
    nested at most ``max_depth`` deep.

    Not a ``JSONParser`` subclass on purpose: DRF reads a JSONParser's body
    whole through ``request.body`` first; this one reads the stream itself
    and never holds more than ``max_bytes`` + 1 of it.
    """

    media_type = "application/json"
    renderer_class = JSONRenderer
    max_bytes = 64 * 1024
    max_depth = 32

    def limit(self) -> int:
        django_limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return self.max_bytes if django_limit is None else min(self.max_bytes, django_limit)

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        parser_context = parser_context or {}
        limit = self.limit()
        request = parser_context.get("request")
        if request is not None:
            try:
                declared = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                declared = 0
            if declared > limit:
                raise too_large(limit)
        raw = bytearray()
        while len(raw) <= limit:
            chunk = stream.read(min(_CHUNK, limit + 1 - len(raw)))
            if not chunk:
                break
            raw += chunk
        if len(raw) > limit:
            raise too_large(limit)
        encoding = get_encoding(parser_context)
        try:
            text = bytes(raw).decode(encoding)
        except UnicodeDecodeError as error:
            raise ParseError(
                gettext("The body is not valid JSON ({error}).").format(error=error),
                code="parse_error",
            ) from error
        if nesting_deeper_than(text, self.max_depth):
            raise ParseError(
                gettext("The JSON is nested more than {depth} levels deep.").format(
                    depth=self.max_depth
                ),
                code="too_deep",
            )
        try:
            return json.loads(text)
        except (ValueError, RecursionError) as error:
            raise ParseError(
                gettext("The body is not valid JSON ({error}).").format(error=error),
                code="parse_error",
            ) from error


BODY_REFUSALS = (ParseError, UnsupportedMediaType, BodyTooLarge)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, but a body refused answers in the API's error shape."""
    # Here, not at the top: rest_framework.views reads DEFAULT_PARSER_CLASSES
    # when it is imported, and that names this module.
    from rest_framework.views import exception_handler, set_rollback

    if isinstance(exc, RequestDataTooBig):
        exc = too_large(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0)
    if isinstance(exc, BODY_REFUSALS):
        set_rollback()  # as DRF's own handler does for what it answers
        detail = exc.detail
        code = getattr(detail, "code", None) or exc.default_code
        return Response(
            {"errors": [error_data(str(code), None, str(detail))]}, status=exc.status_code
        )
    return exception_handler(exc, context)


@csrf_exempt  # nothing is stored; a POST to nowhere is a 404 too, not a CSRF page
def api_not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """A URL under /api/ that no route matches (an election slug with
    characters a slug cannot hold, say) answers 404 in the API's own shape,
    JSON, not the site's HTML page."""
    return JsonResponse({"detail": gettext("Not found.")}, status=status.HTTP_404_NOT_FOUND)
