"""The scans storage: the filesystem under VAR_DIR by default, S3 through
django-storages when a bucket is named (settings are read at start-up, so
each case runs in a fresh interpreter)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROBE = (
    "import django; django.setup();"
    "from django.core.files.storage import storages;"
    "import sys;"
    "s = storages['scans'];"
    "print(type(s).__module__ + '.' + type(s).__name__);"
    "print(getattr(s, 'location', '') or getattr(s, 'bucket_name', ''));"
    "print('storages' in sys.modules)"
)


def probe(tmp_path: Path, **environment: str) -> list[str]:
    env = {**os.environ, "VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "commission.settings"}
    env.pop("SCANS_S3_BUCKET", None)
    env.update(environment)
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.split()


def test_scans_go_to_the_filesystem_under_var_dir_by_default(tmp_path: Path) -> None:
    assert probe(tmp_path) == [
        "django.core.files.storage.filesystem.FileSystemStorage",
        str(tmp_path / "scans"),
        "False",  # django-storages is not even imported
    ]


def test_a_bucket_sends_scans_to_s3(tmp_path: Path) -> None:
    assert probe(
        tmp_path,
        SCANS_S3_BUCKET="izbori-zapisnici",
        SCANS_S3_ENDPOINT_URL="https://s3.example.org",
    ) == ["storages.backends.s3.S3Storage", "izbori-zapisnici", "True"]
