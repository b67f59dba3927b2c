from django.contrib import admin
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    """Django's admin app with Trainy's admin site (trainy.admin_site: sign-in through GitLab)."""

    default_site = "trainy.admin_site.AdminSite"

    def ready(self) -> None:
        super().ready()  # registers every app's admin pages
        from allauth.socialaccount.models import SocialToken

        # The GitLab tokens kept for the re-check are secrets (a refresh token spent elsewhere
        # signs its owner out): allauth's page would show them in full to every superuser.
        admin.site.unregister(SocialToken)
