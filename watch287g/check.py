"""One live check of an ICE source: page -> discovered links -> lists, each through the pipeline.

Network I/O is the injected `fetch` (a Prefect task with retries in flows/, the bare client in tests), so
this function is plain and testable. Every request is logged in `fetches`; a failure anywhere marks the
source unhealthy and makes the check fail loudly, while everything already committed stays committed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from monitors.base import ConfigError, FetchError, Monitor, Snapshot, utc_now
from monitors.http import FetchResult, HttpClient, redact_url
from monitors.ice_287g import Ice287gMonitor
from monitors.ice_page import find_list_links
from monitors.ice_rules import Rules
from state.store import Store
from watch287g.pipeline import LIST_CHANNELS, process_list, process_page

if TYPE_CHECKING:
    from watch287g.config import Config

Fetch = Callable[[str, str | None, str | None], FetchResult]  # (url, etag, last_modified)


class SourceFailed(RuntimeError):
    """The check could not complete; the message is one line fit for an operator."""


@dataclass
class DocumentReport:
    channel: str
    url: str | None
    outcome: str  # processed | unchanged | not_modified | quarantined | page | error
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

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def event_count(self) -> int:
        return sum(d.events for d in self.documents)


def check_ice(
    store: Store,
    monitor: Ice287gMonitor,
    fetch: Fetch,
    *,
    rules: Rules,
    origin: str = "live",
    now: Callable[[], str] = utc_now,
) -> CheckReport:
    report = CheckReport(monitor.name)
    try:
        links = _page_links(store, monitor, fetch, report, origin, now)
        for channel in LIST_CHANNELS:
            _check_list(store, monitor, channel, links[channel], fetch, report, rules, origin, now)
    except (FetchError, SourceFailed) as exc:
        report.error = str(exc)
    store.record_health(monitor.name, ok=report.ok, at=now(), error=report.error)
    return report


def check_source(store: Store, monitor: Monitor, config: Config, origin: str = "live") -> CheckReport:
    """A check without Prefect (no retries): `run --no-prefect`, the demo and tests."""
    if not isinstance(monitor, Ice287gMonitor):
        raise ConfigError(f"source {monitor.name!r}: kind {monitor.kind!r} cannot be checked yet")
    client = monitor.client(config.contact)
    try:
        return check_ice(store, monitor, _plain_fetch(client), rules=config.rules, origin=origin)
    finally:
        client.close()


def _plain_fetch(client: HttpClient) -> Fetch:
    def fetch(url: str, etag: str | None, last_modified: str | None) -> FetchResult:
        return client.get(url, etag=etag, last_modified=last_modified)

    return fetch


def _get(
    store: Store, source: str, channel: str, url: str, fetch: Fetch, conditional: bool, now: Callable[[], str]
) -> tuple[FetchResult, DocumentReport]:
    state = (store.channel(source, channel) or {}) if conditional else {}
    started, clock = now(), time.monotonic()
    try:
        result = fetch(url, state.get("etag"), state.get("last_modified"))
    except FetchError as exc:
        store.log_fetch(
            _fetch_row(source, channel, url, started, clock, "error", exc.http_status, 0, str(exc))
        )
        raise
    outcome = "not_modified" if result.status == 304 else "fetched"
    size = len(result.body or b"")
    store.log_fetch(_fetch_row(source, channel, url, started, clock, outcome, result.status, size, None))
    return result, DocumentReport(channel, redact_url(url), outcome, result.status, size, _ms(clock))


def _page_links(
    store: Store,
    monitor: Ice287gMonitor,
    fetch: Fetch,
    report: CheckReport,
    origin: str,
    now: Callable[[], str],
) -> dict[str, str | None]:
    """Fetch the page (conditionally), commit it when new, and return the spreadsheet links it holds."""
    result, doc = _get(store, monitor.name, "page", monitor.url, fetch, True, now)
    report.documents.append(doc)
    if result.status == 304:
        stored = store.channel(monitor.name, "page") or {}
        body = store.body(stored.get("current_sha256") or "")
        if body is None:
            raise SourceFailed(
                f"{monitor.name}: the server said 304 Not Modified but no copy of the page is stored"
            )
        found = find_list_links(body, monitor.url)
        links = {"participating": found.participating, "pending": found.pending}
    else:
        assert result.body is not None
        snapshot = Snapshot(monitor.name, "page", monitor.url, now(), result.body, result.status, result.content_type,
                            result.etag, result.last_modified)  # fmt: skip
        processed, links = process_page(store, snapshot, origin=origin)
        doc.outcome, doc.events = processed.outcome, len(processed.event_ids)
        _remember_validators(store, monitor.name, "page", monitor.url, result)
    missing = [channel for channel in LIST_CHANNELS if not links.get(channel)]
    if missing:
        raise SourceFailed(
            f"{monitor.name}: the page {monitor.url} no longer links a {' or '.join(missing)} spreadsheet"
        )
    return links


def _check_list(
    store: Store,
    monitor: Ice287gMonitor,
    channel: str,
    url: str | None,
    fetch: Fetch,
    report: CheckReport,
    rules: Rules,
    origin: str,
    now: Callable[[], str],
) -> None:
    assert url is not None
    same_url = (store.channel(monitor.name, channel) or {}).get("url") == url
    result, doc = _get(store, monitor.name, channel, url, fetch, same_url, now)
    report.documents.append(doc)
    if result.status == 304:
        return
    assert result.body is not None
    snapshot = Snapshot(monitor.name, channel, url, now(), result.body, result.status, result.content_type,
                        result.etag, result.last_modified)  # fmt: skip
    processed = process_list(store, snapshot, origin=origin, rules=rules)
    doc.outcome, doc.events, doc.detail = processed.outcome, len(processed.event_ids), processed.detail
    _remember_validators(store, monitor.name, channel, url, result)


def _remember_validators(store: Store, source: str, channel: str, url: str, result: FetchResult) -> None:
    """Keep ETag / Last-Modified for the next conditional request (only after the body was committed)."""
    values = {"url": url, "etag": result.etag, "last_modified": result.last_modified}
    store.update_channel(source, channel, values)


def _fetch_row(
    source: str, channel: str, url: str, started: str, clock: float, outcome: str, status: int | None, size: int,
    error: str | None,
) -> dict[str, object]:  # fmt: skip
    return {
        "source": source, "channel": channel, "url": redact_url(url), "started_at": started,
        "duration_ms": _ms(clock), "outcome": outcome, "http_status": status, "bytes": size, "error": error,
    }  # fmt: skip


def _ms(clock: float) -> int:
    return int((time.monotonic() - clock) * 1000)
