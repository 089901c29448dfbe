"""On SQLite, refuse UPDATE and DELETE of audit events and result snapshots
in the database itself, as 0003 does on PostgreSQL (docs/audit.md).

Every UPDATE is refused. SQLite has no TRUNCATE: Django's `flush` (and so the
test suite between transactional tests) empties a table with a plain
`DELETE FROM`, which visits the rows in rowid order. So a DELETE may remove
the oldest stored row and nothing else: a whole table can be emptied, oldest
first, but no event after the first stored one can go, in particular not the
last. A removed prefix or an emptied table is what `verify_audit` shows
("event 1 is missing", published heads naming events no longer stored).

Whoever can write the database file can also drop these triggers: they stop
mistakes and raw SQL through the application; the HMAC key and the heads
published outside the database stop forgers.
"""

from django.db import migrations

TABLES = ("tabulation_auditevent", "tabulation_resultsnapshot")

FORWARD = [
    statement
    for table in TABLES
    for statement in (
        f"CREATE TRIGGER {table}_append_only_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: UPDATE refused'); END",
        f"CREATE TRIGGER {table}_append_only_delete BEFORE DELETE ON {table} "
        f"WHEN EXISTS (SELECT 1 FROM {table} WHERE id < OLD.id) "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: DELETE refused'); END",
    )
]

REVERSE = [
    f"DROP TRIGGER IF EXISTS {table}_append_only_{operation}"
    for table in TABLES
    for operation in ("update", "delete")
]


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in FORWARD:
            schema_editor.execute(statement, params=None)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in REVERSE:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("tabulation", "0006_certification")]

    operations = [migrations.RunPython(install, uninstall)]
