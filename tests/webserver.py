"""A folder served over HTTP on 127.0.0.1, as a publisher serves its feed files: for the code
that fetches a feed by URL (imports, the realtime refresh, the image's import Job)."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path


@contextmanager
def serve_directory(directory: Path) -> Iterator[str]:
    """Serves the folder's files from a thread on a free port; yields the base URL (no trailing
    slash) and shuts the server down after."""
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
