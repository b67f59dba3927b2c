"""/oauth/: django-oauth-toolkit's endpoints for the apps travellers register on /settings/apps/
(README "OAuth2 apps"). Only those the authorization code flow needs: the consent page, the
token endpoint (codes and refresh tokens) and revocation (RFC 7009). Not the toolkit's own
app-management pages (/settings/apps/ is Trainy's), nor OpenID Connect, device or dynamic
client registration, which are off."""

from __future__ import annotations

from django.urls import path
from oauth2_provider import views as oauth

from trainy.accounts.oauth import AuthorizationView

# The toolkit reverses its URLs under this namespace.
app_name = "oauth2_provider"

urlpatterns = [
    path("authorize/", AuthorizationView.as_view(), name="authorize"),
    path("token/", oauth.TokenView.as_view(), name="token"),
    path("revoke_token/", oauth.RevokeTokenView.as_view(), name="revoke-token"),
]
