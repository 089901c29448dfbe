"""Record checks (RULES.md section 2), one function per kind of context.

- ``check_record``: one record against the register and the ballot: E1, E2,
  R1-R3, U3, C1-C5, S1-S4, W2-W4 and the all-zero half of W5. Never U4:
  only the commission finds it, after inspecting the material. It composes
  one function per article, in the order of RULES.md section 2:
  ``article_116_annulment_grounds``, ``article_115_undeterminable``,
  ``article_109_completions`` and ``article_109_minor_errors``,
  ``article_110_serious_errors``, ``plausibility_warnings``.
- ``turnout_outliers``: W1, which needs the municipality's other stations.
- ``identical_records``: the "identical to another station's" half of W5.
- ``compare_entries``: W6, the two entries of a double-entered record.
- ``record_not_received`` (U2), ``station_not_allowed`` (E3) and
  ``commission_finding`` (R4, U1, U4: recorded by a commission decision) build
  the findings whose facts come from outside the record.

Percent comparisons are exact integer arithmetic (``100 * part >= 3 *
whole``), never floats; shares shown in messages are Decimal, rounded
half-even to two places.
"""

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from statistics import median

from tabulation.domain.exact import fraction_rounded, share_percent
from tabulation.domain.i18n import _
from tabulation.domain.record import COUNT_FIELDS, Finding, Record, make_finding

# The paper record's counts. The law lets the commission repair four of them
# when they are blank (Art. 109): registered (C1), turned_out (C2),
# ballots_in_box (C4) and ballots_valid (C5). The rest must be on the paper.
REPAIRABLE_FIELDS = frozenset({"registered", "turned_out", "ballots_in_box", "ballots_valid"})
ALL_FIELDS = (*COUNT_FIELDS[:-1], "votes", "control_sheet_ok", "board_signatures")

MINIMUM_BOARD_SIGNATURES = 3  # Art. 115
INVALID_WARNING_PERCENT = 3  # W2
ONE_LIST_WARNING_PERCENT = 90  # W3
MISSING_BALLOTS_WARNING_PERCENT = 2  # W4
TURNOUT_CEILING_PERCENT = 95  # W1
ROBUST_Z_LIMIT = Fraction(7, 2)  # W1: |z| > 3.5 (Iglewicz and Hoaglin)
ROBUST_Z_FACTOR = Fraction(6745, 10000)  # 0.6745: makes the MAD comparable to a standard deviation


def votes_field(ballot_number: int) -> str:
    """The field name of one list's votes, as forms and findings use it."""
    return f"votes[{ballot_number}]"


def _count_error(field: str, value: object) -> Finding | None:
    """E1 for one count: blank where the paper must have it, or not a count."""
    if value is None:
        if field in REPAIRABLE_FIELDS:
            return None
        return make_finding(
            "E1",
            fields=(field,),
            message=_("{field} must be filled in."),
            params=(("field", field),),
        )
    # bool is an int subclass, but True is not a count of ballots.
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return make_finding(
            "E1",
            fields=(field,),
            actual=value if isinstance(value, int) and not isinstance(value, bool) else None,
            message=_("{field} must be a whole number, 0 or more; got {actual}."),
            params=(("field", field), ("actual", str(value))),
        )
    return None


def input_errors(record: Record, ballot: Collection[int]) -> tuple[Finding, ...]:
    """E1 and E2: what makes the form refused (nothing stored).

    E1: a field that must be on the paper is blank (ballots_received,
    ballots_unused, ballots_invalid, every list's votes, board_signatures,
    control_sheet_ok), or any field is not a whole number or is negative.
    E2: a ballot number not on this election's ballot, or a list entered twice.
    """
    findings: list[Finding] = []
    for field in COUNT_FIELDS:
        error = _count_error(field, getattr(record, field))
        if error is not None:
            findings.append(error)
    if record.control_sheet_ok is None:
        findings.append(
            make_finding(
                "E1",
                fields=("control_sheet_ok",),
                message=_("{field} must be filled in."),
                params=(("field", "control_sheet_ok"),),
            )
        )
    elif not isinstance(record.control_sheet_ok, bool):
        findings.append(
            make_finding(
                "E1",
                fields=("control_sheet_ok",),
                message=_("{field} must be yes or no; got {actual}."),
                params=(("field", "control_sheet_ok"), ("actual", str(record.control_sheet_ok))),
            )
        )
    seen: set[int] = set()
    for ballot_number, votes in record.votes:
        field = votes_field(ballot_number)
        if ballot_number not in ballot:
            findings.append(
                make_finding(
                    "E2",
                    fields=(field,),
                    message=_("List {ballot_number} is not on this election's ballot."),
                    params=(("ballot_number", str(ballot_number)),),
                )
            )
            continue
        if ballot_number in seen:
            findings.append(
                make_finding(
                    "E2",
                    fields=(field,),
                    message=_("List {ballot_number} is entered twice."),
                    params=(("ballot_number", str(ballot_number)),),
                )
            )
            continue
        seen.add(ballot_number)
        error = _count_error(field, votes)
        if error is not None:
            findings.append(error)
    for ballot_number in sorted(set(ballot) - seen):
        field = votes_field(ballot_number)
        findings.append(
            make_finding(
                "E1",
                fields=(field,),
                message=_("{field} must be filled in."),
                params=(("field", field),),
            )
        )
    return tuple(findings)


def check_record(
    record: Record, *, registered_in_register: int, ballot: Collection[int]
) -> tuple[Finding, ...]:
    """Every finding for one record (RULES.md section 2; Art. 109, 110, 115, 116).

    ``registered_in_register`` is the number of voters in the station's
    excerpt of the register; ``ballot`` the ballot numbers of the lists.

    One function per article below, each with its codes, in the order of
    RULES.md; this composes them. Interpretation, in the order they run:

    1. Input errors (E1, E2; see ``input_errors``). If there is any, only they
       are returned: the form is refused and no other check runs.
    2. Blank totals (RULES.md section 2, "Blank totals"). The record is
       completed where the law allows (Art. 109), and every later check runs
       on the completed record:
       - C1: ``registered`` blank or different from the register; the
         register's number is used from here on.
       - C4: ``ballots_in_box`` blank: it is completed as ``ballots_invalid +
         ballots_valid``, always, whatever the votes say. The completed box
         then meets every other check, so C4 may come with S1 (the votes do
         not add up to valid), R1 (completed box > turned out) or R3 (unused
         + completed box > received).
       - C5: ``ballots_valid`` blank and ``ballots_invalid`` + sum of votes =
         ``ballots_in_box``: it is completed as the sum of votes. When that
         equation does not hold nothing completes it: S4 (Art. 110, the
         material must be inspected).
       - ``turned_out`` blank stays blank (C2, step 5); R1 and W4, which need
         it, do not run.
       - ``ballots_in_box`` and ``ballots_valid`` both blank: nothing
         completes them, S4 (Art. 110, the material must be inspected).
       U4 (Art. 115, gross errors that cannot be fixed even after inspecting
       the material) is never raised here: only the commission finds it,
       after the inspection (``commission_finding("U4")``).
    3. Art. 110 serious errors, on the completed totals, mutually exclusive
       for the ballot-box equation: S1 when invalid + valid = in box but the
       votes do not add up to valid; S3 when invalid + votes = in box but valid
       differs; S4 when neither equation holds. S2 (invalid + votes >
       registered) is independent of them.
    4. Art. 116: R1 (in box > turned out, when both are known), R2 (control
       sheet not ok), R3 (unused + in box > received, when in box is known).
       Art. 115: U3 (fewer than 3 board signatures).
    5. C2 (turned_out blank) and C3 (turned_out > registered) only when "the
       rest is consistent", read as: no S finding. Otherwise the serious
       finding holds the station and the inspection covers it.
    6. Warnings on the record alone: W2, W3, W4 and W5 (all-zero). W1 and the
       identical-record half of W5 need other stations: see
       ``turnout_outliers`` and ``identical_records``.
    """
    errors = input_errors(record, ballot)
    if errors:
        return errors
    totals, completions = article_109_completions(record, registered_in_register)
    serious = article_110_serious_errors(totals)
    return (
        *completions,
        *serious,
        *article_116_annulment_grounds(totals),
        *article_115_undeterminable(totals),
        *article_109_minor_errors(totals, consistent=not serious),
        *plausibility_warnings(totals),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class CompletedRecord:
    """A record past ``input_errors``, its blank totals completed where
    Art. 109 allows (``article_109_completions``): what every later check
    reads. ``registered`` is the register's number; ``in_box`` and ``valid``
    stay None where nothing completes them (then S4)."""

    registered: int
    turned_out: int | None
    in_box: int | None
    valid: int | None
    invalid: int
    received: int
    unused: int
    control_sheet_ok: bool | None
    board_signatures: int
    votes: tuple[tuple[int, int], ...]

    @property
    def votes_sum(self) -> int:
        return sum(count for _number, count in self.votes)

    @property
    def vote_fields(self) -> tuple[str, ...]:
        return tuple(votes_field(number) for number, _count in self.votes)


def article_116_annulment_grounds(record: CompletedRecord) -> list[Finding]:
    """R1 (in box > turned out, when both are known), R2 (control sheet not
    ok), R3 (unused + in box > received, when in box is known). R4 comes
    from a commission decision (``commission_finding``)."""
    findings = []
    in_box, turned_out = record.in_box, record.turned_out
    if in_box is not None and turned_out is not None and in_box > turned_out:
        findings.append(
            make_finding(
                "R1",
                fields=("ballots_in_box", "turned_out"),
                expected=turned_out,
                actual=in_box,
                message=_("{actual} ballots in the box, but only {expected} voters turned out."),
                params=(("expected", turned_out), ("actual", in_box)),
            )
        )
    if record.control_sheet_ok is False:
        findings.append(make_finding("R2", fields=("control_sheet_ok",)))
    if in_box is not None and record.unused + in_box > record.received:
        findings.append(
            make_finding(
                "R3",
                fields=("ballots_unused", "ballots_in_box", "ballots_received"),
                expected=record.received,
                actual=record.unused + in_box,
                message=_(
                    "Unused ballots plus ballots in the box are {actual}, but only {expected} "
                    "ballots were received."
                ),
                params=(("expected", record.received), ("actual", record.unused + in_box)),
            )
        )
    return findings


def article_115_undeterminable(record: CompletedRecord) -> list[Finding]:
    """U3: fewer than 3 board members signed. U1 and U4 come from a commission
    decision (``commission_finding``), U2 from tabulation (``record_not_received``)."""
    if record.board_signatures >= MINIMUM_BOARD_SIGNATURES:
        return []
    return [
        make_finding(
            "U3",
            fields=("board_signatures",),
            expected=MINIMUM_BOARD_SIGNATURES,
            actual=record.board_signatures,
            message=_("Signed by {actual} board members; at least {expected} are required."),
            params=(("expected", MINIMUM_BOARD_SIGNATURES), ("actual", record.board_signatures)),
        )
    ]


def article_109_completions(
    record: Record, registered_in_register: int
) -> tuple[CompletedRecord, list[Finding]]:
    """C1, C4, C5: what the record itself lets the commission complete, and
    the record so completed. C1: the register, not the paper, says how many
    are registered. C4: a blank box is invalid + valid, whatever the votes
    say. C5: blank valid ballots are the sum of votes when invalid + that sum
    is the box. Whatever stays blank is left to Art. 110 (S4)."""
    # After input_errors, every required field is a whole number >= 0.
    assert record.ballots_received is not None
    assert record.ballots_unused is not None
    assert record.ballots_invalid is not None
    assert record.board_signatures is not None
    findings: list[Finding] = []
    if record.registered != registered_in_register:
        findings.append(
            make_finding(
                "C1",
                fields=("registered",),
                expected=registered_in_register,
                actual=record.registered,
                message=_("Registered voters: the register has {expected}, the record {actual}."),
                params=(
                    ("expected", registered_in_register),
                    ("actual", "" if record.registered is None else record.registered),
                ),
            )
        )
    votes = tuple((number, count or 0) for number, count in record.votes)
    votes_sum = sum(count for _number, count in votes)
    invalid, in_box, valid = record.ballots_invalid, record.ballots_in_box, record.ballots_valid
    if in_box is None and valid is not None:
        in_box = invalid + valid
        findings.append(
            make_finding(
                "C4",
                fields=("ballots_in_box",),
                expected=in_box,
                message=_("Ballots in the box is blank; invalid plus valid gives {expected}."),
                params=(("expected", in_box),),
            )
        )
    elif valid is None and in_box is not None and invalid + votes_sum == in_box:
        valid = votes_sum
        findings.append(
            make_finding(
                "C5",
                fields=("ballots_valid",),
                expected=valid,
                message=_("Valid ballots is blank; the sum of votes gives {expected}."),
                params=(("expected", valid),),
            )
        )
    completed = CompletedRecord(
        registered=registered_in_register,
        turned_out=record.turned_out,
        in_box=in_box,
        valid=valid,
        invalid=invalid,
        received=record.ballots_received,
        unused=record.ballots_unused,
        control_sheet_ok=record.control_sheet_ok,
        board_signatures=record.board_signatures,
        votes=votes,
    )
    return completed, findings


def article_109_minor_errors(record: CompletedRecord, *, consistent: bool) -> list[Finding]:
    """C2 (turned_out blank) and C3 (turned_out > registered), only when "the
    rest is consistent", read as: no S finding (then the serious finding
    holds the station and the inspection covers it)."""
    turned_out = record.turned_out
    if not consistent:
        return []
    if turned_out is None:
        return [make_finding("C2", fields=("turned_out",))]
    if turned_out <= record.registered:
        return []
    return [
        make_finding(
            "C3",
            fields=("turned_out", "registered"),
            expected=record.registered,
            actual=turned_out,
            message=_("{actual} voters turned out, but only {expected} are registered."),
            params=(("expected", record.registered), ("actual", turned_out)),
        )
    ]


def article_110_serious_errors(record: CompletedRecord) -> list[Finding]:
    """S1-S4 on the completed totals. S4 first where a blank total stayed
    blank: nothing completes it, the material must be inspected. Then,
    mutually exclusive for the ballot-box equation: S1 when invalid + valid
    = in box but the votes do not add up to valid; S3 when invalid + votes =
    in box but valid differs; S4 when neither holds. S2 (invalid + votes >
    registered) is independent of them."""
    findings = _blank_totals_left(record) or _ballot_box_equation(record)
    invalid_and_votes = record.invalid + record.votes_sum
    if invalid_and_votes > record.registered:
        findings.append(
            make_finding(
                "S2",
                fields=("ballots_invalid", *record.vote_fields, "registered"),
                expected=record.registered,
                actual=invalid_and_votes,
                message=_(
                    "Invalid ballots plus votes ({actual}) exceed registered voters ({expected})."
                ),
                params=(("expected", record.registered), ("actual", invalid_and_votes)),
            )
        )
    return findings


def _blank_totals_left(record: CompletedRecord) -> list[Finding]:
    """S4 for a total that Art. 109 could not complete."""
    if record.in_box is None:
        # Neither total is on the paper, so neither can complete the other:
        # the votes have nothing to be checked against.
        return [
            make_finding(
                "S4",
                fields=("ballots_in_box", "ballots_valid"),
                message=_(
                    "Ballots in the box and valid ballots are both blank: nothing completes "
                    "them, the material must be inspected."
                ),
            )
        ]
    if record.valid is None:
        actual = record.invalid + record.votes_sum
        return [
            make_finding(
                "S4",
                fields=("ballots_valid", "ballots_invalid", "ballots_in_box", *record.vote_fields),
                expected=record.in_box,
                actual=actual,
                message=_(
                    "Valid ballots is blank and cannot be derived: invalid ballots plus "
                    "votes ({actual}) differ from ballots in the box ({expected})."
                ),
                params=(("expected", record.in_box), ("actual", actual)),
            )
        ]
    return []


def _ballot_box_equation(record: CompletedRecord) -> list[Finding]:
    """S1, S3 or S4: which of invalid + valid and invalid + votes gives the box."""
    in_box, valid, invalid, votes_sum = (
        record.in_box,
        record.valid,
        record.invalid,
        record.votes_sum,
    )
    assert in_box is not None and valid is not None  # _blank_totals_left ran first
    if invalid + valid == in_box:
        if votes_sum == valid:
            return []
        return [
            make_finding(
                "S1",
                fields=("ballots_valid", *record.vote_fields),
                expected=valid,
                actual=votes_sum,
                message=_("The votes add up to {actual}, valid ballots are {expected}."),
                params=(("expected", valid), ("actual", votes_sum)),
            )
        ]
    if invalid + votes_sum == in_box:
        return [
            make_finding(
                "S3",
                fields=("ballots_valid",),
                expected=votes_sum,
                actual=valid,
                message=_(
                    "Valid ballots are {actual}, but invalid ballots plus votes match the "
                    "box, giving {expected}."
                ),
                params=(("expected", votes_sum), ("actual", valid)),
            )
        ]
    return [
        make_finding(
            "S4",
            fields=("ballots_invalid", "ballots_valid", "ballots_in_box"),
            expected=in_box,
            actual=invalid + valid,
            message=_("Invalid plus valid ballots are {actual}, ballots in the box {expected}."),
            params=(("expected", in_box), ("actual", invalid + valid)),
        )
    ]


def plausibility_warnings(record: CompletedRecord) -> list[Finding]:
    """W2, W3, W4 and the all-zero half of W5: warnings on the record alone.
    W1 and the identical-record half of W5 need other stations
    (``turnout_outliers``, ``identical_records``)."""
    return [
        *_invalid_share_warning(record),
        *_one_list_warnings(record),
        *_missing_ballots_warning(record),
        *_all_zero_warning(record),
    ]


def _invalid_share_warning(record: CompletedRecord) -> list[Finding]:
    """W2: invalid ballots at or above 3 % of the box."""
    invalid, in_box = record.invalid, record.in_box
    if not in_box or 100 * invalid < INVALID_WARNING_PERCENT * in_box:
        return []
    return [
        make_finding(
            "W2",
            fields=("ballots_invalid",),
            actual=invalid,
            message=_("{actual} invalid ballots are {share} % of the ballots in the box."),
            params=(("actual", invalid), ("share", str(share_percent(invalid, in_box)))),
        )
    ]


def _one_list_warnings(record: CompletedRecord) -> list[Finding]:
    """W3: one list with 90 % or more of the valid votes."""
    votes_sum = record.votes_sum
    return [
        make_finding(
            "W3",
            fields=(votes_field(number),),
            actual=count,
            message=_("List {ballot_number} has {share} % of the valid votes."),
            params=(
                ("ballot_number", str(number)),
                ("share", str(share_percent(count, votes_sum))),
            ),
        )
        for number, count in record.votes
        if votes_sum > 0 and 100 * count >= ONE_LIST_WARNING_PERCENT * votes_sum
    ]


def _missing_ballots_warning(record: CompletedRecord) -> list[Finding]:
    """W4: more than 2 % of the voters who turned out left no ballot in the box."""
    turned_out, in_box = record.turned_out, record.in_box
    if (
        not turned_out
        or in_box is None
        or 100 * (turned_out - in_box) <= MISSING_BALLOTS_WARNING_PERCENT * turned_out
    ):
        return []
    return [
        make_finding(
            "W4",
            fields=("turned_out", "ballots_in_box"),
            expected=turned_out,
            actual=in_box,
            message=_("{missing} of {expected} voters who turned out left no ballot in the box."),
            params=(("expected", turned_out), ("missing", turned_out - in_box)),
        )
    ]


def _all_zero_warning(record: CompletedRecord) -> list[Finding]:
    """W5, the half the record shows alone: every count is zero."""
    if not (
        record.invalid == 0
        and record.votes_sum == 0
        and record.in_box == 0
        and record.valid == 0
        and record.turned_out in (None, 0)
    ):
        return []
    return [
        make_finding(
            "W5",
            fields=("turned_out", "ballots_in_box", "ballots_invalid", "ballots_valid"),
            message=_("Every count of voters and ballots on this record is zero."),
        )
    ]


def record_not_received(station_code: str) -> Finding:
    """U2, Art. 115: tabulation closes and this station's record never came."""
    return make_finding(
        "U2",
        message=_("The record of station {station} was not received."),
        params=(("station", station_code),),
    )


def station_not_allowed(station_code: str) -> Finding:
    """E3: raised by the service layer when a clerk enters another station."""
    return make_finding(
        "E3",
        message=_("Station {station} is not one you may enter."),
        params=(("station", station_code),),
    )


def commission_finding(code: str, *, note: str = "") -> Finding:
    """R4 (Art. 116), U1 or U4 (Art. 115), as recorded by a commission decision.

    These come from what the commission established, not from the record's
    arithmetic, so the service layer builds them when the decision is entered.
    U4 in particular is found only after the commission has inspected the
    material of a record held with an S finding (Art. 110): ``check_record``
    never raises it. ``note`` is the decision's own words, shown after the
    title.
    """
    noted = {
        "R4": _("A person not in the excerpt of the register was allowed to vote: {note}"),
        "U1": _("Voting was not held, or was suspended and not resumed: {note}"),
        "U4": _(
            "Gross arithmetic errors that cannot be corrected even after inspecting the "
            "material: {note}"
        ),
    }
    if code not in noted:
        raise ValueError(f"{code} is not a finding recorded by a commission decision")
    if not note:
        return make_finding(code)
    return make_finding(code, message=noted[code], params=(("note", note),))


def turnout_outliers(
    stations: Sequence[tuple[str, int | None, int]],
    *,
    z_limit: Fraction = ROBUST_Z_LIMIT,
    ceiling_percent: int = TURNOUT_CEILING_PERCENT,
) -> dict[str, Finding]:
    """W1 for the stations of one municipality: ``(station_code, turned_out, registered)``.

    Turnout is ``turned_out / registered`` as an exact Fraction. A station is
    flagged when its turnout is above ``ceiling_percent`` (95 %), or when its
    robust z-score ``0.6745 * (turnout - median) / MAD`` exceeds ``z_limit``
    (3.5) in absolute value; median and MAD (median absolute deviation) are
    over the municipality's stations. When the MAD is 0 (most stations have
    the same turnout) the z-score is undefined and only the ceiling applies.
    Stations with no registered voters or a blank ``turned_out`` are left out.
    """
    turnouts = {
        code: Fraction(turned_out, registered)
        for code, turned_out, registered in stations
        if turned_out is not None and registered > 0
    }
    if not turnouts:
        return {}
    middle = median(turnouts.values())
    spread = median(abs(turnout - middle) for turnout in turnouts.values())
    findings: dict[str, Finding] = {}
    for code, turned_out, registered in stations:
        turnout = turnouts.get(code)
        if turnout is None or turned_out is None:
            continue
        above_ceiling = 100 * turnout > ceiling_percent
        z_score = ROBUST_Z_FACTOR * (turnout - middle) / spread if spread else None
        if not above_ceiling and (z_score is None or abs(z_score) <= z_limit):
            continue
        findings[code] = make_finding(
            "W1",
            fields=("turned_out", "registered"),
            actual=turned_out,
            message=_(
                "Turnout {turnout} % (municipal median {median} %, robust z-score {z_score})."
            ),
            params=(
                ("turnout", str(share_percent(turned_out, registered))),
                ("median", str(fraction_rounded(100 * Fraction(middle), 2))),
                ("z_score", "" if z_score is None else str(fraction_rounded(z_score, 1))),
            ),
        )
    return findings


def _results_key(record: Record) -> tuple[object, ...]:
    # The part of a record a copied result would repeat: the counts of voters,
    # ballots and votes. The station's own numbers (registered, ballots
    # received) and the board's formalities may legitimately differ.
    return (
        record.turned_out,
        record.ballots_in_box,
        record.ballots_invalid,
        record.ballots_valid,
        tuple(sorted(record.votes, key=lambda pair: pair[0])),
    )


def _all_zero(record: Record) -> bool:
    counts = (
        record.turned_out,
        record.ballots_in_box,
        record.ballots_invalid,
        record.ballots_valid,
    )
    # Two generators rather than one list of every count: almost every
    # record stops at its first count.
    return all(count in (None, 0) for count in counts) and all(
        count in (None, 0) for _number, count in record.votes
    )


def identical_records(records: Mapping[str, Record]) -> dict[str, Finding]:
    """W5 for every station whose results equal another station's.

    Compared: turned_out, ballots_in_box, ballots_invalid, ballots_valid and
    the votes of every list (in any order). All-zero records are left out:
    ``check_record`` already flags each of them, and two empty stations being
    alike says nothing more.
    """
    groups: dict[tuple[object, ...], list[str]] = defaultdict(list)
    for code, record in records.items():
        if not _all_zero(record):
            groups[_results_key(record)].append(code)
    findings: dict[str, Finding] = {}
    for codes in groups.values():
        if len(codes) < 2:
            continue
        for code in codes:
            others = ", ".join(sorted(other for other in codes if other != code))
            findings[code] = make_finding(
                "W5",
                fields=("turned_out", "ballots_in_box", "ballots_invalid", "ballots_valid"),
                message=_("The results are identical to those of station(s) {others}."),
                params=(("others", others),),
            )
    return findings


def compare_entries(first: Record, second: Record) -> Finding | None:
    """W6 (RULES.md section 4): the fields in which two entries differ, or None.

    Votes are compared list by list (``votes[3]``), whatever order they were
    entered in; a list present in one entry only counts as a difference.
    """
    differing: list[str] = [
        field
        for field in ALL_FIELDS
        if field != "votes" and getattr(first, field) != getattr(second, field)
    ]
    first_votes, second_votes = first.votes_by_list(), second.votes_by_list()
    for number in sorted(set(first_votes) | set(second_votes)):
        if first_votes.get(number, -1) != second_votes.get(number, -1):
            differing.append(votes_field(number))
    if len(first.votes) != len(first_votes) or len(second.votes) != len(second_votes):
        # A list entered twice in one entry: the entries cannot be equal.
        differing.append("votes")
    if not differing:
        return None
    return make_finding(
        "W6",
        fields=tuple(differing),
        message=_("The two entries differ in: {fields}."),
        params=(("fields", ", ".join(differing)),),
    )


__all__ = [
    "check_record",
    "commission_finding",
    "compare_entries",
    "identical_records",
    "input_errors",
    "record_not_received",
    "station_not_allowed",
    "turnout_outliers",
    "votes_field",
]
