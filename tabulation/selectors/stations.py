"""Reads for record entry: a clerk's stations with their states, a round's
live entries, and findings as words (docs/entry.md)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Field, QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tabulation.domain.checks import check_record
from tabulation.domain.record import RECORD_FIELDS, Record, make_finding
from tabulation.domain.record import Finding as DomainFinding
from tabulation.domain.rounds import OPEN_FOR_ENTRY, current_round, current_round_by_station
from tabulation.models import (
    AcceptedRecord,
    ClerkAssignment,
    Election,
    ElectoralList,
    Finding,
    PollingStation,
    RecordEntry,
    StationRound,
)
from tabulation.selectors.roles import clerk_may_enter, stations_for_clerk
from tabulation.selectors.tabulation import finding_message_split

# The states a clerk sees: the round's status, with "one entry stored" split
# by whose entry it is (docs/entry.md).
STATE_AWAITING = "awaiting"
STATE_FIRST_ENTRY_DONE = "first_entry_done"
STATE_WAITING_FOR_SECOND_ENTRY = "waiting_for_second_entry"
STATE_ENTRIES_DIFFER = "entries_differ"
STATE_ACCEPTED = "accepted"
STATE_HELD = "held"
STATE_ANNULLED = "annulled"

STATE_LABELS = {
    STATE_AWAITING: _("awaiting entry"),
    STATE_FIRST_ENTRY_DONE: _("first entry done"),
    STATE_WAITING_FOR_SECOND_ENTRY: _("waiting for second entry"),
    STATE_ENTRIES_DIFFER: _("entries differ"),
    STATE_ACCEPTED: _("accepted"),
    STATE_HELD: _("held for the commission"),
    STATE_ANNULLED: _("annulled"),
}

# Round statuses in which clerks may still add, correct or withdraw entries.
OPEN_STATUSES = OPEN_FOR_ENTRY


@dataclass(frozen=True)
class ClerkStation:
    """One station as a clerk sees it."""

    station: PollingStation
    round: StationRound | None
    state: str
    own_entry: RecordEntry | None
    # True when the form is offered: a new entry, or a correction of one's own.
    may_enter: bool

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS[self.state])


def round_current(station: PollingStation) -> StationRound | None:
    """The round that entries go to (``domain.rounds.current_round``)."""
    return current_round(station.rounds.all(), _number_and_status)


def _number_and_status(round: StationRound) -> tuple[int, str]:
    return round.number, round.status


def round_version(round: StationRound) -> str:
    """The state version a form is rendered from: every change of the round
    saves it, and `status_changed_at` is `auto_now`."""
    return round.status_changed_at.isoformat()


def live_entries(round: StationRound) -> list[RecordEntry]:
    """The round's entries not superseded, first entry first."""
    return list(
        round.entries.filter(superseded_at__isnull=True)
        .select_related("clerk")
        .order_by("entry_number")
    )


def clerk_state(
    round: StationRound | None, own_entry: RecordEntry | None, entry_mode: str
) -> tuple[str, bool]:
    """(state, may_enter) for a clerk, from the round status and their entry."""
    if round is None:
        return STATE_AWAITING, False
    status = round.status
    if status == StationRound.Status.ACCEPTED:
        return STATE_ACCEPTED, False
    if status == StationRound.Status.HELD:
        return STATE_HELD, False
    if status == StationRound.Status.ANNULLED:
        return STATE_ANNULLED, False
    if status == StationRound.Status.ENTRIES_DIFFER:
        # Only the two clerks who typed may correct their own entry.
        return STATE_ENTRIES_DIFFER, own_entry is not None
    if status == StationRound.Status.AWAITING:
        return STATE_AWAITING, True
    if own_entry is not None:
        return STATE_FIRST_ENTRY_DONE, True
    return STATE_WAITING_FOR_SECOND_ENTRY, entry_mode == Election.EntryMode.DOUBLE


def clerk_elections_list(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Election]:
    """Elections in which `user` has an assignment."""
    if not user.is_authenticated:
        return Election.objects.none()
    election_ids = ClerkAssignment.objects.filter(user_id=user.pk).values("election_id")
    return Election.objects.filter(pk__in=election_ids).order_by("-date", "slug")


def clerk_station_list(
    user: AbstractBaseUser | AnonymousUser, election: Election
) -> list[ClerkStation]:
    """Every station `user` may enter in `election`, with the state each is in.

    Three queries whatever the number of stations: stations, their rounds,
    and the user's live entries.
    """
    stations = list(stations_for_clerk(user, election))
    rounds = current_round_by_station(
        StationRound.objects.filter(station__in=[station.pk for station in stations]).only(
            "id", "station_id", "number", "status", "status_changed_at"
        ),
        lambda round: (round.station_id, round.number, round.status),
    )
    own = {
        entry.round_id: entry
        for entry in RecordEntry.objects.filter(
            clerk_id=user.pk,
            superseded_at__isnull=True,
            round_id__in=[round.pk for round in rounds.values()],
        )
    }
    rows = []
    for station in stations:
        station_round = rounds.get(station.pk)
        own_entry = own.get(station_round.pk) if station_round is not None else None
        state, may_enter = clerk_state(station_round, own_entry, election.entry_mode)
        rows.append(
            ClerkStation(
                station=station,
                round=station_round,
                state=state,
                own_entry=own_entry,
                may_enter=may_enter,
            )
        )
    return rows


def clerk_station_get(
    user: AbstractBaseUser | AnonymousUser, election_slug: str, station_code: str
) -> ClerkStation | None:
    """The station as `user` sees it, or None when it does not exist or is
    not theirs to enter (E3: the caller answers 404 either way)."""
    station = (
        PollingStation.objects.select_related("election", "municipality")
        .filter(election__slug=election_slug, code=station_code)
        .first()
    )
    if station is None or not clerk_may_enter(user, station):
        return None
    round = round_current(station)
    own_entry = None
    if round is not None:
        own_entry = round.entries.filter(clerk_id=user.pk, superseded_at__isnull=True).first()
    state, may_enter = clerk_state(round, own_entry, station.election.entry_mode)
    return ClerkStation(
        station=station, round=round, state=state, own_entry=own_entry, may_enter=may_enter
    )


def ballot_list(election: Election) -> list[ElectoralList]:
    """The lists in ballot order."""
    return list(ElectoralList.objects.filter(election=election).order_by("ballot_number"))


def entry_votes(entry: RecordEntry | AcceptedRecord) -> dict[int, int]:
    """Votes of an entry (or of an accepted record) by ballot number."""
    return dict(
        entry.votes.order_by("electoral_list__ballot_number").values_list(
            "electoral_list__ballot_number", "votes"
        )
    )


def entry_record(entry: RecordEntry | AcceptedRecord) -> Record:
    """The domain record an entry (or an accepted record) holds."""
    return Record(
        registered=entry.registered,
        ballots_received=entry.ballots_received,
        ballots_unused=entry.ballots_unused,
        turned_out=entry.turned_out,
        ballots_in_box=entry.ballots_in_box,
        ballots_invalid=entry.ballots_invalid,
        ballots_valid=entry.ballots_valid,
        votes=tuple(entry_votes(entry).items()),
        control_sheet_ok=entry.control_sheet_ok,
        board_signatures=entry.board_signatures,
    )


def finding_from_row(row: Finding) -> DomainFinding:
    """A stored finding as the domain's dataclass (for messages and the API)."""
    message, params = finding_message_split(row.message_params)
    return make_finding(
        row.code,
        fields=tuple(row.fields or ()),
        expected=row.expected if isinstance(row.expected, int) else None,
        actual=row.actual if isinstance(row.actual, int) else None,
        message=message,
        params=tuple((str(key), value) for key, value in params.items()),
    )


def ballot_list_names(election_id: int) -> dict[int, str]:
    """Each list's name by its ballot number, for ``field_label`` and
    ``finding_text`` to name ``votes[N]`` as the ballot does."""
    return dict(
        ElectoralList.objects.filter(election_id=election_id).values_list("ballot_number", "name")
    )


def field_label(name: str, *, list_names: Mapping[int, str] | None = None) -> str:
    """A record field as the paper names it, in the reader's language: a
    clerk reads "Invalid ballots", not "ballots_invalid".

    ``votes[N]`` is the list as the ballot prints it, "3. Kreni-Promeni", when
    ``list_names`` (ballot number -> list name, see ``ballot_list_names``)
    holds N; without it, "Votes for list 3".
    """
    if name in RECORD_FIELDS:
        field = RecordEntry._meta.get_field(name)
        assert isinstance(field, Field)  # the record's own columns, never a relation
        return str(field.verbose_name).capitalize()
    if name == "votes":
        return gettext("Votes")
    votes_of = re.fullmatch(r"votes\[(\d+)\]", name)
    if votes_of:
        ballot_number = int(votes_of.group(1))
        list_name = (list_names or {}).get(ballot_number)
        if list_name:
            # The ballot's own notation, "3. Kreni-Promeni", the same in every language.
            return f"{ballot_number}. {list_name}"
        return gettext("Votes for list %(ballot_number)s") % {"ballot_number": ballot_number}
    return name


def finding_text(finding: DomainFinding, *, list_names: Mapping[int, str] | None = None) -> str:
    """The finding in the reader's language: translate the template, then fill it.

    The ``field`` and ``fields`` parameters hold raw field names; they are
    named as the paper names them (``field_label``), and ``votes[N]`` by the
    list's ballot number and name when ``list_names`` is given.
    """
    params = finding.params_dict()
    field = params.get("field")
    if isinstance(field, str):
        params["field"] = field_label(field, list_names=list_names)
    fields = params.get("fields")
    if isinstance(fields, str):
        # The domain joins raw field names with ", " (W6); no name holds a comma.
        params["fields"] = ", ".join(
            field_label(name.strip(), list_names=list_names) for name in fields.split(",")
        )
    try:
        return gettext(finding.message).format(**params)
    except (KeyError, IndexError, ValueError):
        # A translation with a broken placeholder must not break the page.
        return finding.message.format(**params)


def finding_row_text(row: Finding, *, list_names: Mapping[int, str] | None = None) -> str:
    """A stored finding in plain words, in the reader's language (``list_names``
    as for ``finding_text``)."""
    return finding_text(finding_from_row(row), list_names=list_names)


def entry_findings(entry: RecordEntry, station: PollingStation) -> tuple[DomainFinding, ...]:
    """The findings of an entry, recomputed from what is stored (so a retried
    request answers with the same findings), plus the W6 it caused, if any."""
    ballot = ElectoralList.objects.filter(election_id=station.election_id).values_list(
        "ballot_number", flat=True
    )
    findings = check_record(
        entry_record(entry), registered_in_register=station.registered, ballot=frozenset(ballot)
    )
    w6 = entry.findings.filter(code="W6").order_by("-raised_at", "-pk").first()
    if w6 is not None:
        findings = (*findings, finding_from_row(w6))
    return findings
