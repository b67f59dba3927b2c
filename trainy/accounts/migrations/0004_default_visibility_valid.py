from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_default_visibility_known'),
    ]

    operations = [
        migrations.AlterField(
            model_name='user',
            name='default_visibility',
            field=models.CharField(choices=[('public', 'Public'), ('unlisted', 'Unlisted (anyone with the link)'), ('followers', 'Followers only'), ('authenticated', 'Signed-in users only'), ('private', 'Private')], default='public', max_length=20),
        ),
        migrations.AddConstraint(
            model_name='user',
            constraint=models.CheckConstraint(condition=models.Q(('default_visibility__in', ['public', 'unlisted', 'followers', 'authenticated', 'private'])), name='user_default_visibility_valid'),
        ),
    ]
