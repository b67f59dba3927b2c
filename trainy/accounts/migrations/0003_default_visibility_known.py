"""Before 0004 makes it a database constraint: a traveller's default visibility outside the
check-in visibilities (Trainy's settings form never stored one; the admin's form took any text
until now) becomes "public", the field's default. A migration of its own: PostgreSQL does not
alter a table in the transaction that updated its rows (the deferred foreign-key checks are
still pending)."""

from django.db import migrations

VISIBILITIES = ['public', 'unlisted', 'followers', 'authenticated', 'private']


def default_unknown_visibilities(apps, schema_editor):
    User = apps.get_model('accounts', 'User')
    User.objects.using(schema_editor.connection.alias).exclude(
        default_visibility__in=VISIBILITIES
    ).update(default_visibility='public')


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_content_types'),
        # Every migration that shapes the table (feed.0002 adds this column) has run.
        ('feed', '0007_user_moved_to_accounts'),
    ]

    operations = [
        migrations.RunPython(default_unknown_visibilities, migrations.RunPython.noop),
    ]
