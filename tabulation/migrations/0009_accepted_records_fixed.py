"""An accepted record and its votes never change once stored: only its
``superseded_at`` and ``superseded_by`` are set when a correction replaces
it (models.py: "superseded rows are marked"). The database itself now
refuses any other UPDATE, on PostgreSQL and on SQLite.

Tabulation relies on it (docs/tabulation.md, "What a run redoes"): it reads
the figures and votes of a record id once and keeps them for the next runs,
so a record changed in place would be counted by the GROUP BY but not shown
in its station's row. With these triggers it cannot be.

DELETE stays allowed: the foreign keys are PROTECT, and the test suite
empties the tables between tests.
"""

from django.db import migrations

# Every column of tabulation_acceptedrecord that never changes once stored.
RECORD_FIXED = (
    "id",
    "registered",
    "ballots_received",
    "ballots_unused",
    "turned_out",
    "ballots_in_box",
    "ballots_invalid",
    "ballots_valid",
    "control_sheet_ok",
    "board_signatures",
    "round_id",
    "source",
    "first_entry_id",
    "second_entry_id",
    "decision_id",
    "accepted_by_id",
    "accepted_at",
)

POSTGRESQL = [
    # Reuses tabulation_refuse_change() of 0003 for the votes.
    "CREATE TRIGGER tabulation_acceptedvote_fixed BEFORE UPDATE ON tabulation_acceptedvote "
    "FOR EACH ROW EXECUTE FUNCTION tabulation_refuse_change()",
    """
CREATE OR REPLACE FUNCTION tabulation_acceptedrecord_refuse_change() RETURNS trigger AS $$
BEGIN
    IF (to_jsonb(NEW) - 'superseded_at' - 'superseded_by_id')
        IS DISTINCT FROM (to_jsonb(OLD) - 'superseded_at' - 'superseded_by_id') THEN
        RAISE EXCEPTION 'tabulation_acceptedrecord: only superseded_at and superseded_by change'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql
""",
    "CREATE TRIGGER tabulation_acceptedrecord_fixed BEFORE UPDATE ON tabulation_acceptedrecord "
    "FOR EACH ROW EXECUTE FUNCTION tabulation_acceptedrecord_refuse_change()",
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS tabulation_acceptedvote_fixed ON tabulation_acceptedvote",
    "DROP TRIGGER IF EXISTS tabulation_acceptedrecord_fixed ON tabulation_acceptedrecord",
    "DROP FUNCTION IF EXISTS tabulation_acceptedrecord_refuse_change()",
]

_CHANGED = " OR ".join(f"NEW.{column} IS NOT OLD.{column}" for column in RECORD_FIXED)
SQLITE = [
    "CREATE TRIGGER tabulation_acceptedvote_fixed BEFORE UPDATE ON tabulation_acceptedvote "
    "BEGIN SELECT RAISE(ABORT, 'tabulation_acceptedvote is append-only: UPDATE refused'); END",
    f"CREATE TRIGGER tabulation_acceptedrecord_fixed BEFORE UPDATE ON tabulation_acceptedrecord "
    f"WHEN {_CHANGED} "
    "BEGIN SELECT RAISE(ABORT, "
    "'tabulation_acceptedrecord: only superseded_at and superseded_by change'); END",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS tabulation_acceptedvote_fixed",
    "DROP TRIGGER IF EXISTS tabulation_acceptedrecord_fixed",
]


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"postgresql": POSTGRESQL, "sqlite": SQLITE}.get(vendor, []):
        schema_editor.execute(statement, params=None)


def uninstall(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE}.get(vendor, []):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("tabulation", "0008_scans_and_observers")]

    operations = [migrations.RunPython(install, uninstall)]
