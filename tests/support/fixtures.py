"""Pytest fixtures shared by the whole suite (loaded from tests/conftest.py via `pytest_plugins`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.support.httpserver import LoopbackHTTPServer

if TYPE_CHECKING:  # imported lazily: only SMTP tests pay for aiosmtpd
    from tests.support.smtpserver import LoopbackSMTPServer

# The webhook path apprise's Slack plugin posts to for `SLACK_APPRISE_URL` (see the `slack_webhook` fixture).
SLACK_WEBHOOK_PATH = "/services/T000/B000/XXXXXXXX"
SLACK_APPRISE_URL = "https://hooks.slack.com" + SLACK_WEBHOOK_PATH  # apprise parses this native form
SMTP_AUTH = ("watch287g", "s3cret-Pa55")


@pytest.fixture(autouse=True)
def no_legislation_api_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """A key in the developer's environment would add the nationwide legislation source (the real API) to
    every config without one: tests set the keys themselves."""
    monkeypatch.delenv("OPENSTATES_API_KEY", raising=False)
    monkeypatch.delenv("LEGISCAN_API_KEY", raising=False)


@pytest.fixture
def http_server() -> Iterator[LoopbackHTTPServer]:
    """A fresh loopback HTTP server per test; shut down at teardown even if the test failed."""
    server = LoopbackHTTPServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp_server() -> Iterator[LoopbackSMTPServer]:
    """A fresh loopback SMTP server per test (no TLS, no auth); `url_for_apprise()` points apprise at it."""
    from tests.support.smtpserver import LoopbackSMTPServer

    server = LoopbackSMTPServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp_server_auth() -> Iterator[LoopbackSMTPServer]:
    """Like `smtp_server` but AUTH is required, with user/password `SMTP_AUTH` (`server.auth`)."""
    from tests.support.smtpserver import LoopbackSMTPServer

    server = LoopbackSMTPServer(auth=SMTP_AUTH).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def slack_webhook(http_server: LoopbackHTTPServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """Points apprise's Slack webhook mode at `http_server` and returns an apprise Slack URL.

    Its POSTs land at `SLACK_WEBHOOK_PATH` on the loopback server, answered "ok" (what Slack returns and
    apprise requires); re-route that path (e.g. `respond_sequence`) to simulate failures.
    """
    from apprise.plugins.slack import NotifySlack

    monkeypatch.setattr(NotifySlack, "webhook_url", http_server.url("/services"))
    http_server.route(SLACK_WEBHOOK_PATH, b"ok", content_type="text/plain; charset=utf-8")
    return SLACK_APPRISE_URL


@pytest.fixture
def apprise_no_throttle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Disable apprise's per-plugin rate limit (e.g. 5.5 s between two sends of one mailto:// instance)."""
    from apprise.url import URLBase

    monkeypatch.setattr(URLBase, "throttle", lambda self, last_io=None, wait=None: None)
