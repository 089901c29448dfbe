from io import StringIO

import pytest
from django.core.management import call_command

from tabulation.models import AcceptedRecord, AuditEvent, RecordEntry, StationRound

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("load_demo", stdout=StringIO(), stderr=StringIO())


def play(*arguments: str) -> str:
    out = StringIO()
    call_command("play_demo", "--rate", "0", *arguments, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_the_player_enters_five_stations_twice_through_the_service(demo) -> None:
    output = play("--limit", "5")

    assert "Played 5 stations" in output
    assert AcceptedRecord.objects.count() == 5
    assert set(AcceptedRecord.objects.values_list("source", flat=True)) == {"double_entry"}
    assert RecordEntry.objects.count() == 10
    clerks = set(RecordEntry.objects.values_list("clerk__username", flat=True))
    assert clerks == {"clerk-barajevo-1", "clerk-barajevo-2"}
    assert AuditEvent.objects.filter(action="record.submit").count() == 10


def test_a_restarted_player_skips_stations_already_entered(demo) -> None:
    play("--limit", "2")

    output = play("--limit", "1")

    assert "skipped 2 already entered" in output
    assert AcceptedRecord.objects.count() == 3


def test_the_seed_decides_which_second_entries_are_mistyped(demo) -> None:
    # With seed 3, two of the first 20 stations get one number mistyped by
    # clerk 2 (about 1 % over the whole demo).
    output = play("--limit", "20", "--seed", "3")

    differ = StationRound.objects.filter(status="entries_differ")
    assert sorted(differ.values_list("station__code", flat=True)) == [
        "barajevo-004",
        "barajevo-015",
    ]
    assert "(2 with entries that differ)" in output
    assert AcceptedRecord.objects.count() == 18
