from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandParser
from oauth2_provider.models import Application


class Command(BaseCommand):
    help = "Create or update a user (password, groups) and/or the Trainy application."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", help="username")
        parser.add_argument("--name", default="")
        parser.add_argument("--password", default="")
        parser.add_argument("--groups", default=None, help="comma-separated full paths")
        parser.add_argument("--app-redirect", help="register the Trainy app with this redirect URI")
        parser.add_argument("--client-id", default="trainy-test")
        parser.add_argument("--client-secret", default="trainy-test-secret")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["user"]:
            user, _ = User.objects.get_or_create(
                username=options["user"], defaults={"email": f"{options['user']}@example.org"}
            )
            first, _, last = options["name"].partition(" ")
            user.first_name, user.last_name = first, last
            if options["password"]:
                user.set_password(options["password"])
            user.save()
            if options["groups"] is not None:
                names = [name for name in options["groups"].split(",") if name]
                user.groups.set([Group.objects.get_or_create(name=name)[0] for name in names])
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
