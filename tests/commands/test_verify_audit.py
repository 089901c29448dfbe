from collections.abc import Iterator
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from tabulation.services.audit import audit_append

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain() -> list[str]:
    """Five events; returns their hashes."""
    return [
        audit_append(actor=None, action=f"test.event{index}", reason=f"event {index}").hash
        for index in range(1, 6)
    ]


@pytest.fixture
def tamper() -> Iterator:
    """Run raw SQL against the audit table as an attacker with database access.

    On PostgreSQL the append-only trigger is disabled first (inside the test's
    transaction, so it comes back at rollback): this proves that verify_audit
    detects what the trigger would otherwise have stopped.
    """

    def run(*statements: str) -> None:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # Deferred foreign-key checks of the fixture's inserts must
                # run first: PostgreSQL alters no table with pending events.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute(
                    "ALTER TABLE tabulation_auditevent "
                    "DISABLE TRIGGER tabulation_auditevent_append_only"
                )
            for statement in statements:
                cursor.execute(statement)

    yield run


def verify_fails() -> tuple[str, str]:
    err = StringIO()
    with pytest.raises(CommandError) as info:
        call_command("verify_audit", stdout=StringIO(), stderr=err)
    assert info.value.returncode == 1
    return str(info.value), err.getvalue()


def test_an_untouched_chain_passes_and_prints_the_head(chain: list[str]) -> None:
    out = StringIO()

    call_command("verify_audit", stdout=out)

    assert out.getvalue() == f"Audit chain OK: 5 events, head {chain[-1]}\n"


def test_an_empty_chain_passes() -> None:
    out = StringIO()

    call_command("verify_audit", stdout=out)

    assert out.getvalue() == f"Audit chain OK: 0 events, head {'0' * 64}\n"


def test_a_changed_event_fails(chain: list[str], tamper) -> None:
    tamper("UPDATE tabulation_auditevent SET reason = 'nothing happened' WHERE sequence = 3")

    message, err = verify_fails()

    assert message.startswith(
        "Audit chain BROKEN at event 3: event 3 (test.event3) was changed: stored hash "
        f"{chain[2]}, recomputed "
    )
    assert err == f"2 events verified before the break; last good hash {chain[1]}\n"


def test_a_changed_event_with_its_hash_recomputed_still_fails(chain: list[str], tamper) -> None:
    # An attacker who rewrites event 3 and its hash breaks the link to event 4.
    tamper(f"UPDATE tabulation_auditevent SET hash = '{'f' * 64}' WHERE sequence = 3")

    message, _ = verify_fails()

    assert message.startswith("Audit chain BROKEN at event 3:")


def test_a_deleted_event_fails(chain: list[str], tamper) -> None:
    tamper("DELETE FROM tabulation_auditevent WHERE sequence = 2")

    message, _ = verify_fails()

    assert message == (
        "Audit chain BROKEN at event 2: event 2 is missing (the next stored event is 3)"
    )


def test_a_deleted_last_event_fails(chain: list[str], tamper) -> None:
    tamper("DELETE FROM tabulation_auditevent WHERE sequence = 5")

    message, _ = verify_fails()

    assert message == (
        "Audit chain BROKEN at event 5: event 5 is missing: the chain head says 5 events, "
        "4 are stored"
    )


def test_swapped_events_fail(chain: list[str], tamper) -> None:
    tamper(
        "UPDATE tabulation_auditevent SET sequence = 1000 WHERE sequence = 2",
        "UPDATE tabulation_auditevent SET sequence = 2 WHERE sequence = 3",
        "UPDATE tabulation_auditevent SET sequence = 3 WHERE sequence = 1000",
    )

    message, _ = verify_fails()

    assert message.startswith("Audit chain BROKEN at event 2: event 2: previous hash")
