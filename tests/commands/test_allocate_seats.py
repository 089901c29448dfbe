"""`manage.py allocate_seats FILE`, run as a user would: a real process."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ELECTIONS = ROOT / "tests" / "data" / "elections"
PYTHON = ROOT / ".venv" / "bin" / "python"


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    python = str(PYTHON) if PYTHON.exists() else sys.executable
    return subprocess.run(
        [python, "manage.py", "allocate_seats", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )


def test_allocates_seats_for_an_election_file() -> None:
    result = run(str(ELECTIONS / "belgrade-2024.json"))
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert (
        output["seats"]
        == json.loads((ELECTIONS / "belgrade-2024.json").read_text())["expected_seats"]
    )
    assert output["threshold_votes"] == "22020"
    assert output["lots_required"] == []
    assert output["lists"][4]["participation"] == "minority_below_threshold"


def test_reads_standard_input_with_a_dash() -> None:
    election = {
        "seats": 3,
        "threshold_percent": "3",
        "minority_bonus_percent": "35",
        "voted": 2000,
        "lists": [
            {"id": "A", "votes": 1000, "minority": False},
            {"id": "B", "votes": 1000, "minority": False},
        ],
    }
    result = run("-", stdin=json.dumps(election))
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["lots_required"] == ["A", "B"]
    assert output["seats"] == {"A": 1, "B": 1}


@pytest.mark.parametrize(
    ("stdin", "problem"),
    [
        ("not json", "not valid JSON"),
        ('{"threshold_percent": "3"}', "seats: missing"),
        (
            '{"seats": 3, "threshold_percent": "3", "minority_bonus_percent": "35", "voted": 9,'
            ' "lists": [{"id": "1", "votes": 1, "minority": false},'
            ' {"id": "2", "votes": -5, "minority": false}]}',
            "lists[1].votes: must be a whole number ≥ 0, got -5",
        ),
        (
            '{"seats": 3, "threshold_percent": "3", "minority_bonus_percent": "35", "voted": 9,'
            ' "lists": [{"id": "1", "votes": 1, "minority": false},'
            ' {"id": "1", "votes": 1, "minority": false}]}',
            'lists[1].id: list id "1" appears twice',
        ),
        (
            '{"seats": 0, "threshold_percent": "3", "minority_bonus_percent": "35", "voted": 9,'
            ' "lists": [{"id": "1", "votes": 1, "minority": false}]}',
            "seats: must be a whole number ≥ 1, got 0",
        ),
        ('{"seats": "many"}', 'seats: must be a whole number ≥ 1, got "many"'),
    ],
)
def test_bad_input_exits_2_with_one_line(stdin: str, problem: str) -> None:
    result = run("-", stdin=stdin)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert problem in lines[0]


def test_a_missing_file_exits_2_with_one_line() -> None:
    result = run(str(ELECTIONS / "no-such-election.json"))
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1
    assert "cannot read" in result.stderr
