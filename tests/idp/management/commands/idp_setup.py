from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandParser
from oauth2_provider.models import Application, RefreshToken


class Command(BaseCommand):
    help = "Create or update groups, a user (password, groups, blocked) and/or the Trainy app."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--create-groups", default="", help="comma-separated full paths")
        parser.add_argument("--user", help="username")
        parser.add_argument("--name", default="")
        parser.add_argument("--password", default="")
        parser.add_argument("--groups", default=None, help="comma-separated full paths")
        parser.add_argument("--block", action="store_true", help="block the user")
        parser.add_argument("--unblock", action="store_true", help="unblock the user")
        parser.add_argument(
            "--revoke", action="store_true", help="the user revokes every app's access"
        )
        parser.add_argument("--app-redirect", help="register the Trainy app with this redirect URI")
        parser.add_argument("--client-id", default="trainy-test")
        parser.add_argument("--client-secret", default="trainy-test-secret")

    def handle(self, *args: Any, **options: Any) -> None:
        for path in filter(None, options["create_groups"].split(",")):
            Group.objects.get_or_create(name=path)
        if options["user"]:
            user, _ = User.objects.get_or_create(
                username=options["user"], defaults={"email": f"{options['user']}@example.org"}
            )
            if options["name"]:
                user.first_name, _, user.last_name = options["name"].partition(" ")
            if options["password"]:
                user.set_password(options["password"])
            if options["block"] or options["unblock"]:
                user.is_active = options["unblock"]
            user.save()
            if options["groups"] is not None:
                names = [name for name in options["groups"].split(",") if name]
                user.groups.set([Group.objects.get_or_create(name=name)[0] for name in names])
            if options["revoke"]:
                # GitLab: Preferences → Applications → Authorized applications → Revoke, which
                # revokes the access and refresh tokens the application holds.
                for token in RefreshToken.objects.filter(user=user, revoked__isnull=True):
                    token.revoke()
        if options["app_redirect"]:
            Application.objects.update_or_create(
                client_id=options["client_id"],
                defaults={
                    "name": "Trainy",
                    "client_secret": options["client_secret"],
                    "client_type": Application.CLIENT_CONFIDENTIAL,
                    "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE,
                    "redirect_uris": options["app_redirect"],
                    "algorithm": Application.RS256_ALGORITHM,
                    "skip_authorization": False,
                    "hash_client_secret": False,
                },
            )
