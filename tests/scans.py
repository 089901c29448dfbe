"""Files for the scan tests, made here byte by byte, and a private storage."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from PIL import Image


def jpeg(width: int = 40, height: int = 30, *, exif: bool = False) -> bytes:
    image = Image.new("RGB", (width, height), (200, 30, 30))
    buffer = io.BytesIO()
    if exif:
        data = Image.Exif()
        data[0x010F] = "PhoneMaker"  # Make
        data[0x0131] = "SecretCameraApp"  # Software
        image.save(buffer, format="JPEG", exif=data.tobytes())
    else:
        image.save(buffer, format="JPEG")
    return buffer.getvalue()


def png(width: int = 40, height: int = 30) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (width, height), 128).save(buffer, format="PNG")
    return buffer.getvalue()


def png_bomb(width: int = 50_000, height: int = 50_000) -> bytes:
    """A PNG that declares width x height pixels (2.5 billion) in a few
    kilobytes: each row is one filter byte and zeros, which deflate to nothing."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(200)) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


def pdf(body: bytes = b"") -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
        + body
        + b"\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    )


@pytest.fixture(name="scan_storage")
def scan_storage_fixture(tmp_path: Path) -> Iterator[Path]:
    """The scans storage in a folder of the test's own."""
    location = tmp_path / "scans"
    storages = {
        **settings.STORAGES,
        "scans": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(location)},
        },
    }
    with override_settings(STORAGES=storages):
        yield location


def stored_files(location: Path) -> list[str]:
    return sorted(str(path.relative_to(location)) for path in location.rglob("*") if path.is_file())
