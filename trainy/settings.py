"""Trainy's one settings module.

Everything is read from the environment (see the table in README.md). When a service URL is
absent, Trainy falls back to its embedded default: SQLite, a local-memory cache, Celery tasks run
eagerly in-process and journey documents kept in the SQL database. That is what `make run` uses;
tests and production set every URL.
"""

from pathlib import Path
from typing import Any

import environ
from kombu import Queue

from trainy.accounts.scopes import Scope
from trainy.config import ConfigurationError, Environment, redact
from trainy.proxies import MAX_HOPS
from trainy.security import content_security_policy

BASE_DIR = Path(__file__).resolve().parent.parent
env = Environment()

# --- Core --------------------------------------------------------------------------------------

DEBUG = env.boolean("DEBUG", False)

if DEBUG:
    SECRET_KEY = env.string(
        "SECRET_KEY", "django-insecure-development-only-never-use-in-production"
    )
    ALLOWED_HOSTS = env.strings("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
else:
    SECRET_KEY = env.required("SECRET_KEY", "when DEBUG is off")
    ALLOWED_HOSTS = env.strings("ALLOWED_HOSTS")
    if not ALLOWED_HOSTS:
        raise ConfigurationError(
            "ALLOWED_HOSTS is required when DEBUG is off "
            "(a comma-separated list of host names, e.g. trainy.example.org)"
        )

CSRF_TRUSTED_ORIGINS = env.strings("CSRF_TRUSTED_ORIGINS")
# Where the TLS-terminating proxy says the original scheme was https (Traefik, nginx: the
# X-Forwarded-Proto header). Only set this behind a proxy that overwrites the header.
_proxy_ssl_header = env.string("TRAINY_PROXY_SSL_HEADER")
if _proxy_ssl_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https")
USE_X_FORWARDED_HOST = env.boolean("TRAINY_USE_X_FORWARDED_HOST", False)
# Whose X-Forwarded-For to believe when working out the client's address (rate limits, the
# session list, logs): the proxies' addresses or networks, or how many proxies are in front.
# Neither: the header is ignored, since any client can send it. See trainy/proxies.py.
TRAINY_TRUSTED_PROXIES = env.networks("TRAINY_TRUSTED_PROXIES")
TRAINY_PROXY_HOPS = env.integer("TRAINY_PROXY_HOPS", 0, minimum=0)
if TRAINY_TRUSTED_PROXIES and TRAINY_PROXY_HOPS:
    raise ConfigurationError(
        "set TRAINY_TRUSTED_PROXIES or TRAINY_PROXY_HOPS, not both "
        "(the proxies' addresses, or how many there are)"
    )
if TRAINY_PROXY_HOPS > MAX_HOPS:
    raise ConfigurationError(
        f"TRAINY_PROXY_HOPS must be at most {MAX_HOPS}, got {TRAINY_PROXY_HOPS}"
    )
# REMOTE_ADDR already holds the client's address (trainy.middleware.ClientAddressMiddleware):
# allauth must take it as it is, not read X-Forwarded-For a second time (and with a count of its
# own, a short header makes allauth raise ImproperlyConfigured, a 500).
ALLAUTH_TRUSTED_PROXY_COUNT = 0
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = None

# HTTPS hardening is on whenever DEBUG is off; TRAINY_HTTPS=false serves plain HTTP (a test
# server, or a private network without TLS).
HTTPS = env.boolean("TRAINY_HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
# Kubernetes probes and metrics scrapers talk plain HTTP to the pod.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env.integer("TRAINY_HSTS_SECONDS", 31_536_000 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.boolean("TRAINY_HSTS_INCLUDE_SUBDOMAINS", True)
# The preload flag only permits submitting the domain to browsers' preload lists.
SECURE_HSTS_PRELOAD = env.boolean("TRAINY_HSTS_PRELOAD", HTTPS)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

INSTALLED_APPS = [
    # Django's admin, whose sign-in goes through GitLab when local accounts are off.
    "trainy.apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "django_prometheus",
    "trainy.metrics",
    # Before the apps built on it; its migrate command replaces Django's (see there).
    "trainy.accounts",
    "feed",
    "checkins",
    "stats",
]

MIDDLEWARE = [
    # Request metrics for /metrics: the "before" one first and the "after" one last, so they
    # time the whole chain.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    # The client's address into REMOTE_ADDR before anything reads it (trainy/proxies.py).
    "trainy.middleware.ClientAddressMiddleware",
    "trainy.middleware.RequestIdMiddleware",
    # /healthz, /readyz and /metrics for the kubelet and scrapers, which address pods by IP
    # (not in ALLOWED_HOSTS): answered before anything reads the Host header.
    "trainy.metrics.middleware.ClusterEndpointsMiddleware",
    # A 413 for an upload longer than its view takes, before anything reads it.
    "trainy.errors.RefuseOversizedBodies",
    # A 400 for a NUL character anywhere in the input, before any view or lookup sees it.
    "trainy.errors.RefuseMalformedInput",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy and Permissions-Policy on every response (settings at the end).
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # After authentication and messages: re-checks GitLab users, may sign the request out.
    "trainy.accounts.middleware.GitLabRecheckMiddleware",
    "trainy.accounts.middleware.SessionTrackingMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "trainy.urls"
WSGI_APPLICATION = "trainy.wsgi.application"
AUTH_USER_MODEL = "accounts.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            # {% url %} with the paths kept once reversed (trainy/urltag.py says why).
            "builtins": ["trainy.urltag"],
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "trainy.context_processors.site",
                "feed.context_processors.notifications",
            ],
        },
    },
    # The journey cards and the like button (trainy/jinja2.py says why), rendered through
    # checkins.templatetags.journeys from Django's templates and by the like view.
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "trainy.jinja2.environment"},
    },
]

LANGUAGE_CODE = "en"
TIME_ZONE = env.string("TIME_ZONE", "Europe/Berlin")
USE_I18N = True
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Database ----------------------------------------------------------------------------------

DATA_DIR = Path(env.string("TRAINY_DATA_DIR", str(BASE_DIR / "var")))
DATABASES: dict[str, dict[str, Any]]
_database_url = env.url(
    "DATABASE_URL",
    schemes=("postgres", "postgresql", "pgsql", "sqlite"),
    example="postgres://trainy:secret@127.0.0.1:5432/trainy",
)
if _database_url is None:
    # The embedded default keeps its file next to the code, so `make run` needs no setup.
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "trainy.sqlite3",
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    }
else:
    if _database_url.scheme != "sqlite" and not _database_url.path.strip("/"):
        raise ConfigurationError(
            f"DATABASE_URL names no database: got {redact(_database_url.geturl())!r}, "
            "expected e.g. 'postgres://trainy:secret@127.0.0.1:5432/trainy'"
        )
    # The URL as written: a round trip through urlsplit turns "sqlite:////abs" into a relative path.
    DATABASES = {"default": environ.Env.db_url_config(env.required("DATABASE_URL", "").strip())}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"].update(
            # Persistent connections, checked before reuse so a database restart costs one
            # reconnect instead of a failed request.
            CONN_MAX_AGE=env.integer("DATABASE_CONN_MAX_AGE", 60, minimum=0),
            CONN_HEALTH_CHECKS=True,
        )
        DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env.integer(
            "DATABASE_CONNECT_TIMEOUT", 5, minimum=1
        )
        # No JIT compilation: Trainy's queries run in milliseconds, and PostgreSQL compiles
        # when its estimate passes jit_above_cost, not its real work. Measured: 600 ms of
        # compiling for a 2 ms departure board at a national timetable's size, 4 s for a
        # month's leaderboard at 10M journeys.
        options = DATABASES["default"]["OPTIONS"]
        options["options"] = " ".join(filter(None, [options.get("options", ""), "-c jit=off"]))

# --- Cache -------------------------------------------------------------------------------------

CACHES: dict[str, dict[str, Any]]
_redis_url = env.url(
    "REDIS_URL", schemes=("redis", "rediss", "unix"), example="redis://127.0.0.1:6379/0"
)
if _redis_url is None:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": _redis_url.geturl(),
            # Several Trainys (or test runs) can share one Redis under prefixes of their own.
            "KEY_PREFIX": env.string("CACHE_KEY_PREFIX", "trainy"),
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                # Redis is a cache only: a slow or dead one must cost milliseconds, not a page.
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
            },
        }
    }
    # A cache outage is logged (logger "django_redis.cache") and treated as a miss.
    DJANGO_REDIS_IGNORE_EXCEPTIONS = True
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True

# Rate limits (likes, follows, blocks) count in the cache; while it is down they let requests
# through rather than refuse every one: the cache is optional, the site is not.
RATELIMIT_FAIL_OPEN = True

# Sessions are written to the database and read from the cache: a request costs no session
# query, and signing in keeps working while the cache is down (a miss falls back to the row).
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# --- Celery ------------------------------------------------------------------------------------

_broker_url = env.url(
    "CELERY_BROKER_URL",
    schemes=("amqp", "amqps", "pyamqp", "redis", "rediss"),
    example="amqp://trainy:secret@127.0.0.1:5672/trainy",
)
if _broker_url is None:
    # Embedded default: tasks run in-process when they are queued, so `make run` needs no broker.
    CELERY_BROKER_URL = "memory://localhost/"
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True
else:
    CELERY_BROKER_URL = _broker_url.geturl()
    CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# A check-in must not wait long on a broker that is down: one quick retry, then the sweeper.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
# A task is acknowledged when it has finished, so a worker killed mid-task hands it to another.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.integer("CELERY_TASK_SOFT_TIME_LIMIT", 240, minimum=1)
CELERY_TASK_TIME_LIMIT = env.integer("CELERY_TASK_TIME_LIMIT", 300, minimum=1)
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = tuple(
    Queue(name, routing_key=name) for name in ("default", "enrichment", "exports")
)
CELERY_TASK_ROUTES = {
    "checkins.tasks.enrich_journey": {"queue": "enrichment"},
    # The leaderboards are made afresh every minute: never behind an hour-long export.
    "stats.tasks.refresh_leaderboards": {"queue": "default"},
    "stats.tasks.*": {"queue": "exports"},
    # A traveller's import of another service's export: long work on one person's file.
    "checkins.tasks.run_journey_import": {"queue": "exports"},
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Celery closes database connections only every 2 x this many tasks; trainy/celery.py keeps them
# healthy in between (checked before each task, dropped after a failed one).
CELERY_DB_REUSE_MAX = 500
# A task cut off by a lost broker connection is redone elsewhere (acks late), not finished here.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    # A check-in whose enrichment task was lost (broker, worker or MongoDB down) is queued again.
    "enrichment-sweep": {"task": "checkins.tasks.sweep_enrichment", "schedule": 60.0},
    # Accounts whose owners asked for their deletion, once the grace period has ended.
    "delete-due-accounts": {"task": "trainy.accounts.tasks.delete_due_accounts", "schedule": 600.0},
    # Archives ("Download all my data") past their expiry.
    "expire-exports": {"task": "stats.tasks.expire_exports", "schedule": 3600.0},
    # The leaderboards, made afresh while they are kept (stats.selectors.LEADERBOARD_SECONDS);
    # one that waited past the next is stale.
    "leaderboards": {
        "task": "stats.tasks.refresh_leaderboards",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
    # Travellers' "make my journeys private after N days".
    "private-by-age": {"task": "checkins.tasks.make_old_journeys_private", "schedule": 3600.0},
}

# GTFS-Realtime TripUpdates, one source per timetable feed ("feed-name=https://…", comma-
# separated), fetched by Celery beat every TRAINY_REALTIME_INTERVAL seconds. Files can also be
# applied by hand: manage.py import_gtfs_rt FEED PATH_OR_URL.
TRAINY_REALTIME_FEEDS = env.named_urls(
    "TRAINY_REALTIME_FEEDS",
    schemes=("http", "https"),
    example="caltrain=https://example.org/gtfs-rt/trip-updates.pb",
)
TRAINY_REALTIME_INTERVAL = env.integer("TRAINY_REALTIME_INTERVAL", 30, minimum=5)
if TRAINY_REALTIME_FEEDS:
    CELERY_BEAT_SCHEDULE["realtime-refresh"] = {
        "task": "checkins.tasks.refresh_realtime",
        "schedule": float(TRAINY_REALTIME_INTERVAL),
        # A refresh that waited longer than an interval is stale: the next one is coming.
        "options": {"expires": TRAINY_REALTIME_INTERVAL},
    }

# --- Timetable imports --------------------------------------------------------------------------

# What one timetable import may take in (`import_gtfs`, the admin's "Import a timetable"); an
# import past a limit is refused with a message naming it, and the active timetable stays. The
# defaults leave room for a nationwide feed (Germany's: ~1 GB zipped, ~30M stop_times).
TRAINY_IMPORT_MAX_DOWNLOAD_BYTES = env.integer(
    "TRAINY_IMPORT_MAX_DOWNLOAD_BYTES", 2 * 1024**3, minimum=1
)
# An upload is held in memory and in the database until a worker takes it: larger feeds are
# imported from their URL.
TRAINY_IMPORT_MAX_UPLOAD_BYTES = env.integer(
    "TRAINY_IMPORT_MAX_UPLOAD_BYTES", 512 * 1024**2, minimum=1
)
TRAINY_IMPORT_MAX_UNZIPPED_BYTES = env.integer(
    "TRAINY_IMPORT_MAX_UNZIPPED_BYTES", 20 * 1024**3, minimum=1
)
# GTFS text compresses 3 to 20 times; deflate's ceiling is about 1000 (a zip bomb's ratio).
TRAINY_IMPORT_MAX_COMPRESSION_RATIO = env.integer(
    "TRAINY_IMPORT_MAX_COMPRESSION_RATIO", 100, minimum=1
)
TRAINY_IMPORT_MAX_ROWS = env.integer("TRAINY_IMPORT_MAX_ROWS", 100_000_000, minimum=1)
# Fetching feeds (static and realtime) from loopback, private, link-local or reserved addresses:
# off, so that an admin's URL cannot make the workers read the cluster's internal services.
TRAINY_IMPORT_ALLOW_PRIVATE = env.boolean("TRAINY_IMPORT_ALLOW_PRIVATE", False)

# --- Webhooks ----------------------------------------------------------------------------------

# Deliveries (feed/tasks.py) have a queue of their own, so that a slow receiver cannot hold up
# enrichment or exports; the beat task queues again those the broker refused.
CELERY_TASK_QUEUES += (Queue("webhooks", routing_key="webhooks"),)
CELERY_TASK_ROUTES["feed.tasks.deliver_webhook"] = {"queue": "webhooks"}
CELERY_BEAT_SCHEDULE["webhooks-sweep"] = {"task": "feed.tasks.sweep_webhooks", "schedule": 60.0}
# How many endpoints one traveller may register.
TRAINY_WEBHOOKS_MAX_ENDPOINTS = env.integer("TRAINY_WEBHOOKS_MAX_ENDPOINTS", 10, minimum=1)
# Tries per delivery (the first and its retries), the retries waiting 30 s, 60 s, 120 s, ...
TRAINY_WEBHOOKS_MAX_ATTEMPTS = env.integer("TRAINY_WEBHOOKS_MAX_ATTEMPTS", 6, minimum=1)
TRAINY_WEBHOOKS_RETRY_SECONDS = env.integer("TRAINY_WEBHOOKS_RETRY_SECONDS", 30, minimum=1)
# Seconds a receiver has to answer (after connecting, which has 5 s).
TRAINY_WEBHOOKS_TIMEOUT = env.integer("TRAINY_WEBHOOKS_TIMEOUT", 10, minimum=1)
# An endpoint whose deliveries failed (all their tries) this many times in a row is switched
# off, and its owner is told.
TRAINY_WEBHOOKS_FAILURES_TO_DISABLE = env.integer(
    "TRAINY_WEBHOOKS_FAILURES_TO_DISABLE", 10, minimum=1
)
# Deliveries older than this many days are deleted by the sweep.
TRAINY_WEBHOOKS_KEEP_DAYS = env.integer("TRAINY_WEBHOOKS_KEEP_DAYS", 30, minimum=1)
# Endpoints on loopback, private, link-local or reserved addresses, and plain http: refused
# (a traveller's URL must not make the workers call the cluster's internal services), unless
# an admin allows them (a receiver inside the cluster; development; the tests).
TRAINY_WEBHOOKS_ALLOW_PRIVATE = env.boolean("TRAINY_WEBHOOKS_ALLOW_PRIVATE", False)

# --- Journey documents (MongoDB) ----------------------------------------------------------------

_mongo_url = env.url(
    "MONGO_URL", schemes=("mongodb", "mongodb+srv"), example="mongodb://127.0.0.1:27017/"
)
MONGO_URL = _mongo_url.geturl() if _mongo_url else None
MONGO_DB = env.string("MONGO_DB", "trainy")
MONGO_TIMEOUT_MS = env.integer("MONGO_TIMEOUT_MS", 2000, minimum=100)

# --- Accounts ----------------------------------------------------------------------------------

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "feed:home"
ACCOUNT_LOGOUT_REDIRECT_URL = "feed:home"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_FORMS = {"login": "trainy.accounts.forms.LoginForm"}
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_PASSWORD_RESET = True
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if HTTPS else "http"
# Failed sign-ins, counted in the cache: 10 a minute from one address, 5 in 5 minutes for one
# account; then allauth asks to wait.
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key"}

# GitLab single sign-on, through allauth's OpenID Connect provider: GitLab is an OIDC provider
# (discovery at GITLAB_URL/.well-known/openid-configuration). Its userinfo carries "groups" (the
# full paths of the user's groups, subgroups of them included), which decide who may sign in;
# its ID token carries "groups_direct" (direct memberships only), which decide who administers.
GITLAB_URL = env.string("GITLAB_URL", "https://gitlab.com").rstrip("/")
GITLAB_CLIENT_ID = env.string("GITLAB_CLIENT_ID")
GITLAB_CLIENT_SECRET = env.string("GITLAB_CLIENT_SECRET")
GITLAB_SCOPES = env.strings("GITLAB_SCOPES", ["openid", "profile", "email"])
if GITLAB_CLIENT_ID and not GITLAB_CLIENT_SECRET:
    raise ConfigurationError("GITLAB_CLIENT_SECRET is required when GITLAB_CLIENT_ID is set")
# Direct members of these groups (full paths) are staff and superusers. Direct only: GitLab
# lists every member of "kbs610" in "kbs610/admins" too, and they are not its admins.
TRAINY_GITLAB_ADMIN_GROUPS = env.strings("TRAINY_GITLAB_ADMIN_GROUPS", [])
# If set, only members of these groups (or of their subgroups) may sign in with GitLab.
TRAINY_GITLAB_ALLOWED_GROUPS = env.strings("TRAINY_GITLAB_ALLOWED_GROUPS", [])
# A signed-in GitLab user is checked with GitLab again (refresh token, then userinfo) at their
# first request after this many seconds, so that leaving a group, a blocked account or a revoked
# application ends their rights and sessions without waiting for them to sign in again.
TRAINY_GITLAB_RECHECK_SECONDS = env.integer("TRAINY_GITLAB_RECHECK_SECONDS", 900, minimum=30)
# While GitLab cannot be asked, travellers stay signed in, but admin rights that GitLab has not
# confirmed for this long are suspended until it answers again.
TRAINY_GITLAB_ADMIN_GRACE_SECONDS = env.integer(
    "TRAINY_GITLAB_ADMIN_GRACE_SECONDS", 3600, minimum=0
)
if TRAINY_GITLAB_ADMIN_GRACE_SECONDS < TRAINY_GITLAB_RECHECK_SECONDS:
    # A check comes at the earliest one interval after the last: a shorter grace would suspend
    # every admin between two successful checks.
    raise ConfigurationError(
        "TRAINY_GITLAB_ADMIN_GRACE_SECONDS must be at least TRAINY_GITLAB_RECHECK_SECONDS "
        f"(got {TRAINY_GITLAB_ADMIN_GRACE_SECONDS} and {TRAINY_GITLAB_RECHECK_SECONDS})"
    )
# Local sign-up and password sign-in; off by default once GitLab is configured (SSO only).
TRAINY_LOCAL_ACCOUNTS = env.boolean("TRAINY_LOCAL_ACCOUNTS", not GITLAB_CLIENT_ID)
SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {
        "SCOPE": GITLAB_SCOPES,
        "OAUTH_PKCE_ENABLED": True,
        # Configured from the environment, not the database, so a deployment is one Secret.
        "APPS": (
            [
                {
                    "provider_id": "gitlab",
                    "name": "GitLab",
                    "client_id": GITLAB_CLIENT_ID,
                    "secret": GITLAB_CLIENT_SECRET,
                    "settings": {"server_url": GITLAB_URL},
                }
            ]
            if GITLAB_CLIENT_ID
            else []
        ),
    }
}
SOCIALACCOUNT_ADAPTER = "trainy.accounts.adapters.SocialAccountAdapter"
# The re-check needs GitLab's refresh token (allauth keeps it in SocialToken.token_secret).
SOCIALACCOUNT_STORE_TOKENS = True
SOCIALACCOUNT_LOGIN_ON_GET = False  # the sign-in button posts, so a link cannot start it
SOCIALACCOUNT_ONLY = not TRAINY_LOCAL_ACCOUNTS

# Mail: printed to the console unless an SMTP server is configured.
_email_url = env.url(
    "EMAIL_URL",
    schemes=("smtp", "smtps", "submission", "consolemail"),
    example="smtp://user:secret@mail.example.org:587",
)
if _email_url is None or _email_url.scheme == "consolemail":
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _email_url.hostname
    EMAIL_PORT = _email_url.port or (465 if _email_url.scheme == "smtps" else 587)
    EMAIL_HOST_USER = _email_url.username or ""
    EMAIL_HOST_PASSWORD = _email_url.password or ""
    EMAIL_USE_SSL = _email_url.scheme == "smtps"
    EMAIL_USE_TLS = not EMAIL_USE_SSL
DEFAULT_FROM_EMAIL = env.string("DEFAULT_FROM_EMAIL", "Trainy <trainy@localhost>")

# --- Static files ------------------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = Path(env.string("STATIC_ROOT", str(DATA_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Hashed, compressed files need `collectstatic` first (the container build runs it).
_static_manifest = env.boolean("TRAINY_STATIC_MANIFEST", not DEBUG)
# Without the manifest (DEBUG, tests) files are served straight from static/.
WHITENOISE_USE_FINDERS = not _static_manifest
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if _static_manifest
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- Health checks -----------------------------------------------------------------------------

# Components whose outage makes /readyz answer 503. Only the database by default: without the
# cache, the broker or the document store Trainy still serves and records check-ins, and taking
# every pod out of service for a shared outage would turn degraded into down.
READYZ_REQUIRED = env.strings("TRAINY_READYZ_REQUIRED", ["database"])
_known_components = {"database", "cache", "broker", "documents"}
if not set(READYZ_REQUIRED) <= _known_components:
    raise ConfigurationError(
        "TRAINY_READYZ_REQUIRED may list only "
        f"{', '.join(sorted(_known_components))}, got {', '.join(READYZ_REQUIRED)!r}"
    )

# /readyz is for the kubelet: requests that came through a proxy get a 404 unless this is on.
TRAINY_READYZ_PUBLIC = env.boolean("TRAINY_READYZ_PUBLIC", False)

# --- Metrics -----------------------------------------------------------------------------------

# /metrics (django-prometheus and trainy.metrics) is for scrapers inside the cluster: requests
# that came through a proxy (X-Forwarded-For, Forwarded, X-Real-Ip, or a peer among
# TRAINY_TRUSTED_PROXIES) get a 404 unless this is on.
TRAINY_METRICS_PUBLIC = env.boolean("TRAINY_METRICS_PUBLIC", False)
# Optionally, a bearer token that scrapers must send as well.
TRAINY_METRICS_TOKEN = env.string("TRAINY_METRICS_TOKEN")
# Port of the /healthz and /metrics server inside Celery worker and beat processes; 0 (the
# default outside the container) opens none.
TRAINY_METRICS_PORT = env.integer("TRAINY_METRICS_PORT", 0, minimum=0)
# A worker or beat whose loop has not ticked for this long (while the broker is reachable)
# fails its liveness probe.
TRAINY_PROBE_STALE_SECONDS = env.integer("TRAINY_PROBE_STALE_SECONDS", 120, minimum=10)
PROMETHEUS_EXPORT_MIGRATIONS = False

# --- Logging -----------------------------------------------------------------------------------

LOG_FORMAT = env.choice("LOG_FORMAT", "text" if DEBUG else "json", ("json", "text"))
LOG_LEVEL = env.choice(
    "LOG_LEVEL", "INFO", ("debug", "info", "warning", "error", "critical")
).upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_context": {"()": "trainy.logging.RequestContextFilter"},
        # Calendar tokens and URL passwords, wherever they turn up (trainy/redaction.py).
        "redact_secrets": {"()": "trainy.redaction.RedactSecretsFilter"},
    },
    "formatters": {
        "json": {"()": "trainy.logging.JsonFormatter"},
        "text": {
            "format": "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s",
        },
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": LOG_FORMAT,
            "filters": ["request_context", "redact_secrets"],
        }
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        # Request errors are logged by django.request already; the server's own copy is noise.
        "django.server": {"level": "WARNING"},
    },
}

# --- Trainy ------------------------------------------------------------------------------------

TRAINY_SITE_NAME = env.string("TRAINY_SITE_NAME", "Trainy")
# How long an account whose owner asked for its deletion waits (signing in cancels it).
TRAINY_ACCOUNT_DELETION_GRACE_DAYS = env.integer("TRAINY_ACCOUNT_DELETION_GRACE_DAYS", 7, minimum=0)
# How long a traveller's archive ("Download all my data") can be downloaded before it is deleted.
TRAINY_ARCHIVE_KEEP_DAYS = env.integer("TRAINY_ARCHIVE_KEEP_DAYS", 7, minimum=1)
# The currency of ticket prices in business-trip reports (ISO 4217).
TRAINY_CURRENCY = env.string("TRAINY_CURRENCY", "EUR")
# Map tiles for journey maps (a Leaflet URL template); the browser fetches them, not the server.
TRAINY_MAP_TILES = env.string("TRAINY_MAP_TILES", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
# A path of its own keeps the admin's login page away from scanners that try /admin/.
TRAINY_ADMIN_PATH = env.string("TRAINY_ADMIN_PATH", "admin/").strip("/") + "/"

# --- Content-Security-Policy and Permissions-Policy --------------------------------------------

# See trainy/security.py. Avatars come from GitLab itself, or from Gravatar, which GitLab uses
# for people who uploaded none.
CONTENT_SECURITY_POLICY = content_security_policy(
    map_tiles=TRAINY_MAP_TILES,
    gitlab_url=GITLAB_URL if GITLAB_CLIENT_ID else None,
    image_sources=env.strings(
        "TRAINY_CSP_IMG_SOURCES", ["https://secure.gravatar.com"] if GITLAB_CLIENT_ID else []
    ),
)
# Station search asks for the position (same origin only); nothing else uses a device feature.
_NO_DEVICE_FEATURES = (
    "accelerometer", "ambient-light-sensor", "autoplay", "bluetooth", "browsing-topics", "camera",
    "display-capture", "gyroscope", "hid", "idle-detection", "magnetometer", "microphone", "midi",
    "payment", "screen-wake-lock", "serial", "usb", "xr-spatial-tracking",
)  # fmt: skip
PERMISSIONS_POLICY: dict[str, list[str]] = {
    "geolocation": ["self"],
    **{feature: [] for feature in _NO_DEVICE_FEATURES},
}

# --- REST API (/api/v1/) ------------------------------------------------------------------------

# Django REST framework, its OpenAPI schema (drf-spectacular) and Swagger UI's files from a
# package (the sidecar), so that the docs page loads nothing from a CDN. See README "API".
INSTALLED_APPS += ["rest_framework", "drf_spectacular", "drf_spectacular_sidecar"]
# Requests per minute: of one personal access token, and of one traveller over all their tokens
# and the site's own JavaScript. Counted in the cache (Redis); while it is down the API answers
# without limits and logs it (trainy/api/throttling.py).
TRAINY_API_RATE_TOKEN = env.integer("TRAINY_API_RATE_TOKEN", 120, minimum=1)
TRAINY_API_RATE_USER = env.integer("TRAINY_API_RATE_USER", 300, minimum=1)
REST_FRAMEWORK = {
    # Tokens first: its `WWW-Authenticate: Bearer` makes a request without credentials a 401.
    # Personal access tokens (`trainy_pat_…`) first, then any other bearer token as an OAuth2
    # app's (see "OAuth2 applications" below).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "trainy.accounts.authentication.AccessTokenAuthentication",
        "trainy.accounts.authentication.OAuth2AppAuthentication",
        # The site's own JavaScript: the session cookie, with CSRF checked on every write.
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["trainy.api.permissions.HasRequiredScopes"],
    "DEFAULT_THROTTLE_CLASSES": ["trainy.api.throttling.RateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["trainy.api.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "trainy.api.schema.TrainyAutoSchema",
    "EXCEPTION_HANDLER": "trainy.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Trainy API",
    "DESCRIPTION": (
        "Check-ins, journeys and stations of a Trainy instance. Authenticate with a personal "
        "access token (`Authorization: Bearer trainy_pat_…`, created on /settings/tokens/) or "
        "an OAuth2 app's access token (apps are registered on /settings/apps/)."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Separate request and response components: a field the server sets is not asked for.
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One schema component per choice set, named as the models name it.
    "ENUM_NAME_OVERRIDES": {
        "Visibility": "checkins.models.Visibility",
        "Mode": "checkins.models.Mode",
        "Purpose": "checkins.models.Purpose",
        "WebhookEvent": "feed.models.WebhookEvent",
    },
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": False, "tryItOutEnabled": False},
}

# --- OAuth2 applications (/oauth/) -------------------------------------------------------------

# Apps that travellers register on /settings/apps/ act for the travellers who allow them, with
# the same scopes as personal access tokens (django-oauth-toolkit; README "OAuth2 apps"). Only
# the authorization code grant with PKCE (S256), and refresh tokens; tokens and client secrets
# are stored hashed. Every RFC 9700 (OAuth 2.0 Security BCP) gate of the toolkit is on, so that
# `check --deploy` is clean.
INSTALLED_APPS += ["oauth2_provider"]
# Plain http only where an admin allows it (RFC 8252's loopback redirects of native apps, a
# private-use scheme such as `org.example.app` for a phone app).
TRAINY_OAUTH_REDIRECT_SCHEMES = env.strings("TRAINY_OAUTH_REDIRECT_SCHEMES", ["https"])
OAUTH2_PROVIDER: dict[str, Any] = {
    "SCOPES": {scope.value: scope.label for scope in Scope},
    # What an app gets that asks for no scope: reading, not all of them.
    "DEFAULT_SCOPES": [Scope.READ.value],
    "PKCE_REQUIRED": True,
    "ACCESS_TOKEN_EXPIRE_SECONDS": env.integer(
        "TRAINY_OAUTH_ACCESS_TOKEN_SECONDS", 3600, minimum=60
    ),
    "REFRESH_TOKEN_EXPIRE_SECONDS": (
        env.integer("TRAINY_OAUTH_REFRESH_TOKEN_DAYS", 30, minimum=1) * 86400
    ),
    # Every refresh gives a new refresh token, and the old one used again revokes the lot (a
    # stolen refresh token ends its own family).
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": TRAINY_OAUTH_REDIRECT_SCHEMES,
    # The consent page is shown every time, also to an app allowed before.
    "REQUEST_APPROVAL_PROMPT": "force",
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,  # S256 only, no "plain"
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,  # no ?access_token=
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,  # SHA-256 of tokens only, as for PATs
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    # Not an error: an admin who allows http has a reason (loopback redirects), and the
    # warning of `check --deploy` says what it costs.
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": False,
}
