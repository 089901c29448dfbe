"""An observer's copy of a record compared with the accepted record.

The law gives the representatives of the lists on a polling board a copy of
the record; observers' organisations keep their own (a parallel vote
tabulation). Each field that differs is one difference with a stable code
(RULES.md section 2, codes ``O``):

- ``O1`` a total (registered, ballots received, unused, turned out, in the
  box, invalid, valid);
- ``O2`` one list's votes (a list on one and not on the other counts as
  blank there);
- ``O3`` the formalities: the control sheet, the board's signatures.

A blank field is compared like any other: the copy is of the same paper, so
a figure on one and a blank on the other is a difference too.
"""

from dataclasses import dataclass

from tabulation.domain.checks import votes_field
from tabulation.domain.record import TOTALS_FIELDS, Record

FORMALITY_FIELDS = ("control_sheet_ok", "board_signatures")


@dataclass(frozen=True, slots=True)
class CopyDifference:
    code: str
    field: str  # a record field, or ``votes[<ballot number>]``
    copy_value: int | bool | None
    record_value: int | bool | None


def _fields(copy: Record, record: Record) -> list[CopyDifference]:
    differences = []
    for code, names in (("O1", TOTALS_FIELDS), ("O3", FORMALITY_FIELDS)):
        for name in names:
            on_copy, on_record = getattr(copy, name), getattr(record, name)
            if on_copy != on_record:
                differences.append(CopyDifference(code, name, on_copy, on_record))
    return differences


def _votes(copy: Record, record: Record) -> list[CopyDifference]:
    on_copy, on_record = copy.votes_by_list(), record.votes_by_list()
    return [
        CopyDifference("O2", votes_field(number), on_copy.get(number), on_record.get(number))
        for number in sorted(on_copy.keys() | on_record.keys())
        if on_copy.get(number) != on_record.get(number)
    ]


def copy_differences(copy: Record, record: Record) -> tuple[CopyDifference, ...]:
    """Every difference between an observer's copy and the accepted record:
    totals, then votes in ballot order, then formalities. None when they agree."""
    differences = _fields(copy, record)
    totals = [item for item in differences if item.code == "O1"]
    formalities = [item for item in differences if item.code == "O3"]
    return (*totals, *_votes(copy, record), *formalities)
