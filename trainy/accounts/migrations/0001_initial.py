"""The user model and the browser sessions, moved from the feed app without touching the data.

The tables stay as they are (``feed_user``, ``feed_usersession``, and ``feed_user_groups`` /
``feed_user_user_permissions`` whose names Django derives from the model's table): this
migration only tells Django's migration state that the models are now this app's. On a new
database the feed app's migrations create and shape the tables (feed.0001 before this one,
the rest after it, as checkins.0001 and every other migration that points at the user model
depends on this one through settings.AUTH_USER_MODEL); feed.0007 then takes the models out of
the feed app's state.

A database the feed app's migrations built has feed.0001 applied but not this migration, which
its applied dependants now depend on: the migrate command (management/commands/migrate.py)
records this one as applied before Django checks the history.
"""

import django.contrib.auth.models
import django.contrib.auth.validators
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        # The table has to exist before anything adds a foreign key to it. Only the first feed
        # migration: feed.0003 depends on checkins.0006, which depends on this one.
        ('feed', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='User',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('password', models.CharField(max_length=128, verbose_name='password')),
                        ('last_login', models.DateTimeField(blank=True, null=True, verbose_name='last login')),
                        ('is_superuser', models.BooleanField(default=False, help_text='Designates that this user has all permissions without explicitly assigning them.', verbose_name='superuser status')),
                        ('username', models.CharField(error_messages={'unique': 'A user with that username already exists.'}, help_text='Required. 150 characters or fewer. Letters, digits and @/./+/-/_ only.', max_length=150, unique=True, validators=[django.contrib.auth.validators.UnicodeUsernameValidator()], verbose_name='username')),
                        ('first_name', models.CharField(blank=True, max_length=150, verbose_name='first name')),
                        ('last_name', models.CharField(blank=True, max_length=150, verbose_name='last name')),
                        ('email', models.EmailField(blank=True, max_length=254, verbose_name='email address')),
                        ('is_staff', models.BooleanField(default=False, help_text='Designates whether the user can log into this admin site.', verbose_name='staff status')),
                        ('is_active', models.BooleanField(default=True, help_text='Designates whether this user should be treated as active. Unselect this instead of deleting accounts.', verbose_name='active')),
                        ('date_joined', models.DateTimeField(default=django.utils.timezone.now, verbose_name='date joined')),
                        ('display_name', models.CharField(blank=True, max_length=150)),
                        ('avatar_url', models.URLField(blank=True, max_length=500)),
                        ('default_visibility', models.CharField(default='public', max_length=20)),
                        ('private_profile', models.BooleanField(default=False)),
                        ('likes_enabled', models.BooleanField(default=True)),
                        ('private_after_days', models.PositiveSmallIntegerField(blank=True, null=True)),
                        ('leaderboard_opt_out', models.BooleanField(default=False)),
                        ('calendar_token', models.CharField(blank=True, db_index=True, max_length=64)),
                        ('gitlab_checked_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('gitlab_confirmed_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('groups', models.ManyToManyField(blank=True, help_text='The groups this user belongs to. A user will get all permissions granted to each of their groups.', related_name='user_set', related_query_name='user', to='auth.group', verbose_name='groups')),
                        ('user_permissions', models.ManyToManyField(blank=True, help_text='Specific permissions for this user.', related_name='user_set', related_query_name='user', to='auth.permission', verbose_name='user permissions')),
                    ],
                    options={
                        'verbose_name': 'user',
                        'verbose_name_plural': 'users',
                        'db_table': 'feed_user',
                        'abstract': False,
                    },
                    managers=[
                        ('objects', django.contrib.auth.models.UserManager()),
                    ],
                ),
                migrations.CreateModel(
                    name='UserSession',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('session_key', models.CharField(max_length=40, unique=True)),
                        ('ip', models.GenericIPAddressField(blank=True, null=True)),
                        ('user_agent', models.CharField(blank=True, max_length=300)),
                        ('last_seen', models.DateTimeField()),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='browser_sessions', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'feed_usersession',
                    },
                ),
            ],
        ),
    ]
