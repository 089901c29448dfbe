"""`manage.py demo` (`make demo`): what it starts, and that it stops it all.
The supervisor itself is tested in tests/demo/test_supervise.py."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from tabulation.management.commands import demo
from tabulation.models import Election, TabulationState
from tabulation.services.tabulation import _claim

pytestmark = pytest.mark.django_db


class FakeSupervisor:
    """Records what the command starts; its first look at the children
    stops the demo, as Ctrl-C would."""

    last: FakeSupervisor

    def __init__(self, **kwargs: Any) -> None:
        self.started: list[tuple[str, list[str], bool]] = []
        self.stopped = False
        FakeSupervisor.last = self

    def start(self, name: str, command: list[str], *, restart: bool = False) -> Any:
        self.started.append((name, list(command), restart))
        return type("Child", (), {"process": type("Process", (), {"pid": 1})()})()

    def poll(self) -> list[Any]:
        raise demo.Stop

    def stop(self) -> None:
        self.stopped = True


@pytest.fixture
def fake_supervisor(monkeypatch) -> type[FakeSupervisor]:
    monkeypatch.setattr(demo, "Supervisor", FakeSupervisor)
    return FakeSupervisor


def run_demo(*arguments: str) -> str:
    out = StringIO()
    call_command("demo", *arguments, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_the_demo_starts_a_worker_kept_alive_the_night_and_the_site(fake_supervisor) -> None:
    output = run_demo("--addr", "127.0.0.1:8123", "--speed", "80")

    supervisor = fake_supervisor.last
    names = [(name, restart) for name, _command, restart in supervisor.started]
    assert names == [("worker", True), ("night", False), ("web server", False)]
    worker, night, web = (command for _name, command, _restart in supervisor.started)
    assert worker[-5:-2] == ["worker", "--beat", "--pool=solo"]
    assert night[-5:] == [
        *("simulate_night", "belgrade-2023", "--certify"),
        *("--speed=80", "--seed=2023"),
    ]
    assert web[-3:] == ["runserver", "127.0.0.1:8123", "--noreload"]
    assert supervisor.stopped
    assert "http://127.0.0.1:8123/results/belgrade-2023/" in output
    assert "Stopping the demo." in output


def test_a_certified_demo_is_served_without_playing_it_again(fake_supervisor) -> None:
    run_demo("--no-night")
    Election.objects.filter(slug="belgrade-2023").update(status="certified")

    output = run_demo()

    assert [name for name, *_ in fake_supervisor.last.started] == ["worker", "web server"]
    assert "The demo night is over and certified" in output


def test_a_restarted_worker_takes_over_the_dead_one_s_leases_at_once(fake_supervisor) -> None:
    run_demo("--no-night")
    election = Election.objects.get(slug="belgrade-2023")
    TabulationState.objects.update_or_create(
        election=election,
        defaults={"run_token": "dead", "lease_expires_at": timezone.now() + timedelta(minutes=1)},
    )
    worker = type("Child", (), {"name": "worker"})()

    demo._leases_release(worker)  # type: ignore[arg-type]

    assert _claim(election.pk, "the new worker's run")
