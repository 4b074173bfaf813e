"""Connection-level guards under requests: check the connected peer before anything is sent, and let a
watchdog cut the socket of the request in flight when its deadline passes (a slow drip of bytes resets every
read timeout, so only cutting the socket bounds the whole response).

`HttpClient.get` sets `ACTIVE.guard` for the request it makes on its thread; urllib3 calls the hooks below on
that same thread.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from monitors.fetch_scope import FetchScope


class Refused(Exception):
    """A URL, redirect or connected address outside the source's scope; the message names the host."""


class Guard:
    """The request in flight on one thread: its scope (for the peer check) and its socket (for the watchdog)."""

    def __init__(self, scope: FetchScope | None):
        self.scope = scope
        self.sock: socket.socket | None = None
        self.expired = False

    def expire(self) -> None:
        """Called by the watchdog timer: cut the connection, so whatever read is waiting returns now."""
        self.expired = True
        sock = self.sock
        if sock is not None:
            with contextlib.suppress(OSError):  # already closed
                sock.shutdown(socket.SHUT_RDWR)


ACTIVE = threading.local()  # .guard: the Guard of the request this thread is making (None between them)


class _GuardMixin:
    """urllib3 connection hooks: check the peer before sending anything; show the socket to the watchdog."""

    scheme_name = "http"
    sock: Any
    host: str
    port: int

    def _new_conn(self) -> socket.socket:
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        guard: Guard | None = getattr(ACTIVE, "guard", None)
        if guard is not None:
            guard.sock = sock
            peer = str(sock.getpeername()[0])
            refusal = (
                guard.scope.peer_refusal(self.scheme_name, self.host, self.port, peer)
                if guard.scope
                else None
            )
            if refusal:
                sock.close()
                raise Refused(refusal)
        return sock

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        self._show_socket()  # after TLS, the wrapped socket

    def request(self, *args: Any, **kwargs: Any) -> None:
        self._show_socket()  # a kept-alive connection makes no new socket
        super().request(*args, **kwargs)  # type: ignore[misc]

    def _show_socket(self) -> None:
        guard: Guard | None = getattr(ACTIVE, "guard", None)
        if guard is not None and self.sock is not None:
            guard.sock = self.sock
            if guard.expired:
                guard.expire()


class _GuardedHTTPConnection(_GuardMixin, HTTPConnection):
    scheme_name = "http"


class _GuardedHTTPSConnection(_GuardMixin, HTTPSConnection):
    scheme_name = "https"


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}
