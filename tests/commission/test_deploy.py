"""Served for real (DEBUG off, the values of docker/.env.example): Django's
deployment checks pass, HTTPS is enforced with HSTS, and every page carries
a Content-Security-Policy that allows no inline script or style."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docker" / ".env.example"

POLICY = {
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'self'",
    "frame-ancestors 'none'",
    "form-action 'self'",
}


def example_values() -> dict[str, str]:
    values = {}
    for line in EXAMPLE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            name, value = line.split("=", 1)
            values[name.strip()] = value.strip()
    return values


def run_with_example(tmp_path: Path, *arguments: str, **overrides: str):
    """`python arguments...` in the checkout with the example's environment.

    The image's folders (/app/var) do not exist here and the settings create
    folders under VAR_DIR, so those two paths point into tmp_path instead."""
    env = {
        **os.environ,
        **example_values(),
        "DJANGO_SETTINGS_MODULE": "commission.settings",
        "VAR_DIR": str(tmp_path / "var"),
        "PUBLISH_DIR": str(tmp_path / "var" / "published"),
        **overrides,
    }
    return subprocess.run(
        [sys.executable, *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_example_turns_debug_off() -> None:
    assert example_values()["DEBUG"] == "false"


def test_check_deploy_passes_with_the_example_environment(tmp_path: Path) -> None:
    result = run_with_example(tmp_path, "manage.py", "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stdout + result.stderr


RESPONSES = """
import json
import django
django.setup()
from django.test import Client

client = Client(HTTP_HOST="localhost")
secure = client.get("/health/", secure=True)
plain = client.get("/en/accounts/login/")
health = client.get("/health/")
print(json.dumps({
    "secure_status": secure.status_code,
    "hsts": secure.headers.get("Strict-Transport-Security", ""),
    "csp": secure.headers.get("Content-Security-Policy", ""),
    "plain_status": plain.status_code,
    "plain_location": plain.headers.get("Location", ""),
    "health_status": health.status_code,
}))
"""


def test_with_debug_off_https_is_enforced_with_hsts(tmp_path: Path) -> None:
    # A database of its own: the example's names the compose stack's server.
    result = run_with_example(
        tmp_path,
        "-c",
        RESPONSES,
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])

    assert seen["secure_status"] == 200
    assert seen["hsts"] == "max-age=31536000; includeSubDomains"
    assert set(seen["csp"].split("; ")) == POLICY
    assert seen["plain_status"] == 301
    assert seen["plain_location"] == "https://localhost/en/accounts/login/"
    # The compose health check asks over plain HTTP inside the container.
    assert seen["health_status"] == 200


@pytest.mark.django_db
def test_every_page_carries_the_content_security_policy(client: Client) -> None:
    for url in ("/", "/en/accounts/login/", "/api/v1/elections/"):
        response = client.get(url)

        assert set(response["Content-Security-Policy"].split("; ")) == POLICY, url


def test_the_trusted_proxy_header_is_named_as_the_proxy_sends_it(tmp_path: Path) -> None:
    script = (
        "import django; django.setup(); from django.conf import settings; "
        "print(repr(settings.TRUSTED_PROXY_HEADER))"
    )

    # The example names the header, because in its stack nginx sets it.
    example = run_with_example(tmp_path, "-c", script)
    lower = run_with_example(tmp_path, "-c", script, TRUSTED_PROXY_HEADER="x-real-ip")
    unset = run_with_example(tmp_path, "-c", script, TRUSTED_PROXY_HEADER="")

    assert example.stdout.strip() == "'HTTP_X_FORWARDED_FOR'", example.stderr
    assert lower.stdout.strip() == "'HTTP_X_REAL_IP'", lower.stderr
    assert unset.stdout.strip() == "''", unset.stderr
