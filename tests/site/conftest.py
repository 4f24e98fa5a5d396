"""Fixtures over the built book (_build/html, made by `make book` before pytest runs)."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import pytest
from built_site import HTML


@pytest.fixture(scope="session")
def site() -> Path:
    if not (HTML / "index.html").exists():
        pytest.fail("_build/html is missing: run `make book` (or `make test`, which builds it first)")
    return HTML


@pytest.fixture(scope="module")
def site_url(site):
    """Serve the built site on 127.0.0.1 at a free port for the module's tests."""
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass
