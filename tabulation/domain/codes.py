"""The catalogue of check codes: one place for every code of RULES.md section 2.

The forms, the API, the audit trail, the logs and the tests all use these
codes. Each entry names its category, the article of the law it rests on
(ZINP 2022; ``None`` where the code is a rule of this system rather than of
the law: input errors and plausibility warnings) and a short English title,
marked for translation.

Categories and what they do to a station (RULES.md section 2): a station with
an open R, U or S finding is not counted in the provisional results until the
commission decides; a C or W finding does not hold it back; an E finding means
the form is refused and nothing is stored.
"""

from dataclasses import dataclass
from enum import StrEnum

from tabulation.domain.i18n import _


class Category(StrEnum):
    """What kind of finding a code is; the value is the code's letter."""

    INPUT_ERROR = "E"
    ANNULMENT = "R"  # Art. 116: the station's vote is annulled, repeat vote
    UNDETERMINED = "U"  # Art. 115: results cannot be determined, repeat vote
    CORRECTABLE = "C"  # Art. 109: minor error, corrected by a decision
    SERIOUS = "S"  # Art. 110: the material must be inspected
    WARNING = "W"
    # An observer's copy differs from the accepted record (docs/observers.md):
    # shown to the commission, never on a station's record, holds nothing back.
    OBSERVER_COPY = "O"

    @property
    def holds_back(self) -> bool:
        """True for R, U and S: the station waits for the commission's decision."""
        return self in HOLDING_CATEGORIES


HOLDING_CATEGORIES = frozenset({Category.ANNULMENT, Category.UNDETERMINED, Category.SERIOUS})


@dataclass(frozen=True, slots=True)
class CheckInfo:
    """One code of the catalogue."""

    code: str
    category: Category
    article: str | None
    title: str  # English msgid, marked with _()


def _info(code: str, article: str | None, title: str) -> CheckInfo:
    return CheckInfo(code=code, category=Category(code[0]), article=article, title=title)


CHECKS: dict[str, CheckInfo] = {
    info.code: info
    for info in (
        # Input errors: the form is refused field by field.
        _info("E1", None, _("A field is missing, not a whole number, or negative")),
        _info("E2", None, _("A list is not on this election's ballot, or is entered twice")),
        _info("E3", None, _("This station is not one you may enter")),
        # Art. 116: annulment grounds.
        _info("R1", "Art. 116", _("More ballots in the box than voters who turned out")),
        _info("R2", "Art. 116", _("The control sheet is missing, not completed, or not signed")),
        _info(
            "R3", "Art. 116", _("Unused ballots plus ballots in the box exceed ballots received")
        ),
        _info(
            "R4", "Art. 116", _("A person not in the excerpt of the register was allowed to vote")
        ),
        # Art. 115: results cannot be determined.
        _info("U1", "Art. 115", _("Voting was not held, or was suspended and not resumed")),
        _info("U2", "Art. 115", _("The record was not received")),
        _info("U3", "Art. 115", _("The record is signed by fewer than 3 board members")),
        _info("U4", "Art. 115", _("Gross arithmetic errors that cannot be corrected")),
        # Art. 109: minor errors, corrected by a decision.
        _info("C1", "Art. 109", _("Registered voters missing or different from the register")),
        _info("C2", "Art. 109", _("Voters who turned out missing, the rest consistent")),
        _info(
            "C3", "Art. 109", _("More voters turned out than are registered, the rest consistent")
        ),
        _info("C4", "Art. 109", _("Ballots in the box missing, given by invalid plus valid")),
        _info("C5", "Art. 109", _("Valid ballots missing, given by the sum of the votes")),
        # Art. 110: serious errors, the material must be inspected.
        _info("S1", "Art. 110", _("Sum of votes differs from valid ballots")),
        _info("S2", "Art. 110", _("Invalid ballots plus votes exceed registered voters")),
        _info("S3", "Art. 110", _("Valid ballots differ from the sum of votes")),
        _info("S4", "Art. 110", _("Invalid plus valid ballots differ from ballots in the box")),
        # Plausibility warnings: acknowledged or acted on by staff.
        _info("W1", None, _("Turnout far outside the municipality's distribution, or above 95 %")),
        _info("W2", None, _("Invalid ballots at or above 3 % of ballots in the box")),
        _info("W3", None, _("One list has 90 % or more of the valid votes")),
        _info(
            "W4", None, _("Ballots missing from the box: turned out exceeds ballots by over 2 %")
        ),
        _info("W5", None, _("An all-zero record, or a record identical to another station's")),
        _info("W6", None, _("The two entries of this record differ")),
        # An observer's copy compared with the accepted record, field by field.
        _info("O1", None, _("A total on an observer's copy differs from the accepted record")),
        _info(
            "O2", None, _("A list's votes on an observer's copy differ from the accepted record")
        ),
        _info(
            "O3",
            None,
            _("The control sheet or the signatures on an observer's copy differ from the record"),
        ),
    )
}
