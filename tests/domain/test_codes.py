"""The catalogue of check codes and the Finding it stamps."""

import pytest

from tabulation.domain.codes import CHECKS, Category
from tabulation.domain.i18n import _
from tabulation.domain.record import make_finding

RULES_CODES = [
    "E1",
    "E2",
    "E3",
    "R1",
    "R2",
    "R3",
    "R4",
    "U1",
    "U2",
    "U3",
    "U4",
    "C1",
    "C2",
    "C3",
    "C4",
    "C5",
    "S1",
    "S2",
    "S3",
    "S4",
    "W1",
    "W2",
    "W3",
    "W4",
    "W5",
    "W6",
    "O1",
    "O2",
    "O3",
]


def test_catalogue_holds_exactly_the_codes_of_the_rules() -> None:
    assert sorted(CHECKS) == sorted(RULES_CODES)


@pytest.mark.parametrize("code", RULES_CODES)
def test_each_code_has_its_category_letter_and_a_title(code: str) -> None:
    info = CHECKS[code]
    assert info.code == code
    assert info.category.value == code[0]
    assert info.title


@pytest.mark.parametrize(
    ("letter", "article"),
    [("R", "Art. 116"), ("U", "Art. 115"), ("C", "Art. 109"), ("S", "Art. 110")],
)
def test_codes_cite_their_article_of_the_law(letter: str, article: str) -> None:
    assert {info.article for code, info in CHECKS.items() if code[0] == letter} == {article}


@pytest.mark.parametrize(
    ("code", "holds_back"),
    [("R1", True), ("U3", True), ("S4", True), ("C1", False), ("W2", False), ("E1", False)],
)
def test_only_r_u_and_s_findings_hold_a_station_back(code: str, holds_back: bool) -> None:
    assert make_finding(code).holds_back is holds_back
    assert Category(code[0]).holds_back is holds_back


def test_a_finding_explains_itself() -> None:
    finding = make_finding(
        "R1",
        fields=("ballots_in_box", "turned_out"),
        expected=500,
        actual=512,
        message="{actual} ballots in the box, but only {expected} voters turned out.",
        params=(("expected", 500), ("actual", 512)),
    )
    assert finding.category is Category.ANNULMENT
    assert finding.article == "Art. 116"
    assert finding.difference == 12
    assert finding.render() == "512 ballots in the box, but only 500 voters turned out."


def test_a_finding_refuses_an_unknown_code() -> None:
    with pytest.raises(KeyError):
        make_finding("X9")


def test_translation_marker_returns_its_message_unchanged() -> None:
    assert _("Valid ballots") == "Valid ballots"
