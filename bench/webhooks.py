"""Webhook fan-out: deliveries per second per Celery worker to a receiver on 127.0.0.1 (target
at least 200/s). Prints figures; not a test.

Run with PostgreSQL and RabbitMQ of the services harness up:

    eval "$(scripts/services env)"
    .venv/bin/python bench/webhooks.py                       # 2,000 deliveries per worker shape
    .venv/bin/python bench/webhooks.py --deliveries 5000 --shapes threads:32,prefork:4

Trainy runs against its own benchmark database (default postgres://trainy:trainy@127.0.0.1:5432/
trainy_bench_webhooks, created and migrated here), never the dev or test one. The deliveries
(pending rows and their messages on the queue ``webhooks``, which is emptied first) are made
before the worker starts, so that only the worker's work is timed: from the first request the
receiver gets to the last, each delivery loaded, signed, POSTed and recorded as in production.
"""

from __future__ import annotations

import argparse
import http.server
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

from processes import stop
from timetable import ROOT, prepare_django, say

TARGET_PER_S = 200
USERNAME = "bench-webhooks"


class Receiver(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        self.times: list[float] = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), Handler)


class Handler(http.server.BaseHTTPRequestHandler):
    """Answers 204 at once, keeping the connection (as a receiver behind a proxy would)."""

    protocol_version = "HTTP/1.1"
    server: Receiver

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()
        with self.server.lock:
            self.server.times.append(time.monotonic())

    def log_message(self, format: str, *args: object) -> None:
        pass


def make_deliveries(url: str, count: int) -> None:
    from django.utils import timezone

    from checkins.models import CheckIn
    from feed.models import WebhookDelivery, WebhookEndpoint, WebhookEvent, WebhookSubscription
    from feed.selectors import webhook_checkin_payload
    from feed.tasks import deliver_webhook
    from trainy.accounts.models import User
    from trainy.celery import app

    user, _ = User.objects.get_or_create(username=USERNAME, defaults={"display_name": "Bench"})
    WebhookEndpoint.objects.filter(owner=user).delete()
    endpoint = WebhookEndpoint.objects.create(owner=user, url=url, secret="whsec_" + "b" * 48)
    WebhookSubscription.objects.create(endpoint=endpoint, event=WebhookEvent.CHECKIN_CREATED)
    journey = CheckIn.objects.filter(user=user).first()
    if journey is None:
        departure = timezone.now()
        journey = CheckIn.objects.create(
            user=user, line_name="RE 1", origin_name="Berlin Ostbahnhof",
            destination_name="Frankfurt (Oder)", departure_planned=departure,
            arrival_planned=departure + timedelta(minutes=75), time_zone="Europe/Berlin",
        )  # fmt: skip
    payload = webhook_checkin_payload(checkin=journey)
    with app.connection_for_write() as connection:
        app.amqp.queues["webhooks"](connection.default_channel).purge()
    rows = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(endpoint=endpoint, event=WebhookEvent.CHECKIN_CREATED, payload=payload)
        for _ in range(count)
    )
    started = time.monotonic()
    with app.producer_or_acquire() as producer:
        for row in rows:
            deliver_webhook.apply_async(args=(row.pk,), producer=producer)
    say(f"{count:,} deliveries queued in {time.monotonic() - started:.1f} s (not timed)")


def run_worker(receiver: Receiver, url: str, count: int, pool: str, concurrency: int) -> float:
    """Deliveries per second of one worker process of this shape, from the receiver's first
    request to its last."""
    receiver.times.clear()
    make_deliveries(url, count)
    log = Path(tempfile.gettempdir()) / f"bench-webhooks-worker-{os.getpid()}-{pool}.log"
    with log.open("w") as output:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "trainy", "worker", "-Q", "webhooks",
             "--concurrency", str(concurrency), "--pool", pool,
             "--without-gossip", "--without-mingle",
             "-O", "fair", "-l", "warning", "-n", f"bench-webhooks-{os.getpid()}@%h"],
            cwd=ROOT, env=os.environ.copy(), stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 30 + count / 20
        while len(receiver.times) < count and time.monotonic() < deadline:
            if worker.poll() is not None:
                raise SystemExit(f"the worker exited, see {log}")
            time.sleep(0.2)
    finally:
        stop(worker, timeout=20)
    received = len(receiver.times)
    if received < 2:
        raise SystemExit(f"only {received} deliveries arrived, see {log}")
    seconds = receiver.times[-1] - receiver.times[0]
    rate = (received - 1) / seconds if seconds else float("inf")
    say(f"  {pool} pool, concurrency {concurrency}: {received:,} of {count:,} deliveries in "
        f"{seconds:.1f} s: {rate:,.0f}/s")  # fmt: skip
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=2_000, help="per worker shape")
    parser.add_argument(
        "--shapes",
        default="threads:16,prefork:2",
        help="pool:concurrency of each worker timed, the first the one judged (default: the "
        "chart's webhooks worker, then its general worker as the reference)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://trainy:trainy@127.0.0.1:5432/trainy_bench_webhooks"
        ),
    )
    args = parser.parse_args()
    shapes = [(pool, int(n)) for pool, n in (shape.split(":") for shape in args.shapes.split(","))]
    if not os.environ.get("CELERY_BROKER_URL"):
        raise SystemExit('CELERY_BROKER_URL is not set: eval "$(scripts/services env)" first')
    os.environ["TRAINY_WEBHOOKS_ALLOW_PRIVATE"] = "true"  # the receiver is on 127.0.0.1
    prepare_django(args.database_url)

    receiver = Receiver()
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{receiver.server_port}/hook"
    try:
        rates = [run_worker(receiver, url, args.deliveries, *shape) for shape in shapes]
    finally:
        receiver.shutdown()
    (pool, concurrency), rate = shapes[0], rates[0]
    # A prefork worker of concurrency n is n processes: its rate per process beside the total.
    reference = ", ".join(
        f"{other} -c {n}: {value:,.0f}/s"
        + (f" ({value / n:,.0f}/s per process)" if other == "prefork" and n > 1 else "")
        for (other, n), value in zip(shapes[1:], rates[1:], strict=True)
    )
    say(
        f"webhooks: {rate:,.0f}/s with one worker ({pool} pool, concurrency {concurrency}); "
        f"reference {reference or '–'} (target ≥ {TARGET_PER_S}/s per worker: "
        f"{'met' if rate >= TARGET_PER_S else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
