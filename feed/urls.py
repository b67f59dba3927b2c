from django.urls import path

from feed import views

app_name = "feed"

urlpatterns = [
    path("", views.home, name="home"),
    path("following/", views.following, name="following"),
    path("notifications/", views.notification_list, name="notifications"),
    path("u/<str:username>/", views.profile, name="profile"),
    path(
        "u/<str:username>/followers/",
        views.follows_page,
        {"direction": "followers"},
        name="followers",
    ),
    path(
        "u/<str:username>/following/",
        views.follows_page,
        {"direction": "following"},
        name="followed",
    ),
    path("u/<str:username>/follow/", views.follow, name="follow"),
    path("u/<str:username>/unfollow/", views.unfollow, name="unfollow"),
    *(
        path(f"u/<str:username>/{action}/", views.relation_change, {"action": action}, name=action)
        for action in ("block", "unblock", "mute", "unmute")
    ),
    *(
        path(
            f"follow-requests/<int:follower_id>/{answer}/",
            views.answer_request,
            {"answer": answer},
            name=f"{answer}_request",
        )
        for answer in ("accept", "decline")
    ),
    path("settings/webhooks/", views.webhooks_page, name="webhooks"),
    *(
        path(
            f"settings/webhooks/<int:endpoint_id>/{action}/",
            views.webhook_change,
            {"action": action},
            name=f"webhook_{action}",
        )
        for action in views.WEBHOOK_ACTIONS
    ),
    path("journeys/<int:checkin_id>/likes/", views.journey_likers, name="likers"),
    path("journeys/<int:checkin_id>/like/", views.like, {"action": "like"}, name="like"),
    path("journeys/<int:checkin_id>/unlike/", views.like, {"action": "unlike"}, name="unlike"),
]
