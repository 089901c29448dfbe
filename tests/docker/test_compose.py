"""docker/ is kept correct by reading: no engine runs here, but the compose
file must validate and say what production needs."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from tests.conftest import missing_service

DOCKER_DIR = Path(settings.BASE_DIR) / "docker"


@pytest.fixture
def compose() -> dict:
    return yaml.safe_load((DOCKER_DIR / "compose.yaml").read_text())


def test_compose_has_every_service_with_a_health_check(compose):
    services = compose["services"]

    assert set(services) == {"web", "worker", "beat", "postgres", "redis"}
    for name, service in services.items():
        assert "healthcheck" in service, name


def test_postgresql_keeps_its_data_in_a_volume(compose):
    assert "pgdata:/var/lib/postgresql/data" in compose["services"]["postgres"]["volumes"]
    assert "pgdata" in compose["volumes"]


def test_every_variable_the_settings_read_is_in_the_env_example():
    settings_source = (Path(settings.BASE_DIR) / "commission" / "settings.py").read_text()
    example = (DOCKER_DIR / ".env.example").read_text()
    documented = {
        line.split("=", 1)[0] for line in example.splitlines() if "=" in line and line[0] != "#"
    }
    read = set(re.findall(r'env\.\w+\("([A-Z_]+)"', settings_source))

    assert read, "the settings read no variable?"
    assert read <= documented, f"not in docker/.env.example: {sorted(read - documented)}"


def test_the_image_runs_as_a_non_root_user_with_gunicorn():
    dockerfile = (DOCKER_DIR / "Dockerfile").read_text()

    assert "FROM python:3.11-slim" in dockerfile
    assert "\nUSER commission\n" in dockerfile
    assert "gunicorn" in dockerfile


def test_docker_compose_validates_the_file(tmp_path):
    if shutil.which("docker-compose") is None:
        missing_service("docker-compose (Debian package) is not installed")
    # compose reads docker/.env; a copy of the folder with the example as .env
    # validates exactly what an operator gets after `cp .env.example .env`.
    folder = tmp_path / "docker"
    shutil.copytree(DOCKER_DIR, folder)
    shutil.copy(folder / ".env.example", folder / ".env")

    result = subprocess.run(
        ["docker-compose", "-f", str(folder / "compose.yaml"), "config", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
