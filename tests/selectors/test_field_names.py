"""Findings name fields as the paper does: record fields by their label, a
list's votes by the list's ballot number and name (W6, E1)."""

from dataclasses import replace

import pytest
from django.utils import translation

from tabulation.domain.checks import compare_entries, input_errors, votes_field
from tabulation.domain.record import Finding as DomainFinding
from tabulation.domain.record import Record
from tabulation.models import Finding
from tabulation.selectors.stations import (
    ballot_list_names,
    field_label,
    finding_row_text,
    finding_text,
)
from tests.factories import ElectionFactory, ElectoralListFactory

FIRST = Record(
    registered=1000,
    ballots_received=1000,
    ballots_unused=400,
    turned_out=600,
    ballots_in_box=600,
    ballots_invalid=10,
    ballots_valid=590,
    votes=((1, 300), (2, 200), (3, 90)),
    control_sheet_ok=True,
    board_signatures=3,
)
LIST_NAMES = {1: "Aleksandar Vučić – Beograd sutra", 2: "Biramo Beograd", 3: "Kreni-Promeni"}


def differing_entries() -> DomainFinding:
    second = replace(FIRST, turned_out=610, ballots_in_box=601, votes=((1, 300), (2, 200), (3, 91)))
    finding = compare_entries(FIRST, second)
    assert finding is not None
    return finding


def test_w6_names_record_fields_and_lists_as_the_paper_does() -> None:
    with translation.override("en"):
        assert finding_text(differing_entries(), list_names=LIST_NAMES) == (
            "The two entries differ in: Voters who turned out, Ballots in the box, "
            "3. Kreni-Promeni."
        )


def test_w6_without_list_names_names_a_list_by_its_ballot_number() -> None:
    with translation.override("en"):
        assert finding_text(differing_entries()) == (
            "The two entries differ in: Voters who turned out, Ballots in the box, "
            "Votes for list 3."
        )


def test_w6_in_serbian_keeps_the_lists_own_name() -> None:
    with translation.override("sr-latn"):
        assert finding_text(differing_entries(), list_names=LIST_NAMES) == (
            "Dva unosa se razlikuju u poljima: Birači koji su izašli na izbore, "
            "Glasački listići u glasačkoj kutiji, 3. Kreni-Promeni."
        )
    with translation.override("sr"):
        assert finding_text(differing_entries(), list_names=LIST_NAMES) == (
            "Два уноса се разликују у пољима: Бирачи који су изашли на изборе, "
            "Гласачки листићи у гласачкој кутији, 3. Kreni-Promeni."
        )


def test_w6_of_a_list_entered_twice_names_the_votes() -> None:
    doubled = replace(FIRST, votes=((1, 300), (1, 300), (2, 200), (3, 90)))
    finding = compare_entries(FIRST, doubled)
    assert finding is not None
    with translation.override("en"):
        assert finding_text(finding, list_names=LIST_NAMES) == "The two entries differ in: Votes."


@pytest.mark.parametrize(
    ("name", "list_names", "label"),
    [
        ("ballots_in_box", LIST_NAMES, "Ballots in the box"),
        ("votes[3]", LIST_NAMES, "3. Kreni-Promeni"),
        ("votes[3]", None, "Votes for list 3"),
        ("votes[4]", LIST_NAMES, "Votes for list 4"),
        ("votes", LIST_NAMES, "Votes"),
    ],
    ids=[
        "record field",
        "list with its name",
        "list without names",
        "list missing from the names",
        "the votes as a whole",
    ],
)
def test_field_label(name: str, list_names: dict[int, str] | None, label: str) -> None:
    with translation.override("en"):
        assert field_label(name, list_names=list_names) == label


def test_a_single_field_names_the_list_too() -> None:
    record = replace(FIRST, votes=((1, 300), (2, None), (3, 90)))
    (finding,) = input_errors(record, ballot={1, 2, 3})
    assert finding.fields == (votes_field(2),)
    with translation.override("en"):
        assert finding_text(finding, list_names=LIST_NAMES) == (
            "2. Biramo Beograd must be filled in."
        )
        assert finding_text(finding) == "Votes for list 2 must be filled in."


@pytest.mark.django_db
def test_a_stored_w6_names_the_lists_of_its_election() -> None:
    election = ElectionFactory()
    for number, name in LIST_NAMES.items():
        ElectoralListFactory(election=election, ballot_number=number, name=name)
    ElectoralListFactory(ballot_number=3, name="Lista of another election")
    row = Finding.from_domain(differing_entries(), round_id=1)

    names = ballot_list_names(election.pk)

    assert names == LIST_NAMES
    with translation.override("en"):
        assert finding_row_text(row, list_names=names) == (
            "The two entries differ in: Voters who turned out, Ballots in the box, "
            "3. Kreni-Promeni."
        )
        assert finding_row_text(row) == (
            "The two entries differ in: Voters who turned out, Ballots in the box, "
            "Votes for list 3."
        )
