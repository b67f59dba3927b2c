"""The social API: feeds, travellers' profiles and follow lists, follows and follow requests,
blocks, mutes, likes and notifications. Each operation reads through the selectors its page
uses (the cached feeds and profiles included, so the privacy and the speed are the page's) and
writes through the same services, under the same rate limits per traveller."""

from __future__ import annotations

from typing import Any

from django_ratelimit.core import get_usage
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound, Throttled, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from checkins.apis import JOURNEY_EXAMPLE, JourneySerializer, TotalsSerializer
from checkins.models import CheckIn
from checkins.selectors import checkin_get, parse_cursor
from feed.models import Follow, Notification
from feed.selectors import (
    FOLLOW_STATES,
    FollowList,
    cached_following_feed,
    cached_global_feed,
    follow_list,
    follow_request_get,
    follow_request_page,
    likers,
    notification_page,
    parse_follow_cursor,
    profile_get,
    relation,
    traveller_get,
    unread_count,
)
from feed.services import social
from feed.views import SOCIAL_RATE
from trainy.accounts.models import Scope, User
from trainy.api.pagination import PAGE_PARAMETERS, PageQuerySerializer, next_url, page_serializer
from trainy.api.schema import api_operation

NO_TRAVELLER = "No such traveller."
NO_JOURNEY = "No such journey."
CURSOR_MESSAGE = "Not a cursor of this list; start without one."


# --- Input ---------------------------------------------------------------------------------------


def _page_query(request: Request) -> dict[str, Any]:
    query = PageQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data


def _journey_cursor(query: dict[str, Any]) -> Any:
    """The keyset cursor of a list of journeys or notifications ("<microseconds>-<id>")."""
    text = query.get("cursor")
    after = parse_cursor(text) if text else None
    if text and after is None:
        raise ValidationError({"cursor": [CURSOR_MESSAGE]})
    return after


def _id_cursor(query: dict[str, Any]) -> int | None:
    """The keyset cursor of a list of people (the id of the last follow shown)."""
    text = query.get("cursor")
    after = parse_follow_cursor(text) if text else None
    if text and after is None:
        raise ValidationError({"cursor": [CURSOR_MESSAGE]})
    return after


def _rate_limited(request: Request, group: str) -> None:
    """The pages' limit of ``group`` (follows, blocks, likes: SOCIAL_RATE per traveller), counted
    together with the pages', so that the API is no way around it."""
    usage = get_usage(request, group=group, key="user", rate=SOCIAL_RATE, increment=True)
    if usage is not None and usage["should_limit"]:
        # At the window's last second django-ratelimit says 0 seconds left, and DRF sends no
        # Retry-After for a wait of 0: a 429 always says to wait at least a second.
        raise Throttled(wait=max(1, usage["time_left"]))


def _other(request: Request, username: str) -> User:
    """The traveller a follow, block or mute is about; 404 as for an unknown username when
    they blocked the one asking (a block does not show) or their sign-in is blocked."""
    other = traveller_get(viewer=request.user, username=username)
    if other is None:
        raise NotFound(NO_TRAVELLER)
    return other


def _visible_journey(request: Request, checkin_id: int) -> CheckIn:
    journey = checkin_get(viewer=request.user, checkin_id=checkin_id)
    if journey is None:
        raise NotFound(NO_JOURNEY)
    return journey


# --- Output --------------------------------------------------------------------------------------

PERSON_EXAMPLE = {"username": "bob", "display_name": "Bob", "avatar_url": ""}


@extend_schema_serializer(component_name="Person")
class PersonSerializer(serializers.Serializer):
    username = serializers.CharField()
    display_name = serializers.CharField(source="name")
    avatar_url = serializers.CharField(help_text="Empty: none (initials are shown).")


@extend_schema_serializer(component_name="Relation")
class RelationSerializer(serializers.Serializer):
    """How you stand to a traveller."""

    follow = serializers.ChoiceField(
        choices=FOLLOW_STATES,
        source="follow_state",
        help_text="`following`, `requested` (waiting for them to accept), `none`, or `self`.",
    )
    follows_you = serializers.BooleanField(source="followed_by")
    blocked = serializers.BooleanField(help_text="You blocked them.")
    muted = serializers.BooleanField(help_text="You muted them: not in your feeds.")


RELATION_EXAMPLE = {"follow": "following", "follows_you": False, "blocked": False, "muted": False}
FEED_EXAMPLE = {
    "results": [JOURNEY_EXAMPLE],
    "next_cursor": "1765004400000000-41",
    "next": "https://trainy.example.org/api/v1/feed/global/?cursor=1765004400000000-41",
}
FeedPageSerializer = extend_schema_serializer(component_name="FeedPage")(
    page_serializer("FeedPageSerializer", JourneySerializer)
)


def _feed_answer(request: Request, journeys: list[CheckIn], cursor: str | None) -> Response:
    data = {"results": journeys, "next_cursor": cursor, "next": next_url(request, cursor)}
    return Response(FeedPageSerializer(data).data)


# --- Feeds ---------------------------------------------------------------------------------------


class GlobalFeedApi(APIView):
    required_scopes = {"GET": Scope.READ}

    @api_operation(
        operation_id="feed_global",
        summary="Everyone's journeys",
        description="The front page's feed: public and “signed-in users only” journeys, newest "
        "first; never unlisted or private ones, nor those of travellers you muted or who "
        "stand in a block with you.",
        parameters=PAGE_PARAMETERS,
        responses={200: FeedPageSerializer},
        errors=(400,),
        examples=[OpenApiExample("one page", value=FEED_EXAMPLE, response_only=True)],
        tags=["feeds"],
    )
    def get(self, request: Request) -> Response:
        query = _page_query(request)
        page, _ = cached_global_feed(
            viewer=request.user, after=_journey_cursor(query), limit=query["limit"]
        )
        return _feed_answer(request, page.journeys, page.next_cursor)


class FollowingFeedApi(APIView):
    required_scopes = {"GET": Scope.READ}

    @api_operation(
        operation_id="feed_following",
        summary="Journeys of the travellers you follow",
        description="The “Following” feed: their public, “signed-in users only” and "
        "followers-only journeys, newest first, without muted travellers.",
        parameters=PAGE_PARAMETERS,
        responses={200: FeedPageSerializer},
        errors=(400,),
        examples=[OpenApiExample("one page", value=FEED_EXAMPLE, response_only=True)],
        tags=["feeds"],
    )
    def get(self, request: Request) -> Response:
        query = _page_query(request)
        page, _ = cached_following_feed(
            viewer=request.user, after=_journey_cursor(query), limit=query["limit"]
        )
        return _feed_answer(request, page.journeys, page.next_cursor)


class TravellingNowApi(APIView):
    required_scopes = {"GET": Scope.READ}

    class InputSerializer(serializers.Serializer):
        following = serializers.BooleanField(default=False)

    @extend_schema_serializer(component_name="TravellingNow")
    class OutputSerializer(serializers.Serializer):
        results = JourneySerializer(many=True)

    @api_operation(
        operation_id="feed_travelling_now",
        summary="Who is travelling now",
        description="The feeds' “on the move now”: journeys under way (departed, not yet "
        "arrived, real times where known) among those the feed lists; the newest ten, no "
        "further pages.",
        parameters=[
            OpenApiParameter(
                "following", bool, description="Only the travellers you follow.", default=False
            )
        ],
        responses={200: OutputSerializer},
        errors=(400,),
        examples=[OpenApiExample("one", value={"results": [JOURNEY_EXAMPLE]}, response_only=True)],
        tags=["feeds"],
    )
    def get(self, request: Request) -> Response:
        query = self.InputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        if query.validated_data["following"]:
            _, travelling = cached_following_feed(viewer=request.user)
        else:
            _, travelling = cached_global_feed(viewer=request.user)
        return Response(self.OutputSerializer({"results": travelling}).data)


# --- Travellers ----------------------------------------------------------------------------------


class UserDetailApi(APIView):
    required_scopes = {"GET": Scope.READ}

    @extend_schema_serializer(component_name="Profile")
    class OutputSerializer(serializers.Serializer):
        username = serializers.CharField(source="owner.username")
        display_name = serializers.CharField(source="owner.name")
        avatar_url = serializers.CharField(source="owner.avatar_url")
        private_profile = serializers.BooleanField(
            source="owner.private_profile",
            help_text="Their journeys are for the followers they accept.",
        )
        followers = serializers.IntegerField()
        following = serializers.IntegerField()
        totals = TotalsSerializer(help_text="Over the journeys of theirs you may see.")
        relation = RelationSerializer()

    @api_operation(
        operation_id="user_get",
        summary="A traveller's profile",
        description="What their profile page shows you: totals over the journeys you may see, "
        "how many follow them and whom they follow, and how you stand to them. 404 for an "
        "unknown username, and alike for someone who blocked you.",
        responses={200: OutputSerializer},
        errors=(404,),
        examples=[
            OpenApiExample(
                "bob",
                value={
                    **PERSON_EXAMPLE,
                    "private_profile": False,
                    "followers": 12,
                    "following": 30,
                    "totals": {"journeys": 57, "distance_km": 10432.5, "hours": 98.2},
                    "relation": RELATION_EXAMPLE,
                },
                response_only=True,
            )
        ],
        tags=["travellers"],
    )
    def get(self, request: Request, username: str) -> Response:
        found = profile_get(viewer=request.user, username=username)
        if found is None:
            raise NotFound(NO_TRAVELLER)
        return Response(self.OutputSerializer(found).data)


class UserJourneysApi(APIView):
    required_scopes = {"GET": Scope.READ}

    @api_operation(
        operation_id="user_journeys",
        summary="A traveller's journeys",
        description="Their profile's journeys, newest first: those you may see, unlisted ones "
        "included (the profile lists them). 404 as for the profile.",
        parameters=PAGE_PARAMETERS,
        responses={200: FeedPageSerializer},
        errors=(400, 404),
        examples=[OpenApiExample("one page", value=FEED_EXAMPLE, response_only=True)],
        tags=["travellers"],
    )
    def get(self, request: Request, username: str) -> Response:
        query = _page_query(request)
        found = profile_get(
            viewer=request.user,
            username=username,
            after=_journey_cursor(query),
            limit=query["limit"],
        )
        if found is None:
            raise NotFound(NO_TRAVELLER)
        return _feed_answer(request, found.page.journeys, found.page.next_cursor)


PeoplePageSerializer = extend_schema_serializer(component_name="PeoplePage")(
    page_serializer(
        "PeoplePageSerializer",
        PersonSerializer,
        shown=serializers.BooleanField(
            help_text="False when the list is not yours to see (a private profile's lists are "
            "for its owner and accepted followers): `results` is empty then."
        ),
    )
)
PEOPLE_EXAMPLE = {
    "results": [PERSON_EXAMPLE],
    "next_cursor": None,
    "next": None,
    "shown": True,
}


class _FollowListApi(APIView):
    required_scopes = {"GET": Scope.READ}
    direction = ""

    def _answer(self, request: Request, username: str) -> Response:
        query = _page_query(request)
        found: FollowList | None = follow_list(
            viewer=request.user,
            username=username,
            direction=self.direction,
            after=_id_cursor(query),
            limit=query["limit"],
        )
        if found is None:
            raise NotFound(NO_TRAVELLER)
        data = {
            "results": found.people,
            "next_cursor": found.next_cursor,
            "next": next_url(request, found.next_cursor),
            "shown": found.shown,
        }
        return Response(PeoplePageSerializer(data).data)


FOLLOW_LIST_DESCRIPTION = (
    "Newest follow first, as the profile's list shows it; a private profile's lists only to "
    "its owner and accepted followers. 404 for an unknown username and for a block either way."
)


class UserFollowersApi(_FollowListApi):
    direction = "followers"

    @api_operation(
        operation_id="user_followers",
        summary="Who follows a traveller",
        description=FOLLOW_LIST_DESCRIPTION,
        parameters=PAGE_PARAMETERS,
        responses={200: PeoplePageSerializer},
        errors=(400, 404),
        examples=[OpenApiExample("one page", value=PEOPLE_EXAMPLE, response_only=True)],
        tags=["travellers"],
    )
    def get(self, request: Request, username: str) -> Response:
        return self._answer(request, username)


class UserFollowingApi(_FollowListApi):
    direction = "following"

    @api_operation(
        operation_id="user_following",
        summary="Whom a traveller follows",
        description=FOLLOW_LIST_DESCRIPTION,
        parameters=PAGE_PARAMETERS,
        responses={200: PeoplePageSerializer},
        errors=(400, 404),
        examples=[OpenApiExample("one page", value=PEOPLE_EXAMPLE, response_only=True)],
        tags=["travellers"],
    )
    def get(self, request: Request, username: str) -> Response:
        return self._answer(request, username)


# --- Follows, blocks, mutes ----------------------------------------------------------------------


def _relation_answer(request: Request, other: User) -> Response:
    return Response(RelationSerializer(relation(viewer=request.user, owner=other)).data)


def _relation_examples(name: str, **changed: Any) -> list[OpenApiExample]:
    return [OpenApiExample(name, value={**RELATION_EXAMPLE, **changed}, response_only=True)]


class FollowApi(APIView):
    required_scopes = {"PUT": Scope.SOCIAL, "DELETE": Scope.SOCIAL}

    @api_operation(
        operation_id="user_follow",
        summary="Follow a traveller",
        description="Follows them, or asks to when their profile is private: `follow` in the "
        "answer says which (`following` or `requested`). Following again changes nothing.",
        responses={200: RelationSerializer},
        errors=(400, 404),
        examples=_relation_examples("a private profile", follow="requested"),
        tags=["relations"],
    )
    def put(self, request: Request, username: str) -> Response:
        _rate_limited(request, "follows")
        other = _other(request, username)
        try:
            social.follow_create(follower=request.user, followee=other)
        except User.DoesNotExist:
            raise NotFound(NO_TRAVELLER) from None
        return _relation_answer(request, other)

    @api_operation(
        operation_id="user_unfollow",
        summary="Unfollow a traveller",
        description="Unfollows them, or withdraws the request to follow them.",
        responses={200: RelationSerializer},
        errors=(404,),
        examples=_relation_examples("not following", follow="none"),
        tags=["relations"],
    )
    def delete(self, request: Request, username: str) -> Response:
        _rate_limited(request, "follows")
        other = _other(request, username)
        social.follow_delete(follower=request.user, followee=other)
        return _relation_answer(request, other)


class BlockApi(APIView):
    required_scopes = {"PUT": Scope.SOCIAL, "DELETE": Scope.SOCIAL}

    @api_operation(
        operation_id="user_block",
        summary="Block a traveller",
        description="Follows between you end, either way, with the likes between you; neither "
        "sees the other's journeys from now on. Blocking again changes nothing.",
        responses={200: RelationSerializer},
        errors=(400, 404),
        examples=_relation_examples("blocked", follow="none", blocked=True),
        tags=["relations"],
    )
    def put(self, request: Request, username: str) -> Response:
        _rate_limited(request, "blocks")
        other = _other(request, username)
        social.block_create(blocker=request.user, blocked=other)
        return _relation_answer(request, other)

    @api_operation(
        operation_id="user_unblock",
        summary="Unblock a traveller",
        responses={200: RelationSerializer},
        errors=(404,),
        examples=_relation_examples("unblocked", follow="none"),
        tags=["relations"],
    )
    def delete(self, request: Request, username: str) -> Response:
        _rate_limited(request, "blocks")
        other = _other(request, username)
        social.block_delete(blocker=request.user, blocked=other)
        return _relation_answer(request, other)


class MuteApi(APIView):
    required_scopes = {"PUT": Scope.SOCIAL, "DELETE": Scope.SOCIAL}

    @api_operation(
        operation_id="user_mute",
        summary="Mute a traveller",
        description="Their journeys leave your feeds; they are not told. Muting again changes "
        "nothing.",
        responses={200: RelationSerializer},
        errors=(400, 404),
        examples=_relation_examples("muted", muted=True),
        tags=["relations"],
    )
    def put(self, request: Request, username: str) -> Response:
        _rate_limited(request, "blocks")
        other = _other(request, username)
        social.mute_create(muter=request.user, muted=other)
        return _relation_answer(request, other)

    @api_operation(
        operation_id="user_unmute",
        summary="Unmute a traveller",
        responses={200: RelationSerializer},
        errors=(404,),
        examples=_relation_examples("unmuted"),
        tags=["relations"],
    )
    def delete(self, request: Request, username: str) -> Response:
        _rate_limited(request, "blocks")
        other = _other(request, username)
        social.mute_delete(muter=request.user, muted=other)
        return _relation_answer(request, other)


@extend_schema_serializer(component_name="FollowRequest")
class FollowRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The request's id, to accept or decline it.")
    traveller = PersonSerializer(source="follower")
    created_at = serializers.DateTimeField()


FOLLOW_REQUEST_EXAMPLE = {
    "id": 31,
    "traveller": PERSON_EXAMPLE,
    "created_at": "2026-12-06T07:58:12.123456+01:00",
}


class FollowRequestListApi(APIView):
    required_scopes = {"GET": Scope.READ}

    OutputSerializer = extend_schema_serializer(component_name="FollowRequestPage")(
        page_serializer("FollowRequestPageSerializer", FollowRequestSerializer)
    )

    @api_operation(
        operation_id="follow_requests_list",
        summary="Follow requests waiting for you",
        description="Newest first, as your profile lists them.",
        parameters=PAGE_PARAMETERS,
        responses={200: OutputSerializer},
        errors=(400,),
        examples=[
            OpenApiExample(
                "one",
                value={"results": [FOLLOW_REQUEST_EXAMPLE], "next_cursor": None, "next": None},
                response_only=True,
            )
        ],
        tags=["relations"],
    )
    def get(self, request: Request) -> Response:
        query = _page_query(request)
        rows, cursor = follow_request_page(
            owner=request.user, after=_id_cursor(query), limit=query["limit"]
        )
        data = {"results": rows, "next_cursor": cursor, "next": next_url(request, cursor)}
        return Response(self.OutputSerializer(data).data)


@extend_schema_serializer(component_name="FollowRequestAnswer")
class FollowRequestAnswerSerializer(serializers.Serializer):
    traveller = PersonSerializer()
    follows_you = serializers.BooleanField(help_text="True once accepted, False once declined.")


class _FollowRequestAnswerApi(APIView):
    required_scopes = {"POST": Scope.SOCIAL}
    accept = False

    def _answer(self, request: Request, request_id: int) -> Response:
        _rate_limited(request, "follows")
        waiting: Follow | None = follow_request_get(owner=request.user, request_id=request_id)
        if waiting is None:
            raise NotFound("No such follow request.")
        social.follow_request_answer(
            owner=request.user, follower_id=waiting.follower_id, accept=self.accept
        )
        data = {"traveller": waiting.follower, "follows_you": self.accept}
        return Response(FollowRequestAnswerSerializer(data).data)


REQUEST_ANSWER_DESCRIPTION = (
    "Takes no body. 404 for a request that is not waiting for you (unknown, someone else's, "
    "or answered already)."
)


class FollowRequestAcceptApi(_FollowRequestAnswerApi):
    accept = True

    @api_operation(
        operation_id="follow_request_accept",
        summary="Accept a follow request",
        description=REQUEST_ANSWER_DESCRIPTION,
        responses={200: FollowRequestAnswerSerializer},
        errors=(404,),
        examples=[
            OpenApiExample(
                "accepted",
                value={"traveller": PERSON_EXAMPLE, "follows_you": True},
                response_only=True,
            )
        ],
        tags=["relations"],
    )
    def post(self, request: Request, request_id: int) -> Response:
        return self._answer(request, request_id)


class FollowRequestDeclineApi(_FollowRequestAnswerApi):
    accept = False

    @api_operation(
        operation_id="follow_request_decline",
        summary="Decline a follow request",
        description=REQUEST_ANSWER_DESCRIPTION,
        responses={200: FollowRequestAnswerSerializer},
        errors=(404,),
        examples=[
            OpenApiExample(
                "declined",
                value={"traveller": PERSON_EXAMPLE, "follows_you": False},
                response_only=True,
            )
        ],
        tags=["relations"],
    )
    def post(self, request: Request, request_id: int) -> Response:
        return self._answer(request, request_id)


# --- Likes ---------------------------------------------------------------------------------------


@extend_schema_serializer(component_name="LikeState")
class LikeStateSerializer(serializers.Serializer):
    like_count = serializers.IntegerField()
    liked = serializers.BooleanField(help_text="Whether you liked it.")


class LikeApi(APIView):
    required_scopes = {"PUT": Scope.SOCIAL, "DELETE": Scope.SOCIAL}

    def _state(self, request: Request, checkin_id: int) -> Response:
        return Response(LikeStateSerializer(_visible_journey(request, checkin_id)).data)

    @api_operation(
        operation_id="journey_like",
        summary="Like a journey",
        description="A journey you may see; liking again changes nothing. 403 for your own "
        "journey and for one whose traveller does not take likes.",
        responses={200: LikeStateSerializer},
        errors=(404,),
        examples=[
            OpenApiExample("liked", value={"like_count": 3, "liked": True}, response_only=True)
        ],
        tags=["likes"],
    )
    def put(self, request: Request, checkin_id: int) -> Response:
        _rate_limited(request, "likes")
        try:
            social.like_create(user=request.user, checkin_id=checkin_id)
        except CheckIn.DoesNotExist:
            raise NotFound(NO_JOURNEY) from None
        # PermissionDenied (own journey, likes off) is a 403 with its reason, from the handler.
        return self._state(request, checkin_id)

    @api_operation(
        operation_id="journey_unlike",
        summary="Take back a like",
        description="A journey you may see; 404 for any other.",
        responses={200: LikeStateSerializer},
        errors=(404,),
        examples=[
            OpenApiExample("unliked", value={"like_count": 2, "liked": False}, response_only=True)
        ],
        tags=["likes"],
    )
    def delete(self, request: Request, checkin_id: int) -> Response:
        _rate_limited(request, "likes")
        _visible_journey(request, checkin_id)
        social.like_delete(user=request.user, checkin_id=checkin_id)
        return self._state(request, checkin_id)


class LikersApi(APIView):
    required_scopes = {"GET": Scope.READ}

    @extend_schema_serializer(component_name="Likers")
    class OutputSerializer(serializers.Serializer):
        results = PersonSerializer(many=True)

    @api_operation(
        operation_id="journey_likers",
        summary="Who liked a journey",
        description="As the journey's likes page lists them: newest first, the latest hundred, "
        "without those whose profile you may not see. 404 for a journey you may not see.",
        responses={200: OutputSerializer},
        errors=(404,),
        examples=[OpenApiExample("one", value={"results": [PERSON_EXAMPLE]}, response_only=True)],
        tags=["likes"],
    )
    def get(self, request: Request, checkin_id: int) -> Response:
        journey = _visible_journey(request, checkin_id)
        people = likers(viewer=request.user, checkin=journey)
        return Response(self.OutputSerializer({"results": people}).data)


# --- Notifications -------------------------------------------------------------------------------


@extend_schema_serializer(component_name="Notification")
class NotificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Notification.Kind.choices)
    text = serializers.CharField(source="get_kind_display", help_text="What the actor did.")
    actor = PersonSerializer()
    journey_id = serializers.IntegerField(
        source="checkin_id", allow_null=True, help_text="The journey it is about, if any."
    )
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True, help_text="Null: unread.")


NOTIFICATION_EXAMPLE = {
    "id": 88,
    "kind": "like",
    "text": "liked your journey",
    "actor": PERSON_EXAMPLE,
    "journey_id": 42,
    "created_at": "2026-12-06T08:10:00.000000+01:00",
    "read_at": None,
}


class NotificationListApi(APIView):
    required_scopes = {"GET": Scope.READ}

    OutputSerializer = extend_schema_serializer(component_name="NotificationPage")(
        page_serializer(
            "NotificationPageSerializer",
            NotificationSerializer,
            unread=serializers.IntegerField(help_text="How many of all yours are unread."),
        )
    )

    @api_operation(
        operation_id="notifications_list",
        summary="Your notifications",
        description="Newest first, as the notifications page shows them (none from someone in "
        "a block with you, none about a journey you may not see). Reading them marks "
        "nothing read.",
        parameters=PAGE_PARAMETERS,
        responses={200: OutputSerializer},
        errors=(400,),
        examples=[
            OpenApiExample(
                "one page",
                value={
                    "results": [NOTIFICATION_EXAMPLE],
                    "next_cursor": None,
                    "next": None,
                    "unread": 1,
                },
                response_only=True,
            )
        ],
        tags=["notifications"],
    )
    def get(self, request: Request) -> Response:
        query = _page_query(request)
        page = notification_page(
            recipient=request.user, after=_journey_cursor(query), limit=query["limit"]
        )
        data = {
            "results": page.items,
            "next_cursor": page.next_cursor,
            "next": next_url(request, page.next_cursor),
            "unread": unread_count(recipient=request.user),
        }
        return Response(self.OutputSerializer(data).data)


class NotificationReadApi(APIView):
    required_scopes = {"POST": Scope.SOCIAL}

    @extend_schema_serializer(component_name="MarkRead")
    class InputSerializer(serializers.Serializer):
        # The bounds of the ids, as the page's form (feed.forms.MarkReadForm).
        up_to = serializers.IntegerField(
            min_value=1,
            max_value=2**63 - 1,
            required=False,
            allow_null=True,
            help_text="The id of the newest notification you showed: any that came after it "
            "stays unread. None: all.",
        )

    @extend_schema_serializer(component_name="MarkedRead")
    class OutputSerializer(serializers.Serializer):
        marked = serializers.IntegerField(help_text="How many were marked read now.")
        unread = serializers.IntegerField(help_text="How many are still unread.")

    @api_operation(
        operation_id="notifications_mark_read",
        summary="Mark notifications read",
        description="As the page's “Mark all as read”: those up to `up_to`, or all.",
        request=InputSerializer,
        responses={200: OutputSerializer},
        errors=(400,),
        examples=[
            OpenApiExample("up to one", value={"up_to": 88}, request_only=True),
            OpenApiExample("marked", value={"marked": 3, "unread": 0}, response_only=True),
        ],
        tags=["notifications"],
    )
    def post(self, request: Request) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        marked = social.notifications_mark_read(
            recipient=request.user, up_to=body.validated_data.get("up_to")
        )
        data = {"marked": marked, "unread": unread_count(recipient=request.user)}
        return Response(self.OutputSerializer(data).data)
