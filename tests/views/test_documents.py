"""The commission's documents: the total report and the mandates decision,
as pages and as PDF, in Serbian Latin, Cyrillic and English.

The election here is built through the services: records accepted at six
stations, an objection filed and decided, one station annulled and its repeat
vote counted, then published as provisional snapshots; an official snapshot
is stored from the last one the way certification stores it. The votes are
the Belgrade 2024 figures, so the numbers need grouping ("387.326"), and one
list has fewer candidates than its quotients win (rule 7).
"""

from __future__ import annotations

import builtins
import logging
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.test import Client
from django.utils import timezone, translation
from django.utils.translation import gettext

from tabulation import models
from tabulation.selectors.published import published_memo_clear
from tabulation.selectors.report import _proceedings_now, report_get
from tabulation.services import tabulation as tabulation_service
from tabulation.services.decisions import objection_decide, objection_register, station_annul
from tabulation.services.publishing import snapshot_publish
from tabulation.services.roles import ensure_roles
from tabulation.services.tabulation import tabulation_compute
from tabulation.templatetags.script import in_script
from tabulation.views import documents
from tests.conftest import missing_service
from tests.factories import CandidateFactory, UserFactory
from tests.factories_records import record_accept, small_election

pytestmark = pytest.mark.django_db

SLUG = "beograd-2024"
ELECTION_NAME = "Skupština grada Beograda"
SEATS = 110
# ballot number: (name, minority, votes, candidates)
LISTS = {
    1: ("Aleksandar Vučić – Beograd sutra", False, 387_326, 70),
    2: ("Kreni-Promeni", False, 129_868, 30),
    3: ("Biramo Beograd", False, 89_430, 20),
    4: ("Mi – snaga naroda", False, 59_805, 8),  # its quotients win 10 seats: rule 7
    5: ("Ruska stranka", True, 8_509, 3),
}
STATIONS = 6
# The annulled station's round 1: never counted.
ANNULLED_ROUND_VOTES = {1: 900, 2: 800, 3: 700, 4: 600, 5: 50}
CERTIFIERS = ("Marija Đorđević", "Ljubomir Njegoš")
FIRST_NAMES = ["Đorđe", "Ljiljana", "Njegoslav", "Željko", "Čedomir", "Šćepan", "Džemal", "Milica"]
LAST_NAMES = [
    "Đurić",
    "Ljubičić",
    "Njegovan",
    "Živković",
    "Čolić",
    "Šarčević",
    "Džudžević",
    "Petrović",
    "Jovanović",
    "Marković",
    "Nikolić",
    "Ilić",
    "Stanković",
    "Pavlović",
    "Savić",
    "Tomić",
    "Lukić",
    "Babić",
]
LANGUAGES = [
    pytest.param("", "sr-latn", id="latin"),
    pytest.param("/sr", "sr", id="cyrillic"),
    pytest.param("/en", "en", id="english"),
]


def candidate_name(index: int) -> str:
    """A name unique in the election, with every Serbian digraph and diacritic."""
    return f"{FIRST_NAMES[index % len(FIRST_NAMES)]} {LAST_NAMES[index // len(FIRST_NAMES)]}"


def station_votes(station_index: int) -> dict[int, int]:
    """The votes of one station: the totals split six ways, the rest at the first."""
    return {
        number: votes // STATIONS + (votes % STATIONS if station_index == 0 else 0)
        for number, (_name, _minority, votes, _candidates) in LISTS.items()
    }


@dataclass
class Documents:
    election: models.Election
    annulled_station: models.PollingStation
    objection: models.Objection
    provisional_version: int
    official_version: int | None
    official: dict[str, Any] | None


@pytest.fixture(autouse=True)
def _read_side(settings: Any, tmp_path: Path) -> Any:
    settings.PUBLISH_DIR = tmp_path / "published"
    cache.clear()
    published_memo_clear()
    with mock.patch.object(tabulation_service, "tabulation_enqueue", return_value=True):
        yield
    cache.clear()
    published_memo_clear()


def _member(username: str, full_name: str) -> Any:
    first, last = full_name.split(" ", 1)
    user = UserFactory(username=username, first_name=first, last_name=last, is_staff=True)
    user.groups.add(Group.objects.get(name="commission member"))
    return user


def _publish_latest(election: models.Election) -> models.ResultSnapshot:
    outcome = tabulation_compute(election_id=election.pk)
    assert outcome.snapshot is not None
    snapshot_publish(snapshot=outcome.snapshot, stations=outcome.stations)
    published_memo_clear()
    return outcome.snapshot


def build_documents(*, certify: bool = True) -> Documents:
    ensure_roles()
    made = small_election(
        municipalities=2,
        stations_per_municipality=3,
        lists=len(LISTS),
        seats=SEATS,
        minority=(5,),
        registered=300_000,
        name=ELECTION_NAME,
        slug=SLUG,
    )
    index = 0
    for electoral_list in made.lists:
        name, _minority, _votes, candidates = LISTS[electoral_list.ballot_number]
        electoral_list.name = name
        electoral_list.save(update_fields=["name"])
        for position in range(1, candidates + 1):
            CandidateFactory(
                electoral_list=electoral_list, position=position, name=candidate_name(index)
            )
            index += 1
    annulled_station = made.stations[-1]
    for number, station in enumerate(made.stations):
        votes = ANNULLED_ROUND_VOTES if station == annulled_station else station_votes(number)
        record_accept(made.rounds[station.code], votes)
    _publish_latest(made.election)

    member = _member("member-a", "Petar Petrović")
    objection = objection_register(
        actor=member,
        election=made.election,
        filed_at=timezone.now().replace(second=0, microsecond=0),
        filed_by="Nikola Šarčević",
        subject=models.Objection.Subject.STATION,
        station=annulled_station,
        grounds="Glasao je birač koji nije upisan u izvod iz biračkog spiska.",
    )
    objection_decide(
        actor=member,
        objection=objection,
        upheld=True,
        reason="Prigovor je osnovan; glasanje se ponavlja.",
    )
    today = timezone.localdate()
    station_annul(
        actor=member,
        station=annulled_station,
        ground="R4",
        voting_date=today + timedelta(days=7),
        reason="Glasao je birač koji nije upisan u izvod (čl. 115).",
        today=today,
    )
    repeat_round = models.StationRound.objects.get(station=annulled_station, number=2)
    record_accept(repeat_round, station_votes(STATIONS - 1))
    provisional = _publish_latest(made.election)

    official = None
    if certify:
        head = models.AuditHead.objects.get()
        payload = {
            **provisional.payload,
            "status": "official",
            "version": provisional.version + 1,
            "published_at": timezone.now().isoformat(),
            "audit_head": head.hash,
            "audit_count": head.sequence,
            "certified_at": timezone.now().isoformat(),
            "certified_by": list(CERTIFIERS),
            "certification": {
                "certifies_version": provisional.version,
                "official_version": 1,
                "proposed_at": timezone.now().isoformat(),
                "certified_at": timezone.now().isoformat(),
                "certified_by": list(CERTIFIERS),
            },
            "proceedings": _proceedings_now(SLUG),
        }
        snapshot = models.ResultSnapshot.objects.create(
            election=made.election,
            version=provisional.version + 1,
            kind="official",
            inputs_hash=provisional.inputs_hash,
            payload=payload,
            audit_head=head.hash,
            audit_count=head.sequence,
        )
        snapshot_publish(snapshot=snapshot)
        published_memo_clear()
        official = payload
    return Documents(
        election=made.election,
        annulled_station=annulled_station,
        objection=objection,
        provisional_version=provisional.version,
        official_version=official["version"] if official else None,
        official=official,
    )


@pytest.fixture
def official() -> Documents:
    return build_documents()


@pytest.fixture
def provisional() -> Documents:
    return build_documents(certify=False)


# --- Reading PDFs ------------------------------------------------------------------------


@pytest.fixture
def pdf_tools() -> None:
    """pdftotext and a WeasyPrint that loads: under CI=true their absence fails."""
    if shutil.which("pdftotext") is None:
        missing_service("pdftotext is not installed (apt-get install poppler-utils)")
    try:
        documents._weasyprint()
    except documents.PdfUnavailable as error:
        missing_service(str(error))


def pdf_text(content: bytes, *, layout: bool = False) -> str:
    """The text of a PDF as pdftotext reads it; pages end in a form feed."""
    command = ["pdftotext", "-enc", "UTF-8", *(["-layout"] if layout else []), "-", "-"]
    return subprocess.run(command, input=content, capture_output=True, check=True).stdout.decode()


def words(text: str) -> str:
    return " ".join(text.split())


def get_pdf(client: Client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, (url, response.content[:300])
    assert response["Content-Type"] == "application/pdf"
    content = response.content
    assert content.startswith(b"%PDF-")
    return content


def formatted(number: int, language: str) -> str:
    separator = "," if language == "en" else "."
    return f"{number:,}".replace(",", separator)


def seats_of(document: dict[str, Any]) -> dict[int, int]:
    return {item["ballot_number"]: item["seats"] for item in document["lists"]}


# --- The total report ------------------------------------------------------------------


@pytest.mark.parametrize(("prefix", "language"), LANGUAGES)
def test_official_report_pdf_holds_votes_seats_certifiers_version_and_audit_head(
    client: Client, official: Documents, pdf_tools: None, prefix: str, language: str
) -> None:
    content = get_pdf(client, f"{prefix}/results/{SLUG}/report.pdf")
    text = words(pdf_text(content))
    layout = pdf_text(content, layout=True)
    document = official.official
    assert document is not None

    seats = seats_of(document)
    with translation.override(language):
        for number, (name, _minority, votes, _candidates) in LISTS.items():
            assert in_script(name) in text, name
            # The list's row: its votes, and its seats last on that line.
            row = next(line for line in layout.splitlines() if formatted(votes, language) in line)
            assert row.split()[-1] == str(seats[number]), row
        for certifier in CERTIFIERS:
            assert in_script(certifier) in text
        # Every page's footer names the election, the document and its version.
        footer = gettext("{election} · {document} · snapshot {version}").format(
            election=in_script(ELECTION_NAME),
            document=str(documents.REPORT.title),
            version=official.official_version,
        )
    assert footer in text
    assert document["audit_head"][:16] in text
    assert formatted(document["voted"], language) in text
    assert (
        f"{SLUG}-report-v{official.official_version}-{language}.pdf"
        in client.get(f"{prefix}/results/{SLUG}/report.pdf")["Content-Disposition"]
    )


def test_official_report_pdf_in_cyrillic_has_no_latin_names(
    client: Client, official: Documents, pdf_tools: None
) -> None:
    text = words(pdf_text(get_pdf(client, f"/sr/results/{SLUG}/report.pdf")))

    assert "Марија Ђорђевић" in text and "Љубомир Његош" in text
    assert "Александар Вучић – Београд сутра" in text
    assert "Aleksandar Vučić" not in text and "Marija Đorđević" not in text


def test_official_report_pdf_footer_names_the_election_and_version_on_every_page(
    client: Client, official: Documents, pdf_tools: None
) -> None:
    pages = pdf_text(get_pdf(client, f"/en/results/{SLUG}/report.pdf")).split("\f")[:-1]

    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        assert ELECTION_NAME in words(page)
        assert f"snapshot {official.official_version}" in words(page)
        assert f"Page {number} of {len(pages)}" in words(page)
        # An official document carries no provisional marker.
        assert "PROVISIONAL" not in page


def test_official_report_page_shows_the_annulled_station_objection_and_decisions(
    client: Client, official: Documents
) -> None:
    response = client.get(f"/en/results/{SLUG}/report/")
    assert response.status_code == 200
    text = words(re.sub(r"<[^>]+>", " ", response.content.decode()))
    station = official.annulled_station
    repeat = station_votes(STATIONS - 1)

    assert station.code in text
    assert "round 1" in text and "R4" in text
    assert " · ".join(f"{number}: {votes:,}" for number, votes in repeat.items()) in text
    assert "Glasao je birač koji nije upisan u izvod iz biračkog spiska." in text
    assert "Nikola Šarčević" in text
    assert "Prigovor je osnovan; glasanje se ponavlja." in text
    assert "Annulment and repeat vote ordered" in text and "Objection decided" in text
    # Frozen in the official document: no "as they stand" note.
    assert "As they stand at" not in text


def test_report_page_fits_a_phone_and_links_its_pdf(client: Client, official: Documents) -> None:
    html = client.get(f"/results/{SLUG}/report/").content.decode()

    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert f'href="/results/{SLUG}/report.pdf"' in html
    assert f'href="/results/{SLUG}/mandates/"' in html
    # Wide tables scroll inside their box, never the page.
    assert html.count('<div class="table-scroll">') >= 3


def test_versioned_documents_are_those_of_that_version(
    client: Client, official: Documents, pdf_tools: None
) -> None:
    version = official.provisional_version
    response = client.get(f"/en/results/{SLUG}/v{version}/report.pdf")

    assert response.status_code == 200
    assert f'filename="{SLUG}-report-v{version}-en.pdf"' in response["Content-Disposition"]
    text = words(pdf_text(response.content))
    assert f"snapshot {version}" in text
    assert "PROVISIONAL — NOT CERTIFIED" in text
    assert client.get(f"/en/results/{SLUG}/v{version}/mandates/").status_code == 200


# --- Provisional documents -----------------------------------------------------------------


@pytest.mark.parametrize(("prefix", "language"), LANGUAGES)
def test_provisional_pdf_says_provisional_once_on_every_page(
    client: Client, provisional: Documents, pdf_tools: None, prefix: str, language: str
) -> None:
    with translation.override(language):
        marker = gettext("PROVISIONAL — NOT CERTIFIED")

    for name in ("report", "mandates"):
        text = pdf_text(get_pdf(client, f"{prefix}/results/{SLUG}/{name}.pdf"))
        pages = text.split("\f")[:-1]
        assert len(pages) >= 2, name
        assert [words(page).count(marker) for page in pages] == [1] * len(pages), name


def test_provisional_report_has_blank_signature_lines_and_proceedings_as_of_now(
    client: Client, provisional: Documents
) -> None:
    text = words(
        re.sub(r"<[^>]+>", " ", client.get(f"/en/results/{SLUG}/report/").content.decode())
    )

    assert text.count("Name and signature") == 2
    assert "These results are not certified." in text
    assert "As they stand at" in text
    assert "Nikola Šarčević" in text  # read from the database: no proceedings in the document


def test_provisional_report_shows_an_objection_filed_after_its_version(
    client: Client, provisional: Documents, pdf_tools: None
) -> None:
    before = client.get(f"/en/results/{SLUG}/report.pdf")
    member = get_user_model().objects.get(username="member-a")
    objection_register(
        actor=member,
        election=provisional.election,
        filed_at=timezone.now().replace(second=0, microsecond=0),
        filed_by="Ana Lukić",
        subject=models.Objection.Subject.RESULT,
        grounds="Zapisnik nije potpisan.",
    )

    after = client.get(f"/en/results/{SLUG}/report.pdf")

    assert "Ana Lukić" not in words(pdf_text(before.content))
    assert "Ana Lukić" in words(pdf_text(after.content))
    assert before["ETag"] != after["ETag"]


# --- The mandates decision ------------------------------------------------------------------


@pytest.mark.parametrize(("prefix", "language"), LANGUAGES)
def test_mandates_pdf_names_every_elected_candidate_in_list_order(
    client: Client, official: Documents, pdf_tools: None, prefix: str, language: str
) -> None:
    text = words(pdf_text(get_pdf(client, f"{prefix}/results/{SLUG}/mandates.pdf")))
    document = official.official
    assert document is not None

    elected = 0
    with translation.override(language):
        for item in document["lists"]:
            names = [in_script(mandate["name"]) for mandate in item["mandates"]]
            assert len(names) == item["seats"]
            # Numbered in list order: the list's first candidate is its first mandate.
            for order, name in enumerate(names, start=1):
                assert f"{order}. {name}" in text, (item["name"], order, name)
            elected += len(names)
        for certifier in CERTIFIERS:
            assert in_script(certifier) in text
    assert elected == SEATS


def test_mandates_pdf_in_cyrillic_and_latin_name_the_same_candidates(
    client: Client, official: Documents, pdf_tools: None
) -> None:
    latin = words(pdf_text(get_pdf(client, f"/results/{SLUG}/mandates.pdf")))
    cyrillic = words(pdf_text(get_pdf(client, f"/sr/results/{SLUG}/mandates.pdf")))

    assert "Džemal Đurić" in latin and "Џемал Ђурић" in cyrillic
    assert "Njegoslav Đurić" in latin and "Његослав Ђурић" in cyrillic
    assert "Džemal Đurić" not in cyrillic


def test_mandates_decision_says_when_a_list_has_too_few_candidates(
    client: Client, official: Documents
) -> None:
    report = report_get(SLUG)
    assert report is not None
    short = next(item for item in report.lists if item.ballot_number == 4)

    # Its quotients win 10 seats (Belgrade 2024); it has 8 candidates.
    assert (short.seats, len(short.mandates), short.seats_passed_on) == (8, 8, 2)
    assert sum(item.seats for item in report.lists) == SEATS
    html = client.get(f"/en/results/{SLUG}/mandates/").content.decode()
    text = words(re.sub(r"<[^>]+>", " ", html))
    assert "fewer candidates than the seats its quotients won" in text
    assert "2 more seats went to the next highest quotients of other lists (rule 7)" in text


# --- Caching, headers, failures ---------------------------------------------------------------


def test_a_pdf_is_rendered_once_per_version_and_language(
    client: Client, official: Documents, pdf_tools: None
) -> None:
    with mock.patch.object(documents, "_pdf_bytes", wraps=documents._pdf_bytes) as render:
        first = client.get(f"/results/{SLUG}/report.pdf")
        second = client.get(f"/results/{SLUG}/report.pdf")
        assert render.call_count == 1
        client.get(f"/en/results/{SLUG}/report.pdf")
        assert render.call_count == 2

    assert first.content == second.content
    assert first["Content-Disposition"] == (
        f'inline; filename="{SLUG}-report-v{official.official_version}-sr-latn.pdf"'
    )
    assert (
        client.get(f"/results/{SLUG}/report.pdf", HTTP_IF_NONE_MATCH=first["ETag"]).status_code
        == 304
    )


def test_nothing_published_is_not_found(client: Client) -> None:
    for url in (
        "/results/nowhere/report/",
        "/results/nowhere/report.pdf",
        "/results/nowhere/mandates/",
        "/results/nowhere/mandates.pdf",
        "/en/results/nowhere/v1/report.pdf",
    ):
        assert client.get(url).status_code == 404, url


def test_an_unpublished_version_is_not_found(client: Client, official: Documents) -> None:
    assert client.get(f"/results/{SLUG}/v99/report.pdf").status_code == 404
    assert client.get(f"/results/{SLUG}/v99/mandates/").status_code == 404


def test_without_pango_the_pdf_answers_503_and_the_page_still_works(
    client: Client, official: Documents, caplog: pytest.LogCaptureFixture
) -> None:
    real_import = builtins.__import__

    def no_pango(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "weasyprint":
            raise OSError("cannot load library 'libpango-1.0-0': libpango-1.0-0: not found")
        return real_import(name, *args, **kwargs)

    with mock.patch("builtins.__import__", no_pango), caplog.at_level(logging.ERROR):
        response = client.get(f"/results/{SLUG}/report.pdf")
        page = client.get(f"/results/{SLUG}/report/")

    assert response.status_code == 503
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode().strip() == documents.PANGO_MISSING
    assert "apt-get install libpango-1.0-0 libpangoft2-1.0-0" in caplog.text
    assert page.status_code == 200


def test_css_strings_cannot_leave_the_style_element() -> None:
    value = documents.css_string('Lista "A" </style><script>')

    assert value.startswith('"') and value.endswith('"')
    assert "<" not in value and '"' not in value[1:-1]
