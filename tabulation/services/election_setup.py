"""Import an election's setup from a folder of CSV files (docs/import-format.md).

Two steps: `election_setup_read` reads the files and has the domain parse
and check them (tabulation/domain/election_setup/), which returns the whole
setup or every problem found (file and line each); only then does
`election_import` write, all in one transaction with one audit event.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import transaction
from django.utils import timezone

from tabulation.domain.election_setup.parse import election_setup_parse
from tabulation.domain.election_setup.rows import (
    FILES,
    AccountRow,
    ElectionImportError,
    ElectionSetup,
    ImportProblem,
)
from tabulation.domain.roles import ROLE_CLERK, ROLES, STAFF_ROLES
from tabulation.models import (
    Candidate,
    ClerkAssignment,
    Election,
    ElectoralList,
    Municipality,
    PollingStation,
    StationRound,
)
from tabulation.services.audit import audit_append
from tabulation.services.roles import ensure_roles


@dataclass(frozen=True)
class ElectionImportResult:
    slug: str
    # "created", "unchanged" (already loaded with the same data) or "dry-run"
    outcome: str
    counts: dict[str, int]
    warnings: list[ImportProblem]
    election_id: int | None = None


def election_setup_read(*, directory: Path) -> ElectionSetup:
    """Read and check every file; raise ElectionImportError listing every problem."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ElectionImportError([ImportProblem(str(directory), None, "not a folder")])
    files = {
        name: (directory / name).read_bytes() for name in FILES if (directory / name).is_file()
    }
    # A deadline typed without a time zone is the commission's local time.
    return election_setup_parse(files, local_timezone=timezone.get_current_timezone())


# --- Writing ---------------------------------------------------------------------


def _split_name(full_name: str) -> tuple[str, str]:
    first, _, last = full_name.rpartition(" ")
    return (first, last) if first else (last, "")


def election_import(
    *,
    directory: Path,
    actor: AbstractBaseUser | None = None,
    dry_run: bool = False,
    demo_password: str | None = None,
    client_address: str | None = None,
) -> ElectionImportResult:
    """Import the election in `directory` (docs/import-format.md).

    Safe to run twice: when the election (by slug) is already loaded with the
    same data, nothing is written and the outcome is "unchanged". When it is
    loaded with different data, the import refuses (ElectionImportError)
    rather than guess what an edit means; see the docs for why.

    Accounts: new accounts get the password from the `password` column, else
    `demo_password` if given, else an unusable password. Existing accounts
    keep theirs.
    """
    setup = election_setup_read(directory=Path(directory))
    counts = setup.counts()
    fingerprint = setup.fingerprint()
    slug = setup.election.slug

    with transaction.atomic():
        # Checked inside the write transaction: two imports of the same
        # election at once cannot both create it (and the slug is unique).
        existing = Election.objects.filter(slug=slug).first()
        if existing is not None:
            return _already_loaded(existing, setup, fingerprint, counts)
        if dry_run:
            return ElectionImportResult(
                slug=slug, outcome="dry-run", counts=counts, warnings=setup.warnings
            )
        election = _write(setup, fingerprint=fingerprint, demo_password=demo_password)
        audit_append(
            actor=actor,
            action="election.import",
            obj=election,
            after={"slug": slug, "counts": counts, "fingerprint": fingerprint},
            reason=f"imported from {Path(directory).name}",
            client_address=client_address,
        )
    return ElectionImportResult(
        slug=slug,
        outcome="created",
        counts=counts,
        warnings=setup.warnings,
        election_id=election.pk,
    )


def _already_loaded(
    existing: Election,
    setup: ElectionSetup,
    fingerprint: dict[str, str],
    counts: dict[str, int],
) -> ElectionImportResult:
    if existing.setup_fingerprint == fingerprint:
        return ElectionImportResult(
            slug=existing.slug,
            outcome="unchanged",
            counts=counts,
            warnings=setup.warnings,
            election_id=existing.pk,
        )
    changed = [
        name for name in FILES if existing.setup_fingerprint.get(name) != fingerprint.get(name)
    ]
    # Refusing is the safe choice: an edited file may rename, renumber or
    # drop a station, and entries, findings and the audit trail refer to the
    # rows as imported. See docs/import-format.md.
    raise ElectionImportError(
        [
            ImportProblem(
                "election.csv",
                2,
                f'election "{existing.slug}" is already loaded with different data '
                f"(changed: {', '.join(changed)}); the import never changes a loaded "
                "election: import it under a new slug, or start from an empty database "
                "for a rehearsal",
            )
        ]
    )


def _write(
    setup: ElectionSetup, *, fingerprint: dict[str, str], demo_password: str | None
) -> Election:
    row = setup.election
    election = Election.objects.create(
        slug=row.slug,
        name=row.name,
        date=row.date,
        seats=row.seats,
        threshold_percent=row.threshold_percent,
        minority_bonus_percent=row.minority_bonus_percent,
        entry_mode=row.entry_mode,
        entry_deadline=row.entry_deadline,
        setup_fingerprint=fingerprint,
    )
    municipalities = {
        municipality.code: municipality
        for municipality in Municipality.objects.bulk_create(
            Municipality(election=election, code=m.code, name=m.name, registered=m.registered)
            for m in setup.municipalities
        )
    }
    stations = {
        station.code: station
        for station in PollingStation.objects.bulk_create(
            (
                PollingStation(
                    election=election,
                    municipality=municipalities[s.municipality],
                    code=s.code,
                    number=s.number,
                    name=s.name,
                    address=s.address,
                    registered=s.registered,
                )
                for s in setup.stations
            ),
            batch_size=500,
        )
    }
    # Every station starts in round 1, awaiting its record, so that "record
    # not received" (U2) is a query for rounds still awaiting.
    StationRound.objects.bulk_create(
        (StationRound(station=station, number=1) for station in stations.values()),
        batch_size=500,
    )
    lists = {
        electoral_list.ballot_number: electoral_list
        for electoral_list in ElectoralList.objects.bulk_create(
            ElectoralList(
                election=election,
                ballot_number=lst.ballot_number,
                name=lst.name,
                ballot_carrier=lst.ballot_carrier,
                minority=lst.minority,
                colour=lst.colour,
            )
            for lst in setup.lists
        )
    }
    Candidate.objects.bulk_create(
        (
            Candidate(
                electoral_list=lists[c.ballot_number],
                position=c.position,
                name=c.name,
                withdrawn=c.withdrawn,
            )
            for c in setup.candidates
        ),
        batch_size=1000,
    )
    _write_accounts(setup, election, stations, municipalities, demo_password)
    return election


def _write_accounts(
    setup: ElectionSetup,
    election: Election,
    stations: dict[str, PollingStation],
    municipalities: dict[str, Municipality],
    demo_password: str | None,
) -> None:
    ensure_roles()
    user_model = get_user_model()
    groups = {group.name: group for group in Group.objects.filter(name__in=ROLES)}
    first_rows: dict[str, AccountRow] = {}
    for account in setup.accounts:
        first_rows.setdefault(account.username, account)
    existing = {
        user.get_username(): user
        for user in user_model.objects.filter(username__in=list(first_rows))
    }
    # Password hashing is slow on purpose (PBKDF2): hash a shared demo
    # password once, not once per account.
    demo_hash = make_password(demo_password) if demo_password else None
    new_users = []
    for username, account in first_rows.items():
        if username in existing:
            continue
        first_name, last_name = _split_name(account.full_name)
        if account.password:
            password = make_password(account.password)
        else:
            password = demo_hash or make_password(None)
        new_users.append(
            user_model(
                username=username,
                first_name=first_name[:150],
                last_name=last_name[:150],
                is_staff=account.role in STAFF_ROLES,
                password=password,
            )
        )
    user_model.objects.bulk_create(new_users)
    # Existing accounts keep their password; a staff role needs the admin site.
    staff_usernames = [
        username
        for username, account in first_rows.items()
        if username in existing and account.role in STAFF_ROLES
    ]
    user_model.objects.filter(username__in=staff_usernames).update(is_staff=True)
    users = {
        user.get_username(): user
        for user in user_model.objects.filter(username__in=list(first_rows))
    }
    memberships = user_model.groups.through
    memberships.objects.bulk_create(
        (
            memberships(user_id=users[username].pk, group_id=groups[account.role].pk)
            for username, account in first_rows.items()
        ),
        ignore_conflicts=True,
    )
    ClerkAssignment.objects.bulk_create(
        ClerkAssignment(
            election=election,
            user=users[account.username],
            station=stations.get(account.station) if account.station else None,
            municipality=(
                municipalities.get(account.municipality) if account.municipality else None
            ),
        )
        for account in setup.accounts
        if account.role == ROLE_CLERK
    )
