from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tabulation.models import AuditEvent, Election, PollingStation
from tests.services.import_helpers import GOOD_SET, bad_set

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_election", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_good_set_is_imported_and_summarized() -> None:
    out, err = run(str(GOOD_SET))

    assert out == (
        'Imported election "test-city-2024": 3 municipalities, 6 polling stations '
        "(6,300 registered voters), 3 lists, 7 candidates, 4 accounts, "
        "3 clerk assignments.\n"
    )
    assert err == ""
    assert PollingStation.objects.count() == 6


def test_a_bad_set_prints_every_problem_and_exits_with_status_1(tmp_path: Path) -> None:
    directory = bad_set(tmp_path, "stations.csv", "zemun-002,zemun,", "zemun-002,Zemunn,")
    err = StringIO()

    with pytest.raises(CommandError) as info:
        call_command("import_election", str(directory), stdout=StringIO(), stderr=err)

    assert info.value.returncode == 1
    assert str(info.value) == "1 problem found; nothing was written."
    assert err.getvalue() == 'stations.csv:3: municipality "Zemunn" is not in municipalities.csv\n'
    assert Election.objects.count() == 0


def test_dry_run_checks_and_writes_nothing() -> None:
    out, _ = run(str(GOOD_SET), "--dry-run")

    assert out.startswith('Dry run: the files are valid. Would import election "test-city-2024"')
    assert out.endswith("Nothing was written.\n")
    assert Election.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_running_twice_says_nothing_changed() -> None:
    run(str(GOOD_SET))

    out, _ = run(str(GOOD_SET))

    assert out == (
        'Election "test-city-2024" is already loaded with the same data; nothing changed.\n'
    )
    assert Election.objects.count() == 1
    assert AuditEvent.objects.count() == 1


def test_running_again_with_changed_data_is_refused(tmp_path: Path) -> None:
    run(str(GOOD_SET))
    directory = bad_set(tmp_path, "municipalities.csv", "sopot,Sopot,800", "sopot,Sopot,900")
    err = StringIO()

    with pytest.raises(CommandError):
        call_command("import_election", str(directory), stdout=StringIO(), stderr=err)

    assert "already loaded with different data (changed: municipalities.csv)" in err.getvalue()
    assert Election.objects.get().municipalities.get(code="sopot").registered == 800


def test_demo_passwords_option_sets_the_demo_password() -> None:
    from django.contrib.auth import get_user_model

    run(str(GOOD_SET), "--demo-passwords")

    assert get_user_model().objects.get(username="member1").check_password("izbori2023")


def test_warnings_go_to_stderr(tmp_path: Path) -> None:
    directory = bad_set(tmp_path, "municipalities.csv", "sopot,Sopot,800", "sopot,Sopot,801")

    _, err = run(str(directory))

    assert err.startswith('warning: stations.csv: the stations of "sopot" have 800')
