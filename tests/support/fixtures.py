"""Pytest fixtures shared by the whole suite (loaded from tests/conftest.py via `pytest_plugins`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.httpserver import LoopbackHTTPServer


@pytest.fixture
def http_server() -> Iterator[LoopbackHTTPServer]:
    """A fresh loopback HTTP server per test; shut down at teardown even if the test failed."""
    server = LoopbackHTTPServer().start()
    try:
        yield server
    finally:
        server.stop()
