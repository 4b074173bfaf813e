"""HttpClient against a real server on 127.0.0.1: bodies, conditional GET, and every failure class."""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Iterator

import pytest

from monitors.base import FetchError
from monitors.fetch_scope import ICE_HOSTS, FetchScope, IPAddress, address_kind, ip_literal
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


# ---- where the client may go (issue 9, items 5 and 6) --------------------------------------------------


@pytest.fixture
def other_server() -> Iterator[LoopbackHTTPServer]:
    """A second server: another origin (another port of 127.0.0.1) that must not be reached."""
    with LoopbackHTTPServer() as server:
        yield server


@pytest.mark.parametrize(
    ("host", "kind"),
    [
        ("2130706433", "loopback"),  # decimal
        ("0177.0.0.1", "loopback"),  # octal
        ("0x7f.0.0.1", "loopback"),  # hex
        ("0x7f000001", "loopback"),
        ("127.1", "loopback"),  # short form
        ("[::1]", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("[::ffff:169.254.169.254]", "link-local"),
        ("64:ff9b::7f00:1", "loopback"),  # NAT64
        ("2002:7f00:1::", "loopback"),  # 6to4
        ("169.254.169.254", "link-local"),  # cloud metadata
        ("0251.0376.0251.0376", "link-local"),  # the same, in octal
        ("fe80::1%eth0", "link-local"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("100.64.0.1", "non-public"),  # carrier-grade NAT
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("8.8.8.8", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_address_classifier_over_spellings(host: str, kind: str | None) -> None:
    ip = ip_literal(host)
    assert ip is not None
    assert address_kind(ip) == kind


def test_host_names_are_not_ip_literals() -> None:
    assert [ip_literal(h) for h in ("www.ice.gov", "localhost", "deadbeef", "1.2.3.4.5")] == [None] * 4


def test_scope_allows_home_and_public_allowed_hosts_only() -> None:
    addresses = {"www.ice.gov": ["23.1.2.3"], "ice.gov": ["23.1.2.4"], "evil.example": ["8.8.8.8"],
                 "rebound.ice.gov": ["127.0.0.1"]}  # fmt: skip

    def resolve(host: str) -> list[IPAddress]:  # a fixed table instead of DNS: the check is pure
        return [ipaddress.ip_address(a) for a in addresses.get(host, [])]

    ice = FetchScope.around("https://www.ice.gov/identify-and-arrest/287g", ICE_HOSTS)
    allowed = [
        "https://www.ice.gov/doclib/a.xlsx",
        "https://WWW.ICE.GOV:443/doclib/a.xlsx",
        "http://ice.gov/doclib/b.xlsx",
    ]
    assert [ice.refusal(url, resolve) for url in allowed] == [None] * 3
    refused = {
        "https://evil.example/a.xlsx": "refused evil.example: not the page's own server nor an allowed host",
        "http://169.254.169.254/latest/meta-data/": "refused 169.254.169.254: not the page's own server",
        "https://user:pw@www.ice.gov/a.xlsx": "refused www.ice.gov: the URL carries credentials",
    }
    for url, reason in refused.items():
        assert (ice.refusal(url, resolve) or "").startswith(reason), url
    rebound = FetchScope.around("https://www.ice.gov/", ["rebound.ice.gov"])
    assert rebound.refusal("https://rebound.ice.gov/x", resolve) == (
        "refused rebound.ice.gov: it resolves to 127.0.0.1, a loopback address"
    )
    anywhere = FetchScope.around("https://v3.openstates.org/")  # any host, but only public addresses
    assert anywhere.refusal("https://evil.example/", resolve) is None
    assert anywhere.refusal("http://2130706433/", resolve) == (
        "refused 2130706433: it is 127.0.0.1, a loopback address"
    )
    assert anywhere.refusal("http://[::1]:8080/", resolve) == "refused ::1: it is ::1, a loopback address"


def test_a_page_on_loopback_allows_its_own_origin_only() -> None:
    scope = FetchScope.around("http://127.0.0.1:8000/page", ICE_HOSTS)
    assert scope.refusal("http://127.0.0.1:8000/list.xlsx") is None
    assert scope.refusal("http://127.0.0.1:8001/list.xlsx") is not None
    assert scope.refusal("http://localhost:8000/list.xlsx") is not None
    assert scope.peer_refusal("http", "127.0.0.1", 8000, "127.0.0.1") is None
    assert scope.peer_refusal("http", "www.ice.gov", 80, "10.0.0.7") == (
        "refused www.ice.gov: connected to 10.0.0.7, a private address"
    )


@pytest.mark.parametrize(
    "target",
    ["http://127.0.0.1:{port}/x", "http://2130706433:{port}/x", "http://[::ffff:127.0.0.1]:{port}/x"],
)
def test_a_redirect_to_another_origin_is_refused(
    http_server: LoopbackHTTPServer, other_server: LoopbackHTTPServer, target: str
) -> None:
    other_server.route("/x", b"the other origin's secret")
    url = http_server.route(
        "/list.xlsx", b"", status=302, headers={"Location": target.format(port=other_server.port)}
    )
    client = HttpClient(timeout=2.0, scope=FetchScope.around(http_server.url("/page"), ICE_HOSTS))
    error = fetch_error(client, url)
    assert error.transient is False
    assert str(error).startswith("refused ")
    assert "secret" not in str(error)
    assert other_server.requests == []


def test_the_connected_address_is_checked_before_anything_is_sent(
    http_server: LoopbackHTTPServer, other_server: LoopbackHTTPServer
) -> None:
    """A name that resolved to a public address when checked may resolve to a private one when connecting
    (DNS rebinding): the socket's peer is checked again, before the request is written."""

    class TrustingScope(FetchScope):  # the check of names passes everything; the socket check remains
        def refusal(self, url: str, resolve: object = None) -> str | None:
            return None

    other_server.route("/x", b"secret")
    client = HttpClient(timeout=2.0, scope=TrustingScope.around(http_server.url("/")))
    error = fetch_error(client, other_server.url("/x"))
    assert str(error) == "refused 127.0.0.1: connected to 127.0.0.1, a loopback address"
    assert other_server.requests == []
    assert client.get(http_server.route("/ok", b"home")).body == b"home"  # home is on loopback: allowed


def test_credentials_in_a_url_are_never_sent(http_server: LoopbackHTTPServer, client: HttpClient) -> None:
    http_server.route("/x", b"ok")
    assert client.get(f"http://user:pass@127.0.0.1:{http_server.port}/x").body == b"ok"
    assert "Authorization" not in http_server.requests_for("/x")[0].headers
    scoped = HttpClient(timeout=2.0, scope=FetchScope.around(http_server.url("/")))
    error = fetch_error(scoped, f"http://user:pass@127.0.0.1:{http_server.port}/x")
    assert str(error) == "refused 127.0.0.1: the URL carries credentials (user:password@)"
    assert len(http_server.requests_for("/x")) == 1


def test_source_headers_do_not_follow_a_redirect_to_another_origin(
    http_server: LoopbackHTTPServer, other_server: LoopbackHTTPServer, client: HttpClient
) -> None:
    other_server.route("/bills", b"{}")
    moved = http_server.route("/bills", b"", status=307, headers={"Location": other_server.url("/bills")})
    assert client.get(moved, headers={"X-API-KEY": "k-123"}, etag='"v1"').body == b"{}"
    sent = other_server.requests_for("/bills")[0].headers
    # The key stays home; the cache validator goes on: it came from the server at the end of the redirect
    # (an http -> https move is another origin), and without it every check downloads the whole file again.
    assert ("X-API-KEY" in sent, sent.get("If-None-Match")) == (False, '"v1"')
    assert sent["User-Agent"].startswith("watch287g/")
    assert http_server.requests_for("/bills")[0].headers["X-API-KEY"] == "k-123"


def test_source_headers_follow_a_redirect_on_the_same_origin(
    http_server: LoopbackHTTPServer, client: HttpClient
) -> None:
    http_server.route("/v3/bills", b"{}")
    moved = http_server.route("/bills", b"", status=301, headers={"Location": "/v3/bills"})
    assert client.get(moved, headers={"X-API-KEY": "k-123"}).body == b"{}"
    assert http_server.requests_for("/v3/bills")[0].headers["X-API-KEY"] == "k-123"


# ---- a slow drip (issue 9, item 7) ---------------------------------------------------------------------


@pytest.mark.parametrize("in_headers", [False, True])
def test_a_slow_drip_is_cut_at_the_deadline(http_server: LoopbackHTTPServer, in_headers: bool) -> None:
    # one byte every 0.05 s: no single read waits the 0.3 s timeout, the whole would take 6 s
    url = http_server.fault("/drip", "drip", size=120, interval=0.05, in_headers=in_headers)
    client = HttpClient(timeout=0.3)  # default deadline: 4 x timeout = 1.2 s
    started = time.monotonic()
    error = fetch_error(client, url)
    assert time.monotonic() - started < 3.0
    assert (error.transient, str(error)) == (
        True,
        f"too slow: {url} did not finish within 1.2s (connect, headers and body)",
    )


def test_a_slow_but_finished_response_within_the_deadline_is_fine(http_server: LoopbackHTTPServer) -> None:
    url = http_server.fault("/drip", "drip", size=5, interval=0.05)
    assert HttpClient(timeout=0.3, deadline=5).get(url).body == b"xxxxx"


def test_the_cap_can_be_lowered_per_response(http_server: LoopbackHTTPServer, client: HttpClient) -> None:
    url = http_server.route("/page", b"x" * 2000)
    assert str(fetch_error_with(client, url, max_bytes=1000)) == (
        f"response too large for {url}: cap is 1000 bytes (Content-Length says 2000 bytes)"
    )


def fetch_error_with(client: HttpClient, url: str, **options: int) -> FetchError:
    with pytest.raises(FetchError) as caught:
        client.get(url, **options)  # type: ignore[arg-type]
    return caught.value


def test_the_open_states_key_never_reaches_another_origin(
    http_server: LoopbackHTTPServer, other_server: LoopbackHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The configured API answers with a redirect to another server: the key header must not follow."""
    from monitors.legislation.kinds import OpenStatesMonitor

    monkeypatch.setenv("OPENSTATES_API_KEY", "os-key-123")
    monitor = OpenStatesMonitor(
        {"name": "os", "kind": "openstates", "states": ["MD"], "base_url": http_server.url("/")}
    )
    request = monitor.requests()[0]
    http_server.route("/bills", b"", status=302, headers={"Location": other_server.url("/bills")})
    other_server.route("/bills", b'{"results": []}', content_type="application/json")
    client = monitor.client(None)
    error = fetch_error_with_headers(client, request.url, request.headers)
    assert str(error) == "refused 127.0.0.1: it is 127.0.0.1, a loopback address"
    assert other_server.requests == []  # a public host would get the request, without the key (test above)
    assert http_server.requests_for("/bills")[0].headers["X-API-KEY"] == "os-key-123"


def fetch_error_with_headers(client: HttpClient, url: str, headers: dict[str, str]) -> FetchError:
    with pytest.raises(FetchError) as caught:
        client.get(url, headers=headers)
    return caught.value
