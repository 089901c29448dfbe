"""Loading the Belgrade 2023 demo election (`manage.py load_demo`;
tabulation/demo/README.md): the import service on the demo's CSV set, with
one shared password for the demo accounts. The demo lives here, beside its
files and its night, not among the services the commission uses."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth.models import AbstractBaseUser

from tabulation.services.election_setup import (
    ElectionImportResult,
    election_import,
    election_setup_read,
)

DEMO_SLUG = "belgrade-2023"
DEMO_DIRECTORY = Path(__file__).resolve().parent / DEMO_SLUG
# One password for every demo account: simple to type, printed by load_demo,
# and hashed once (see election_setup._write_accounts). Never use the demo
# outside a demo.
DEMO_PASSWORD = "izbori2023"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    assignment: str


@dataclass(frozen=True)
class DemoLoadResult:
    result: ElectionImportResult
    password: str
    logins: list[DemoLogin]


def demo_election_load(*, actor: AbstractBaseUser | None = None) -> DemoLoadResult:
    """Load the Belgrade 2023 demo election unless it is already loaded.

    New demo accounts get DEMO_PASSWORD. A second call changes nothing.
    """
    result = election_import(directory=DEMO_DIRECTORY, actor=actor, demo_password=DEMO_PASSWORD)
    setup = election_setup_read(directory=DEMO_DIRECTORY)
    logins = [
        DemoLogin(
            username=account.username,
            role=account.role,
            assignment=account.station or account.municipality,
        )
        for account in setup.accounts
    ]
    return DemoLoadResult(result=result, password=DEMO_PASSWORD, logins=logins)
