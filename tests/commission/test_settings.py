"""Settings that guard the law: the demo's short objection window."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def settings_load(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); "
            "from django.conf import settings; print(settings.OBJECTION_WINDOW_MINUTES)",
        ],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "commission.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_law_s_72_hours_hold_without_the_demo_variable() -> None:
    result = settings_load(DEMO_OBJECTION_WINDOW_MINUTES="")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "4320"


def test_the_demo_may_shorten_the_window() -> None:
    result = settings_load(DEMO_OBJECTION_WINDOW_MINUTES="15", DEBUG="true")
    assert result.stdout.strip() == "15"


def test_the_demo_window_is_refused_in_production() -> None:
    result = settings_load(DEMO_OBJECTION_WINDOW_MINUTES="15", DEBUG="false", SECRET_KEY="x" * 50)
    assert result.returncode != 0
    assert "DEMO_OBJECTION_WINDOW_MINUTES is for the demo only" in result.stderr
