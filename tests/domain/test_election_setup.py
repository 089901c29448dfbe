"""Parsing an election's setup from the files' bytes, with no folder and no database."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from tabulation.domain.election_setup.parse import election_setup_parse
from tabulation.domain.election_setup.rows import FILES, ElectionImportError
from tests.services.import_helpers import GOOD_SET

BELGRADE_WINTER = timezone(timedelta(hours=1))
# The stations of tests/data/import/good: 1000 + 1200 + 800 + 1500 + 1000 + 800.
REGISTERED = 6300


def good_files() -> dict[str, bytes]:
    return {name: (GOOD_SET / name).read_bytes() for name in FILES}


def problems_of(files: dict[str, bytes]) -> list[str]:
    with pytest.raises(ElectionImportError) as info:
        election_setup_parse(files, local_timezone=BELGRADE_WINTER)
    return [str(problem) for problem in info.value.problems]


def test_the_good_set_parses_into_its_rows_and_counts() -> None:
    setup = election_setup_parse(good_files(), local_timezone=BELGRADE_WINTER)

    assert setup.election.slug == "test-city-2024"
    assert setup.election.seats == 11
    assert setup.election.threshold_percent == Decimal("3.00")
    assert setup.counts() == {
        "municipalities": 3,
        "stations": 6,
        "registered": REGISTERED,
        "lists": 3,
        "candidates": 7,
        "accounts": 4,  # a clerk on two lines is one account
        "assignments": 3,
    }
    assert setup.warnings == []


def test_a_deadline_without_an_offset_is_in_the_local_time_zone_given() -> None:
    setup = election_setup_parse(good_files(), local_timezone=BELGRADE_WINTER)

    assert setup.election.entry_deadline == datetime(2024, 6, 3, 6, 0, tzinfo=BELGRADE_WINTER)


def test_windows_line_ends_and_a_byte_order_mark_leave_the_fingerprint_unchanged() -> None:
    files = good_files()
    resaved = {
        name: b"\xef\xbb\xbf" + content.replace(b"\n", b"\r\n") for name, content in files.items()
    }

    plain = election_setup_parse(files, local_timezone=BELGRADE_WINTER)
    spreadsheet = election_setup_parse(resaved, local_timezone=BELGRADE_WINTER)

    assert spreadsheet.fingerprint() == plain.fingerprint()


def test_a_missing_file_and_a_bad_code_are_reported_together_in_file_order() -> None:
    files = good_files()
    del files["candidates.csv"]
    files["municipalities.csv"] = files["municipalities.csv"].replace(b"zemun", b"zem un", 1)

    problems = problems_of(files)

    assert problems[0].startswith('municipalities.csv:2: code "zem un" may hold only Latin')
    assert "candidates.csv: file not found" in problems


def test_a_username_with_a_space_is_refused_and_one_in_cyrillic_is_not() -> None:
    files = good_files()
    files["clerks.csv"] = (
        files["clerks.csv"].replace(b"clerk-zemun-1,", b"clerk zemun,", 1)
        + "миле,Миле Милић,administrator,,\n".encode()
    )

    problems = problems_of(files)

    assert problems == [
        'clerks.csv:2: username "clerk zemun" may hold only letters, digits and @.+-_'
    ]
