import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connection, connections, transaction

from tabulation.models import (
    GENESIS_HASH,
    AuditEvent,
    AuditHead,
    ImmutableRowError,
    ResultSnapshot,
)
from tabulation.selectors.audit import audit_chain_verify, audit_head
from tabulation.services.audit import audit_append, stored_event_hash
from tabulation.services.election_setup import election_import
from tabulation.services.roles import clerk_assign
from tests.factories import (
    PollingStationFactory,
    ResultSnapshotFactory,
    StationRoundFactory,
    UserFactory,
)
from tests.services.import_helpers import GOOD_SET


@pytest.mark.django_db
def test_events_are_numbered_one_two_three_and_chained() -> None:
    first = audit_append(actor=None, action="test.first")
    second = audit_append(actor=None, action="test.second")
    third = audit_append(actor=None, action="test.third")

    assert [first.sequence, second.sequence, third.sequence] == [1, 2, 3]
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert AuditHead.objects.get().sequence == 3
    assert AuditHead.objects.get().hash == third.hash


@pytest.mark.django_db
def test_hash_is_hmac_sha256_of_the_documented_canonical_json() -> None:
    user = UserFactory(username="member1")
    event = audit_append(
        actor=user,
        action="decision.take",
        object_type="tabulation.decision",
        object_id="7",
        before={"status": "held"},
        after={"status": "accepted", "share": Decimal("3.50"), "naziv": "Звездара"},
        reason="Ispravka očigledne greške",
        client_address="192.0.2.4",
    )
    event.refresh_from_db()
    occurred_at = event.occurred_at.astimezone(UTC)

    expected = json.dumps(
        {
            "sequence": 1,
            "occurred_at": occurred_at.isoformat(timespec="microseconds"),
            "actor_id": user.pk,
            "actor_username": "member1",
            "action": "decision.take",
            "object_type": "tabulation.decision",
            "object_id": "7",
            "station_code": "",
            "before": {"status": "held"},
            "after": {"status": "accepted", "share": "3.50", "naziv": "Звездара"},
            "reason": "Ispravka očigledne greške",
            "client_address": "192.0.2.4",
            "prev_hash": GENESIS_HASH,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode("utf-8")
    key = settings.AUDIT_HMAC_KEY.encode("utf-8")
    assert event.hash == hmac.new(key, expected, hashlib.sha256).hexdigest()
    # Not the plain SHA-256 anyone could recompute without the key.
    assert event.hash != hashlib.sha256(expected).hexdigest()
    assert stored_event_hash(event) == event.hash
    assert event.occurred_at.tzinfo is not None
    assert event.occurred_at <= datetime.now(UTC)


@pytest.mark.django_db
def test_station_code_is_stored_for_a_station_and_what_belongs_to_it() -> None:
    station = PollingStationFactory(code="zemun-017")
    round_ = StationRoundFactory(station=station)

    assert audit_append(actor=None, action="station.x", obj=station).station_code == "zemun-017"
    assert audit_append(actor=None, action="round.x", obj=round_).station_code == "zemun-017"
    assert audit_append(actor=None, action="other.x").station_code == ""


@pytest.mark.django_db
def test_floats_are_refused() -> None:
    with pytest.raises(TypeError, match="floats"):
        audit_append(actor=None, action="test.float", after={"turnout": 58.41})
    assert AuditEvent.objects.count() == 0


@pytest.mark.django_db
def test_an_anonymous_actor_is_stored_as_no_user() -> None:
    from django.contrib.auth.models import AnonymousUser

    event = audit_append(actor=AnonymousUser(), action="test.anonymous")

    assert event.actor is None
    assert event.actor_username == ""


@pytest.mark.django_db
def test_each_service_call_writes_one_event() -> None:
    election_import(directory=GOOD_SET)
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["election.import"]

    member = UserFactory(username="staff-1")
    clerk = UserFactory(username="new-clerk")
    station = election_station("zemun-001")
    clerk_assign(actor=member, user=clerk, election=station.election, station=station)
    # The same assignment again is no change and no event.
    clerk_assign(actor=member, user=clerk, election=station.election, station=station)

    events = list(AuditEvent.objects.order_by("sequence"))
    assert [event.action for event in events] == ["election.import", "clerk.assign"]
    assert events[1].actor_username == "staff-1"
    assert events[1].station_code == "zemun-001"
    assert audit_chain_verify().ok


def election_station(code: str):
    from tabulation.models import PollingStation

    return PollingStation.objects.select_related("election").get(code=code)


@pytest.mark.django_db
def test_an_event_is_never_changed_or_deleted_through_the_orm() -> None:
    event = audit_append(actor=None, action="test.keep")

    event.reason = "changed"
    with pytest.raises(ImmutableRowError):
        event.save()
    with pytest.raises(ImmutableRowError):
        event.delete()
    with pytest.raises(ImmutableRowError):
        AuditEvent.objects.filter(pk=event.pk).update(reason="changed")
    with pytest.raises(ImmutableRowError):
        AuditEvent.objects.all().delete()


@pytest.mark.django_db
def test_audit_head_gives_count_and_hash_of_the_last_event() -> None:
    assert (audit_head().count, audit_head().head_hash) == (0, GENESIS_HASH)
    audit_append(actor=None, action="test.one")
    last = audit_append(actor=None, action="test.two")

    assert (audit_head().count, audit_head().head_hash) == (2, last.hash)


@pytest.mark.django_db
def test_a_missing_head_row_is_rebuilt_from_the_last_event() -> None:
    audit_append(actor=None, action="test.one")
    AuditHead.objects.all().delete()

    event = audit_append(actor=None, action="test.two")

    assert event.sequence == 2
    assert audit_chain_verify().ok


@pytest.mark.parametrize("statement", ["UPDATE", "DELETE"])
def test_postgresql_trigger_refuses_raw_update_and_delete(require_postgresql, statement) -> None:
    audit_append(actor=None, action="test.protected")
    sql = {
        "UPDATE": "UPDATE tabulation_auditevent SET reason = 'tampered'",
        "DELETE": "DELETE FROM tabulation_auditevent",
    }[statement]

    with (
        pytest.raises(DatabaseError, match=f"append-only: {statement} refused"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert AuditEvent.objects.get().reason == ""


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_writers_leave_one_unbroken_chain() -> None:
    writers = 20
    start = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(index: int) -> None:
        try:
            start.wait(timeout=30)
            with transaction.atomic():
                audit_append(actor=None, action="test.concurrent", object_id=str(index))
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(index,)) for index in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert sorted(AuditEvent.objects.values_list("sequence", flat=True)) == list(range(1, 21))
    assert sorted(AuditEvent.objects.values_list("object_id", flat=True)) == sorted(
        str(index) for index in range(writers)
    )
    verification = audit_chain_verify()
    assert verification.ok, verification.problem
    assert verification.count == writers


@pytest.mark.django_db
def test_the_key_comes_from_the_settings(settings) -> None:
    settings.AUDIT_HMAC_KEY = "first-key"
    first = audit_append(actor=None, action="test.keyed")
    settings.AUDIT_HMAC_KEY = "second-key"

    assert stored_event_hash(first) != first.hash
    assert stored_event_hash(first, key=b"first-key") == first.hash
    assert not audit_chain_verify().ok


@pytest.mark.django_db
def test_without_a_key_nothing_is_written(settings) -> None:
    settings.AUDIT_HMAC_KEY = ""

    with pytest.raises(ImproperlyConfigured, match="AUDIT_HMAC_KEY"):
        audit_append(actor=None, action="test.unkeyed")
    assert AuditEvent.objects.count() == 0


def settings_load(**env: str) -> subprocess.CompletedProcess[str]:
    environment = {name: value for name, value in os.environ.items() if name != "AUDIT_HMAC_KEY"}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); "
            "from django.conf import settings; print(settings.AUDIT_HMAC_KEY)",
        ],
        cwd=settings.BASE_DIR,
        env={**environment, "DJANGO_SETTINGS_MODULE": "commission.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_key_is_required_when_debug_is_off() -> None:
    missing = settings_load(DEBUG="false", SECRET_KEY="x" * 50)
    given = settings_load(DEBUG="false", SECRET_KEY="x" * 50, AUDIT_HMAC_KEY="k" * 64)
    development = settings_load(DEBUG="true")

    assert missing.returncode != 0
    assert "AUDIT_HMAC_KEY must be set when DEBUG is off." in missing.stderr
    assert given.returncode == 0, given.stderr
    assert given.stdout.strip() == "k" * 64
    assert development.stdout.strip() == "embedded-default-audit-key-not-secret"


# --- SQLite: the same append-only rule in the database (migration 0007) ----------


@pytest.fixture
def require_sqlite(db: None) -> None:
    if connection.vendor != "sqlite":
        pytest.skip(f"a SQLite trigger; the database is {connection.vendor}")


def raw(sql: str) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)


@pytest.mark.parametrize(
    ("sql", "refused"),
    [
        ("UPDATE tabulation_auditevent SET reason = 'tampered' WHERE sequence = 2", "UPDATE"),
        ("UPDATE tabulation_auditevent SET reason = 'tampered'", "UPDATE"),
        ("DELETE FROM tabulation_auditevent WHERE sequence = 3", "DELETE"),
        ("DELETE FROM tabulation_auditevent WHERE sequence = 2", "DELETE"),
    ],
)
def test_sqlite_trigger_refuses_raw_update_and_delete(require_sqlite, sql, refused) -> None:
    events = [audit_append(actor=None, action=f"test.protected{index}") for index in (1, 2, 3)]

    with pytest.raises(
        DatabaseError, match=f"tabulation_auditevent is append-only: {refused} refused"
    ):
        raw(sql)
    assert [(event.sequence, event.reason, event.hash) for event in events] == list(
        AuditEvent.objects.values_list("sequence", "reason", "hash")
    )
    assert audit_chain_verify().ok


@pytest.mark.parametrize(
    ("sql", "refused"),
    [
        ("UPDATE tabulation_resultsnapshot SET kind = 'official'", "UPDATE"),
        ("DELETE FROM tabulation_resultsnapshot WHERE version = 2", "DELETE"),
    ],
)
def test_sqlite_trigger_refuses_raw_changes_of_snapshots(require_sqlite, sql, refused) -> None:
    first = ResultSnapshotFactory(version=1)
    ResultSnapshotFactory(election=first.election, version=2)

    with pytest.raises(
        DatabaseError, match=f"tabulation_resultsnapshot is append-only: {refused} refused"
    ):
        raw(sql)
    assert list(ResultSnapshot.objects.values_list("version", "kind")) == [
        (1, "provisional"),
        (2, "provisional"),
    ]


def test_sqlite_trigger_lets_a_flush_empty_the_tables(require_sqlite) -> None:
    # Django's flush (and the test suite between transactional tests) empties
    # a table with DELETE FROM, oldest row first: the one DELETE let through.
    for index in (1, 2, 3):
        audit_append(actor=None, action=f"test.flushed{index}")
    ResultSnapshotFactory(version=1)

    raw("DELETE FROM tabulation_auditevent")
    raw("DELETE FROM tabulation_resultsnapshot")

    assert AuditEvent.objects.count() == 0
    assert ResultSnapshot.objects.count() == 0
