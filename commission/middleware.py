"""Language: Django's LocaleMiddleware, with the API answering in the client's language.

Pages carry their language in the URL (none for Serbian Latin, /sr/, /en/),
and Django answers an unprefixed URL in the default language whatever the
client asks. The API has one URL for every language, so there the client's
Accept-Language (or language cookie) decides, Serbian Latin when it names
none we speak.
"""

from django.http import HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware as DjangoLocaleMiddleware
from django.utils import translation
from django.utils.cache import patch_vary_headers

API_PREFIX = "/api/"


class LocaleMiddleware(DjangoLocaleMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        if not request.path_info.startswith(API_PREFIX):
            return super().process_request(request)
        language = translation.get_language_from_request(request)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()  # type: ignore[attr-defined]
        return None

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if not request.path_info.startswith(API_PREFIX):
            return super().process_response(request, response)
        # A successful read is the published document, the same bytes in
        # every language: no Vary, so a CDN keeps one copy for the crowd.
        if request.method not in {"GET", "HEAD"} or response.status_code >= 400:
            response.headers.setdefault("Content-Language", translation.get_language())
            patch_vary_headers(response, ("Accept-Language",))
        return response
