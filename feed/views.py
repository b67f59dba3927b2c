from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from checkins.models import CheckIn
from checkins.selectors import checkin_get, parse_cursor
from checkins.timetable.forms import StationSearchForm
from feed.forms import MarkReadForm, WebhookEndpointForm
from feed.models import WebhookEvent
from feed.selectors import (
    FEED_GENERATION,
    FRONT_PAGE_SECONDS,
    cached_following_feed,
    cached_global_feed,
    demo_loaded,
    follow_list,
    follow_requests,
    likers,
    notifications,
    parse_follow_cursor,
    profile_get,
    traveller_get,
    webhook_endpoint_get,
    webhook_endpoints,
    with_likes,
)
from feed.services import social, webhooks
from feed.templatetags.cards import render_cards
from trainy.accounts.models import User
from trainy.forms import add_service_errors
from trainy.http import AuthenticatedRequest

# Follows, blocks and likes per signed-in user: plenty for people, little for a script.
SOCIAL_RATE = "30/m"


def _cursor(request: HttpRequest) -> Any:
    return parse_cursor(request.GET.get("after", "")) if request.GET.get("after") else None


def rate_limited(group: str) -> Callable[..., Any]:
    """At most SOCIAL_RATE of ``group`` per signed-in user. django-ratelimit counts, and past the
    rate raises Ratelimited, which trainy.errors answers: 429, and a page naming ``group``."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        limited = ratelimit(group=group, key="user", rate=SOCIAL_RATE, block=True)(view)
        limited.rate_limit_group = group
        return limited

    return decorate


def _back(request: HttpRequest, fallback: str) -> HttpResponse:
    """Back where the form was (a same-site ``next``), else ``fallback``."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, request.is_secure()
    ):
        # A URL as given, never a view name to reverse (redirect() would try "2019-02-30").
        return HttpResponseRedirect(target)
    return redirect(fallback)


def kept_rendered(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Keep the first page of a feed or profile rendered, per viewer and feed generation (any
    change to what feeds show starts a new one, see trainy.generations.FEED), for at most
    FRONT_PAGE_SECONDS. Signed-out visitors share one copy. A signed-in viewer's copy is tied
    to their CSRF cookie too, as its forms carry a token for it; without that cookie yet, or
    with a message to show first (say, "You have signed out"), the page is rendered fresh."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.GET or len(messages.get_messages(request)):
            return view(request, *args, **kwargs)
        who = "anonymous"
        if request.user.is_authenticated:
            csrf = request.COOKIES.get(settings.CSRF_COOKIE_NAME, "")
            if not csrf:
                return view(request, *args, **kwargs)
            who = f"{request.user.pk}:{hashlib.sha256(csrf.encode()).hexdigest()[:16]}"
        key = FEED_GENERATION.key("html", who, request.path)
        html = cache.get(key)
        if html is not None:
            return HttpResponse(html)
        response = view(request, *args, **kwargs)
        if response.status_code == 200 and not response.cookies:
            cache.set(key, response.content, FRONT_PAGE_SECONDS)
        return response

    return wrapper


@require_GET
@kept_rendered
def home(request: HttpRequest) -> HttpResponse:
    page, travelling = cached_global_feed(viewer=request.user, after=_cursor(request))
    context = {
        "tab": "everyone",
        "page": page,
        "travelling": travelling,
        "demo_loaded": demo_loaded(),
        "search_form": StationSearchForm(),
    }
    return render(request, "feed/home.html", context)


@login_required
@require_GET
@kept_rendered
def following(request: AuthenticatedRequest) -> HttpResponse:
    page, travelling = cached_following_feed(viewer=request.user, after=_cursor(request))
    context = {
        "tab": "following",
        "page": page,
        "travelling": travelling,
        "search_form": StationSearchForm(),
    }
    return render(request, "feed/home.html", context)


@require_GET
@kept_rendered
def profile(request: HttpRequest, username: str) -> HttpResponse:
    found = profile_get(viewer=request.user, username=username, after=_cursor(request))
    if found is None:
        raise Http404("No such traveller.")
    requests = follow_requests(owner=found.owner) if found.relation.is_self else []
    return render(request, "feed/profile.html", {"profile": found, "requests": requests})


def _other(request: AuthenticatedRequest, username: str) -> User:
    """The traveller a follow, block or mute is about; 404 as for an unknown username when they
    blocked the one asking (a block does not show), or their sign-in is blocked."""
    other = traveller_get(viewer=request.user, username=username)
    if other is None:
        raise Http404("No such traveller.")
    return other


@login_required
@require_POST
@rate_limited("follows")
def follow(request: AuthenticatedRequest, username: str) -> HttpResponse:
    followee = _other(request, username)
    try:
        made = social.follow_create(follower=request.user, followee=followee)
    except User.DoesNotExist:
        raise Http404("No such traveller.") from None
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _back(request, "/")
    else:
        if made.accepted:
            messages.success(request, f"You follow {followee.name}.")
        else:
            messages.info(request, f"{followee.name} will be asked to accept you.")
    return _back(request, f"/u/{followee.username}/")


@login_required
@require_POST
@rate_limited("follows")
def unfollow(request: AuthenticatedRequest, username: str) -> HttpResponse:
    followee = _other(request, username)
    social.follow_delete(follower=request.user, followee=followee)
    return _back(request, f"/u/{followee.username}/")


@login_required
@require_POST
@rate_limited("follows")
def answer_request(request: AuthenticatedRequest, follower_id: int, answer: str) -> HttpResponse:
    if answer not in ("accept", "decline"):
        raise Http404("No such answer.")
    social.follow_request_answer(
        owner=request.user, follower_id=follower_id, accept=answer == "accept"
    )
    return _back(request, f"/u/{request.user.username}/")


@login_required
@require_POST
@rate_limited("blocks")
def relation_change(request: AuthenticatedRequest, username: str, action: str) -> HttpResponse:
    """Block, unblock, mute or unmute someone."""
    other = _other(request, username)
    change = {
        "block": lambda: social.block_create(blocker=request.user, blocked=other),
        "unblock": lambda: social.block_delete(blocker=request.user, blocked=other),
        "mute": lambda: social.mute_create(muter=request.user, muted=other),
        "unmute": lambda: social.mute_delete(muter=request.user, muted=other),
    }.get(action)
    if change is None:
        raise Http404("No such action.")
    try:
        change()
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        done = {"block": "blocked", "unblock": "unblocked", "mute": "muted", "unmute": "unmuted"}
        messages.success(request, f"You {done[action]} {other.name}.")
    return _back(request, f"/u/{other.username}/")


@login_required
@require_POST
@rate_limited("likes")
def like(request: AuthenticatedRequest, checkin_id: int, action: str) -> HttpResponse:
    """Like or unlike; htmx swaps the like button in place, plain forms go back."""
    if action not in ("like", "unlike"):
        raise Http404("No such action.")
    try:
        if action == "like":
            social.like_create(user=request.user, checkin_id=checkin_id)
        else:
            social.like_delete(user=request.user, checkin_id=checkin_id)
    except CheckIn.DoesNotExist:
        raise Http404("No such journey.") from None
    except PermissionDenied as error:
        if request.headers.get("HX-Request") != "true":
            messages.error(request, str(error))
            return _back(request, f"/journeys/{checkin_id}/")
        return HttpResponse(str(error), status=403)
    journey = with_likes(CheckIn.objects.filter(id=checkin_id), request.user).first()
    if journey is None or checkin_get(viewer=request.user, checkin_id=checkin_id) is None:
        raise Http404("No such journey.")
    if request.headers.get("HX-Request") == "true":
        return HttpResponse(render_cards(request, "feed/_like.html", {"journey": journey}))
    return _back(request, f"/journeys/{checkin_id}/")


@require_GET
def journey_likers(request: HttpRequest, checkin_id: int) -> HttpResponse:
    journey = checkin_get(viewer=request.user, checkin_id=checkin_id)
    if journey is None:
        raise Http404("No such journey.")
    people = likers(viewer=request.user, checkin=journey)
    return render(request, "feed/likers.html", {"journey": journey, "people": people})


@login_required
@require_http_methods(["GET", "POST"])
def notification_list(request: AuthenticatedRequest) -> HttpResponse:
    """GET: the notifications, unread ones marked, changing nothing. POST ("Mark all as read"):
    those the page showed are read from now on."""
    posted = request.method == "POST"
    form = MarkReadForm(request.POST if posted else None)
    if posted and form.is_valid():
        social.notifications_mark_read(recipient=request.user, up_to=form.cleaned_data["seen"])
        return redirect("feed:notifications")
    items = notifications(recipient=request.user)
    context = {
        "items": items,
        "form": form,
        # Marking read goes up to the newest shown (the header's count covers older ones too).
        "newest": max((item.id for item in items), default=None),
    }
    status = 400 if form.errors else 200
    return render(request, "feed/notifications.html", context, status=status)


@require_GET
def follows_page(request: HttpRequest, username: str, direction: str) -> HttpResponse:
    """A traveller's followers, or the travellers they follow."""
    found = follow_list(
        viewer=request.user,
        username=username,
        direction=direction,
        after=parse_follow_cursor(request.GET.get("after", "")),
    )
    if found is None:
        raise Http404("No such traveller.")
    return render(request, "feed/follows.html", {"follows": found})


# --- Webhooks ----------------------------------------------------------------------------------

# The session key under which a new secret waits to be shown, once, by the next page.
NEW_SECRET_KEY = "webhook_new_secret"  # noqa: S105 -- a session key, not a secret
WEBHOOK_ACTIONS = ("rotate", "pause", "resume", "delete")


@login_required
@require_http_methods(["GET", "POST"])
def webhooks_page(request: AuthenticatedRequest) -> HttpResponse:
    """GET: the traveller's webhooks with their last deliveries, and a new secret once. POST:
    add a webhook."""
    form = WebhookEndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = webhooks.webhook_endpoint_create(owner=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            request.session[NEW_SECRET_KEY] = [endpoint.pk, endpoint.secret]
            messages.success(request, "Webhook added. Copy its secret now: it is shown only once.")
            return redirect("feed:webhooks")
    new_secret = request.session.pop(NEW_SECRET_KEY, None) if request.method == "GET" else None
    context = {
        "form": form,
        "endpoints": webhook_endpoints(owner=request.user),
        "new_secret": new_secret,
        "events": WebhookEvent,
    }
    return render(request, "feed/webhooks.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def webhook_change(request: AuthenticatedRequest, endpoint_id: int, action: str) -> HttpResponse:
    """Rotate the secret of, pause, resume or delete one of the traveller's webhooks."""
    endpoint = webhook_endpoint_get(owner=request.user, endpoint_id=endpoint_id)
    if endpoint is None:
        raise Http404("No such webhook.")
    if action == "rotate":
        secret = webhooks.webhook_endpoint_rotate_secret(endpoint=endpoint)
        request.session[NEW_SECRET_KEY] = [endpoint.pk, secret]
        messages.success(request, "New secret made. Copy it now: it is shown only once.")
    elif action == "delete":
        webhooks.webhook_endpoint_delete(endpoint=endpoint)
        messages.success(request, "Webhook deleted.")
    else:
        webhooks.webhook_endpoint_update(endpoint=endpoint, active=action == "resume")
        messages.success(request, "Webhook resumed." if action == "resume" else "Webhook paused.")
    return redirect("feed:webhooks")
