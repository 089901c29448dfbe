import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from tabulation.models import AuditEvent, ResultSnapshot
from tabulation.selectors.audit import audit_head
from tabulation.services.audit import HASHED_FIELDS, audit_append, canonical_json, format_timestamp
from tests.factories import ElectionFactory, ResultSnapshotFactory

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
    """Run raw SQL against the audit and snapshot tables as an attacker with
    database access.

    The append-only triggers are put out of the way first, as a superuser of
    PostgreSQL or the owner of the SQLite file can: DISABLE TRIGGER USER on
    PostgreSQL, DROP TRIGGER on SQLite. Both happen inside the test's
    transaction, so the triggers come back at rollback. This proves that
    verify_audit detects what the triggers would otherwise have stopped.
    """

    def run(*statements: str) -> None:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # Deferred foreign-key checks of the fixture's inserts must
                # run first: PostgreSQL alters no table with pending events.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                for table in PROTECTED_TABLES:
                    cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            else:
                for table in PROTECTED_TABLES:
                    for operation in ("update", "delete"):
                        cursor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only_{operation}")
            for statement in statements:
                cursor.execute(statement)

    yield run


PROTECTED_TABLES = ("tabulation_auditevent", "tabulation_resultsnapshot")


def verify_fails(*args: str) -> tuple[str, str]:
    err = StringIO()
    with pytest.raises(CommandError) as info:
        call_command("verify_audit", *args, stdout=StringIO(), stderr=err)
    assert info.value.returncode == 1
    return str(info.value), err.getvalue()


def verify_passes(*args: str) -> str:
    out = StringIO()
    call_command("verify_audit", *args, stdout=out)
    return out.getvalue()


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
        "Audit chain BROKEN at event 3: event 3 (test.event3) was changed or not written "
        f"with the audit key: stored hash {chain[2]}, recomputed "
    )
    assert "\n" not in message
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


# --- Forgeries by someone with write access to the database -----------------------
#
# Each attack is written the way such a person would do it: raw SQL, with the
# append-only triggers put out of the way (`tamper`), recomputing hashes with
# the documented canonical JSON. What they do not have is the HMAC key, which
# lives in the environment, nor the heads already published.

SLUG = "beograd-2023"


@pytest.fixture
def published() -> list[tuple[int, str]]:
    """Twenty events; after every fifth a result snapshot publishes the head
    (v1 to v4), as tabulation does: the "results.snapshot" event, then the
    snapshot naming it. Returns the published heads as (count, hash)."""
    election = ElectionFactory(slug=SLUG)
    heads = []
    for index in range(1, 21):
        audit_append(actor=None, action=f"test.event{index}", reason=f"event {index}")
        if index % 5 == 0:
            head = audit_head()
            ResultSnapshotFactory(
                election=election,
                version=index // 5,
                audit_head=head.head_hash,
                audit_count=head.count,
                payload=document(index // 5, head.count, head.head_hash),
            )
            heads.append((head.count, head.head_hash))
    return heads


def document(version: int, count: int, head_hash: str) -> dict:
    """The parts of a published results.json that name the audit head."""
    return {
        "election": {"slug": SLUG},
        "version": version,
        "audit_head": head_hash,
        "audit_count": count,
    }


def heads_file(tmp_path: Path, heads: list[tuple[int, str]]) -> Path:
    """What an observer saved while the results came out: one line per version."""
    path = tmp_path / "heads.txt"
    lines = [
        f"{count} {head_hash} {SLUG} v{version}"
        for version, (count, head_hash) in enumerate(heads, start=1)
    ]
    path.write_text(
        "# saved from /api/v1/elections/beograd-2023/snapshots/<v>/\n" + "\n".join(lines) + "\n"
    )
    return path


def sha256_hex(data: bytes) -> str:
    """The unkeyed hash an attacker can compute (the format before the key)."""
    return hashlib.sha256(data).hexdigest()


def hmac_with(key: str) -> Callable[[bytes], str]:
    return lambda data: hmac.new(key.encode("utf-8"), data, hashlib.sha256).hexdigest()


def forge_cut_last_event(tamper) -> None:
    """Forgery 1: delete the last event and move the head row back to the one before."""
    last, before = AuditEvent.objects.order_by("-sequence")[:2]
    tamper(
        f"DELETE FROM tabulation_auditevent WHERE sequence = {last.sequence}",
        f"UPDATE tabulation_audithead SET sequence = {before.sequence}, hash = '{before.hash}' "
        "WHERE id = 1",
    )


def forge_rewrite(tamper, sequence: int, reason: str, digest: Callable[[bytes], str]) -> None:
    """Forgery 2: change the reason of event `sequence`, then recompute its hash
    and every later one, and the head row, with `digest` over the documented
    canonical JSON: a chain whose every link holds."""
    statements = []
    prev_hash = AuditEvent.objects.get(sequence=sequence).prev_hash
    for event in AuditEvent.objects.filter(sequence__gte=sequence).order_by("sequence"):
        data = {name: getattr(event, name) for name in HASHED_FIELDS}
        if event.sequence == sequence:
            data["reason"] = reason
        data["occurred_at"] = format_timestamp(event.occurred_at)
        data["prev_hash"] = prev_hash
        new_hash = digest(canonical_json(data))
        statements.append(
            f"UPDATE tabulation_auditevent SET reason = '{data['reason']}', "
            f"prev_hash = '{prev_hash}', hash = '{new_hash}' WHERE sequence = {event.sequence}"
        )
        prev_hash = new_hash
    last = AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True)[0]
    statements.append(
        f"UPDATE tabulation_audithead SET sequence = {last}, hash = '{prev_hash}' WHERE id = 1"
    )
    tamper(*statements)


def stored_hash(sequence: int) -> str:
    return AuditEvent.objects.get(sequence=sequence).hash


def test_forgery_1_a_cut_tail_is_caught_by_the_snapshot_that_published_it(
    published: list[tuple[int, str]], tamper
) -> None:
    forge_cut_last_event(tamper)

    message, err = verify_fails()

    # The chain that is left is whole; the head that v4 published is gone.
    assert err == ""
    assert message == (
        f"Published head BROKEN: snapshot {SLUG} v4 published event 20 with hash "
        f"{published[3][1]}, but the trail ends at event 19"
    )


def test_forgery_1_with_the_snapshot_removed_too_is_caught_by_an_observer(
    published: list[tuple[int, str]], tamper, tmp_path: Path
) -> None:
    saved = heads_file(tmp_path, published)
    forge_cut_last_event(tamper)
    tamper("DELETE FROM tabulation_resultsnapshot WHERE version = 4")

    # The database alone cannot tell any more...
    assert verify_passes().startswith("Audit chain OK: 19 events")
    # ...the heads an observer saved can.
    message, _ = verify_fails("--heads", str(saved))

    assert message == (
        f"Observer's head BROKEN: {saved} line 5 published event 20 with hash "
        f"{published[3][1]}, but the trail ends at event 19"
    )


def test_forgery_2_a_rewritten_event_without_the_key_is_caught(
    published: list[tuple[int, str]], tamper
) -> None:
    original_14 = stored_hash(14)
    forge_rewrite(tamper, 14, "nothing happened", sha256_hex)

    message, err = verify_fails()

    lines = message.splitlines()
    assert lines[0].startswith(
        "Audit chain BROKEN at event 14: event 14 (test.event14) was changed or not written "
        f"with the audit key: stored hash {stored_hash(14)}, recomputed "
    )
    assert stored_hash(14) != original_14
    assert lines[1:] == [
        f"Published head BROKEN: snapshot {SLUG} v{version} published event {count} with hash "
        f"{head_hash}, but the stored event {count} has hash {stored_hash(count)}"
        for version, (count, head_hash) in enumerate(published, start=1)
        if count >= 14
    ]
    assert len(lines) == 3
    assert err == f"13 events verified before the break; last good hash {stored_hash(13)}\n"


def test_forgery_2_by_someone_with_the_key_is_caught_by_the_published_heads(
    published: list[tuple[int, str]], tamper, settings
) -> None:
    # An insider who holds the key writes valid HMACs...
    forge_rewrite(tamper, 14, "nothing happened", hmac_with(settings.AUDIT_HMAC_KEY))

    message, err = verify_fails()

    # ...so every link holds, but v3 and v4 published other hashes.
    assert err == ""
    assert message.splitlines() == [
        f"Published head BROKEN: snapshot {SLUG} v3 published event 15 with hash "
        f"{published[2][1]}, but the stored event 15 has hash {stored_hash(15)}",
        f"Published head BROKEN: snapshot {SLUG} v4 published event 20 with hash "
        f"{published[3][1]}, but the stored event 20 has hash {stored_hash(20)}",
    ]


def test_forgery_2_with_the_key_and_the_snapshots_rewritten_is_caught_by_an_observer(
    published: list[tuple[int, str]], tamper, settings, tmp_path: Path
) -> None:
    saved = heads_file(tmp_path, published)
    forge_rewrite(tamper, 14, "nothing happened", hmac_with(settings.AUDIT_HMAC_KEY))
    statements = []
    for version, count in ((3, 15), (4, 20)):
        new = stored_hash(count)
        payload = json.dumps(document(version, count, new))
        statements.append(
            f"UPDATE tabulation_resultsnapshot SET audit_head = '{new}', payload = '{payload}' "
            f"WHERE version = {version}"
        )
    tamper(*statements)

    assert verify_passes().startswith("Audit chain OK: 20 events")
    message, _ = verify_fails("--heads", str(saved))

    assert message.splitlines() == [
        f"Observer's head BROKEN: {saved} line 4 published event 15 with hash "
        f"{published[2][1]}, but the stored event 15 has hash {stored_hash(15)}",
        f"Observer's head BROKEN: {saved} line 5 published event 20 with hash "
        f"{published[3][1]}, but the stored event 20 has hash {stored_hash(20)}",
    ]


def test_a_snapshot_whose_stored_head_no_longer_matches_its_document_fails(
    published: list[tuple[int, str]], tamper
) -> None:
    tamper("UPDATE tabulation_resultsnapshot SET audit_count = 14 WHERE version = 3")

    message, _ = verify_fails()

    head_hash = published[2][1]
    assert message.splitlines() == [
        f"Snapshot BROKEN: snapshot {SLUG} v3 stores the head (event 14, {head_hash}) but its "
        f"document published (event 15, {head_hash})",
        f"Published head BROKEN: snapshot {SLUG} v3 published event 14 with hash {head_hash}, "
        f"but the stored event 14 has hash {stored_hash(14)}",
    ]


def test_a_removed_snapshot_fails(published: list[tuple[int, str]], tamper) -> None:
    tamper("DELETE FROM tabulation_resultsnapshot WHERE version = 2")

    message, _ = verify_fails()

    assert message == f"Snapshot BROKEN: snapshot {SLUG} v2 missing (the next stored version is v3)"


def test_a_chain_recomputed_with_the_wrong_key_fails(tamper, settings) -> None:
    settings.AUDIT_HMAC_KEY = "the-commission-s-production-key"
    for index in range(1, 6):
        audit_append(actor=None, action=f"test.event{index}", reason=f"event {index}")
    # The attacker recomputes the whole chain with the key they could find:
    # the development default, which is in the source.
    forge_rewrite(tamper, 1, "nothing happened", hmac_with("embedded-default-audit-key-not-secret"))

    message, err = verify_fails()

    assert message.startswith(
        "Audit chain BROKEN at event 1: event 1 (test.event1) was changed or not written "
        "with the audit key"
    )
    assert err == f"0 events verified before the break; last good hash {'0' * 64}\n"


def test_an_intact_chain_checked_with_another_key_fails(chain: list[str], settings) -> None:
    settings.AUDIT_HMAC_KEY = "not-the-key-the-chain-was-written-with"

    message, _ = verify_fails()

    assert message.startswith("Audit chain BROKEN at event 1: event 1 (test.event1) was changed")


def test_an_untouched_chain_passes_with_the_published_heads(
    published: list[tuple[int, str]],
) -> None:
    assert verify_passes() == (
        f"Audit chain OK: 20 events, head {published[-1][1]}\n"
        "Heads OK: 4 published by result snapshots, 0 saved by observers; "
        "all are events of the trail\n"
    )


def test_an_observer_s_heads_that_match_pass(
    published: list[tuple[int, str]], tmp_path: Path
) -> None:
    saved = heads_file(tmp_path, published)

    assert verify_passes("--heads", str(saved)) == (
        f"Audit chain OK: 20 events, head {published[-1][1]}\n"
        "Heads OK: 4 published by result snapshots, 4 saved by observers; "
        "all are events of the trail\n"
    )


def test_an_observer_s_heads_that_do_not_match_fail(
    published: list[tuple[int, str]], tmp_path: Path
) -> None:
    saved = tmp_path / "heads.txt"
    saved.write_text(
        f"{published[0][0]} {published[0][1]}\n"
        f"15 {'a' * 64}\n"
        f"21 {published[3][1].upper()} seen at 23:10\n"
        "22 not-a-hash\n"
    )

    message, _ = verify_fails("--heads", str(saved))

    assert message.splitlines() == [
        f"Observer's heads unreadable: --heads {saved} line 4: not 'sequence hash': "
        "'22 not-a-hash'",
        f"Observer's head BROKEN: {saved} line 2 published event 15 with hash {'a' * 64}, "
        f"but the stored event 15 has hash {published[2][1]}",
        f"Observer's head BROKEN: {saved} line 3 published event 21 with hash "
        f"{published[3][1]}, but the trail ends at event 20",
    ]


def test_the_published_folder_is_read_as_heads(
    published: list[tuple[int, str]], tamper, tmp_path: Path
) -> None:
    # A copy of PUBLISH_DIR: the latest results.json and every version's.
    folder = tmp_path / "published"
    (folder / SLUG).mkdir(parents=True)
    (folder / "elections.json").write_text(json.dumps([{"slug": SLUG}]))
    (folder / SLUG / "stations.json").write_text("not even read")
    for version, (count, head_hash) in enumerate(published, start=1):
        text = json.dumps(document(version, count, head_hash))
        (folder / SLUG / "snapshots" / str(version)).mkdir(parents=True)
        (folder / SLUG / "snapshots" / str(version) / "results.json").write_text(text)
        (folder / SLUG / "results.json").write_text(text)

    assert verify_passes("--heads", str(folder)).endswith(
        "Heads OK: 4 published by result snapshots, 4 saved by observers; "
        "all are events of the trail\n"
    )

    forge_cut_last_event(tamper)
    tamper("DELETE FROM tabulation_resultsnapshot WHERE version = 4")
    message, _ = verify_fails("--heads", str(folder / SLUG))

    assert message == (
        f"Observer's head BROKEN: {folder / SLUG / 'results.json'} ({SLUG} v4) (and 1 more) "
        f"published event 20 with hash {published[3][1]}, but the trail ends at event 19"
    )


def test_heads_that_name_nothing_fail(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing saved yet\n")

    message, _ = verify_fails("--heads", str(empty), "--heads", str(tmp_path / "missing.txt"))

    lines = message.splitlines()
    assert (
        lines[0] == f"Observer's heads unreadable: --heads {empty}: no 'sequence hash' line in it"
    )
    assert lines[1].startswith(f"Observer's heads unreadable: --heads {tmp_path / 'missing.txt'}: ")
    assert ResultSnapshot.objects.count() == 0
