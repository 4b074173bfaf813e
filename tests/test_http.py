"""HttpClient against a real server on 127.0.0.1: bodies, conditional GET, and every failure class."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from monitors.base import FetchError
from monitors.http import FetchResult, HttpClient, is_transient, redact_url, user_agent
from tests.support.httpserver import LoopbackHTTPServer

LAST_MODIFIED = "Wed, 30 Jul 2025 18:00:00 GMT"


@pytest.fixture
def client() -> Iterator[HttpClient]:
    http = HttpClient(contact="ops@example.org", timeout=0.5, max_bytes=10_000, max_redirects=3)
    yield http
    http.close()


def fetch_error(client: HttpClient, url: str) -> FetchError:
    with pytest.raises(FetchError) as caught:
        client.get(url)
    return caught.value


def test_200_returns_body_and_validators(http_server: LoopbackHTTPServer, client: HttpClient) -> None:
    url = http_server.route(
        "/list.xlsx",
        b"PK\x03\x04data",
        content_type="application/vnd.ms-excel",
        etag='"v1"',
        last_modified=LAST_MODIFIED,
    )
    result = client.get(url)
    assert result == FetchResult(
        url=url,
        final_url=url,
        status=200,
        body=b"PK\x03\x04data",
        content_type="application/vnd.ms-excel",
        etag='"v1"',
        last_modified=LAST_MODIFIED,
        elapsed_ms=result.elapsed_ms,
    )
    assert 0 <= result.elapsed_ms < 2000
    assert len(http_server.requests_for("/list.xlsx")) == 1


def test_user_agent_names_project_and_contact(http_server: LoopbackHTTPServer, client: HttpClient) -> None:
    client.get(http_server.route("/", b"ok"))
    sent = http_server.requests[0].headers["User-Agent"]
    assert sent == "watch287g/0.1.0 (+287(g) change monitor; contact: ops@example.org)"
    assert user_agent(None) == "watch287g/0.1.0 (+287(g) change monitor)"


def test_no_conditional_headers_without_validators(
    http_server: LoopbackHTTPServer, client: HttpClient
) -> None:
    client.get(http_server.route("/page", b"<html></html>", etag='"v1"'))
    headers = http_server.requests[0].headers
    assert "If-None-Match" not in headers
    assert "If-Modified-Since" not in headers


def test_304_with_etag(http_server: LoopbackHTTPServer, client: HttpClient) -> None:
    url = http_server.route("/page", b"<html>v1</html>", etag='"abc"')
    result = client.get(url, etag='"abc"')
    assert (result.status, result.body, result.etag) == (304, None, '"abc"')
    requests_seen = http_server.requests_for("/page")
    assert len(requests_seen) == 1
    assert requests_seen[0].headers["If-None-Match"] == '"abc"'


def test_stale_etag_gets_the_new_body(http_server: LoopbackHTTPServer, client: HttpClient) -> None:
    url = http_server.route("/page", b"<html>v2</html>", etag='"v2"')
    result = client.get(url, etag='"v1"')
    assert (result.status, result.body, result.etag) == (200, b"<html>v2</html>", '"v2"')


def test_304_with_last_modified(http_server: LoopbackHTTPServer, client: HttpClient) -> None:
    url = http_server.route("/page", b"<html>v1</html>", last_modified=LAST_MODIFIED)
    result = client.get(url, last_modified=LAST_MODIFIED)
    assert (result.status, result.body, result.last_modified) == (304, None, LAST_MODIFIED)
    requests_seen = http_server.requests_for("/page")
    assert len(requests_seen) == 1
    assert requests_seen[0].headers["If-Modified-Since"] == LAST_MODIFIED


def test_session_reuses_the_connection(http_server: LoopbackHTTPServer, client: HttpClient) -> None:
    url = http_server.route("/page", b"same")
    assert [client.get(url).body for _ in range(3)] == [b"same"] * 3
    ports = [request.client_port for request in http_server.requests_for("/page")]
    assert len(ports) == 3
    assert len(set(ports)) == 1


def test_timeout_is_transient_and_quick(http_server: LoopbackHTTPServer, client: HttpClient) -> None:
    url = http_server.fault("/slow", "delay", seconds=3)
    started = time.monotonic()
    error = fetch_error(client, url)
    assert time.monotonic() - started < 1.5
    assert (error.transient, error.http_status, is_transient(error)) == (True, None, True)
    assert str(error) == f"timed out after 0.5s fetching {url}"
    assert len(http_server.requests_for("/slow")) == 1


def test_connection_reset_is_transient(http_server: LoopbackHTTPServer, client: HttpClient) -> None:
    url = http_server.fault("/reset", "reset")
    error = fetch_error(client, url)
    assert error.transient is True
    assert str(error) == f"connection reset fetching {url}"
    assert len(http_server.requests_for("/reset")) == 1


def test_reset_in_the_middle_of_the_body_is_transient(http_server: LoopbackHTTPServer) -> None:
    url = http_server.fault("/cut", "reset", after_headers=True)
    error = fetch_error(HttpClient(timeout=2.0, max_bytes=1_000_000), url)
    assert error.transient is True
    assert url in str(error)


def test_connection_refused_is_transient(client: HttpClient) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago, now with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    error = fetch_error(client, url)
    assert (error.transient, str(error)) == (True, f"connection refused fetching {url}")


@pytest.mark.parametrize("code", [500, 503, 429])
def test_server_errors_are_transient(http_server: LoopbackHTTPServer, client: HttpClient, code: int) -> None:
    url = http_server.fault(f"/e{code}", "status", code=code)
    error = fetch_error(client, url)
    assert (error.transient, error.http_status, error.url) == (True, code, url)
    assert f"HTTP {code}" in str(error)
    assert url in str(error)


def test_retry_after_is_reported(http_server: LoopbackHTTPServer, client: HttpClient) -> None:
    url = http_server.fault("/busy", "status", code=503, headers={"Retry-After": "120"})
    assert str(fetch_error(client, url)) == (
        f"server error HTTP 503 Service Unavailable for {url} (temporary; Retry-After: 120)"
    )


def test_403_is_blocked_and_not_transient(http_server: LoopbackHTTPServer, client: HttpClient) -> None:
    url = http_server.fault("/blocked", "status", code=403)
    error = fetch_error(client, url)
    assert (error.transient, error.http_status, is_transient(error)) == (False, 403, False)
    assert str(error).startswith(f"blocked by the server (HTTP 403 Forbidden) for {url}")


def test_404_is_not_transient(http_server: LoopbackHTTPServer, client: HttpClient) -> None:
    url = http_server.url("/missing.xlsx")
    error = fetch_error(client, url)
    assert (error.transient, error.http_status, str(error)) == (False, 404, f"HTTP 404 Not Found for {url}")


def test_redirect_loop_is_not_transient(http_server: LoopbackHTTPServer, client: HttpClient) -> None:
    url = http_server.fault("/loop", "redirect_loop")
    error = fetch_error(client, url)
    assert (error.transient, str(error)) == (False, f"too many redirects (redirect loop?) for {url}")
    assert len(http_server.requests_for("/loop")) == 4  # the first request and max_redirects=3 more


def test_a_redirect_is_followed(http_server: LoopbackHTTPServer, client: HttpClient) -> None:
    target = http_server.route("/new.xlsx", b"moved here")
    url = http_server.route("/old.xlsx", b"", status=301, headers={"Location": "/new.xlsx"})
    result = client.get(url)
    assert (result.url, result.final_url, result.body) == (url, target, b"moved here")


def test_declared_oversize_body_is_rejected_early(
    http_server: LoopbackHTTPServer, client: HttpClient
) -> None:
    url = http_server.fault("/huge", "huge", size=5_000_000, content_length=True)
    error = fetch_error(client, url)
    assert error.transient is False
    assert (
        str(error) == f"response too large for {url}: cap is 10000 bytes (Content-Length says 5000000 bytes)"
    )


def test_streamed_oversize_body_is_cut_off(http_server: LoopbackHTTPServer, client: HttpClient) -> None:
    url = http_server.fault("/huge", "huge", size=5_000_000, content_length=False)
    error = fetch_error(client, url)
    assert error.transient is False
    assert str(error) == f"response too large for {url}: cap is 10000 bytes (more than 10000 bytes arrived)"


def test_body_exactly_at_the_cap_is_accepted(http_server: LoopbackHTTPServer, client: HttpClient) -> None:
    url = http_server.fault("/full", "huge", size=10_000, content_length=False)
    assert client.get(url).body == b"0" * 10_000


def test_html_error_page_is_returned_as_is(http_server: LoopbackHTTPServer, client: HttpClient) -> None:
    result = client.get(http_server.fault("/list.xlsx", "html_error"))
    assert (result.status, result.content_type) == (200, "text/html; charset=utf-8")
    assert result.body is not None and b"Access Denied" in result.body


def test_credentials_never_appear_in_errors(http_server: LoopbackHTTPServer, client: HttpClient) -> None:
    http_server.fault("/secret", "status", code=403)
    url = f"http://user:hunter2@127.0.0.1:{http_server.port}/secret"
    error = fetch_error(client, url)
    assert "hunter2" not in str(error)
    assert "hunter2" not in error.url
    assert error.url == http_server.url("/secret")
    assert redact_url("https://a:b@example.org/x?q=1") == "https://example.org/x?q=1"


def test_credentials_never_appear_in_network_errors(client: HttpClient) -> None:
    error = fetch_error(client, "http://user:hunter2@127.0.0.1:1/")
    assert (error.transient, str(error)) == (True, "connection refused fetching http://127.0.0.1:1/")


@pytest.mark.parametrize("url", ["ftp://example.org/list.xlsx", "not a url", "http://", "http://[::1/"])
def test_invalid_url_is_not_transient(client: HttpClient, url: str) -> None:
    error = fetch_error(client, url)
    assert error.transient is False
    assert str(error).startswith("invalid URL")
