"""Scans of the paper record: a photo or a PDF of the signed record, attached
by the clerk with an entry, by the commission, or by an observer with a copy
(docs/observers.md).

An upload is checked before anything is stored, and refused whole with a
message that says why (``ScanRefused``):

- the file name is only a name: no folder, no control character (the name
  is never used to store the file, but a name with a path is a client that
  is not what it says);
- at most ``SCAN_MAX_BYTES``, read no further than that;
- the type is read from the content, never from the name or the browser:
  JPEG, PNG or PDF;
- an image has at most ``SCAN_MAX_PIXELS`` pixels, checked from its header
  before it is decoded (a small file can declare a huge image: a
  decompression bomb), and is re-encoded by Pillow, which drops its
  metadata (a phone's EXIF holds where and when, and who owns the phone);
- a file that is also another kind of file (a polyglot: an image with a PDF,
  a ZIP or a page after its end, or a PDF carrying script) is refused.

A stored scan is written once, named by the SHA-256 of its bytes, through
the ``scans`` storage (settings.STORAGES): a second scan is a new file
beside the first, never a replacement. Its hash goes to the audit trail.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import warnings
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import IO, Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import transaction
from PIL import Image, ImageOps

from tabulation.domain.i18n import _
from tabulation.models import Election, RecordEntry, RecordScan, StationRound
from tabulation.selectors.open_data import json_bytes
from tabulation.selectors.scans import paper_document, paper_path
from tabulation.services.audit import audit_append
from tabulation.services.publishing import _write_atomic

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PDF_MAGIC = b"%PDF-"
JPEG_END = b"\xff\xd9"
# Signs of another kind of file inside an image: a page, a script, a PDF, a
# ZIP (a JAR, an Office file). Compared with the bytes in lower case.
FOREIGN_IN_IMAGE = (b"<html", b"<script", b"<svg", b"<?php", b"<!doctype", b"%pdf-", b"pk\x03\x04")
FOREIGN_IN_PDF = (b"<html", b"<script", b"<svg", b"<?php", b"<!doctype")
# PDF features that run or carry something: scripts, launching programs,
# embedded files, rich media, forms (XFA); a name written with #xx escapes
# hides any of them from a plain search, so it is refused too.
PDF_ACTIVE = re.compile(
    rb"/(?:JavaScript|JS|Launch|EmbeddedFile|RichMedia|XFA|AA)\b|/[A-Za-z]*#[0-9A-Fa-f]{2}"
)
# A PDF ends with %%EOF, give or take a line end and a few bytes of padding.
PDF_TAIL = 1024
UNSAFE_NAME = re.compile(r"[/\\\x00-\x1f\x7f]|^\.\.?$|^\.")

STORAGE_ALIAS = "scans"


class ScanRefused(Exception):
    """The upload is refused; nothing is stored. ``message`` is an English
    msgid with ``{placeholders}`` filled from ``params``."""

    def __init__(self, code: str, message: str, **params: object) -> None:
        super().__init__(message.format(**params))
        self.code = code
        self.message = message
        self.params = params


@dataclass(frozen=True)
class CheckedScan:
    """What will be stored: the bytes (re-encoded for an image), their type."""

    content: bytes
    content_type: str
    extension: str
    upload_sha256: str
    width: int | None = None
    height: int | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def _name_check(name: str) -> None:
    if not name or len(name) > 200 or UNSAFE_NAME.search(name):
        raise ScanRefused(
            "name",
            _("The file name must be a plain name, without a folder: {name}"),
            name=name[:80],
        )


def megabytes(size: int) -> str:
    """A size for a message: 15 MB as "15", 100 KB as "0.1"."""
    shown = (Decimal(size) / (1024 * 1024)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{shown:f}".removesuffix(".0")


def too_large() -> ScanRefused:
    return ScanRefused(
        "too_large",
        _("The file is larger than {limit} MB."),
        limit=megabytes(settings.SCAN_MAX_BYTES),
    )


def _read_limited(file: IO[bytes]) -> bytes:
    limit = settings.SCAN_MAX_BYTES
    data = file.read(limit + 1)
    if len(data) > limit:
        raise too_large()
    if not data:
        raise ScanRefused("empty", _("The file is empty."))
    return data


def _polyglot() -> ScanRefused:
    return ScanRefused(
        "polyglot",
        _("The file carries another kind of file inside it; send a plain photo or PDF."),
    )


def _damaged() -> ScanRefused:
    return ScanRefused("damaged", _("The image is damaged and cannot be read."))


def _foreign(data: bytes, signs: tuple[bytes, ...]) -> None:
    lowered = data.lower()
    if any(sign in lowered for sign in signs):
        raise _polyglot()


def _jpeg_parts(data: bytes) -> tuple[bytes, bytes]:
    """(the segments before the image data, what follows its end marker).

    Only those can hide another file: the entropy-coded image data is
    noise, where any short signature turns up by chance."""
    position = 2
    while position + 4 <= len(data) and data[position] == 0xFF:
        marker = data[position + 1]
        if marker == 0xDA:  # start of scan: the image data follows
            break
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        position += 2 + length
    end = data.rfind(JPEG_END)
    if end < 0:
        raise _damaged()
    return data[:position], data[end + len(JPEG_END) :]


def _png_parts(data: bytes) -> tuple[bytes, bytes]:
    """(every chunk but the image data, what follows the IEND chunk)."""
    position = len(PNG_MAGIC)
    ancillary = []
    while position + 8 <= len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        kind = data[position + 4 : position + 8]
        if kind != b"IDAT":
            ancillary.append(data[position : position + 12 + length])
        position += 12 + length
        if kind == b"IEND":
            return b"".join(ancillary), data[position:]
    raise _damaged()


def _image_parts_check(data: bytes, image_format: str) -> None:
    """An image whose metadata holds a page, a script or another file, or
    with anything but padding after its end (a ZIP, a PDF), is a polyglot."""
    head, tail = _jpeg_parts(data) if image_format == "JPEG" else _png_parts(data)
    _foreign(head, FOREIGN_IN_IMAGE)
    if tail.strip(b"\x00\r\n "):
        raise _polyglot()


def _pdf_check(data: bytes, upload_sha256: str) -> CheckedScan:
    if b"%%EOF" not in data[-PDF_TAIL:]:
        raise ScanRefused("damaged", _("The PDF is damaged or cut short."))
    _foreign(data, FOREIGN_IN_PDF)
    if PDF_ACTIVE.search(data):
        raise ScanRefused(
            "pdf_active",
            _("The PDF holds scripts, attachments or forms; send a plain scan of the record."),
        )
    # A PDF is stored as it came: there is nothing here to re-encode it with,
    # and its pages are what the board signed.
    return CheckedScan(data, "application/pdf", "pdf", upload_sha256)


def _pixels_check(width: int, height: int) -> None:
    if width * height > settings.SCAN_MAX_PIXELS:
        raise ScanRefused(
            "pixels",
            _("The image has more than {limit} million pixels."),
            limit=settings.SCAN_MAX_PIXELS // 1_000_000,
        )


def _reencoded(image: Image.Image, image_format: str) -> bytes:
    """The pixels alone, upright, in a fresh file: no EXIF, no comments, no
    ICC profile, no trailing bytes."""
    upright = ImageOps.exif_transpose(image)
    if upright.mode not in ("RGB", "L"):
        upright = upright.convert("RGB")
    buffer = io.BytesIO()
    if image_format == "JPEG":
        upright.save(buffer, format="JPEG", quality=90, optimize=True)
    else:
        upright.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _image_check(data: bytes, image_format: str, upload_sha256: str) -> CheckedScan:
    _image_parts_check(data, image_format)
    try:
        with warnings.catch_warnings():
            # Pillow warns of a decompression bomb before it refuses one: a
            # warning is a refusal here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[image_format]) as image:
                _pixels_check(*image.size)
                image.load()
                content = _reencoded(image, image_format)
                width, height = image.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ScanRefused(
            "pixels",
            _("The image has more than {limit} million pixels."),
            limit=settings.SCAN_MAX_PIXELS // 1_000_000,
        ) from error
    except (OSError, SyntaxError, ValueError) as error:
        raise _damaged() from error
    extension = "jpg" if image_format == "JPEG" else "png"
    return CheckedScan(
        content, f"image/{image_format.lower()}", extension, upload_sha256, width, height
    )


def scan_check(*, name: str, file: IO[bytes]) -> CheckedScan:
    """The upload as it will be stored, or ``ScanRefused``. Stores nothing."""
    _name_check(name)
    data = _read_limited(file)
    upload_sha256 = hashlib.sha256(data).hexdigest()
    if data.startswith(PDF_MAGIC):
        return _pdf_check(data, upload_sha256)
    if data.startswith(JPEG_MAGIC):
        return _image_check(data, "JPEG", upload_sha256)
    if data.startswith(PNG_MAGIC):
        return _image_check(data, "PNG", upload_sha256)
    raise ScanRefused("type", _("Only a photo (JPEG or PNG) or a PDF can be attached."))


def _store(checked: CheckedScan, round: StationRound) -> str:
    """Write the bytes once, named by their hash; the same bytes again find
    the file already there. Called before the transaction: a failure after
    it leaves at worst a file that no row names, never a row without a file."""
    storage = storages[STORAGE_ALIAS]
    station = round.station
    name = f"{station.election.slug}/{station.code}/{checked.sha256}.{checked.extension}"
    if storage.exists(name):
        return name
    return storage.save(name, ContentFile(checked.content))


def scan_attach(
    *,
    actor: User,
    round: StationRound,
    checked: CheckedScan,
    kind: str = RecordScan.Kind.RECORD,
    entry: RecordEntry | None = None,
    client_address: str | None = None,
) -> RecordScan:
    """Store a checked scan of ``round``'s record; one audit event with its
    SHA-256. The caller has decided that ``actor`` may (see the views)."""
    storage_name = _store(checked, round)
    with transaction.atomic():
        scan = RecordScan.objects.create(
            round=round,
            kind=kind,
            entry=entry,
            uploaded_by=actor,
            storage_name=storage_name,
            content_type=checked.content_type,
            size=len(checked.content),
            width=checked.width,
            height=checked.height,
            sha256=checked.sha256,
            upload_sha256=checked.upload_sha256,
        )
        audit_append(
            actor=actor,
            action="scan.attach",
            obj=scan,
            station_code=round.station.code,
            after=_scan_summary(scan),
            client_address=client_address,
        )
        paper_publish_on_commit(round.station.election_id)
    return scan


def _scan_summary(scan: RecordScan) -> dict[str, Any]:
    return {
        "kind": scan.kind,
        "round": scan.round.number,
        "entry": scan.entry_id,
        "sha256": scan.sha256,
        "upload_sha256": scan.upload_sha256,
        "content_type": scan.content_type,
        "size": scan.size,
    }


def paper_publish(election_id: int) -> None:
    """Write the election's ``paper.json`` (each station's public scans and
    copies' agreement) for the public pages, which never read the write
    tables. Called on commit after anything that may change it: a scan, an
    acceptance, a correction, a comparison."""
    election = Election.objects.get(pk=election_id)
    path = paper_path(election.slug)
    try:
        before = json.loads(path.read_bytes()).get("stations", {})
    except FileNotFoundError:
        before = {}
    document = paper_document(election)
    _write_atomic(path, json_bytes(document))
    # The stations' published pages show their paper record: those whose
    # record changed are written again (services/site_pages.py), and only
    # those, as this runs after a clerk's entry. Imported here: the pages'
    # module imports the views, which import this one.
    from tabulation.services.site_pages import site_station_pages_refresh

    after = document["stations"]
    changed = {code for code in before.keys() | after.keys() if before.get(code) != after.get(code)}
    if changed:
        site_station_pages_refresh(election.slug, changed)


def paper_publish_on_commit(election_id: int) -> None:
    """Publish paper.json once the scan or copy is stored. Robust: a failure
    is logged, never raised to the clerk whose scan is already stored, and
    the hooks after it (the tabulation's request) still run; the next scan
    or copy writes the whole file again."""
    transaction.on_commit(lambda: paper_publish(election_id), robust=True)


def scan_open(scan: RecordScan) -> IO[bytes]:
    """The stored bytes of a scan, to serve."""
    return storages[STORAGE_ALIAS].open(scan.storage_name, "rb")
