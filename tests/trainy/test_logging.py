"""Log lines carry the request id (and the user id once known); production logs are JSON."""

from __future__ import annotations

import json
import logging

import pytest

from trainy.logging import JsonFormatter, RequestContextFilter, current_request_id


def format_json(record: logging.LogRecord) -> dict:
    return json.loads(JsonFormatter().format(record))


def make_record(message: str = "hello %s", args: tuple = ("world",)) -> logging.LogRecord:
    return logging.LogRecord("trainy.test", logging.WARNING, __file__, 1, message, args, None)


def test_a_json_line_has_the_documented_fields():
    token = current_request_id.set("abc123def456")
    try:
        record = make_record()
        RequestContextFilter().filter(record)
        line = format_json(record)
    finally:
        current_request_id.reset(token)
    assert line["message"] == "hello world"
    assert line["level"] == "WARNING"
    assert line["logger"] == "trainy.test"
    assert line["request_id"] == "abc123def456"
    assert "timestamp" in line
    assert "user_id" not in line


def test_an_exception_is_part_of_the_one_line():
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    text = JsonFormatter().format(record)
    assert "\n" not in text
    assert "ValueError: boom" in json.loads(text)["exc_info"]


@pytest.mark.django_db
def test_responses_carry_a_request_id_and_accept_a_sane_incoming_one(client):
    generated = client.get("/healthz")["X-Request-Id"]
    assert len(generated) == 32
    assert client.get("/healthz", HTTP_X_REQUEST_ID="trace-0123456789")["X-Request-Id"] == (
        "trace-0123456789"
    )
    # Anything that is not an id is replaced, so it cannot be injected into the logs.
    injected = client.get("/healthz", HTTP_X_REQUEST_ID="x\nlevel=CRITICAL")["X-Request-Id"]
    assert injected != "x\nlevel=CRITICAL"
    assert len(injected) == 32


@pytest.mark.django_db
def test_records_logged_during_a_request_carry_its_id_and_user(client, alice, caplog):
    client.force_login(alice)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get("/journeys/999999/", HTTP_X_REQUEST_ID="request-for-a-404")
    assert response.status_code == 404
    # The stdout handler's filter has tagged the record while the request was running.
    record = next(r for r in caplog.records if r.name == "django.request")
    line = format_json(record)
    assert line["request_id"] == "request-for-a-404"
    assert line["user_id"] == alice.id


def test_production_logs_are_json_lines_on_stdout():
    from tests.trainy.test_config import PRODUCTION, run_python

    result = run_python(
        "import django, logging; django.setup();"
        "logging.getLogger('trainy.audit').warning('checked %s', 'in')",
        PRODUCTION,
    )
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stdout.strip().splitlines()[-1])
    assert line["message"] == "checked in"
    assert line["level"] == "WARNING"
    assert line["logger"] == "trainy.audit"
    assert line["request_id"] == "-"
