"""Configuration from the environment: embedded defaults, full stack, and clean failures."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from trainy.config import ConfigurationError, Environment, redact

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "a-production-secret-key-that-is-long-enough-0123456789-abcdefghij",
    "ALLOWED_HOSTS": "trainy.example.org",
}
DUMP_SETTINGS = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "db": str(settings.DATABASES["default"]["NAME"]),
    "conn_max_age": settings.DATABASES["default"].get("CONN_MAX_AGE"),
    "health_checks": settings.DATABASES["default"].get("CONN_HEALTH_CHECKS"),
    "cache": settings.CACHES["default"]["BACKEND"],
    "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "broker": settings.CELERY_BROKER_URL,
    "mongo": settings.MONGO_URL,
    "secret": settings.SECRET_KEY,
    "debug": settings.DEBUG,
    "store": __import__("trainy.documents").documents.journey_store().backend,
}))
"""


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run code in a fresh interpreter with only ``env`` (plus PATH) as its environment."""
    clean = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "trainy.settings", **env}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def settings_with(env: dict[str, str]) -> dict:
    result = run_python(DUMP_SETTINGS, env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def failure_of(env: dict[str, str]) -> str:
    result = run_python("import django; django.setup()", env)
    assert result.returncode != 0, "start-up should have failed"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected a one-line message, got:\n{result.stderr}"
    assert "Traceback" not in result.stderr
    return lines[0]


def test_embedded_defaults_need_no_service(tmp_path):
    config = settings_with({"DEBUG": "true", "TRAINY_DATA_DIR": str(tmp_path)})
    assert config["engine"] == "django.db.backends.sqlite3"
    assert config["db"] == str(tmp_path / "trainy.sqlite3")
    assert config["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert config["eager"] is True
    assert config["mongo"] is None
    assert config["store"] == "sql"


def test_full_stack_urls_select_the_real_services():
    config = settings_with(
        {
            **PRODUCTION,
            "DATABASE_URL": "postgres://trainy:pw@db.internal:5433/trainy",
            "REDIS_URL": "redis://cache.internal:6379/1",
            "CELERY_BROKER_URL": "amqp://trainy:pw@mq.internal:5672/trainy",
            "MONGO_URL": "mongodb://docs.internal:27017/",
        }
    )
    assert config["engine"] == "django.db.backends.postgresql"
    assert config["db"] == "trainy"
    assert config["conn_max_age"] == 60
    assert config["health_checks"] is True
    assert config["cache"] == "django_redis.cache.RedisCache"
    assert config["eager"] is False
    assert config["broker"] == "amqp://trainy:pw@mq.internal:5672/trainy"
    assert config["store"] == "mongodb"


def test_debug_is_off_by_default():
    assert settings_with(PRODUCTION)["debug"] is False


def test_missing_secret_key_with_debug_off_names_the_variable():
    message = failure_of({"ALLOWED_HOSTS": "trainy.example.org"})
    assert "SECRET_KEY is required when DEBUG is off" in message


def test_missing_allowed_hosts_with_debug_off_names_the_variable():
    message = failure_of({"SECRET_KEY": PRODUCTION["SECRET_KEY"]})
    assert "ALLOWED_HOSTS is required when DEBUG is off" in message


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("DATABASE_URL", "postgres//trainy@localhost/trainy", "DATABASE_URL is not a valid URL"),
        ("DATABASE_URL", "mysql://u:p@localhost/trainy", "scheme 'mysql' is not one of"),
        ("DATABASE_URL", "postgres://u:p@localhost:port/trainy", "DATABASE_URL is not a valid URL"),
        ("DATABASE_URL", "postgres://u:p@localhost:5432", "DATABASE_URL names no database"),
        ("REDIS_URL", "localhost:6379", "REDIS_URL is not a valid URL"),
        ("CELERY_BROKER_URL", "amqp://", "CELERY_BROKER_URL is not a valid URL (no host)"),
        ("MONGO_URL", "http://127.0.0.1:27017", "MONGO_URL is not a valid URL"),
        ("DEBUG", "maybe", "DEBUG must be true or false"),
        ("TRAINY_HSTS_SECONDS", "a year", "TRAINY_HSTS_SECONDS must be a whole number"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT must be one of json, text"),
        ("TRAINY_REALTIME_FEEDS", "https://rt.example.org/tu.pb", "name=URL pairs"),
        ("TRAINY_REALTIME_FEEDS", "bart=ftp://rt.example.org/tu", "TRAINY_REALTIME_FEEDS is not"),
        ("TRAINY_IMPORT_MAX_ROWS", "lots", "TRAINY_IMPORT_MAX_ROWS must be a whole number"),
        ("TRAINY_IMPORT_MAX_DOWNLOAD_BYTES", "0", "TRAINY_IMPORT_MAX_DOWNLOAD_BYTES must be at"),
        ("TRAINY_IMPORT_ALLOW_PRIVATE", "maybe", "TRAINY_IMPORT_ALLOW_PRIVATE must be true or"),
    ],
)
def test_malformed_values_fail_fast_naming_the_variable(variable, value, expected):
    message = failure_of({**PRODUCTION, variable: value})
    assert message.startswith("trainy: configuration error:")
    assert expected in message


def test_error_messages_never_print_the_password():
    message = failure_of({**PRODUCTION, "DATABASE_URL": "postgres://trainy:hunter2@db:bad/x"})
    assert "hunter2" not in message
    assert "***" in message


def test_secrets_can_come_from_files(tmp_path):
    secret_file = tmp_path / "secret_key"
    secret_file.write_text("a-secret-from-a-mounted-file-0123456789-abcdefghijklmnopqrstuv\n")
    config = settings_with(
        {
            "SECRET_KEY_FILE": str(secret_file),
            "ALLOWED_HOSTS": "trainy.example.org",
        }
    )
    assert config["secret"] == "a-secret-from-a-mounted-file-0123456789-abcdefghijklmnopqrstuv"


def test_an_unreadable_secret_file_names_the_variable(tmp_path):
    message = failure_of(
        {
            "SECRET_KEY_FILE": str(tmp_path / "missing"),
            "ALLOWED_HOSTS": "trainy.example.org",
        }
    )
    assert "SECRET_KEY_FILE points to" in message
    assert "cannot be read" in message


def test_check_deploy_is_clean_with_production_settings():
    env = {"PATH": os.environ["PATH"], **PRODUCTION, "TRAINY_PROXY_SSL_HEADER": "X-Forwarded-Proto"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


class TestEnvironment:
    def test_it_reads_booleans_strictly(self):
        env = Environment({"A": "yes", "B": "OFF", "C": "nope"})
        assert env.boolean("A", False) is True
        assert env.boolean("B", True) is False
        assert env.boolean("MISSING", True) is True
        with pytest.raises(ConfigurationError, match="C must be true or false"):
            env.boolean("C", False)

    def test_it_treats_an_empty_value_as_unset(self):
        assert Environment({"A": ""}).string("A", "fallback") == "fallback"

    def test_it_splits_lists(self):
        assert Environment({"HOSTS": "a.org, b.org,,"}).strings("HOSTS") == ["a.org", "b.org"]

    def test_redact_hides_only_the_password(self):
        assert redact("amqp://user:secret@host:5672/vh") == "amqp://user:***@host:5672/vh"
        assert redact("redis://host:6379/0") == "redis://host:6379/0"


def test_gitlab_from_the_environment_makes_sign_in_sso_only_unless_told_otherwise():
    code = (
        "import json, django; from django.conf import settings; django.setup();"
        "app = settings.SOCIALACCOUNT_PROVIDERS['openid_connect']['APPS'][0];"
        "print(json.dumps([settings.SOCIALACCOUNT_ONLY, app['settings']['server_url'],"
        " app['client_id'], settings.TRAINY_GITLAB_ADMIN_GROUPS]))"
    )
    gitlab = {
        **PRODUCTION,
        "GITLAB_URL": "https://git.example.edu/",
        "GITLAB_CLIENT_ID": "trainy",
        "GITLAB_CLIENT_SECRET_FILE": str(ROOT / "README.md"),  # any readable file will do
        "TRAINY_GITLAB_ADMIN_GROUPS": "kbs610/admins, kbs610/ops",
    }
    result = run_python(code, gitlab)
    assert result.returncode == 0, result.stderr
    sso_only, server, client, admins = json.loads(result.stdout.strip().splitlines()[-1])
    assert (sso_only, server, client) == (True, "https://git.example.edu", "trainy")
    assert admins == ["kbs610/admins", "kbs610/ops"]
    result = run_python(code, {**gitlab, "TRAINY_LOCAL_ACCOUNTS": "true"})
    assert json.loads(result.stdout.strip().splitlines()[-1])[0] is False


def test_the_gitlab_recheck_keeps_its_grace_period_no_shorter_than_its_interval():
    code = (
        "import json, django; from django.conf import settings; django.setup();"
        "print(json.dumps([settings.TRAINY_GITLAB_RECHECK_SECONDS,"
        " settings.TRAINY_GITLAB_ADMIN_GRACE_SECONDS, settings.SOCIALACCOUNT_STORE_TOKENS]))"
    )
    result = run_python(code, PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [900, 3600, True]
    # A grace period shorter than the interval would suspend every admin between two checks.
    complaint = failure_of(
        {
            **PRODUCTION,
            "TRAINY_GITLAB_RECHECK_SECONDS": "1800",
            "TRAINY_GITLAB_ADMIN_GRACE_SECONDS": "600",
        }
    )
    assert "TRAINY_GITLAB_ADMIN_GRACE_SECONDS must be at least" in complaint
    assert "TRAINY_GITLAB_RECHECK_SECONDS" in failure_of(
        {**PRODUCTION, "TRAINY_GITLAB_RECHECK_SECONDS": "5"}
    )


@pytest.mark.django_db
def test_postgresql_connections_compile_no_jit():
    """Queries of milliseconds were compiled for hundreds of milliseconds once a large
    timetable or many journeys pushed their estimates past jit_above_cost."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
