"""A GitLab-compatible identity provider for the single sign-on tests (there is no GitLab here).

A small Django project of its own, run in a subprocess on 127.0.0.1 by tests/sso.py: the
endpoints GitLab documents and Trainy's sign-in calls, served by django-oauth-toolkit (OAuth 2
and OpenID Connect): /.well-known/openid-configuration, /oauth/authorize (with a consent page),
/oauth/token (authorization code and refresh token grants), /oauth/userinfo, /oauth/discovery/keys,
and /api/v4/user. Claims as GitLab sends them: "groups_direct" in the ID token, "groups" (with
the subgroups of each group) in the userinfo (tests/idp/validator.py). Users sign in at
/users/sign_in, as on GitLab.
"""

from __future__ import annotations

import os
from pathlib import Path

BASE = Path(os.environ["IDP_STATE_DIR"])
SECRET_KEY = "idp-test-only-" + "x" * 40
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "tests.idp",  # first: its templates (GitLab's sign-in and consent pages) win
    "oauth2_provider",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "tests.idp.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
            ]
        },
    }
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE / "idp.sqlite3"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
LOGIN_URL = "/users/sign_in"
# The IdP runs on another port of the same host as Trainy: cookies are per host, not per port,
# so its session cookie needs a name of its own.
SESSION_COOKIE_NAME = "idp_session"
CSRF_COOKIE_NAME = "idp_csrftoken"
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": (BASE / "oidc.key").read_text(),
    "OIDC_ISS_ENDPOINT": os.environ["IDP_ISSUER"],
    "PKCE_REQUIRED": True,
    # GitLab's access tokens expire after two hours (its OAuth 2.0 provider docs).
    "ACCESS_TOKEN_EXPIRE_SECONDS": 7200,
    "SCOPES": {
        "openid": "Authenticate using OpenID Connect",
        "profile": "Read your profile",
        "email": "Read your primary email address",
        "read_user": "Read your user information",
    },
    "OAUTH2_VALIDATOR_CLASS": "tests.idp.validator.GitLabValidator",
}
