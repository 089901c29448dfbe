"""The commission's documents: the total report (ukupan izveštaj) and the
decision on the mandates, as pages that print well and as PDF.

The PDF is the page itself, printed by WeasyPrint from the same template (with
the stylesheet inlined, so nothing is fetched over the network). A version's
document never changes, so its PDF is rendered once per language and kept in
Django's cache; a provisional document also names the commission's proceedings
as they stand now (``selectors/report.py``), and its cache key changes with
them. When the Pango library WeasyPrint needs is missing, the PDF answers 503
with a plain message and the pages keep working.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.functional import Promise
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from tabulation.models import Objection
from tabulation.selectors.report import Report, report_get
from tabulation.templatetags.script import in_script
from tabulation.views.conditional import conditional_response
from tabulation.views.results import DECISION_KINDS, STATION_STATUSES

logger = logging.getLogger(__name__)
# WeasyPrint logs each step of every rendering at INFO: noise in the web log.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

# Bump when a template or the stylesheet changes: it is part of every cache
# key and ETag, so no reader gets a PDF rendered from the old markup.
DOCUMENT_REVISION = "1"
STYLESHEET = "css/documents.css"
# Where the stylesheet's screen-only phone rules begin.
PHONE_RULES_MARKER = "/* --- Phone:"
# Provisional renderings are keyed by their proceedings too; they are not
# kept for ever. An official version's document never changes.
PROVISIONAL_PDF_SECONDS = 24 * 3600
# One rendering per document at a time: the others wait for its bytes.
RENDER_LOCK_SECONDS = 120
RENDER_WAIT_SECONDS = 30.0
RENDER_POLL_SECONDS = 0.2

PANGO_MISSING = (
    "PDF documents need the Pango library: apt-get install libpango-1.0-0 libpangoft2-1.0-0"
)
WEASYPRINT_MISSING = "PDF documents need WeasyPrint: run make install"

DOCUMENT_DECISION_KINDS = {
    **DECISION_KINDS,
    "reopen": _("Certified result reopened"),
}
OBJECTION_SUBJECTS = dict(Objection.Subject.choices)
OBJECTION_STATUSES = dict(Objection.Status.choices)


@dataclass(frozen=True)
class DocumentKind:
    name: str  # in URLs, file names and cache keys
    template: str
    title: Promise


REPORT = DocumentKind("report", "results/report.html", _("Total report on the election results"))
MANDATES = DocumentKind(
    "mandates", "results/mandates.html", _("Decision on the assignment of mandates")
)


class PdfUnavailable(Exception):
    """WeasyPrint or the system libraries it loads are missing."""


# --- Rendering ------------------------------------------------------------------------


def _weasyprint() -> Any:
    """WeasyPrint, imported on first use: importing it loads Pango through
    ctypes (cffi), and a machine without Pango raises OSError there."""
    try:
        import weasyprint
    except OSError as error:
        raise PdfUnavailable(PANGO_MISSING) from error
    except ImportError as error:
        raise PdfUnavailable(WEASYPRINT_MISSING) from error
    return weasyprint


def _fetcher(weasyprint: Any) -> Any:
    """A URL fetcher that fetches nothing: the stylesheet is inlined and a
    document has no images, so a name in a document can never make the
    server fetch a URL."""

    class NothingFetcher(weasyprint.urls.URLFetcher):  # type: ignore[misc,name-defined]
        def fetch(self, url: str, headers: Any = None) -> Any:
            raise ValueError(f"documents fetch nothing: {url}")

    return NothingFetcher()


def _stylesheet_text() -> SafeString:
    """The documents' stylesheet, inlined into the page the PDF is made from
    (it is ours, not user input), without its phone rules: WeasyPrint reads
    media types only, and would warn about every width query."""
    path = finders.find(STYLESHEET)
    if not path:
        raise FileNotFoundError(STYLESHEET)
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    return mark_safe(text.split(PHONE_RULES_MARKER, 1)[0])


def _pdf_bytes(html: str, base_url: str) -> bytes:
    weasyprint = _weasyprint()
    started = time.perf_counter()
    content = weasyprint.HTML(string=html, base_url=base_url, url_fetcher=_fetcher(weasyprint))
    pdf = content.write_pdf()
    logger.info(
        "document PDF rendered in %.2f s (%d bytes)", time.perf_counter() - started, len(pdf)
    )
    return bytes(pdf)


# --- The page's running header and footer (CSS @page margin boxes) --------------------

_CSS_UNSAFE = re.compile(r"[\"'\\<>&\x00-\x1f\x7f]")


def css_string(text: str) -> str:
    """``text`` as a CSS string literal that is also safe inside <style>."""
    return '"' + _CSS_UNSAFE.sub(lambda match: f"\\{ord(match.group(0)):x} ", text) + '"'


def _page_counter_content() -> str:
    """ "Page X of Y" in the page's language, as a CSS ``content`` value with
    the counters where the translation puts {page} and {pages}."""
    template = gettext("Page {page} of {pages}")
    parts = re.split(r"(\{page\}|\{pages\})", template)
    if "{page}" not in parts or "{pages}" not in parts:
        parts = ["{page}", " / ", "{pages}"]
    values = []
    for part in parts:
        if part == "{page}":
            values.append("counter(page)")
        elif part == "{pages}":
            values.append("counter(pages)")
        elif part:
            values.append(css_string(part))
    return " ".join(values)


def _page_css(report: Report, kind: DocumentKind) -> SafeString:
    """The @page rules that carry text: the election, the document and its
    version in every page's footer, the page number, and the provisional
    marker at the top of every page of a provisional document."""
    footer = gettext("{election} · {document} · snapshot {version}").format(
        election=in_script(report.election.get("name", "")),
        document=str(kind.title),
        version=report.version,
    )
    rules = [
        f"@bottom-left {{ content: {css_string(footer)}; }}",
        f"@bottom-right {{ content: {_page_counter_content()}; }}",
    ]
    if report.provisional:
        rules.append(
            f"@top-center {{ content: {css_string(gettext('PROVISIONAL — NOT CERTIFIED'))}; }}"
        )
    return mark_safe("@page { " + " ".join(rules) + " }")


# --- Views --------------------------------------------------------------------------------


def _report_or_404(slug: str, version: int | None) -> Report:
    report = report_get(slug, version)
    if report is None:
        raise Http404("No published results for this election or version.")
    return report


def _context(report: Report, kind: DocumentKind, *, latest: bool, pdf: bool) -> dict[str, Any]:
    return {
        "report": report,
        "document": report.document,
        "election": report.election,
        "kind": kind.name,
        "title": kind.title,
        "latest": latest,
        "pdf": pdf,
        "inline_css": _stylesheet_text() if pdf else "",
        "page_css": _page_css(report, kind),
        "decision_kinds": DOCUMENT_DECISION_KINDS,
        "objection_subjects": OBJECTION_SUBJECTS,
        "objection_statuses": OBJECTION_STATUSES,
        "station_statuses": STATION_STATUSES,
    }


def _etag(report: Report, kind: DocumentKind, form: str) -> str:
    language = get_language() or "sr-latn"
    parts = [report.slug, kind.name, form, language, DOCUMENT_REVISION, report.fingerprint]
    return '"{}"'.format("-".join(part.replace(":", ".") for part in parts))


def _page(request: HttpRequest, slug: str, version: int | None, kind: DocumentKind) -> HttpResponse:
    report = _report_or_404(slug, version)

    def build() -> HttpResponse:
        context = _context(report, kind, latest=version is None, pdf=False)
        return render(request, kind.template, context)

    return conditional_response(
        request, etag=_etag(report, kind, "html"), published_at=None, build=build
    )


# Threads of this process that render wait for each other: rendering is
# CPU-bound, and two renderings of one document in one process help nobody.
_RENDER_LOCK = threading.Lock()


def _cached_pdf(key: str, timeout: int | None, render_pdf: Callable[[], bytes]) -> bytes:
    """The PDF under ``key``, rendered by one request while the others wait
    for it (a crowd asks for the same document at the same moment)."""
    content = cache.get(key)
    if content is not None:
        return bytes(content)
    lock_key = f"{key}:rendering"
    deadline = time.monotonic() + RENDER_WAIT_SECONDS
    while not cache.add(lock_key, 1, timeout=RENDER_LOCK_SECONDS):
        if time.monotonic() > deadline:
            break  # the renderer is slow or gone: render it here
        time.sleep(RENDER_POLL_SECONDS)
        content = cache.get(key)
        if content is not None:
            return bytes(content)
    try:
        with _RENDER_LOCK:
            content = cache.get(key)
            if content is None:
                content = render_pdf()
                cache.set(key, content, timeout=timeout)
    finally:
        cache.delete(lock_key)
    return bytes(content)


def _pdf(request: HttpRequest, slug: str, version: int | None, kind: DocumentKind) -> HttpResponse:
    report = _report_or_404(slug, version)
    return conditional_response(
        request,
        etag=_etag(report, kind, "pdf"),
        published_at=None,
        build=lambda: _pdf_response(request, report, kind, latest=version is None),
    )


def _pdf_response(
    request: HttpRequest, report: Report, kind: DocumentKind, *, latest: bool
) -> HttpResponse:
    slug = report.slug
    language = get_language() or "sr-latn"
    key = (
        ":".join(("documents", slug, f"v{report.version}", kind.name, language, DOCUMENT_REVISION))
        + f":{report.fingerprint}"
    )
    timeout = None if report.official else PROVISIONAL_PDF_SECONDS

    def render_pdf() -> bytes:
        context = _context(report, kind, latest=latest, pdf=True)
        html = render_to_string(kind.template, context, request=request)
        return _pdf_bytes(html, base_url=request.build_absolute_uri("/"))

    try:
        content = cache.get(key)
        if content is None:
            _weasyprint()  # fail at once, not after waiting for another renderer
            content = _cached_pdf(key, timeout, render_pdf)
    except PdfUnavailable as error:
        logger.error("%s (%s)", error, error.__cause__)
        return HttpResponse(
            f"{error}\n",
            status=503,
            content_type="text/plain; charset=utf-8",
            headers={"Retry-After": "3600"},
        )
    response = HttpResponse(bytes(content), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="{slug}-{kind.name}-v{report.version}-{language}.pdf"'
    )
    return response


def report_page(request: HttpRequest, slug: str, version: int | None = None) -> HttpResponse:
    return _page(request, slug, version, REPORT)


def report_pdf(request: HttpRequest, slug: str, version: int | None = None) -> HttpResponse:
    return _pdf(request, slug, version, REPORT)


def mandates_page(request: HttpRequest, slug: str, version: int | None = None) -> HttpResponse:
    return _page(request, slug, version, MANDATES)


def mandates_pdf(request: HttpRequest, slug: str, version: int | None = None) -> HttpResponse:
    return _pdf(request, slug, version, MANDATES)
