"""Fetching outside URLs (trainy.fetch): only http(s), only public addresses unless allowed, at
most five redirects, each hop checked on the address it would connect to, and bodies cut off
at their limit, all against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import http.server
import sys
import threading
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from trainy.fetch import MAX_REDIRECTS, FetchError, download, read

BODY = b"a feed, as far as this test cares\n"
PIECE = 64 * 1024
# How long the server holds a connection it never finishes: far past a test's patience.
HOLD_S = 30


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.release = threading.Event()
        self.sent = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"


class Handler(http.server.BaseHTTPRequestHandler):
    """/feed: a small body. /to?url=U: a redirect to U (its body endless with ``endless``).
    /announced?size=N: says N bytes are coming, then sends none. /stream?size=N: N bytes with
    no Content-Length (HTTP/1.0: the body ends when the connection does)."""

    server: Server

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        if parts.path == "/feed":
            self._answer(200, {"Content-Length": str(len(BODY))})
            self.wfile.write(BODY)
        elif parts.path == "/to":
            endless = "endless" in query
            self._answer(
                302, {"Location": query["url"], "Content-Length": str(10**12 if endless else 0)}
            )
            if endless:
                self.wfile.write(b"x" * PIECE)
                self.wfile.flush()
                self.server.release.wait(HOLD_S)
        elif parts.path == "/announced":
            self._answer(200, {"Content-Length": query["size"]})
            self.wfile.flush()
            self.server.release.wait(HOLD_S)
        elif parts.path == "/stream":
            self._answer(200, {})
            try:
                for _ in range(int(query["size"]) // PIECE):
                    self.wfile.write(b"y" * PIECE)
                    self.server.sent += PIECE
            except OSError:
                pass  # the client hung up: what it was meant to do
        else:
            self._answer(404, {"Content-Length": "0"})

    def _answer(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[Server]:
    running = Server()
    threading.Thread(target=running.serve_forever, daemon=True).start()
    try:
        yield running
    finally:
        running.release.set()
        running.shutdown()
        running.server_close()


@pytest.fixture
def private_allowed(settings) -> None:
    settings.TRAINY_IMPORT_ALLOW_PRIVATE = True


def via(server: Server, url: str, *, endless: bool = False) -> str:
    """A URL on ``server`` that redirects to ``url``."""
    return f"{server.url}/to?url={quote(url, safe='')}" + ("&endless=1" if endless else "")


class Connections:
    """The addresses this process connects sockets to, seen through Python's audit hook
    ("socket.connect"): what a test asserts was never dialled."""

    def __init__(self) -> None:
        self.recording = False
        self.addresses: list[object] = []

    def __call__(self, event: str, args: tuple[object, ...]) -> None:
        if self.recording and event == "socket.connect":
            self.addresses.append(args[1])


CONNECTIONS = Connections()
sys.addaudithook(CONNECTIONS)  # audit hooks cannot be removed: this one records only when asked


@pytest.fixture
def connections() -> Iterator[Connections]:
    CONNECTIONS.addresses.clear()
    CONNECTIONS.recording = True
    try:
        yield CONNECTIONS
    finally:
        CONNECTIONS.recording = False


# --- Addresses ------------------------------------------------------------------------------


def test_a_server_on_this_machine_is_refused_by_default_naming_its_address(server, connections):
    with pytest.raises(FetchError) as refused:
        read(f"{server.url}/feed", max_bytes=1000, limit="LIMIT")
    assert str(refused.value) == (
        "refused: 127.0.0.1 is a loopback address; only public addresses are fetched unless "
        "TRAINY_IMPORT_ALLOW_PRIVATE is true"
    )
    assert connections.addresses == []


def test_a_host_name_is_judged_by_the_address_it_resolves_to(server, connections):
    with pytest.raises(
        FetchError,
        match=r"^refused: localhost is at (127\.0\.0\.1|::1), which is a loopback address",
    ):
        read(f"http://localhost:{server.server_port}/feed", max_bytes=1000, limit="LIMIT")
    assert connections.addresses == []


def test_private_addresses_are_fetched_when_allowed(server, private_allowed):
    assert read(f"{server.url}/feed", max_bytes=1000, limit="LIMIT") == BODY


@pytest.mark.parametrize(
    ("target", "kind"),
    [
        ("http://10.0.0.1/feed.zip", "a private address"),
        ("http://169.254.169.254/latest/meta-data/", "a link-local address"),
        ("http://[fd00::1]/feed.zip", "a private address"),
    ],
)
def test_a_redirect_to_a_private_address_is_refused_before_connecting_to_it(
    server, connections, target, kind
):
    # The server itself is admitted as a loopback source, standing in for a public one.
    with pytest.raises(FetchError) as refused:
        read(via(server, target), max_bytes=1000, limit="LIMIT", allow_loopback=True)
    address = urlsplit(target).hostname
    assert str(refused.value).startswith(f"refused: redirected to {target}: {address} is {kind};")
    assert connections.addresses == [("127.0.0.1", server.server_port)]


def test_a_redirect_to_another_scheme_is_refused(server, private_allowed, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the admin's eyes")
    for target, scheme in ((secret.as_uri(), "file"), ("ftp://example.org/gtfs.zip", "ftp")):
        with pytest.raises(FetchError) as refused:
            read(via(server, target), max_bytes=1000, limit="LIMIT")
        assert str(refused.value) == (
            f"refused: redirected to {target}: only http and https URLs are fetched, not {scheme}"
        )


def test_a_url_of_another_scheme_is_refused_before_anything_is_sent(connections):
    with pytest.raises(
        FetchError, match=r"^refused: only http and https URLs are fetched, not ftp$"
    ):
        read("ftp://example.org/gtfs.zip", max_bytes=1000, limit="LIMIT")
    assert connections.addresses == []


def test_redirects_are_followed_five_times_and_no_more(server, private_allowed):
    url = f"{server.url}/feed"
    for _ in range(MAX_REDIRECTS):
        url = via(server, url)
    assert read(url, max_bytes=1000, limit="LIMIT") == BODY
    with pytest.raises(FetchError, match=f"^refused: more than {MAX_REDIRECTS} redirects$"):
        read(via(server, url), max_bytes=1000, limit="LIMIT")


def test_a_redirect_is_followed_without_reading_its_body(server, private_allowed):
    started = time.monotonic()
    body = read(via(server, f"{server.url}/feed", endless=True), max_bytes=1000, limit="LIMIT")
    assert body == BODY
    assert time.monotonic() - started < 10  # the server holds the redirect's body for 30 s


# --- Sizes ------------------------------------------------------------------------------------


def test_an_announced_size_over_the_limit_is_refused_before_reading(server, private_allowed):
    started = time.monotonic()
    with pytest.raises(FetchError) as refused:
        read(f"{server.url}/announced?size={3 * 1024**3}", max_bytes=2 * 1024**3, limit="MAX")
    assert str(refused.value) == "refused: the file is 3.0 GB, more than the limit of 2.0 GB (MAX)"
    assert time.monotonic() - started < 10  # the server never sends the body it announced


def test_a_download_stops_as_soon_as_it_passes_the_limit(server, private_allowed, tmp_path):
    target = tmp_path / "feed.zip"
    seen: list[int] = []
    with pytest.raises(FetchError) as refused:
        download(
            f"{server.url}/stream?size={256 * 1024**2}",
            target,
            max_bytes=1024**2,
            limit="TRAINY_IMPORT_MAX_DOWNLOAD_BYTES",
            on_start=seen.append,
            on_chunk=seen.append,
        )
    assert str(refused.value) == (
        "refused: the file is larger than the limit of 1.0 MB (TRAINY_IMPORT_MAX_DOWNLOAD_BYTES)"
    )
    assert seen[0] == 0  # no size announced
    assert target.stat().st_size <= 1024**2
    # The server was cut off long before its 256 MB (what the sockets buffered is all it sent).
    assert server.sent < 32 * 1024**2


def test_an_http_error_says_what_the_server_answered(server, private_allowed):
    with pytest.raises(FetchError, match=r"^download failed: 404 Client Error"):
        read(f"{server.url}/missing", max_bytes=1000, limit="LIMIT")
