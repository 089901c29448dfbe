"""Create the groups "clerk", "commission member", "administrator" and
their permissions (see tabulation/services/roles.py). Idempotent."""

from django.db import migrations


def create_roles(apps, schema_editor):
    from tabulation.services.roles import ensure_roles

    ensure_roles(apps=apps)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("tabulation", "0001_initial"),
    ]

    operations = [
        # Reversing leaves the groups: they may hold users by then.
        migrations.RunPython(create_roles, migrations.RunPython.noop),
    ]
