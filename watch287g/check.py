"""One live check of an ICE source: page -> discovered links -> lists, each through the pipeline.

Network I/O is the injected `fetch` (a Prefect task with retries in flows/, the bare client in tests), so
this function is plain and testable. Every request is logged in `fetches`; a failure anywhere marks the
source unhealthy and makes the check fail loudly, while everything already committed stays committed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from monitors.base import ConfigError, FetchError, Monitor, Snapshot, utc_now
from monitors.http import FetchResult, HttpClient, redact_url
from monitors.ice_287g import Ice287gMonitor
from monitors.ice_page import find_list_links
from monitors.ice_rules import Rules
from notifiers.subscribers import Operators
from state.store import DeliveriesFor, Store
from watch287g.faults import crash_point
from watch287g.health import settle_health
from watch287g.pipeline import LIST_CHANNELS, process_list, process_page

if TYPE_CHECKING:
    from watch287g.config import Config


class Fetch(Protocol):
    """One GET (`HttpClient.get`, or a Prefect task around it): headers carry API keys, never logged;
    `max_bytes` lowers the cap for one response (the program page)."""

    def __call__(
        self, url: str, etag: str | None, last_modified: str | None, headers: dict[str, str] | None = None,
        /, max_bytes: int | None = None,
    ) -> FetchResult: ...  # fmt: skip


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


@dataclass(frozen=True)
class Check:
    """Everything one check of one ICE source needs; the helpers below read from it."""

    store: Store
    monitor: Monitor
    fetch: Fetch
    rules: Rules
    origin: str = "live"
    now: Callable[[], str] = utc_now
    deliveries_for: DeliveriesFor | None = None
    operators: Operators = field(default_factory=Operators)

    @property
    def source(self) -> str:
        return self.monitor.name


def check_ice(check: Check) -> CheckReport:
    assert isinstance(check.monitor, Ice287gMonitor)
    report = CheckReport(check.source)
    try:
        links = _page_links(check, report)
        for channel in LIST_CHANNELS:
            _check_list(check, channel, links[channel], report)
    except (FetchError, SourceFailed) as exc:
        report.error = str(exc)
    settle_health(check.store, check.source, report.error, check.now(), check.operators, check.deliveries_for)
    return report


def check_source(store: Store, monitor: Monitor, config: Config, origin: str = "live") -> CheckReport:
    """A check without Prefect (no retries): `run --no-prefect`, the demo and tests."""
    if not isinstance(monitor, Ice287gMonitor):
        raise ConfigError(f"source {monitor.name!r}: kind {monitor.kind!r} cannot be checked yet")
    client = monitor.client(config.contact)
    try:
        return check_ice(config.check(store, monitor, plain_fetch(client), origin=origin))
    finally:
        client.close()


def plain_fetch(client: HttpClient) -> Fetch:
    def fetch(
        url: str, etag: str | None, last_modified: str | None, headers: dict[str, str] | None = None,
        max_bytes: int | None = None,
    ) -> FetchResult:  # fmt: skip
        return client.get(url, etag=etag, last_modified=last_modified, headers=headers, max_bytes=max_bytes)

    return fetch


def _get(
    check: Check, channel: str, url: str, conditional: bool, report: CheckReport, max_bytes: int | None = None
) -> tuple[FetchResult, DocumentReport]:
    state = (check.store.channel(check.source, channel) or {}) if conditional else {}
    started, clock = check.now(), time.monotonic()
    try:
        result = check.fetch(url, state.get("etag"), state.get("last_modified"), None, max_bytes=max_bytes)
    except FetchError as exc:
        row = _fetch_row(check.source, channel, url, started, clock, "error", exc.http_status, 0, str(exc))
        check.store.log_fetch(row)
        failed = DocumentReport(
            channel, redact_url(url), "error", exc.http_status, 0, _ms(clock), 0, str(exc)
        )
        report.documents.append(failed)  # the operators' table shows the failed request too
        raise
    crash_point("after_fetch")
    outcome = "not_modified" if result.status == 304 else "fetched"
    size = len(result.body or b"")
    check.store.log_fetch(
        _fetch_row(check.source, channel, url, started, clock, outcome, result.status, size, None)
    )
    return result, DocumentReport(channel, redact_url(url), outcome, result.status, size, _ms(clock))


def _page_links(check: Check, report: CheckReport) -> dict[str, str | None]:
    """Fetch the page (conditionally), commit it when new, and return the spreadsheet links it holds."""
    assert isinstance(check.monitor, Ice287gMonitor)
    url = check.monitor.url
    result, doc = _get(check, "page", url, True, report, max_bytes=check.monitor.max_page_bytes)
    report.documents.append(doc)
    base = result.final_url  # relative links are relative to where the page is now (it may have moved)
    if result.status == 304:
        stored = check.store.channel(check.source, "page") or {}
        body = check.store.body(stored.get("current_sha256") or "")
        if body is None:
            raise SourceFailed(
                f"{check.source}: the server said 304 Not Modified but no copy of the page is stored"
            )
        found = find_list_links(body, base)
        links = {"participating": found.participating, "pending": found.pending}
    else:
        snapshot = _snapshot(check, "page", result)
        processed, links = process_page(
            check.store, snapshot, origin=check.origin, deliveries_for=check.deliveries_for
        )
        doc.outcome, doc.events = processed.outcome, len(processed.event_ids)
        _remember_validators(check, "page", url, result)
    missing = [channel for channel in LIST_CHANNELS if not links.get(channel)]
    if missing:
        raise SourceFailed(
            f"{check.source}: the page {url} no longer links a {' or '.join(missing)} spreadsheet"
        )
    return links


def _check_list(check: Check, channel: str, url: str | None, report: CheckReport) -> None:
    assert url is not None
    same_url = (check.store.channel(check.source, channel) or {}).get("url") == url
    result, doc = _get(check, channel, url, same_url, report)
    report.documents.append(doc)
    if result.status == 304:
        return
    processed = process_list(
        check.store, _snapshot(check, channel, result), origin=check.origin, rules=check.rules,
        deliveries_for=check.deliveries_for,
    )  # fmt: skip
    doc.outcome, doc.events, doc.detail = processed.outcome, len(processed.event_ids), processed.detail
    if processed.outcome != "already_seen":  # else fetched in full again next time, when the clock is later
        _remember_validators(check, channel, url, result)


def _snapshot(check: Check, channel: str, result: FetchResult) -> Snapshot:
    """The document as fetched, under the URL it came from after redirects (credentials removed)."""
    assert result.body is not None
    return Snapshot(check.source, channel, result.final_url, check.now(), result.body, result.status, result.content_type,
                    result.etag, result.last_modified)  # fmt: skip


def _remember_validators(check: Check, channel: str, url: str, result: FetchResult) -> None:
    """Keep ETag / Last-Modified for the next conditional request (only after the body was committed)."""
    values = {"url": url, "etag": result.etag, "last_modified": result.last_modified}
    check.store.update_channel(check.source, channel, values)


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
