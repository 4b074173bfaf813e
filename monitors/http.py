"""Polite HTTP GET for monitors: one request per call, conditional headers, a size cap, clear errors.

There are no retries here on purpose: Prefect task retries decide when to try again, using `is_transient`.
Redirects are followed here, hop by hop, so that each hop is checked against the source's `FetchScope` and
a source's own headers (API keys) never travel to another origin. Every connection's peer address is checked
before anything is sent, and a watchdog ends a response that outlives its deadline (a slow drip).
"""

from __future__ import annotations

import re
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests

from monitors.base import FetchError
from monitors.fetch_scope import FetchScope, origin
from monitors.http_guard import ACTIVE, Guard, GuardedAdapter, Refused

VERSION = "0.1.0"
_CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class FetchResult:
    url: str  # as requested
    final_url: str  # after redirects, with any user:password@ removed
    status: int  # 200 (or another 2xx) or 304
    body: bytes | None  # None on 304
    content_type: str | None
    etag: str | None  # on 304 without validators in the reply, the ones sent (they still hold)
    last_modified: str | None
    elapsed_ms: int


def user_agent(contact: str | None) -> str:
    detail = f"+287(g) change monitor; contact: {contact}" if contact else "+287(g) change monitor"
    return f"watch287g/{VERSION} ({detail})"


_SECRET_PARAMS = re.compile(r"(?i)(^|&)((?:api[_-]?)?key|apikey|token|access_token|secret)=[^&]*")


def redact_url(url: str) -> str:
    """The URL without user:password@ and without key-like query values (LegiScan puts its API key in the
    query), so it can go into messages, logs and the database."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    netloc = parts.netloc.rsplit("@", 1)[1] if "@" in parts.netloc else parts.netloc
    query = _SECRET_PARAMS.sub(lambda m: f"{m.group(1)}{m.group(2)}=***", parts.query)
    if (netloc, query) == (parts.netloc, parts.query):
        return url
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def is_transient(exc: BaseException) -> bool:
    """Worth retrying: network trouble, timeouts, HTTP 5xx and 429 (used as Prefect's retry condition)."""
    return isinstance(exc, FetchError) and exc.transient


class HttpClient:
    def __init__(
        self,
        contact: str | None = None,
        timeout: float = 30.0,
        max_bytes: int = 50_000_000,
        max_redirects: int = 5,
        *,
        deadline: float | None = None,
        scope: FetchScope | None = None,
    ):
        self.timeout = timeout  # connect, and each wait for bytes
        self.deadline = deadline or 4 * timeout  # the whole response: connect, headers and body
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.scope = scope  # None: any URL (tests of the client itself); monitors always pass one
        self.session = requests.Session()  # reuses connections across calls
        self.session.trust_env = False  # direct connections (checkable addresses); no ~/.netrc passwords
        for prefix in ("http://", "https://"):
            self.session.mount(prefix, GuardedAdapter())
        self.session.headers["User-Agent"] = user_agent(contact)

    def close(self) -> None:
        self.session.close()

    def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        headers: dict[str, str] | None = None,
        max_bytes: int | None = None,
    ) -> FetchResult:
        """GET `url` once (following redirects). Raises FetchError (see `is_transient`) for anything but 2xx
        or 304. `headers` carry credentials such as API keys: they are sent to the URL's origin only, never
        logged or stored. `max_bytes` lowers the client's cap for this response (an HTML page)."""
        shown = redact_url(url)
        if not _is_http_url(url):
            raise FetchError(f"invalid URL (need http or https): {shown}", url=shown, transient=False)
        conditional = {}  # the cache validators go to every hop: the final server is the one that set them
        if etag:
            conditional["If-None-Match"] = etag
        if last_modified:
            conditional["If-Modified-Since"] = last_modified
        cap = min(max_bytes or self.max_bytes, self.max_bytes)
        started = time.monotonic()
        response, final_url, body = self._guarded(url, dict(headers or {}), conditional, shown, cap)
        sent_back = response.status_code == 304  # a 304 without validators: the ones sent still hold
        return FetchResult(
            url=url,
            final_url=redact_url(final_url),
            status=response.status_code,
            body=body,
            content_type=response.headers.get("Content-Type"),
            etag=response.headers.get("ETag") or (etag if sent_back else None),
            last_modified=response.headers.get("Last-Modified") or (last_modified if sent_back else None),
            elapsed_ms=int((time.monotonic() - started) * 1000),
        )

    def _guarded(
        self, url: str, headers: dict[str, str], conditional: dict[str, str], shown: str, cap: int
    ) -> tuple[requests.Response, str, bytes | None]:
        """The request and its redirects under the peer guard and the deadline's watchdog: the last response
        (closed), its URL and its body (None on 304). Every failure leaves as a FetchError."""
        guard = Guard(self.scope)
        watchdog = threading.Timer(self.deadline, guard.expire)
        watchdog.daemon = True
        ACTIVE.guard = guard
        watchdog.start()
        try:
            response, final_url = self._follow(url, headers, conditional)
            with response:
                _raise_for_status(response, shown)
                body = None if response.status_code == 304 else self._read_body(response, shown, cap)
            if guard.expired:  # the cut connection may look like a body that simply ended
                raise self._too_slow(shown)
        except FetchError:
            raise
        except Refused as exc:
            raise FetchError(str(exc), url=shown, transient=False) from None
        except (requests.RequestException, OSError) as exc:
            raise (self._too_slow(shown) if guard.expired else _translate(exc, shown, self.timeout)) from None
        finally:
            watchdog.cancel()
            ACTIVE.guard = None
        return response, final_url, body

    def _follow(
        self, url: str, headers: dict[str, str], conditional: dict[str, str]
    ) -> tuple[requests.Response, str]:
        """Request `url`, then each redirect target, checking every hop; the last response and its URL."""
        current = url
        for _ in range(self.max_redirects + 1):
            refusal = self.scope.refusal(current) if self.scope else None
            if refusal:
                raise Refused(refusal)
            response = self.session.get(
                _without_userinfo(current), headers={**headers, **conditional}, timeout=self.timeout,
                stream=True, allow_redirects=False,
            )  # fmt: skip
            if not response.is_redirect:
                return response, current
            response.close()
            target = urljoin(current, response.headers["Location"])
            if not _is_http_url(target):
                raise Refused(f"refused a redirect to a non-web URL from {redact_url(current)}")
            if origin(target) != origin(current):
                headers = {}  # a source's headers (API keys) are for the origin it configured, no other
            current = target
        raise requests.TooManyRedirects()

    def _too_slow(self, shown: str) -> FetchError:
        message = f"too slow: {shown} did not finish within {self.deadline:g}s (connect, headers and body)"
        return FetchError(message, url=shown, transient=True)

    def _read_body(self, response: requests.Response, shown: str, cap: int) -> bytes:
        """Stream the body, stopping as soon as it exceeds the cap (the watchdog bounds the time)."""
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > cap:
            raise _too_big(shown, cap, f"Content-Length says {declared} bytes")
        chunks: list[bytes] = []
        received = 0
        for chunk in response.iter_content(_CHUNK_BYTES):
            received += len(chunk)
            if received > cap:
                raise _too_big(shown, cap, f"more than {cap} bytes arrived")
            chunks.append(chunk)
        return b"".join(chunks)


def _without_userinfo(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1])) if "@" in parts.netloc else url


def _is_http_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def _too_big(shown: str, cap: int, why: str) -> FetchError:
    return FetchError(
        f"response too large for {shown}: cap is {cap} bytes ({why})", url=shown, transient=False
    )


def _raise_for_status(response: requests.Response, shown: str) -> None:
    status = response.status_code
    if 200 <= status < 300 or status == 304:
        return
    reason = response.reason or ""
    if status == 403:
        message = f"blocked by the server (HTTP 403 {reason}) for {shown}; it may refuse automated clients"
        raise FetchError(message, url=shown, transient=False, http_status=status)
    if status == 429 or status >= 500:
        retry_after = response.headers.get("Retry-After")
        hint = f"; Retry-After: {retry_after}" if retry_after else ""
        message = f"server error HTTP {status} {reason} for {shown} (temporary{hint})"
        raise FetchError(message, url=shown, transient=True, http_status=status, retry_after=retry_after)
    message = f"HTTP {status} {reason} for {shown}"
    raise FetchError(message, url=shown, transient=False, http_status=status)


def _translate(exc: BaseException, shown: str, timeout: float) -> FetchError:
    """One clear line per failure; the exception text itself is not used since it may echo the URL."""
    if isinstance(exc, requests.TooManyRedirects):
        return FetchError(f"too many redirects (redirect loop?) for {shown}", url=shown, transient=False)
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
        return FetchError(f"invalid URL: {shown}", url=shown, transient=False)
    if isinstance(exc, requests.exceptions.InvalidSchema | requests.exceptions.InvalidHeader):
        return FetchError(f"invalid URL or header for {shown}", url=shown, transient=False)
    if isinstance(exc, requests.Timeout) or _caused_by(exc, TimeoutError):
        return FetchError(f"timed out after {timeout:g}s fetching {shown}", url=shown, transient=True)
    if _caused_by(exc, socket.gaierror):  # no such host, or no network: asking again soon will not help
        host = urlsplit(shown).hostname or shown
        return FetchError(f"DNS lookup of {host} failed (no network, or no such host) fetching {shown}; "
                          "not retried", url=shown, transient=False)  # fmt: skip
    return FetchError(f"{_network_reason(exc)} fetching {shown}", url=shown, transient=True)


def _network_reason(exc: BaseException) -> str:
    if _caused_by(exc, ConnectionRefusedError):
        return "connection refused"
    if _caused_by(exc, ConnectionResetError) or isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "connection reset"
    if "NameResolution" in " ".join(type(e).__name__ for e in _chain(exc)):
        return "DNS lookup failed"
    return f"network error ({type(exc).__name__})"


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    return any(isinstance(e, kind) for e in _chain(exc))


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and what it wraps: requests/urllib3 nest causes in args, `.reason` and __context__."""
    seen: list[BaseException] = []
    todo: list[object] = [exc]
    while todo and len(seen) < 20:
        item = todo.pop()
        if not isinstance(item, BaseException) or any(item is s for s in seen):
            continue
        seen.append(item)
        todo.extend([*item.args, getattr(item, "reason", None), item.__cause__, item.__context__])
    return seen
