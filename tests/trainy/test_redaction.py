"""Calendar tokens (and any token in a URL) and passwords in URLs never reach a log line:
Trainy's own records through the configured handler, and gunicorn's access and error logs."""

from __future__ import annotations

import importlib.util
import io
import json
import logging
import secrets
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from trainy.logging import JsonFormatter
from trainy.redaction import REDACTED, RedactSecretsFilter, redact

ROOT = Path(__file__).resolve().parent.parent.parent
TOKEN = secrets.token_urlsafe(32)


@pytest.mark.parametrize(
    "text",
    [
        f"/calendar/{TOKEN}.ics",
        f"GET /calendar/{TOKEN}.ics?purpose=business HTTP/1.1",
        f"https://trainy.example.org/calendar/{TOKEN}.ics",
        f"Not Found: /calendar/{TOKEN}x.ics",  # a mistyped token is nearly the token
        f"/accounts/login/?next=%2Fcalendar%2F{TOKEN}.ics",
        f"/accounts/login/?next=%2fcalendar%2f{TOKEN}.ics",
        f'"referer": "http://localhost/calendar/{TOKEN}.ics"',
        f"GET /accounts/password/reset/key/1a-{TOKEN}/ 200",
        f"Not Found: /accounts/confirm-email/{TOKEN}/",
    ],
)
def test_a_token_is_redacted_wherever_its_path_appears(text):
    assert TOKEN not in redact(text)
    assert REDACTED in redact(text)


@pytest.mark.parametrize(
    "text", ["/stats/calendar/", "/calendar/", "GET /journeys/12/ 200", "calendar token renewed"]
)
def test_text_without_a_secret_is_left_alone(text):
    assert redact(text) == text


def test_passwords_in_service_urls_are_redacted():
    text = "cannot reach amqp://trainy:s3cr3t@mq:5672/trainy and redis://:hunter2@cache:6379/0"
    assert redact(text) == (
        f"cannot reach amqp://trainy:{REDACTED}@mq:5672/trainy and redis://:{REDACTED}@cache:6379/0"
    )
    assert redact("https://tile.openstreetmap.org/1/2/3.png") == (
        "https://tile.openstreetmap.org/1/2/3.png"
    )


def _patterns(resolver: URLResolver, prefix: str = "", namespace: str = ""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _patterns(entry, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), namespace, entry


SECRET_GROUPS = ("token", "key", "secret")


def test_every_url_with_a_token_in_its_path_is_declared_and_redacted():
    """A URL pattern that takes a token (or key, or secret) must be one of
    trainy.redaction.SECRET_PATHS: its token is then redacted from every log line."""
    found = []
    for route, namespace, entry in _patterns(get_resolver()):
        groups = list(entry.pattern.regex.groupindex)
        secret = [g for g in groups if g.lower().endswith(SECRET_GROUPS)]
        if not secret or not entry.name:
            continue
        found.append(route)
        kwargs = {group: TOKEN if group in secret else "1" for group in groups}
        path = reverse(f"{namespace}{entry.name}", kwargs=kwargs)
        assert TOKEN not in redact(path), f"{route} carries a token that logs would show"
    assert "^calendar/(?P<token>" in " ".join(found)


# --- Trainy's own log lines, through the handler settings.LOGGING configured ----------------


@pytest.fixture(params=["text", "json"])
def log_output(request):
    """What the configured stdout handler writes (its own filters, and its formatter or the
    production JSON one), captured instead of printed."""
    (handler,) = [h for h in logging.getLogger().handlers if h.get_name() == "stdout"]
    stream = io.StringIO()
    old_stream = handler.setStream(stream)
    old_formatter = handler.formatter
    if request.param == "json":
        handler.setFormatter(JsonFormatter())
    try:
        yield stream
    finally:
        handler.setStream(old_stream)
        handler.setFormatter(old_formatter)


@pytest.mark.django_db
def test_calendar_urls_that_404_or_400_log_no_token(client, alice, log_output):
    alice.calendar_token = TOKEN
    alice.save(update_fields=["calendar_token"])
    unknown = secrets.token_urlsafe(32)
    assert client.get(f"/calendar/{unknown}.ics").status_code == 404
    assert client.get(f"/calendar/{TOKEN}.ics?period=nonsense").status_code == 400
    assert client.get(f"/calendar/{TOKEN}.ics").status_code == 200
    assert client.get(f"/calendar/{TOKEN}.ics!").status_code == 404  # matched by no pattern
    output = log_output.getvalue()
    assert "Not Found" in output and "Bad Request" in output  # the lines were written
    assert f"/calendar/{REDACTED}" in output
    assert TOKEN not in output and unknown not in output


def test_a_traceback_with_a_token_in_it_is_redacted(log_output):
    try:
        raise ValueError(f"could not render /calendar/{TOKEN}.ics")
    except ValueError:
        logging.getLogger("trainy.test").exception("failed at %s", f"/calendar/{TOKEN}.ics")
    output = log_output.getvalue()
    assert "ValueError" in output and "failed at" in output
    assert TOKEN not in output


def test_the_filter_redacts_extra_fields():
    record = logging.makeLogRecord({"msg": "export", "url": f"/calendar/{TOKEN}.ics"})
    RedactSecretsFilter().filter(record)
    assert TOKEN not in record.url


# --- gunicorn: its access log and its own messages ------------------------------------------


def gunicorn_conf():
    spec = importlib.util.spec_from_file_location(
        "gunicorn_conf_under_test", ROOT / "docker" / "gunicorn.conf.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def serve_through_gunicorn(logger_class, tmp_path: Path, raw: bytes) -> str:
    """One request as a gunicorn worker handles it: gunicorn parses the bytes into its request
    and WSGI environ, Trainy's WSGI application answers, the logger writes the access line."""
    from gunicorn.config import Config
    from gunicorn.http import RequestParser
    from gunicorn.http.wsgi import create

    from trainy.wsgi import application

    cfg = Config()
    cfg.set("accesslog", str(tmp_path / "access.log"))
    cfg.set("errorlog", str(tmp_path / "error.log"))
    logger = logger_class(cfg)
    request = next(RequestParser(cfg, iter([raw]), ("10.0.0.2", 40000)))
    response, environ = create(request, None, ("10.0.0.2", 40000), ("127.0.0.1", 8000), cfg)
    body = application(environ, response.start_response)
    response.sent = sum(len(chunk) for chunk in body)
    logger.access(response, request, environ, timedelta(milliseconds=3))
    logger.error("Error handling request %s", request.uri)
    return (tmp_path / "access.log").read_text() + (tmp_path / "error.log").read_text()


def request_bytes(token: str) -> bytes:
    return (
        f"GET /calendar/{token}.ics?period=nonsense&ref=%2Fcalendar%2F{token}.ics HTTP/1.1\r\n"
        "Host: localhost\r\n"
        f"Referer: http://localhost/calendar/{token}.ics\r\n"
        "X-Forwarded-For: 203.0.113.9\r\n"
        "\r\n"
    ).encode()


@pytest.mark.django_db(transaction=True)
def test_gunicorns_json_access_log_shows_no_token(alice, tmp_path, settings):
    settings.TRAINY_PROXY_HOPS = 1
    alice.calendar_token = TOKEN
    alice.save(update_fields=["calendar_token"])
    output = serve_through_gunicorn(gunicorn_conf().JsonLogger, tmp_path, request_bytes(TOKEN))
    assert TOKEN not in output
    line = json.loads(output.splitlines()[0])
    assert line["status"] == 400
    assert line["path"] == f"/calendar/{REDACTED}"
    assert line["referer"] == f"http://localhost/calendar/{REDACTED}"
    assert line["query"] == f"period=nonsense&ref=%2Fcalendar%2F{REDACTED}"
    # The client behind the proxy, and the proxy it came through.
    assert (line["remote_addr"], line["peer_addr"]) == ("203.0.113.9", "10.0.0.2")


@pytest.mark.django_db(transaction=True)
def test_gunicorns_text_access_log_shows_no_token(tmp_path):
    token = secrets.token_urlsafe(32)
    output = serve_through_gunicorn(gunicorn_conf().RedactingLogger, tmp_path, request_bytes(token))
    assert "404" in output and "Error handling request" in output
    assert token not in output
    assert f"/calendar/{REDACTED}" in output


def test_the_gunicorn_config_loads_without_importing_trainy():
    """The master process never imports the application (nor Celery, nor Django through it)."""
    import subprocess

    code = (
        "import runpy, sys; runpy.run_path('docker/gunicorn.conf.py');"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('trainy', 'django', 'celery')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
