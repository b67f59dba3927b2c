"""The content types of the moved models follow them to this app, so that what points at them
(permissions, their groups, admin log entries) keeps pointing at the user model. On a new
database there are no rows yet: Django creates this app's content types after migrating."""

from django.db import migrations

MOVED = ("user", "usersession")


def to_accounts(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MOVED:
        if ContentType.objects.using(db).filter(app_label="accounts", model=model).exists():
            continue  # made already (by a run of the new code before this migration)
        ContentType.objects.using(db).filter(app_label="feed", model=model).update(
            app_label="accounts"
        )


def to_feed(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MOVED:
        ContentType.objects.using(db).filter(app_label="accounts", model=model).update(
            app_label="feed"
        )


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0001_initial'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [migrations.RunPython(to_accounts, to_feed)]
