"""The settings page, the list of browsers a traveller is signed in on, their personal access
tokens for the API and their OAuth2 apps."""

from __future__ import annotations

import time
from datetime import timedelta

from allauth.account.authentication import get_authentication_records
from allauth.core.exceptions import ReauthenticationRequired
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from trainy.accounts.forms import AccessTokenForm, OAuthAppForm, SettingsForm
from trainy.accounts.selectors import access_tokens, authorized_apps, browser_sessions, oauth_apps
from trainy.accounts.services import (
    account_deletion_request,
    oauth_access_revoke,
    oauth_app_create,
    oauth_app_delete,
    session_end,
    sessions_end_others,
    sessions_forget_ended,
    settings_update,
    token_create,
    token_revoke,
)
from trainy.forms import add_service_errors
from trainy.http import AuthenticatedRequest


@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    form = SettingsForm(
        request.POST or None,
        initial={
            "default_visibility": user.default_visibility,
            "private_profile": user.private_profile,
            "likes_enabled": user.likes_enabled,
            "private_after_days": user.private_after_days,
            "leaderboard_opt_out": user.leaderboard_opt_out,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            settings_update(user=user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Settings saved.")
            return redirect("accounts:settings")
    context = {"form": form, "archive_keep_days": settings.TRAINY_ARCHIVE_KEEP_DAYS}
    return render(request, "accounts/settings.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def sessions_page(request: AuthenticatedRequest) -> HttpResponse:
    """Where the traveller is signed in; sign out on one browser, or on all the others."""
    current = request.session.session_key or ""
    if request.method == "POST":
        if request.POST.get("others"):
            ended = sessions_end_others(user=request.user, keep=current)
            messages.success(request, f"Signed out on {ended} other browser{'s' * (ended != 1)}.")
        elif session_end(user=request.user, session_key=request.POST.get("session", "")):
            messages.success(request, "Signed out on that browser.")
        else:
            messages.error(request, "That session has ended already.")
        return redirect("accounts:sessions")
    sessions_forget_ended(user=request.user)
    context = {"sessions": browser_sessions(user=request.user), "current": current}
    return render(request, "accounts/sessions.html", context)


# The session key under which a new token's secret waits for the one GET that shows it.
NEW_TOKEN_SESSION_KEY = "new_token_secret"  # noqa: S105 -- a key, not a secret


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def tokens_page(request: AuthenticatedRequest) -> HttpResponse:
    """Personal access tokens: make one, see when each was last used, revoke.

    Making one answers with a redirect (POST/redirect/GET), so that reloading the page does not
    make a second token. The secret waits in the session for the GET that follows, which takes
    it out: it is shown on that one page and never again (and the page is not cached)."""
    user = request.user
    if "revoke" in request.POST:
        revoke = request.POST.get("revoke", "")
        if revoke.isdigit() and token_revoke(user=user, token_id=int(revoke)):
            messages.success(request, "Token revoked: it no longer works.")
        else:
            messages.error(request, "No such token, or it is revoked already.")
        return redirect("accounts:tokens")
    form = AccessTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data["expires_in_days"]
        try:
            made = token_create(
                user=user,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                expires_at=timezone.now() + timedelta(days=days) if days else None,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            request.session[NEW_TOKEN_SESSION_KEY] = made.secret
            return redirect("accounts:tokens")
    secret = request.session.pop(NEW_TOKEN_SESSION_KEY, None) if request.method == "GET" else None
    context = {"form": form, "tokens": access_tokens(user=user), "secret": secret,
               "now": timezone.now()}  # fmt: skip
    return render(request, "accounts/tokens.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def apps_page(request: AuthenticatedRequest) -> HttpResponse:
    """OAuth2 apps: register one (a confidential app's secret is on the answer to that POST and
    never again), see and delete the traveller's apps; and the apps the traveller allowed to
    act for them, each with a way to take that back."""
    user = request.user
    form = OAuthAppForm(request.POST or None)
    new = None
    if request.method == "POST" and form.is_valid():
        try:
            new = oauth_app_create(
                user=user,
                name=form.cleaned_data["name"],
                redirect_uris=form.cleaned_data["redirect_uris"],
                confidential=form.cleaned_data["client_type"] == "confidential",
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            form = OAuthAppForm()
    context = {
        "form": form,
        "new": new,
        "apps": oauth_apps(user=user),
        "authorized": authorized_apps(user=user),
    }
    return render(request, "accounts/apps.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def app_delete(request: AuthenticatedRequest, app_id: int) -> HttpResponse:
    if not oauth_app_delete(user=request.user, app_id=app_id):
        raise Http404("No such app.")
    messages.success(request, "App deleted: its tokens no longer work.")
    return redirect("accounts:apps")


@login_required
@require_POST
def app_revoke(request: AuthenticatedRequest, app_id: int) -> HttpResponse:
    """Take back an app's access to the traveller's account (someone else's app, often)."""
    if not oauth_access_revoke(user=request.user, app_id=app_id):
        raise Http404("That app has no access to your account.")
    messages.success(request, "Access revoked: the app can no longer act for you.")
    return redirect("accounts:apps")


# How recent a sign-in confirms who is asking to delete an account (allauth's window for
# reauthentication).
FRESH_SIGN_IN_S = 300


def _identity_confirmed(request: AuthenticatedRequest) -> bool:
    """Whether the traveller proved who they are moments ago in this browser: signed in or
    confirmed their password (allauth records both in the session), or signed in with GitLab."""
    records = get_authentication_records(request, request.user)
    latest = max((record.get("at", 0) for record in records), default=0)
    return time.time() - latest < FRESH_SIGN_IN_S


@login_required
@require_http_methods(["GET", "POST"])
def account_delete_page(request: AuthenticatedRequest) -> HttpResponse:
    """GET: what deleting the account does, and the button. POST: once the traveller has
    confirmed who they are (their password on allauth's reauthentication page, which then
    sends this request on; or, without a password, a fresh sign-in with GitLab), the deletion
    is scheduled after the grace period and they are signed out everywhere."""
    context: dict[str, object] = {"grace_days": settings.TRAINY_ACCOUNT_DELETION_GRACE_DAYS}
    if request.method == "POST":
        if request.POST.get("confirm") != "delete":
            return HttpResponseBadRequest("Tick the box to confirm.")
        if not _identity_confirmed(request):
            if request.user.has_usable_password():
                raise ReauthenticationRequired()
            context["sign_in_again"] = True
            return render(request, "accounts/delete.html", context, status=403)
        due = account_deletion_request(user=request.user)
        logout(request)
        return render(request, "accounts/deletion_scheduled.html", {"due": due})
    return render(request, "accounts/delete.html", context)
