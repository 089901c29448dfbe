"""On PostgreSQL, refuse UPDATE and DELETE of audit events and result
snapshots in the database itself, whoever connects (docs/audit.md).

SQLite has no such trigger here: the embedded default relies on the models'
save()/delete() and the append-only queryset, and verify_audit detects raw
tampering. TRUNCATE is not covered (the test suite flushes with it); deny
it through database privileges in production.
"""

from django.db import migrations

TABLES = ("tabulation_auditevent", "tabulation_resultsnapshot")

FUNCTION = """
CREATE OR REPLACE FUNCTION tabulation_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql
"""

FORWARD = [FUNCTION] + [
    f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
    f"FOR EACH ROW EXECUTE FUNCTION tabulation_refuse_change()"
    for table in TABLES
]

REVERSE = [f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}" for table in TABLES] + [
    "DROP FUNCTION IF EXISTS tabulation_refuse_change()"
]


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in FORWARD:
            schema_editor.execute(statement, params=None)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in REVERSE:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("tabulation", "0002_roles")]

    operations = [migrations.RunPython(install, uninstall)]
