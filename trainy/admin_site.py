"""Django's admin, with one change: when local accounts are off (TRAINY_LOCAL_ACCOUNTS=false),
its sign-in page takes no password. Admin rights come from GitLab then, and so does signing in
to the admin: a password form would be a second door that GitLab's rules (allowed groups, the
re-check, a blocked account) do not guard. Installed as Django documents for a custom default
site (trainy.apps.AdminConfig names it)."""

from __future__ import annotations

from typing import Any

from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialApp
from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from trainy.accounts.gitlab import PROVIDER_ID
from trainy.accounts.middleware import ADMIN_SUSPENDED

TEMPLATE = "admin/sign_in_with_gitlab.html"


class AdminSite(admin.AdminSite):
    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        if settings.TRAINY_LOCAL_ACCOUNTS:
            return super().login(request, extra_context)
        return gitlab_login(request, self)


def gitlab_login(request: HttpRequest, site: admin.AdminSite) -> HttpResponse:
    """The admin's sign-in without local accounts: GitLab's sign-in, coming back to ``next``.
    A POST (a password form from elsewhere, a script) signs nobody in."""
    target = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = reverse("admin:index", current_app=site.name)
    context: dict[str, Any] = {"next": target, "site_title": site.site_title}
    if request.method not in ("GET", "HEAD"):
        response = render(request, TEMPLATE, {**context, "password_refused": True}, status=405)
        response["Allow"] = "GET, HEAD"
        return response
    if site.has_permission(request):
        return redirect(target)
    if request.user.is_authenticated:
        # Signed in, but without admin rights (or with rights on hold, see
        # accounts.middleware.GitLabRecheckMiddleware): signing in again would change nothing.
        context["suspended"] = getattr(request, ADMIN_SUSPENDED, False)
        return render(request, TEMPLATE, context, status=403)
    try:
        provider = get_adapter().get_provider(request, PROVIDER_ID)
    except SocialApp.DoesNotExist:
        return render(request, TEMPLATE, {**context, "no_gitlab": True})
    return redirect(provider.get_login_url(request, next=target))
