from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from tabulation.models import (
    AuditEvent,
    Candidate,
    ClerkAssignment,
    Election,
    ElectoralList,
    Municipality,
    PollingStation,
    StationRound,
)
from tabulation.services.election_setup import (
    ElectionImportError,
    election_import,
    election_setup_read,
)
from tests.factories import UserFactory
from tests.services.import_helpers import GOOD_SET, bad_set, copy_of_good_set

pytestmark = pytest.mark.django_db


def problems_of(directory: Path) -> list[str]:
    with pytest.raises(ElectionImportError) as info:
        election_import(directory=directory)
    return [str(problem) for problem in info.value.problems]


def assert_nothing_written() -> None:
    assert Election.objects.count() == 0
    assert Municipality.objects.count() == 0
    assert PollingStation.objects.count() == 0
    assert get_user_model().objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_good_set_imports_everything() -> None:
    result = election_import(directory=GOOD_SET)

    assert result.outcome == "created"
    election = Election.objects.get(slug="test-city-2024")
    assert election.seats == 11
    assert election.threshold_percent == Decimal("3.00")
    assert election.minority_bonus_percent == Decimal("35.00")
    assert election.entry_mode == "double"
    assert election.status == "setup"
    assert election.entry_deadline is not None
    assert result.counts == {
        "municipalities": 3,
        "stations": 6,
        "registered": 6300,
        "lists": 3,
        "candidates": 7,
        "accounts": 4,
        "assignments": 3,
    }
    assert PollingStation.objects.get(code="zemun-002").municipality.code == "zemun"
    assert StationRound.objects.filter(number=1, status="awaiting").count() == 6
    assert ElectoralList.objects.get(ballot_number=2).minority is True
    # A list without a colour gets the default colour of its ballot number.
    assert ElectoralList.objects.get(ballot_number=3).colour == "#2ca02c"
    assert Candidate.objects.get(electoral_list__ballot_number=3, position=2).withdrawn is True
    assert result.warnings == []


def test_cyrillic_names_import_as_written() -> None:
    election_import(directory=GOOD_SET)

    assert Municipality.objects.get(code="zvezdara").name == "Звездара"
    station = PollingStation.objects.get(code="zvezdara-001")
    assert station.name == "ОШ „Вук Караџић“"
    assert station.address == "Булевар краља Александра 73, Звездара"
    assert ElectoralList.objects.get(ballot_number=2).name == "Руска странка"
    clerk = get_user_model().objects.get(username="clerk-zvezdara-001")
    assert (clerk.first_name, clerk.last_name) == ("Милица", "Ристић")


def test_accounts_get_roles_assignments_and_no_usable_password() -> None:
    election_import(directory=GOOD_SET)

    users = get_user_model().objects
    clerk = users.get(username="clerk-zemun-1")
    assert list(clerk.groups.values_list("name", flat=True)) == ["clerk"]
    assert not clerk.has_usable_password()
    assert not clerk.is_staff
    assert users.get(username="member1").groups.get().name == "commission member"
    assert users.get(username="member1").is_staff
    assert users.get(username="admin").groups.get().name == "administrator"
    assigned = ClerkAssignment.objects.filter(user__username="clerk-zvezdara-001")
    assert sorted(assigned.values_list("station__code", flat=True)) == [
        "zvezdara-001",
        "zvezdara-002",
    ]
    assert ClerkAssignment.objects.get(user=clerk).municipality.code == "zemun"
    assert set(Group.objects.values_list("name", flat=True)) == {
        "clerk",
        "commission member",
        "administrator",
        "observer",
    }


def test_demo_password_is_set_for_new_accounts() -> None:
    UserFactory(username="member1")  # exists already: keeps its password

    election_import(directory=GOOD_SET, demo_password="izbori2023")

    users = get_user_model().objects
    assert users.get(username="clerk-zemun-1").check_password("izbori2023")
    assert users.get(username="admin").check_password("izbori2023")
    assert not users.get(username="member1").check_password("izbori2023")
    assert users.get(username="member1").is_staff


def test_password_column_sets_that_password(tmp_path: Path) -> None:
    directory = bad_set(
        tmp_path,
        "clerks.csv",
        "username,full_name,role,station,municipality\nclerk-zemun-1,Nikola Nikolić,clerk,,zemun",
        "username,full_name,role,station,municipality,password\n"
        "clerk-zemun-1,Nikola Nikolić,clerk,,zemun,tajna-lozinka-7",
    )

    election_import(directory=directory)

    users = get_user_model().objects
    assert users.get(username="clerk-zemun-1").check_password("tajna-lozinka-7")
    assert not users.get(username="admin").has_usable_password()


def test_import_writes_one_audit_event() -> None:
    election_import(directory=GOOD_SET)

    event = AuditEvent.objects.get()
    assert event.action == "election.import"
    assert event.object_type == "tabulation.election"
    assert event.object_id == str(Election.objects.get().pk)
    assert event.after["counts"]["stations"] == 6
    assert event.after["slug"] == "test-city-2024"


def test_unknown_municipality_is_reported_and_nothing_is_written(tmp_path: Path) -> None:
    directory = bad_set(tmp_path, "stations.csv", "zemun-002,zemun,", "zemun-002,Zemunn,")

    assert problems_of(directory) == [
        'stations.csv:3: municipality "Zemunn" is not in municipalities.csv'
    ]
    assert_nothing_written()


def test_duplicate_station_code_is_reported(tmp_path: Path) -> None:
    directory = bad_set(tmp_path, "stations.csv", "zemun-003,zemun,3", "zemun-002,zemun,3")

    assert problems_of(directory) == [
        'stations.csv:4: station code "zemun-002" is already on line 3'
    ]
    assert_nothing_written()


def test_registered_voters_not_a_number_is_reported(tmp_path: Path) -> None:
    directory = bad_set(tmp_path, "stations.csv", '"Gornjogradska 1, Zemun",1000', '"G 1",1.000')

    assert problems_of(directory) == [
        'stations.csv:2: registered voters "1.000" is not a whole number'
    ]
    assert_nothing_written()


def test_negative_registered_voters_are_not_a_whole_number(tmp_path: Path) -> None:
    directory = bad_set(tmp_path, "municipalities.csv", "sopot,Sopot,800", "sopot,Sopot,-800")

    assert problems_of(directory) == [
        'municipalities.csv:4: registered voters "-800" is not a whole number'
    ]


def test_a_list_twice_is_reported(tmp_path: Path) -> None:
    directory = bad_set(
        tmp_path, "lists.csv", "3,Zeleni Beograd,Marko Marković", "3,LISTA ZA GRAD,Marko Marković"
    )

    assert problems_of(directory) == ['lists.csv:4: the list "LISTA ZA GRAD" is already on line 2']
    assert_nothing_written()


def test_a_ballot_number_twice_is_reported(tmp_path: Path) -> None:
    directory = bad_set(tmp_path, "lists.csv", "3,Zeleni Beograd", "2,Zeleni Beograd")

    problems = problems_of(directory)

    assert "lists.csv:4: ballot number 2 is already on line 3" in problems
    assert_nothing_written()


def test_candidate_of_an_unknown_list_is_reported(tmp_path: Path) -> None:
    directory = bad_set(tmp_path, "candidates.csv", "3,2,Ivana Lazić", "4,2,Ivana Lazić")

    assert problems_of(directory) == ["candidates.csv:8: ballot number 4 is not in lists.csv"]


def test_clerk_of_an_unknown_station_is_reported(tmp_path: Path) -> None:
    directory = bad_set(tmp_path, "clerks.csv", "clerk,zvezdara-002,", "clerk,zvezdara-009,")

    assert problems_of(directory) == ['clerks.csv:4: station "zvezdara-009" is not in stations.csv']


def test_every_problem_in_every_file_is_reported_at_once(tmp_path: Path) -> None:
    directory = bad_set(tmp_path, "stations.csv", "zemun-002,zemun,", "zemun-002,Zemunn,")
    (directory / "election.csv").write_text(
        "slug,name,date,seats,threshold_percent,minority_bonus_percent,entry_mode\n"
        "test,Test,17.12.2023,0,3,135,triple\n",
        encoding="utf-8",
    )

    assert problems_of(directory) == [
        'election.csv:2: date "17.12.2023" is not a date like 2023-12-17',
        "election.csv:2: seats 0 is less than 1",
        "election.csv:2: minority_bonus_percent 135 is not between 0 and 100",
        'election.csv:2: entry_mode "triple" is not "single" or "double"',
        'stations.csv:3: municipality "Zemunn" is not in municipalities.csv',
    ]


def test_a_missing_file_and_a_missing_column_are_reported(tmp_path: Path) -> None:
    directory = copy_of_good_set(tmp_path)
    (directory / "candidates.csv").unlink()
    text = (directory / "lists.csv").read_text(encoding="utf-8")
    (directory / "lists.csv").write_text(text.replace(",minority,", ",minorty,"), "utf-8")

    problems = problems_of(directory)

    assert problems == [
        'lists.csv:1: missing column "minority"',
        'lists.csv:1: unknown column "minorty" (the columns are: ballot_number, name, '
        "minority, ballot_carrier, colour)",
        "candidates.csv: file not found",
    ]


def test_a_file_not_in_utf8_is_reported(tmp_path: Path) -> None:
    directory = copy_of_good_set(tmp_path)
    (directory / "municipalities.csv").write_bytes(
        "code,name,registered\nzemun,Zemun,3000\nzvezdara,Zvezdara,2500\nsopot,Šopot,800\n".encode(
            "cp1250"
        )
    )

    problems = problems_of(directory)

    assert problems == [
        "municipalities.csv: not UTF-8 (byte 0x8a at offset 67); save the file as UTF-8"
    ]


def test_a_byte_order_mark_is_not_data(tmp_path: Path) -> None:
    directory = copy_of_good_set(tmp_path)
    path = directory / "municipalities.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())

    assert election_import(directory=directory).outcome == "created"


def test_stations_not_adding_up_to_the_municipality_is_a_warning(tmp_path: Path) -> None:
    directory = bad_set(tmp_path, "municipalities.csv", "sopot,Sopot,800", "sopot,Sopot,801")

    result = election_import(directory=directory)

    assert [str(warning) for warning in result.warnings] == [
        'stations.csv: the stations of "sopot" have 800 registered voters, '
        "municipalities.csv says 801"
    ]


def test_dry_run_writes_nothing() -> None:
    result = election_import(directory=GOOD_SET, dry_run=True)

    assert result.outcome == "dry-run"
    assert result.counts["stations"] == 6
    assert_nothing_written()


def test_second_import_of_the_same_data_changes_nothing() -> None:
    election_import(directory=GOOD_SET)

    result = election_import(directory=GOOD_SET)

    assert result.outcome == "unchanged"
    assert Election.objects.count() == 1
    assert PollingStation.objects.count() == 6
    assert ClerkAssignment.objects.count() == 3
    assert AuditEvent.objects.count() == 1


def test_second_import_with_changed_data_is_refused(tmp_path: Path) -> None:
    election_import(directory=GOOD_SET)
    directory = bad_set(tmp_path, "stations.csv", "Dom kulture Sopot", "Dom kulture „Sopot“")

    problems = problems_of(directory)

    assert len(problems) == 1
    assert problems[0].startswith(
        'election.csv:2: election "test-city-2024" is already loaded with different data '
        "(changed: stations.csv)"
    )
    assert PollingStation.objects.get(code="sopot-001").name == "Dom kulture Sopot"
    assert AuditEvent.objects.count() == 1


def test_fingerprint_ignores_line_endings_and_quoting(tmp_path: Path) -> None:
    directory = copy_of_good_set(tmp_path)
    path = directory / "municipalities.csv"
    path.write_text(
        'code,name,registered\r\n"zemun","Zemun",3000\r\nzvezdara,Звездара,2500\r\n'
        "sopot,Sopot,800\r\n",
        encoding="utf-8",
        newline="",
    )

    assert (
        election_setup_read(directory=directory).fingerprint()
        == election_setup_read(directory=GOOD_SET).fingerprint()
    )
