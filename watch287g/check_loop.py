"""One live check of one source, for every kind: a queue of the monitor's requests (monitors.source.Request),
each fetched conditionally, logged in `fetches`, stored as a snapshot and handed to its family's step
(watch287g.interpret); the follow-up requests it leads to join the queue.

Network I/O is the injected `fetch` (a Prefect task with retries in flows/, the bare client in tests), so
this function is plain and testable. A failure anywhere marks the source unhealthy and makes the check fail
loudly, while everything already committed stays committed.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from monitors.base import FetchError, Monitor, Snapshot, utc_now
from monitors.http import FetchResult, HttpClient
from monitors.source import Request
from notifiers.subscribers import Operators
from rules.ice_rules import Rules
from state.faults import crash_point
from state.store import DeliveriesFor, Store
from watch287g.followed import Followed
from watch287g.health import settle_health
from watch287g.interpret import SourceFailed, interpret, stored_follow_ups
from watch287g.moa_changes import GONE_STATUSES, document_gone


class Fetch(Protocol):
    """One GET (`HttpClient.get`, or a Prefect task around it): headers carry API keys, never logged;
    `max_bytes` lowers the cap for one response (the program page)."""

    def __call__(
        self, url: str, etag: str | None, last_modified: str | None, headers: dict[str, str] | None = None,
        /, max_bytes: int | None = None,
    ) -> FetchResult: ...  # fmt: skip


@dataclass
class DocumentReport:
    channel: str
    url: str | None
    # processed | unchanged | not_modified | quarantined | page | already_seen | error; a followed document:
    # kept | changed | restored | gone
    outcome: str
    http_status: int | None = None
    bytes: int = 0
    duration_ms: int = 0
    events: int = 0
    detail: str | None = None


@dataclass
class CheckReport:
    source: str
    documents: list[DocumentReport] = field(default_factory=list)
    error: str | None = None
    followed: str | None = None  # the followed documents (MOAs): asked, not due, left for later checks

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def event_count(self) -> int:
        return sum(d.events for d in self.documents)


@dataclass(frozen=True)
class Check:
    """Everything one check of one source needs; the helpers below read from it."""

    store: Store
    monitor: Monitor
    fetch: Fetch
    rules: Rules
    origin: str = "live"
    now: Callable[[], str] = utc_now
    deliveries_for: DeliveriesFor | None = None
    operators: Operators = field(default_factory=Operators)
    sleep: Callable[[float], None] = time.sleep  # the pace between followed documents (tests: no wait)

    @property
    def source(self) -> str:
        return self.monitor.name


def run_check(check: Check) -> CheckReport:
    """Every request of the source and the follow-ups they lead to, in order; then the source's health."""
    report, followed = CheckReport(check.source), Followed(sleep=check.sleep)
    try:
        queue = list(check.monitor.requests())
        while queue:
            request = queue.pop(0)
            if not followed.go(request):
                continue
            queue.extend(
                followed.admit(check.store, check.source, check.now(), _one_document(check, request, report))
            )
        report.followed = followed.summary()
    except (FetchError, SourceFailed) as exc:
        report.error = str(exc)
    except (OSError, sqlite3.Error):
        raise  # the disk or the database: the run's failure (flows/check.py says so), not this source's
    except Exception as exc:  # a missing API key, a response no parser foresaw: the source fails, not the run
        report.error = f"{check.source}: {exc}"
    settle_health(check.store, check.source, report.error, check.now(), check.operators, check.deliveries_for)
    return report


def plain_fetch(client: HttpClient) -> Fetch:
    def fetch(
        url: str, etag: str | None, last_modified: str | None, headers: dict[str, str] | None = None,
        max_bytes: int | None = None,
    ) -> FetchResult:  # fmt: skip
        return client.get(url, etag=etag, last_modified=last_modified, headers=headers, max_bytes=max_bytes)

    return fetch


def _one_document(check: Check, request: Request, report: CheckReport) -> list[Request]:
    """Fetch one document, commit it through its family's step; its follow-up requests."""
    stored = check.store.channel(check.source, request.channel) or {}
    if request.change_hash and stored.get("etag") == request.change_hash:
        report.documents.append(DocumentReport(request.channel, request.shown_url, "unchanged"))
        return []
    try:
        result, doc = _get(check, request, stored, report)
    except FetchError as exc:
        if request.recheck is None:
            raise
        _document_failed(check, request, exc, report.documents[-1])  # its own failure: the check goes on
        return []
    report.documents.append(doc)
    answered = replace(request, url=result.final_url)  # parse reads links against where the body came from
    if request.recheck is not None and result.status == 304:
        _document_not_modified(check, answered, stored, result, doc)
        return []
    if result.status == 304 or result.body is None:
        return _follow_from_stored(check, answered, stored)
    processed, parsed = interpret(check, answered, _snapshot(check, request.channel, result))
    doc.outcome, doc.events, doc.detail = processed.outcome, len(processed.event_ids), processed.detail
    # not after already_seen (fetched in full again next time, when the clock is later), nor after a 304
    # (whose headers need not repeat the validators)
    if processed.outcome != "already_seen" and result.status != 304:
        _remember_validators(check, request, result)
    if parsed.failure:
        raise SourceFailed(f"{check.source}: {parsed.failure}")
    return parsed.follow


def _get(
    check: Check, request: Request, stored: dict[str, Any], report: CheckReport
) -> tuple[FetchResult, DocumentReport]:
    """One conditional GET (stored validators only where the request allows them), logged in `fetches`."""
    conditional = request.conditional == "always" or stored.get("url") == request.shown_url
    etag = stored.get("etag") if conditional and not request.change_hash else None  # a change_hash is no ETag
    modified = stored.get("last_modified") if conditional else None
    started, clock = check.now(), time.monotonic()
    try:
        result = check.fetch(request.url, etag, modified, request.headers, max_bytes=request.max_bytes)
    except FetchError as exc:
        check.store.log_fetch(
            _fetch_row(check, request, started, clock, "error", exc.http_status, 0, str(exc))
        )
        failed = DocumentReport(
            request.channel, request.shown_url, "error", exc.http_status, 0, _ms(clock), 0, str(exc)
        )
        report.documents.append(failed)  # the operators' table shows the failed request too
        raise
    crash_point("after_fetch")
    outcome = "not_modified" if result.status == 304 else "fetched"
    size = len(result.body or b"")
    check.store.log_fetch(_fetch_row(check, request, started, clock, outcome, result.status, size, None))
    return result, DocumentReport(
        request.channel, request.shown_url, outcome, result.status, size, _ms(clock)
    )


def _follow_from_stored(check: Check, answered: Request, stored: dict[str, Any]) -> list[Request]:
    """Not modified: the follow-ups of the stored copy, when the kind reads them from it (the ICE page)."""
    if not answered.follow_from_stored:
        return []
    return stored_follow_ups(check, answered, str(stored.get("current_sha256") or ""))


def _document_not_modified(
    check: Check, request: Request, stored: dict[str, Any], result: FetchResult, doc: DocumentReport
) -> None:
    """A followed document answered 304: its stored copy is its answer (asked now; back, if it was gone)."""
    body = check.store.body(str(stored.get("current_sha256") or ""))
    if body is None:  # validators are remembered only after a body's commit: not reached, but never guessed
        raise SourceFailed(f"{check.source}: 304 Not Modified for {request.shown_url} but no copy is stored")
    processed, _ = interpret(check, request, _snapshot(check, request.channel, replace(result, body=body)))
    if processed.outcome != "unchanged":
        doc.outcome, doc.events = processed.outcome, len(processed.event_ids)


def _document_failed(check: Check, request: Request, exc: FetchError, doc: DocumentReport) -> None:
    """A followed document's failure: 404/410 is its removal (an event once per absence); anything else is
    logged in `fetches` and the report, and asked again at the next check (its `checked_at` stays)."""
    if exc.http_status in GONE_STATUSES:
        doc.outcome = "gone"
        doc.events = len(document_gone(check, request, exc.http_status, check.now()))


def _snapshot(check: Check, channel: str, result: FetchResult) -> Snapshot:
    """The document as fetched, under the URL it came from after redirects (credentials removed)."""
    assert result.body is not None
    return Snapshot(check.source, channel, result.final_url, check.now(), result.body, result.status, result.content_type,
                    result.etag, result.last_modified)  # fmt: skip


def _remember_validators(check: Check, request: Request, result: FetchResult) -> None:
    """Keep ETag / Last-Modified (LegiScan: the change_hash) for the next request, after the body's commit."""
    values = {"url": request.shown_url, "etag": request.change_hash or result.etag,
              "last_modified": result.last_modified}  # fmt: skip
    check.store.update_channel(check.source, request.channel, values)


def _fetch_row(
    check: Check, request: Request, started: str, clock: float, outcome: str, status: int | None, size: int,
    error: str | None,
) -> dict[str, object]:  # fmt: skip
    return {
        "source": check.source, "channel": request.channel, "url": request.shown_url, "started_at": started,
        "duration_ms": _ms(clock), "outcome": outcome, "http_status": status, "bytes": size, "error": error,
    }  # fmt: skip


def _ms(clock: float) -> int:
    return int((time.monotonic() - clock) * 1000)
