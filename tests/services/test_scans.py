"""Scans of the paper record: what is refused (nothing stored), and what is
stored (re-encoded, hashed, audited, never replaced)."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from unittest import mock

import pytest
from django.db import transaction
from django.test import override_settings
from PIL import Image

from tabulation.models import AuditEvent, RecordScan
from tabulation.services.scans import ScanRefused, scan_attach, scan_check, scan_open
from tests.scans import jpeg, pdf, png, png_bomb, scan_storage_fixture, stored_files  # noqa: F401
from tests.views.entry_setup import entry_setup

pytestmark = pytest.mark.django_db


def refusal(name: str, data: bytes) -> ScanRefused:
    with pytest.raises(ScanRefused) as caught:
        scan_check(name=name, file=io.BytesIO(data))
    return caught.value


@pytest.mark.parametrize(
    ("name", "data", "code", "words"),
    [
        ("record.jpg", b"GIF89a" + b"\x00" * 100, "type", "Only a photo (JPEG or PNG) or a PDF"),
        ("record.jpg", b"<html><script>alert(1)</script></html>", "type", "Only a photo"),
        ("../../etc/record.jpg", jpeg(), "name", "without a folder"),
        ("C:\\Users\\clerk\\record.jpg", jpeg(), "name", "without a folder"),
        (".htaccess", jpeg(), "name", "without a folder"),
        ("record.jpg", b"", "empty", "The file is empty."),
        ("record.png", png_bomb(), "pixels", "more than 1 million pixels"),
        ("record.jpg", jpeg() + pdf(), "polyglot", "another kind of file"),
        ("record.jpg", jpeg() + b"PK\x03\x04zipzipzip", "polyglot", "another kind of file"),
        ("record.png", png() + b"<?php system($_GET['c']); ?>", "polyglot", "another kind"),
        ("record.pdf", pdf(b"<script>alert(1)</script>"), "polyglot", "another kind of file"),
        (
            "record.pdf",
            pdf(b"3 0 obj << /S /JavaScript /JS (app.alert(1)) >> endobj"),
            "pdf_active",
            "scripts, attachments or forms",
        ),
        ("record.pdf", pdf(b"3 0 obj << /S /J#61vaScript >> endobj"), "pdf_active", "scripts"),
        ("record.pdf", b"%PDF-1.4\n1 0 obj << >> endobj\n", "damaged", "damaged or cut short"),
        ("record.jpg", jpeg()[:200], "damaged", "damaged and cannot be read"),
    ],
)
@override_settings(SCAN_MAX_PIXELS=1_000_000)
def test_each_bad_upload_is_refused_with_its_message(
    name: str, data: bytes, code: str, words: str
) -> None:
    error = refusal(name, data)

    assert error.code == code
    assert words in str(error)


@override_settings(SCAN_MAX_BYTES=1024 * 1024)
def test_a_file_over_the_size_limit_is_refused_without_reading_it_all() -> None:
    upload = io.BytesIO(b"%PDF-1.4\n" + b"0" * (3 * 1024 * 1024))

    with pytest.raises(ScanRefused) as caught:
        scan_check(name="record.pdf", file=upload)

    assert caught.value.code == "too_large"
    assert str(caught.value) == "The file is larger than 1 MB."
    assert upload.tell() == 1024 * 1024 + 1


def test_an_image_is_re_encoded_without_its_metadata() -> None:
    original = jpeg(exif=True)
    assert b"SecretCameraApp" in original

    checked = scan_check(name="IMG_0001.JPG", file=io.BytesIO(original))

    assert checked.content_type == "image/jpeg"
    assert (checked.width, checked.height) == (40, 30)
    assert b"SecretCameraApp" not in checked.content
    assert b"Exif" not in checked.content
    assert Image.open(io.BytesIO(checked.content)).size == (40, 30)
    assert checked.upload_sha256 == hashlib.sha256(original).hexdigest()
    assert checked.sha256 == hashlib.sha256(checked.content).hexdigest()


def test_a_plain_pdf_is_stored_as_it_came() -> None:
    checked = scan_check(name="zapisnik.pdf", file=io.BytesIO(pdf()))

    assert checked.content == pdf()
    assert checked.content_type == "application/pdf"
    assert checked.extension == "pdf"


def test_a_scan_is_stored_under_its_hash_with_an_audit_event(scan_storage: Path) -> None:
    setup = entry_setup()
    checked = scan_check(name="zapisnik.png", file=io.BytesIO(png()))

    scan = scan_attach(actor=setup.clerk1, round=setup.round, checked=checked)

    assert stored_files(scan_storage) == [
        f"{setup.election.slug}/{setup.station.code}/{checked.sha256}.png"
    ]
    with scan_open(scan) as file:
        assert file.read() == checked.content
    event = AuditEvent.objects.get(action="scan.attach")
    assert event.after["sha256"] == checked.sha256
    assert event.after["upload_sha256"] == checked.upload_sha256
    assert event.station_code == setup.station.code


def test_a_second_scan_is_a_new_file_beside_the_first(scan_storage: Path) -> None:
    setup = entry_setup()
    first = scan_attach(
        actor=setup.clerk1,
        round=setup.round,
        checked=scan_check(name="a.png", file=io.BytesIO(png())),
    )
    second = scan_attach(
        actor=setup.clerk1,
        round=setup.round,
        checked=scan_check(name="b.jpg", file=io.BytesIO(jpeg())),
    )

    assert first.storage_name != second.storage_name
    assert len(stored_files(scan_storage)) == 2
    assert RecordScan.objects.count() == 2
    with pytest.raises(Exception, match="append-only"):
        RecordScan.objects.filter(pk=first.pk).update(sha256="0" * 64)


def test_a_failing_publication_of_the_paper_loses_nothing_and_raises_nothing(
    scan_storage: Path, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    """Publishing paper.json runs after the commit: if it fails (a full disk,
    a missing static manifest) the scan is stored, the clerk is not answered
    with an error, and the hooks after it (the tabulation's) still run."""
    setup = entry_setup()
    later = mock.Mock()
    failing = mock.patch("tabulation.services.scans.paper_publish", side_effect=OSError("full"))
    with failing, django_capture_on_commit_callbacks(execute=True):
        checked = scan_check(name="zapisnik.png", file=io.BytesIO(png()))
        scan = scan_attach(actor=setup.clerk1, round=setup.round, checked=checked)
        transaction.on_commit(later)

    assert RecordScan.objects.filter(pk=scan.pk).exists()
    later.assert_called_once()
