"""The polling-board record (zapisnik) and the findings the checks return.

``Record`` has exactly the fields of RULES.md section 1; ``Finding`` is one
result of a check (RULES.md section 2), explaining itself with the fields
involved, the expected and actual numbers, and a translatable message.
"""

from dataclasses import dataclass

from tabulation.domain.codes import CHECKS, Category

# Votes per list as (ballot_number, votes) pairs, in the order entered.
# A sequence of pairs rather than a mapping, so that a list entered twice is
# still visible to the checks (E2) instead of being silently collapsed.
VotesEntries = tuple[tuple[int, int | None], ...]

# The record's totals, in the order of the paper (RULES.md section 1).
TOTALS_FIELDS = (
    "registered",
    "ballots_received",
    "ballots_unused",
    "turned_out",
    "ballots_in_box",
    "ballots_invalid",
    "ballots_valid",
)
# The fields that hold a whole number: the totals and the board's signatures.
COUNT_FIELDS = (*TOTALS_FIELDS, "board_signatures")
# Every field of the record besides the votes, in the order of the paper.
RECORD_FIELDS = (*TOTALS_FIELDS, "control_sheet_ok", "board_signatures")

ParamValue = int | str
Params = tuple[tuple[str, ParamValue], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Record:
    """One polling station's record for one round (RULES.md section 1).

    Every count is ``int | None``; ``None`` means the field was left blank on
    the paper. ``votes`` holds ``(ballot_number, votes)`` pairs (see
    ``VotesEntries``). ``control_sheet_ok`` is whether the control sheet was
    in the box, completed and signed (Art. 116); ``board_signatures`` is how
    many board members signed the record (at least 3, Art. 115).
    """

    registered: int | None
    ballots_received: int | None
    ballots_unused: int | None
    turned_out: int | None
    ballots_in_box: int | None
    ballots_invalid: int | None
    ballots_valid: int | None
    votes: VotesEntries
    control_sheet_ok: bool | None
    board_signatures: int | None

    def votes_by_list(self) -> dict[int, int | None]:
        """Votes keyed by ballot number (the last entry wins if one is doubled)."""
        return dict(self.votes)


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One finding of a check, with a code from ``codes.CHECKS``.

    ``message`` is an English msgid template with named placeholders; the web
    layer translates it with gettext and then formats it with ``params``.
    ``expected`` and ``actual`` carry the two numbers a check compared, when
    there are two. Build findings with ``make_finding``, which fills in the
    category from the catalogue.
    """

    code: str
    category: Category
    fields: tuple[str, ...]
    expected: int | None
    actual: int | None
    message: str
    params: Params

    def __post_init__(self) -> None:
        info = CHECKS.get(self.code)
        if info is None:
            raise ValueError(f"unknown check code {self.code!r}")
        if info.category is not self.category:
            raise ValueError(f"{self.code} is {info.category.name}, not {self.category.name}")

    @property
    def holds_back(self) -> bool:
        """A station with an open R, U or S finding is not counted in the
        provisional results until the commission decides; a C or W finding
        does not hold it back (RULES.md section 2)."""
        return self.category.holds_back

    @property
    def article(self) -> str | None:
        """The article of the law the code rests on, from the catalogue."""
        return CHECKS[self.code].article

    @property
    def difference(self) -> int | None:
        """``actual - expected`` when the finding compares two numbers."""
        if self.expected is None or self.actual is None:
            return None
        return self.actual - self.expected

    def params_dict(self) -> dict[str, ParamValue]:
        return dict(self.params)

    def render(self) -> str:
        """The English text, for logs and the command line (not for screens:
        those translate ``message`` first)."""
        return self.message.format(**self.params_dict())


def make_finding(
    code: str,
    *,
    fields: tuple[str, ...] = (),
    expected: int | None = None,
    actual: int | None = None,
    message: str | None = None,
    params: Params = (),
) -> Finding:
    """A ``Finding`` for ``code``; the message defaults to the catalogue title."""
    info = CHECKS[code]
    return Finding(
        code=code,
        category=info.category,
        fields=fields,
        expected=expected,
        actual=actual,
        message=info.title if message is None else message,
        params=params,
    )
