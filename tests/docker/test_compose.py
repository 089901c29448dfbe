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


LONG_RUNNING = {"nginx", "web", "worker", "beat", "postgres", "redis"}


def test_compose_has_every_service_with_a_health_check_and_a_restart_policy(compose):
    services = compose["services"]

    assert set(services) == LONG_RUNNING | {"migrate"}
    for name in LONG_RUNNING:
        assert "healthcheck" in services[name], name
        assert services[name]["restart"] == "unless-stopped", name


def test_migrations_run_once_before_web_worker_and_beat(compose):
    services = compose["services"]

    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert services["migrate"]["restart"] == "no"
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }, name
        assert "migrate" not in str(services[name]["command"]), name


def test_web_scales_behind_nginx_the_one_entry(compose):
    services = compose["services"]

    published = [name for name, service in services.items() if service.get("ports")]
    assert published == ["nginx"]
    assert services["nginx"]["ports"] == ["${HTTP_PORT:-8000}:8080"]
    assert services["nginx"]["environment"]["DJANGO_UPSTREAM"] == "web:8000"
    assert "container_name" not in str(compose)
    template = "./nginx/commission.conf.template:/etc/nginx/templates/default.conf.template:ro"
    assert template in services["nginx"]["volumes"]


def test_workers_write_and_nginx_reads_one_published_volume(compose):
    services = compose["services"]

    assert "published" in compose["volumes"]
    assert "published:/app/var/published" in services["worker"]["volumes"]
    assert "published:/app/var/published" in services["web"]["volumes"]
    assert "published:/srv/published:ro" in services["nginx"]["volumes"]
    assert services["nginx"]["environment"]["PUBLISH_ROOT"] == "/srv/published"


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


def _compose_config(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("docker-compose") is None:
        missing_service("docker-compose (Debian package) is not installed")
    # compose reads docker/.env; a copy of the folder with the example as .env
    # validates exactly what an operator gets after `cp .env.example .env`.
    folder = tmp_path / "docker"
    shutil.copytree(DOCKER_DIR, folder)
    shutil.copy(folder / ".env.example", folder / ".env")
    return subprocess.run(
        ["docker-compose", "-f", str(folder / "compose.yaml"), "config", *arguments],
        capture_output=True,
        text=True,
        check=False,
    )


def test_docker_compose_validates_the_file(tmp_path):
    result = _compose_config(tmp_path, "--quiet")

    assert result.returncode == 0, result.stderr


def _mounts(service: dict) -> set[tuple[str, str, bool]]:
    """(source, target, read only) of each volume, in either syntax compose
    may resolve to: "src:dst:mode" (docker-compose 1) or a mapping (2)."""
    mounts = set()
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            source, target, *mode = volume.split(":")
            mounts.add((source, target, mode == ["ro"]))
        else:
            mounts.add((volume["source"], volume["target"], bool(volume.get("read_only"))))
    return mounts


def test_the_stack_compose_resolves_scales_and_waits_for_migrate(tmp_path):
    result = _compose_config(tmp_path)
    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(result.stdout)["services"]

    # One way in: nginx's port. web and worker publish none and name no
    # container, so `--scale web=2 --scale worker=4` starts more of each.
    assert [name for name, service in resolved.items() if service.get("ports")] == ["nginx"]
    assert resolved["nginx"]["ports"][0]["published"] in (8000, "8000")
    assert resolved["nginx"]["ports"][0]["target"] == 8080
    assert not any("container_name" in service for service in resolved.values())
    # Migrations once, before anything that uses the schema.
    assert resolved["migrate"]["restart"] == "no"
    assert "migrate" not in resolved["migrate"].get("depends_on", {})
    for name in ("web", "worker", "beat"):
        assert resolved[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        ), name
    for name in LONG_RUNNING:
        assert resolved[name]["restart"] == "unless-stopped", name
    # Workers write the published files, nginx reads the same volume.
    assert ("published", "/app/var/published", False) in _mounts(resolved["worker"])
    assert ("published", "/srv/published", True) in _mounts(resolved["nginx"])
    for name in ("migrate", "web", "worker"):
        assert resolved[name]["environment"]["DATABASE_URL"].startswith("postgres://"), name
