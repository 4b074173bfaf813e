"""Legislation through the pipeline: fetch each document a legislation source asks for, snapshot it,
parse it to bill records (or page text), apply the bill and policy rules, commit in one transaction."""

from __future__ import annotations

import difflib
import hashlib
import time
from dataclasses import asdict
from typing import Any

from events.event import Event, new_event
from monitors.base import FetchError, ParseError, Snapshot
from monitors.bill_rules import BILL, interpret_bills
from monitors.ice_rules import Context, Outcome, Tracked
from monitors.legislation import LegislationMonitor, Parsed, Request
from monitors.policy import from_bills, load_seed, policies, policy_events
from state.store import DocumentCommit, Store
from watch287g.check import Check, CheckReport, DocumentReport, SourceFailed, _fetch_row, _ms, _snapshot
from watch287g.faults import crash_point
from watch287g.health import settle_health
from watch287g.pipeline import Processed, _document, _tracked


def check_legislation(check: Check) -> CheckReport:
    monitor = check.monitor
    assert isinstance(monitor, LegislationMonitor)
    report = CheckReport(check.source)
    try:
        queue = list(monitor.requests())
        while queue:
            queue.extend(_one_document(check, monitor, queue.pop(0), report))
    except (FetchError, SourceFailed) as exc:
        report.error = str(exc)
    except Exception as exc:  # a configuration problem found while building requests (missing API key)
        report.error = f"{check.source}: {exc}"
    settle_health(check.store, check.source, report.error, check.now(), check.operators, check.deliveries_for)
    return report


def _one_document(
    check: Check, monitor: LegislationMonitor, request: Request, report: CheckReport
) -> list[Request]:
    stored = check.store.channel(check.source, request.channel) or {}
    if request.change_hash and stored.get("etag") == request.change_hash:
        report.documents.append(DocumentReport(request.channel, request.shown_url, "unchanged"))
        return []
    conditional = stored.get("url") == request.shown_url
    started, clock = check.now(), time.monotonic()
    try:
        result = check.fetch(request.url, stored.get("etag") if conditional and not request.change_hash else None,
                             stored.get("last_modified") if conditional else None, request.headers)  # fmt: skip
    except FetchError as exc:
        check.store.log_fetch(_fetch_row(check.source, request.channel, request.url, started, clock, "error",
                                         exc.http_status, 0, str(exc)))  # fmt: skip
        raise
    crash_point("after_fetch")
    size = len(result.body or b"")
    outcome = "not_modified" if result.status == 304 else "fetched"
    check.store.log_fetch(_fetch_row(check.source, request.channel, request.url, started, clock, outcome,
                                     result.status, size, None))  # fmt: skip
    doc = DocumentReport(request.channel, request.shown_url, outcome, result.status, size, _ms(clock))
    report.documents.append(doc)
    if result.status == 304 or result.body is None:
        return []
    snapshot = _snapshot(check, request.channel, result)
    processed, follow = process_document(check, monitor, request, snapshot)
    doc.outcome, doc.events, doc.detail = processed.outcome, len(processed.event_ids), processed.detail
    validator = request.change_hash or result.etag
    check.store.update_channel(
        check.source,
        request.channel,
        {"url": request.shown_url, "etag": validator, "last_modified": result.last_modified},
    )
    return follow


def process_document(
    check: Check, monitor: LegislationMonitor, request: Request, snapshot: Snapshot
) -> tuple[Processed, list[Request]]:
    store = check.store
    channel = store.channel(snapshot.source, snapshot.channel) or {}
    if channel.get("current_sha256") == snapshot.sha256:
        return Processed(snapshot.channel, "unchanged"), []
    doc = _document(snapshot, check.origin, None)
    doc.deliveries_for = check.deliveries_for
    try:
        parsed = monitor.parse(request, snapshot.body)
    except (
        ParseError,
        ValueError,
        KeyError,
        TypeError,
    ) as exc:  # the bytes are not what the source should send
        reason = f"unreadable {monitor.kind} response: {exc}"
        doc.outcome, doc.detail = "quarantined", reason
        doc.events = [_event("list.quarantined", snapshot, None, {"list": snapshot.channel, "reason": reason,
                                                                   "url": snapshot.url}, False)]  # fmt: skip
        return Processed(snapshot.channel, "quarantined", tuple(store.commit_document(doc)), reason), []
    ctx = Context(snapshot.source, snapshot.fetched_at, baseline=not channel.get("valid_sha256"))
    doc.outcome = "processed"
    doc.channel_update = {"valid_sha256": snapshot.sha256, "valid_at": snapshot.fetched_at}
    if parsed.page_text is not None:
        old_body = store.body(channel.get("current_sha256") or "")
        old_text = (monitor.parse(request, old_body).page_text or "") if old_body else ""
        _page(doc, channel, old_text, parsed.page_text, snapshot, monitor, ctx)
    if parsed.bills:
        outcome = _bills(store, parsed, ctx)
        doc.tracked, doc.events = [asdict(t) for t in outcome.updated], outcome.events
    return Processed(snapshot.channel, "processed", tuple(store.commit_document(doc))), parsed.follow


def _bills(store: Store, parsed: Parsed, ctx: Context) -> Outcome:
    known = {row["id"]: _tracked(row) for row in store.tracked_of_kind(BILL)}
    outcome = interpret_bills(parsed.bills, known, ctx)
    seed = load_seed()
    before = policies(seed + from_bills([t.record for t in known.values()]))
    after_known: dict[str, Tracked] = {**known, **{t.id: t for t in outcome.updated}}
    after = policies(seed + from_bills([t.record for t in after_known.values()]))
    for kind, view, old in policy_events(before, after):
        details = {
            "effect": kind.removeprefix("policy.").removesuffix("_enacted").replace("restriction", "restrict"),
            "state_agencies": view.state_agencies, "local_agencies": view.local_agencies,
            "previous": list(old.label()) if old else ["none", "none"],
            "instruments": [{"name": i.name, "effect": i.effect, "enacted": i.enacted, "effective": i.effective or None,
                             "source_url": i.source_url} for i in view.instruments],
        }  # fmt: skip
        outcome.events.append(new_event(kind, ctx.source, ctx.detected_at, state=view.state, details=details,
                                        baseline=ctx.baseline))  # fmt: skip
    return outcome


def _page(
    doc: DocumentCommit,
    channel: dict[str, Any],
    old: str,
    text: str,
    snapshot: Snapshot,
    monitor: Any,
    ctx: Context,
) -> None:
    digest = hashlib.sha256(text.encode()).hexdigest()
    doc.channel_update["text_sha256"] = digest
    if channel.get("text_sha256") and channel["text_sha256"] != digest:
        diff = "\n".join(
            difflib.unified_diff(old.split(". "), text.split(". "), "before", "after", lineterm="", n=0)
        )
        doc.events = [_event("page.changed", snapshot, monitor.config.get("state"),
                             {"url": snapshot.url, "diff": diff[:4000]}, ctx.baseline)]  # fmt: skip


def _event(
    kind: str, snapshot: Snapshot, state: str | None, details: dict[str, Any], baseline: bool
) -> Event:
    return new_event(
        kind, snapshot.source, snapshot.fetched_at, state=state, details=details, baseline=baseline
    )
