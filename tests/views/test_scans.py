"""Scans through the pages: attaching one (refusals store nothing), and who
sees it before and after the record is accepted (tests/security_world.py)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from tabulation.models import AuditEvent, RecordScan, StationRound
from tabulation.services import tabulation as tabulation_service
from tests.published import publish_dir_fixture  # noqa: F401 - fixture
from tests.scans import jpeg, pdf, png, png_bomb, scan_storage_fixture, stored_files  # noqa: F401
from tests.security_world import TYPED, World, world_build
from tests.views.entry_setup import submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(publish_dir: Any, scan_storage: Any) -> World:
    return world_build(publish_dir)


def entry_scan_url(world: World) -> str:
    return f"/en/entry/{world.setup.election.slug}/{world.setup.station.code}/scan/"


def public_scan_url(world: World) -> str:
    assert world.scan is not None
    return f"/results/{world.setup.election.slug}/scans/{world.scan.filename}"


def station_url(world: World) -> str:
    return f"/en/results/{world.setup.election.slug}/stations/{world.setup.station.code}/"


def scans_csv(world: World) -> str:
    response = world.clients["anonymous"].get(f"/results/{world.setup.election.slug}/scans.csv")
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("zapisnik.gif", b"GIF89a" + b"\x00" * 64, "Only a photo (JPEG or PNG) or a PDF"),
        ("zapisnik.png", png_bomb(), "The image has more than 1 million pixels."),
        ("zapisnik.jpg", jpeg() + pdf(), "carries another kind of file inside it"),
        ("zapisnik.pdf", pdf(b"/JavaScript (x)"), "holds scripts, attachments or forms"),
    ],
)
@override_settings(SCAN_MAX_PIXELS=1_000_000)
def test_a_refused_upload_says_why_and_stores_nothing(
    world: World, scan_storage: Path, name: str, data: bytes, message: str
) -> None:
    before = (RecordScan.objects.count(), AuditEvent.objects.count(), stored_files(scan_storage))

    response = world.clients["clerk_a"].post(
        entry_scan_url(world), {"scan": SimpleUploadedFile(name, data)}, follow=True
    )

    assert message in response.content.decode()
    after = (RecordScan.objects.count(), AuditEvent.objects.count(), stored_files(scan_storage))
    assert after == before


@override_settings(SCAN_MAX_BYTES=100_000)
def test_an_oversized_upload_is_refused_before_it_is_read(world: World, scan_storage: Path) -> None:
    before = (RecordScan.objects.count(), stored_files(scan_storage))

    response = world.clients["clerk_a"].post(
        entry_scan_url(world),
        {"scan": SimpleUploadedFile("big.pdf", b"%PDF-1.4\n" + b"0" * 300_000)},
        follow=True,
    )

    assert "The file is larger than 0.1 MB." in response.content.decode()
    assert (RecordScan.objects.count(), stored_files(scan_storage)) == before


def test_a_clerk_attaches_a_scan_to_their_entry(world: World, scan_storage: Path) -> None:
    response = world.clients["clerk_a"].post(
        entry_scan_url(world), {"scan": SimpleUploadedFile("photo.jpg", jpeg(exif=True))}
    )

    assert response.status_code == 302
    scan = RecordScan.objects.filter(entry__clerk=world.users["clerk_a"]).latest("pk")
    assert scan.content_type == "image/jpeg"
    assert f"{scan.sha256}.jpg" in " ".join(stored_files(scan_storage))
    page = world.clients["clerk_a"].get(response["Location"]).content.decode()
    assert scan.sha256 in page


def test_the_other_clerk_cannot_attach_a_scan_to_a_station_not_theirs(world: World) -> None:
    response = world.clients["clerk_b"].post(
        entry_scan_url(world), {"scan": SimpleUploadedFile("photo.png", png())}
    )

    assert response.status_code == 404


def test_a_scan_is_invisible_before_acceptance_and_public_after(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    assert world.scan is not None
    sha = world.scan.sha256
    reader, other_clerk = world.clients["anonymous"], world.clients["clerk_b"]
    assert reader.get(public_scan_url(world)).status_code == 404
    assert other_clerk.get(public_scan_url(world)).status_code == 404
    assert sha not in reader.get(station_url(world)).content.decode()
    assert sha not in scans_csv(world)
    # Nor the clerk who will type the second entry (blind).
    second = Client()
    second.force_login(world.setup.clerk2)
    entry_page = f"/en/entry/{world.setup.election.slug}/{world.setup.station.code}/"
    assert sha not in second.get(entry_page).content.decode()

    # The second clerk types the same record: accepted.
    with (
        mock.patch.object(tabulation_service, "tabulation_enqueue", return_value=True),
        django_capture_on_commit_callbacks(execute=True),
    ):
        submit(world.setup, world.setup.clerk2, registered=TYPED)
    assert StationRound.objects.get(pk=world.setup.round.pk).status in ("accepted", "held")

    response = reader.get(public_scan_url(world))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    page = reader.get(station_url(world)).content.decode()
    assert sha in page
    assert f'src="/en/results/{world.setup.election.slug}/scans/{sha}.png"' in page
    assert f"{world.setup.station.code},{world.setup.station.municipality.code},1,{sha}" in (
        scans_csv(world)
    )


def test_the_commission_sees_every_scan_with_the_typed_figures(world: World) -> None:
    assert world.scan is not None
    url = f"/en/commission/{world.setup.election.slug}/stations/{world.setup.station.code}/"

    page = world.clients["member_2fa"].get(url).content.decode()

    assert world.scan.sha256 in page
    scan = world.clients["member_2fa"].get(
        f"/commission/{world.setup.election.slug}/scans/{world.scan.filename}"
    )
    assert scan.status_code == 200
    assert scan["Cache-Control"] == "private, no-store"


def test_the_commission_attaches_a_scan_to_the_current_round(world: World) -> None:
    url = f"/commission/{world.setup.election.slug}/stations/{world.setup.station.code}/scan/"

    response = world.clients["member_2fa"].post(
        url, {"scan": SimpleUploadedFile("scan.pdf", pdf())}
    )

    assert response.status_code == 302
    scan = RecordScan.objects.latest("pk")
    assert (scan.round_id, scan.entry_id, scan.content_type) == (
        world.setup.round.pk,
        None,
        "application/pdf",
    )
    assert io.BytesIO(pdf()).read() == b"".join(
        world.clients["member_2fa"]
        .get(f"/commission/{world.setup.election.slug}/scans/{scan.filename}")
        .streaming_content
    )
