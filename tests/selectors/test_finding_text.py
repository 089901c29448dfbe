from django.utils import translation

from tabulation.domain.checks import input_errors, votes_field
from tabulation.domain.record import Record
from tabulation.selectors.stations import finding_text


def blank_invalid_ballots_and_votes_for_list_2() -> Record:
    return Record(
        registered=1000,
        ballots_received=1000,
        ballots_unused=400,
        turned_out=600,
        ballots_in_box=600,
        ballots_invalid=None,
        ballots_valid=590,
        votes=((1, 590), (2, None)),
        control_sheet_ok=True,
        board_signatures=5,
    )


def test_messages_name_fields_as_the_paper_does_in_the_readers_language():
    findings = input_errors(blank_invalid_ballots_and_votes_for_list_2(), ballot={1, 2})
    by_field = {finding.fields[0]: finding for finding in findings}

    with translation.override("en"):
        assert finding_text(by_field["ballots_invalid"]) == "Invalid ballots must be filled in."
        assert finding_text(by_field[votes_field(2)]) == "Votes for list 2 must be filled in."
    with translation.override("sr-latn"):
        assert finding_text(by_field["ballots_invalid"]) == (
            "„Nevažeći glasački listići”: polje mora biti popunjeno."
        )
    with translation.override("sr"):
        assert finding_text(by_field[votes_field(2)]) == (
            "„Гласови за листу 2”: поље мора бити попуњено."
        )
