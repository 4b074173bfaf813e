"""A real SMTP server on 127.0.0.1 for tests (aiosmtpd), so mail code (apprise's `mailto://`) runs unmodified.

Every accepted message is kept as an `email.message.EmailMessage` with its envelope. The reply to DATA is
chosen at runtime by `mode`:

    accept     250, message stored
    refuse     "550 5.7.1 refused by test" (permanent; nothing stored)
    temp_fail  "451 4.3.0 try later" (transient; nothing stored)
    hold       DATA blocks until `release()` or `hold_timeout`, then "451 4.3.0 try later" (or 250 and stored
               with `release(accept=True)`); `wait_until_held()` tells a test the sender is now stuck
               mid-delivery, e.g. to kill the sending process there.

With `auth=(user, password)` the server requires AUTH (PLAIN/LOGIN, offered without TLS on loopback)
before MAIL FROM ("530 5.7.0 Authentication required" otherwise).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any
from urllib.parse import quote, urlencode

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

SMTP_MODES = ("accept", "refuse", "temp_fail", "hold")
REFUSED_REPLY = "550 5.7.1 refused by test"
TEMP_FAIL_REPLY = "451 4.3.0 try later"
ACCEPTED_REPLY = "250 OK"
AUTH_REQUIRED_REPLY = "530 5.7.0 Authentication required"


class _DropLoginDataNotice(logging.Filter):
    """aiosmtpd logs a deprecation warning of its own on every successful AUTH; it is not ours to fix."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "login_data is deprecated" not in record.getMessage()


logging.getLogger("mail.log").addFilter(_DropLoginDataNotice())


@dataclass(frozen=True)
class ReceivedMessage:
    message: EmailMessage
    mail_from: str  # envelope sender (MAIL FROM)
    rcpt_tos: tuple[str, ...]  # envelope recipients (RCPT TO)
    auth_user: str | None  # the AUTH login used, if any


def parts(msg: EmailMessage) -> dict[str, str]:
    """The decoded text bodies of `msg` by content type, e.g. {"text/plain": ..., "text/html": ...}.
    Attachments are skipped; if a type occurs twice, the first one wins."""
    found: dict[str, str] = {}
    for part in msg.walk():
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        ctype = part.get_content_type()
        if ctype.startswith("text/") and ctype not in found:
            found[ctype] = str(part.get_content())  # type: ignore[attr-defined]
    return found


class _PortZeroController(Controller):
    """aiosmtpd's Controller probes `self.port` after binding; learn the real port from port 0 first."""

    def _trigger_server(self) -> None:
        assert isinstance(self.server, asyncio.Server)
        self.port = int(self.server.sockets[0].getsockname()[1])
        super()._trigger_server()


class LoopbackSMTPServer:
    """`mode` picks the reply to DATA; read `messages` (or `received`, with envelopes) to see what arrived."""

    def __init__(self, auth: tuple[str, str] | None = None, hold_timeout: float = 5.0) -> None:
        self.auth = auth
        self.hold_timeout = hold_timeout
        self._mode = "accept"
        self._received: list[ReceivedMessage] = []
        self._data_attempts = 0
        self._auth_failures = 0
        self._cond = threading.Condition()
        self._release = threading.Event()
        self._release_accepts = False
        self._held = threading.Event()
        smtp_options: dict[str, Any] = {}
        if auth is not None:
            # AUTH is enforced in handle_MAIL: aiosmtpd's own auth_required=True warns when TLS is not required
            smtp_options.update(authenticator=self._authenticate, auth_require_tls=False)
        self._controller = _PortZeroController(
            _Handler(self),
            hostname="127.0.0.1",
            port=0,
            server_hostname="smtp.test",  # no getfqdn() lookup
            ready_timeout=5.0,
            **smtp_options,
        )

    # -- lifecycle -----------------------------------------------------------------------------------------
    def start(self) -> LoopbackSMTPServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._release.set()  # nothing may stay blocked in `hold`
        self._controller.stop(no_assert=True)

    def __enter__(self) -> LoopbackSMTPServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- set-up --------------------------------------------------------------------------------------------
    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        return int(self._controller.port)

    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, mode: str) -> None:
        if mode not in SMTP_MODES:
            raise ValueError(f"unknown SMTP mode {mode!r}; valid: {', '.join(SMTP_MODES)}")
        if mode == "hold":
            self._release.clear()
            self._held.clear()
        self._mode = mode

    def set_mode(self, mode: str) -> None:
        self.mode = mode

    def release(self, accept: bool = False) -> None:
        """Let messages blocked in `hold` go: answered 451 (default) or accepted and stored."""
        self._release_accepts = accept
        self._release.set()

    def wait_until_held(self, timeout: float = 5.0) -> bool:
        """True once a DATA command is blocked in `hold` mode (the client is then waiting for the reply)."""
        return self._held.wait(timeout)

    def url_for_apprise(
        self,
        to: str = "desk@example.org",
        from_: str = "watch287g@example.org",
        user: str | None = None,
        password: str | None = None,
    ) -> str:
        """A `mailto://` URL that makes apprise deliver here: plain SMTP (mode=insecure, no STARTTLS),
        with AUTH only if `user`/`password` are given (pass `*self.auth` for an auth server)."""
        creds = ""
        if user is not None:
            creds = quote(user, safe="")
            if password is not None:
                creds += ":" + quote(password, safe="")
            creds += "@"
        query = urlencode({"from": from_, "to": to, "mode": "insecure"})
        return f"mailto://{creds}{self.host}:{self.port}/?{query}"

    # -- inspection ----------------------------------------------------------------------------------------
    @property
    def received(self) -> list[ReceivedMessage]:
        with self._cond:
            return list(self._received)

    @property
    def messages(self) -> list[EmailMessage]:
        return [r.message for r in self.received]

    @property
    def data_attempts(self) -> int:
        """DATA commands seen, whatever the reply (so a refused message still counts)."""
        with self._cond:
            return self._data_attempts

    @property
    def auth_failures(self) -> int:
        with self._cond:
            return self._auth_failures

    def clear(self) -> None:
        with self._cond:
            self._received.clear()
            self._data_attempts = 0
            self._auth_failures = 0

    def wait_for(self, n: int, timeout: float = 5.0) -> list[EmailMessage]:
        """Block until at least `n` messages are stored; returns them, or raises AssertionError on timeout."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._received) >= n, timeout):
                raise AssertionError(f"expected {n} message(s) within {timeout}s, got {len(self._received)}")
            return [r.message for r in self._received]

    parts = staticmethod(parts)

    # -- used by the handler (on the server's event-loop thread) -------------------------------------------
    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            self.auth is not None
            and isinstance(auth_data, LoginPassword)
            and (auth_data.login.decode(), auth_data.password.decode()) == self.auth
        )
        if not ok:
            with self._cond:
                self._auth_failures += 1
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, auth_data=auth_data.login.decode())

    async def _on_data(self, session: Session, envelope: Envelope) -> str:
        with self._cond:
            self._data_attempts += 1
        mode = self._mode
        if mode == "refuse":
            return REFUSED_REPLY
        if mode == "temp_fail":
            return TEMP_FAIL_REPLY
        if mode == "hold":
            self._held.set()
            deadline = time.monotonic() + self.hold_timeout
            # poll rather than block: the event loop keeps serving other connections, and stop() cancels us
            while not self._release.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            if not (self._release.is_set() and self._release_accepts):
                return TEMP_FAIL_REPLY
        self._store(session, envelope)
        return ACCEPTED_REPLY

    def _store(self, session: Session, envelope: Envelope) -> None:
        raw = envelope.original_content or envelope.content or b""
        data = raw if isinstance(raw, bytes) else raw.encode()
        message = BytesParser(policy=policy.default).parsebytes(data)
        assert isinstance(message, EmailMessage)
        auth_user = session.auth_data if isinstance(session.auth_data, str) else None
        received = ReceivedMessage(message, envelope.mail_from or "", tuple(envelope.rcpt_tos), auth_user)
        with self._cond:
            self._received.append(received)
            self._cond.notify_all()


class _Handler:
    def __init__(self, owner: LoopbackSMTPServer) -> None:
        self.owner = owner

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        if self.owner.auth is not None and not session.authenticated:
            return AUTH_REQUIRED_REPLY
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return await self.owner._on_data(session, envelope)
