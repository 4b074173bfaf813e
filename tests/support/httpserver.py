"""A real HTTP server on 127.0.0.1 for tests: canned routes, conditional GET, faults, and a request log.

Tests talk to it over the loopback interface, so the client code under test runs unmodified (no mocks).
It also takes POSTs (webhooks): routes answer POST like GET, the request body is recorded, and
`respond_sequence()` makes a path answer e.g. 500, 500, then 200 to exercise retries.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from requests.structures import CaseInsensitiveDict

FAULT_KINDS = ("delay", "reset", "status", "redirect_loop", "huge", "html_error", "drip")
DEFAULT_HTML_ERROR = (
    b"<!DOCTYPE html><html><head><title>Access Denied</title></head>"
    b"<body><h1>Access Denied</h1><p>Reference #18.5c3e1002</p></body></html>"
)


@dataclass
class Route:
    body: bytes
    content_type: str | None = "text/html; charset=utf-8"
    status: int = 200
    etag: str | None = None
    last_modified: str | None = None  # an HTTP date, e.g. "Wed, 30 Jul 2025 18:00:00 GMT"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Fault:
    kind: str
    options: dict[str, Any]


@dataclass
class StatusSequence:
    """Successive requests get successive statuses; the last one repeats."""

    statuses: list[int]
    body: bytes
    content_type: str | None
    served: int = 0
    headers: dict[str, str] = field(default_factory=dict)  # sent with every status (e.g. Retry-After)

    def next_route(self) -> Route:
        status = self.statuses[min(self.served, len(self.statuses) - 1)]
        self.served += 1
        return Route(self.body, self.content_type, status, headers=dict(self.headers))


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # with the query string
    headers: CaseInsensitiveDict[str]
    client_port: int  # the same port on several requests means the client reused its connection
    body: bytes = b""  # what a POST sent (b"" for GET/HEAD)


class LoopbackHTTPServer:
    """`route()` a path to a body or `fault()` it; read `requests` to see what the client sent."""

    def __init__(self) -> None:
        self._routes: dict[str, Route | Fault | StatusSequence] = {}
        self._log: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self.stopping = threading.Event()  # cuts `delay` faults short at teardown
        self._httpd = _QuietServer(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        # a short poll interval keeps shutdown (one per test) fast
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.02,), name="loopback-http", daemon=True
        )

    # -- lifecycle -----------------------------------------------------------------------------------------
    def start(self) -> LoopbackHTTPServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> LoopbackHTTPServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- set-up --------------------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def route(
        self,
        path: str,
        body: bytes | str = b"",
        content_type: str | None = "text/html; charset=utf-8",
        status: int = 200,
        etag: str | None = None,
        last_modified: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> str:
        """Serve `body` at `path` (query ignored unless routed with one); returns the full URL."""
        data = body.encode() if isinstance(body, str) else body
        with self._lock:
            self._routes[path] = Route(data, content_type, status, etag, last_modified, dict(headers or {}))
        return self.url(path)

    def fault(self, path: str, kind: str, **options: Any) -> str:
        """Misbehave at `path`. Options per kind:
        delay: seconds (then serves the route given by `body`, default b"late");
        reset: after_headers=False (True: send headers and some bytes, then RST);
        status: code=500, body=b"", headers={};  redirect_loop: (none);
        huge: size (bytes), content_length=True (False: chunked, so only the streamed count can stop it);
        html_error: body=<an "Access Denied" page>;
        drip: size=100 bytes, one every interval=0.1 s, in the body (in_headers=True: inside a header line).
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; valid: {', '.join(FAULT_KINDS)}")
        with self._lock:
            self._routes[path] = Fault(kind, options)
        return self.url(path)

    def respond_sequence(
        self,
        path: str,
        statuses: list[int],
        body: bytes | str = b"ok",
        content_type: str | None = "text/plain; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> str:
        """Answer successive requests to `path` (any method) with successive `statuses`; the last one
        repeats. E.g. [500, 500, 200] for a webhook that fails twice. Returns the full URL."""
        if not statuses:
            raise ValueError("respond_sequence needs at least one status")
        data = body.encode() if isinstance(body, str) else body
        with self._lock:
            self._routes[path] = StatusSequence(
                list(statuses), data, content_type, headers=dict(headers or {})
            )
        return self.url(path)

    # -- inspection ----------------------------------------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._log)

    def requests_for(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path or r.path.split("?", 1)[0] == path]

    def clear_requests(self) -> None:
        with self._lock:
            self._log.clear()

    def posted_json(self, path: str) -> list[Any]:
        """The JSON documents POSTed to `path` (query ignored), oldest first; raises if one is not JSON."""
        return [json.loads(r.body) for r in self.requests_for(path) if r.method == "POST"]

    # -- used by the handler -------------------------------------------------------------------------------
    def _record(self, request: RecordedRequest) -> Route | Fault | None:
        path = request.path
        with self._lock:
            self._log.append(request)
            target = self._routes.get(path) or self._routes.get(path.split("?", 1)[0])
            return target.next_route() if isinstance(target, StatusSequence) else target


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    owner: LoopbackHTTPServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up mid-response is what several faults provoke; no tracebacks for that."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so connection reuse by the client is exercised
    server: _QuietServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def do_POST(self) -> None:
        self._serve(send_body=True, request_body=self._read_body())

    def _read_body(self) -> bytes:
        """The request body, by Content-Length or chunked; read fully so a kept-alive connection stays in sync."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):  # trailers
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()  # the CRLF after each chunk
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self, send_body: bool, request_body: bytes = b"") -> None:
        headers = CaseInsensitiveDict(dict(self.headers.items()))
        request = RecordedRequest(self.command, self.path, headers, int(self.client_address[1]), request_body)
        target = self.server.owner._record(request)
        if target is None:
            self._send(404, b"not found", "text/plain", {}, send_body)
        elif isinstance(target, Fault):
            self._serve_fault(target, send_body)
        elif _not_modified(target, headers):
            extra = {k: v for k, v in (("ETag", target.etag), ("Last-Modified", target.last_modified)) if v}
            self._send(304, b"", None, extra, send_body=False)
        else:
            self._send(target.status, target.body, target.content_type, _validators(target), send_body)

    def _serve_fault(self, fault: Fault, send_body: bool) -> None:
        opts = fault.options
        if fault.kind == "delay":
            if self.server.owner.stopping.wait(float(opts.get("seconds", 1.0))):
                return
            self._send(200, opts.get("body", b"late"), "text/plain", {}, send_body)
        elif fault.kind == "reset":
            self._reset(after_headers=bool(opts.get("after_headers", False)))
        elif fault.kind == "status":
            code = int(opts.get("code", 500))
            self._send(code, opts.get("body", b""), "text/plain", dict(opts.get("headers", {})), send_body)
        elif fault.kind == "redirect_loop":
            self._send(302, b"", None, {"Location": self.path}, send_body)
        elif fault.kind == "huge":
            self._stream_huge(int(opts["size"]), bool(opts.get("content_length", True)))
        elif fault.kind == "html_error":
            self._send(200, opts.get("body", DEFAULT_HTML_ERROR), "text/html; charset=utf-8", {}, send_body)
        elif fault.kind == "drip":
            self._drip(
                int(opts.get("size", 100)), float(opts.get("interval", 0.1)), bool(opts.get("in_headers"))
            )

    def _send(
        self, status: int, body: bytes, content_type: str | None, extra: dict[str, str], send_body: bool
    ) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in extra.items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body and status != 304:
            self.wfile.write(body)

    def _reset(self, after_headers: bool) -> None:
        """Abort the connection with a TCP RST (SO_LINGER 0), optionally in the middle of a body."""
        if after_headers:
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"x" * 1000)
            self.wfile.flush()
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def _drip(self, size: int, interval: float, in_headers: bool) -> None:
        """A slow server: `size` bytes one at a time, each within any read timeout, the whole far slower."""
        try:
            if in_headers:
                self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            else:
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(size))
                self.end_headers()
            for _ in range(size):
                if self.server.owner.stopping.wait(interval):
                    break
                self.wfile.write(b"x")
            if in_headers:
                self.wfile.write(b"\r\nContent-Length: 0\r\n\r\n")
        except OSError:  # the client gave up, which is what the test wants
            pass
        self.close_connection = True

    def _stream_huge(self, size: int, content_length: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if content_length:
            self.send_header("Content-Length", str(size))
        else:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"0" * 65536
        sent = 0
        try:
            while sent < size:
                piece = chunk[: min(len(chunk), size - sent)]
                self.wfile.write(piece if content_length else b"%x\r\n%s\r\n" % (len(piece), piece))
                sent += len(piece)
            if not content_length:
                self.wfile.write(b"0\r\n\r\n")
        except OSError:  # the client gave up, which is what the test wants
            self.close_connection = True


def _validators(route: Route) -> dict[str, str]:
    extra = dict(route.headers)
    if route.etag:
        extra["ETag"] = route.etag
    if route.last_modified:
        extra["Last-Modified"] = route.last_modified
    return extra


def _not_modified(route: Route, headers: CaseInsensitiveDict[str]) -> bool:
    """RFC 9110: If-None-Match decides when present (weak comparison); else If-Modified-Since."""
    if route.status != 200:
        return False
    if_none_match = headers.get("If-None-Match")
    if if_none_match is not None:
        if not route.etag:
            return False
        sent = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return "*" in sent or route.etag.removeprefix("W/") in sent
    since = headers.get("If-Modified-Since")
    if since and route.last_modified:
        try:
            return parsedate_to_datetime(route.last_modified) <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False
