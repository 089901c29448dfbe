"""Observers and their copies of the records (docs/observers.md).

An observer is accredited for one election, tied to an electoral list or to
an accredited organisation, by the commission's administrator on the
command line (``manage.py accredit_observer``). It submits its copy of a
station's record, with its photo if it has one, through its pages, the API
or a CSV of a parallel tabulation. A copy is checked like a clerk's entry
(E1, E2: refused whole, nothing stored) and compared with the accepted
record (services/copies.py). An observer never sees anything but what it
submitted: nothing here returns a clerk's entry or the accepted record.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, Group, User
from django.db import transaction
from django.utils import timezone

from tabulation.domain.i18n import _
from tabulation.domain.record import COUNT_FIELDS, RECORD_FIELDS
from tabulation.domain.record import Finding as DomainFinding
from tabulation.models import (
    Election,
    ElectoralList,
    Observer,
    ObserverCopy,
    ObserverCopyVote,
    PollingStation,
    RecordScan,
    StationRound,
)
from tabulation.services.audit import audit_append
from tabulation.services.copies import copies_compare_round
from tabulation.services.records import (
    InputRefused,
    NotPermitted,
    ParsedRecord,
    RoundClosed,
    record_input_errors,
    record_parse,
)
from tabulation.services.roles import ROLE_OBSERVER, ensure_roles
from tabulation.services.scans import CheckedScan, scan_attach

SUBMIT_PERMISSION = "tabulation.submit_copy"


def observer_accredit(
    *,
    actor: AbstractBaseUser | None,
    user: User,
    election: Election,
    electoral_list: ElectoralList | None = None,
    organisation: str = "",
    reason: str,
) -> Observer:
    """Make ``user`` an observer of ``election`` for a list or an organisation.

    Refused for a user who already holds another role: an observer who is
    also a clerk or a member would see what observers must not."""
    organisation = organisation.strip()
    if (electoral_list is None) == (not organisation):
        raise ValueError("accredit an observer for exactly one of a list or an organisation")
    if electoral_list is not None and electoral_list.election_id != election.pk:
        raise ValueError(f"{electoral_list} is not on the ballot of {election}")
    if Observer.objects.filter(user=user).exists():
        raise ValueError(f"{user.get_username()} is already an observer")
    if user.is_staff or user.groups.exclude(name=ROLE_OBSERVER).exists():
        raise ValueError(f"{user.get_username()} holds another role; an observer holds none")
    with transaction.atomic():
        ensure_roles()
        observer = Observer.objects.create(
            user=user, election=election, electoral_list=electoral_list, organisation=organisation
        )
        user.groups.add(Group.objects.get(name=ROLE_OBSERVER))
        audit_append(
            actor=actor,
            action="observer.accredit",
            obj=observer,
            after={
                "user": user.get_username(),
                "election": election.slug,
                "list": electoral_list.ballot_number if electoral_list else None,
                "organisation": organisation or None,
            },
            reason=reason,
        )
    return observer


def observer_of(user: User, election: Election) -> Observer:
    """The user's accreditation for ``election``, or NotPermitted."""
    if user.is_active and user.has_perm(SUBMIT_PERMISSION):
        observer = Observer.objects.filter(user=user, election=election).first()
        if observer is not None:
            return observer
    raise NotPermitted(_("You are not an observer of this election."))


def _live_round(station: PollingStation) -> StationRound:
    """The station's live round, locked (a copy goes to the round the
    observer watched: the one not annulled)."""
    round = (
        StationRound.objects.locked()
        .select_related("station__election")
        .filter(station=station)
        .exclude(status=StationRound.Status.ANNULLED)
        .first()
    )
    if round is None:
        raise RoundClosed(_("Station {station} has no round to enter."), station=station.code)
    return round


def copy_parse(
    *, election: Election, values: Mapping[str, object], votes: Iterable[tuple[object, object]]
) -> ParsedRecord:
    """The copy as a record, or InputRefused with its E findings: a copy of
    the paper is checked as the clerk's entry of it is."""
    parsed = record_parse(values=values, votes=votes)
    ballot = ElectoralList.objects.filter(election=election).values_list("ballot_number", flat=True)
    errors = record_input_errors(parsed, ballot)
    if errors:
        raise InputRefused(errors)
    return parsed


def _store_copy(
    *,
    observer: Observer,
    station: PollingStation,
    parsed: ParsedRecord,
    source: str,
    photo: CheckedScan | None,
    client_address: str | None,
) -> ObserverCopy:
    round = _live_round(station)
    user = observer.user
    scan = None
    if photo is not None:
        scan = scan_attach(
            actor=user,
            round=round,
            checked=photo,
            kind=RecordScan.Kind.OBSERVER_COPY,
            client_address=client_address,
        )
    earlier = ObserverCopy.objects.filter(
        observer=observer, round=round, superseded_at__isnull=True
    ).first()
    if earlier is not None:
        # The earlier copy steps aside (and stays): one live copy per round.
        earlier.superseded_at = timezone.now()
        earlier.save(update_fields=["superseded_at"])
    record = parsed.record
    copy = ObserverCopy.objects.create(
        observer=observer,
        round=round,
        source=source,
        scan=scan,
        **{name: getattr(record, name) for name in RECORD_FIELDS},
    )
    ballot_ids = dict(
        ElectoralList.objects.filter(election_id=station.election_id).values_list(
            "ballot_number", "pk"
        )
    )
    ObserverCopyVote.objects.bulk_create(
        ObserverCopyVote(copy=copy, electoral_list_id=ballot_ids[number], votes=count or 0)
        for number, count in record.votes
    )
    # Not the figures: the trail is public, and the copy is compared, not published.
    audit_append(
        actor=user,
        action="copy.submit",
        obj=copy,
        station_code=station.code,
        after={
            "observer": observer.body,
            "round": round.number,
            "source": source,
            "supersedes": earlier.pk if earlier is not None else None,
            "scan": scan.sha256 if scan is not None else None,
        },
        client_address=client_address,
    )
    copies_compare_round(round=round, actor=None)
    return copy


def copy_submit(
    *,
    actor: User,
    station: PollingStation,
    values: Mapping[str, object],
    votes: Iterable[tuple[object, object]],
    source: str = ObserverCopy.Source.FORM,
    photo: CheckedScan | None = None,
    client_address: str | None = None,
) -> ObserverCopy:
    """Store an observer's copy of ``station``'s record (its photo already
    checked by ``scan_check``); compare it if the record is accepted."""
    observer = observer_of(actor, station.election)
    parsed = copy_parse(election=station.election, values=values, votes=votes)
    with transaction.atomic():
        return _store_copy(
            observer=observer,
            station=station,
            parsed=parsed,
            source=source,
            photo=photo,
            client_address=client_address,
        )


# --- A parallel tabulation in bulk: one CSV, one row a station ---------------------


@dataclass(frozen=True)
class RowRefused:
    line: int
    station: str
    findings: tuple[DomainFinding, ...]
    message: str = ""


class CsvRefused(Exception):
    """The file is refused whole: nothing of it is stored."""

    def __init__(self, rows: list[RowRefused]) -> None:
        super().__init__(f"{len(rows)} rows refused")
        self.rows = rows


def _csv_row(row: Mapping[str, str]) -> tuple[dict[str, object], list[tuple[object, object]]]:
    values: dict[str, object] = {name: row.get(name) for name in COUNT_FIELDS}
    values["control_sheet_ok"] = row.get("control_sheet_ok")
    votes: list[tuple[object, object]] = [
        (key.removeprefix("list_"), value)
        for key, value in row.items()
        if key and key.startswith("list_")
    ]
    return values, votes


def _csv_rows(text: str) -> list[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "station" not in reader.fieldnames:
        raise CsvRefused([RowRefused(1, "", (), _("The first line must name the columns."))])
    return [(number, row) for number, row in enumerate(reader, start=2)]


def copies_import_csv(
    *, actor: User, election: Election, text: str, client_address: str | None = None
) -> list[ObserverCopy]:
    """Store every row of a parallel tabulation's CSV as a copy (columns as
    ``stations.csv`` of the open data: ``station``, the record's fields,
    ``list_<ballot number>``), or none of them: every row is checked first."""
    observer = observer_of(actor, election)
    stations = {station.code: station for station in election.stations.all()}
    parsed_rows: list[tuple[PollingStation, ParsedRecord]] = []
    refused: list[RowRefused] = []
    for line, row in _csv_rows(text):
        code = (row.get("station") or "").strip()
        station = stations.get(code)
        if station is None:
            refused.append(RowRefused(line, code, (), _("No such station in this election.")))
            continue
        values, votes = _csv_row(row)
        try:
            parsed_rows.append((station, copy_parse(election=election, values=values, votes=votes)))
        except InputRefused as error:
            refused.append(RowRefused(line, code, error.findings))
    if refused:
        raise CsvRefused(refused)
    with transaction.atomic():
        return [
            _store_copy(
                observer=observer,
                station=station,
                parsed=parsed,
                source=ObserverCopy.Source.CSV,
                photo=None,
                client_address=client_address,
            )
            for station, parsed in parsed_rows
        ]
