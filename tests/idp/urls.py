from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import include, path
from oauth2_provider import views as oauth

from tests.idp.views import api_user

# GitLab's paths (no trailing slashes), under the names django-oauth-toolkit reverses.
provider = (
    [
        path("authorize", oauth.AuthorizationView.as_view(), name="authorize"),
        path("token", oauth.TokenView.as_view(), name="token"),
        path("userinfo", oauth.UserInfoView.as_view(), name="user-info"),
        path("discovery/keys", oauth.JwksInfoView.as_view(), name="jwks-info"),
    ],
    "oauth2_provider",
)

urlpatterns = [
    path("oauth/", include(provider)),
    path(
        ".well-known/openid-configuration",
        oauth.ConnectDiscoveryInfoView.as_view(),
        name="oidc-connect-discovery-info",
    ),
    path("api/v4/user", api_user, name="api-user"),
    path(
        "users/sign_in",
        auth_views.LoginView.as_view(template_name="registration/login.html"),
        name="login",
    ),
]
