"""The user model and the browser sessions live in trainy.accounts now (its 0001_initial): the
feed app's migration state lets go of them. The tables stay, now the accounts app's."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('feed', '0006_gitlab_recheck'),
        ('accounts', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name='UserSession'),
                migrations.DeleteModel(name='User'),
            ],
        ),
    ]
