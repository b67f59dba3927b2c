from django.db import migrations


def create_tables(apps, schema_editor):
    from checkins.timetable.schema import create_parent_tables

    create_parent_tables(schema_editor.connection)


def drop_tables(apps, schema_editor):
    from checkins.timetable.schema import drop_parent_tables

    drop_parent_tables(schema_editor.connection)


class Migration(migrations.Migration):
    """The tt_* timetable tables: raw SQL, partitioned by feed version on PostgreSQL."""

    dependencies = [("checkins", "0001_initial")]

    operations = [migrations.RunPython(create_tables, drop_tables)]
