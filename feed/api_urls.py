from django.urls import path

from feed import apis

urlpatterns = [
    path("feed/global/", apis.GlobalFeedApi.as_view(), name="feed_global"),
    path("feed/following/", apis.FollowingFeedApi.as_view(), name="feed_following"),
    path("feed/now/", apis.TravellingNowApi.as_view(), name="feed_now"),
    path("users/<str:username>/", apis.UserDetailApi.as_view(), name="user"),
    path("users/<str:username>/journeys/", apis.UserJourneysApi.as_view(), name="user_journeys"),
    path("users/<str:username>/followers/", apis.UserFollowersApi.as_view(), name="user_followers"),
    path("users/<str:username>/following/", apis.UserFollowingApi.as_view(), name="user_following"),
    path("users/<str:username>/follow/", apis.FollowApi.as_view(), name="user_follow"),
    path("users/<str:username>/block/", apis.BlockApi.as_view(), name="user_block"),
    path("users/<str:username>/mute/", apis.MuteApi.as_view(), name="user_mute"),
    path("follow-requests/", apis.FollowRequestListApi.as_view(), name="follow_requests"),
    path(
        "follow-requests/<int:request_id>/accept/",
        apis.FollowRequestAcceptApi.as_view(),
        name="follow_request_accept",
    ),
    path(
        "follow-requests/<int:request_id>/decline/",
        apis.FollowRequestDeclineApi.as_view(),
        name="follow_request_decline",
    ),
    path("journeys/<int:checkin_id>/like/", apis.LikeApi.as_view(), name="journey_like"),
    path("journeys/<int:checkin_id>/likes/", apis.LikersApi.as_view(), name="journey_likers"),
    path("notifications/", apis.NotificationListApi.as_view(), name="notifications"),
    path("notifications/read/", apis.NotificationReadApi.as_view(), name="notifications_read"),
]
