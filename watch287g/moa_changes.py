"""A followed document (an MOA behind a list's link) through the pipeline: keep its bytes, and say when they
change under the same URL (`agreement.moa_changed`), when the link starts answering 404/410
(`agreement.moa_removed`) and when it answers again (`agreement.moa_restored`). The first copy of a document is
kept without an event: the list's `agreement.moa_published` already said the link was posted. Every version
stays kept (bodies are never overwritten), so a change can always be shown both ways.

The check loop (watch287g.check_loop) fetches; this module decides and commits, one transaction per document."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from events.event import Event, new_event
from monitors.base import Snapshot
from monitors.source import Request
from state.documents import linking_records, mark_gone
from state.store import DocumentCommit
from watch287g.pipeline import Processed

if TYPE_CHECKING:
    from watch287g.check_loop import Check

GONE_STATUSES = (404, 410)  # the link answers, and says the document is not there


def process_document(check: Check, request: Request, snapshot: Snapshot) -> Processed:
    """Keep the bytes the document's URL answered; its events when it changed or came back."""
    store, source = check.store, check.source
    channel = store.channel(source, request.channel) or {}
    previous, gone_since = channel.get("current_sha256"), channel.get("gone_since")
    answered = {"checked_at": snapshot.fetched_at, "gone_since": None}
    if previous == snapshot.sha256 and not gone_since:
        store.update_channel(source, request.channel, answered)
        return Processed(request.channel, "unchanged")
    size = len(snapshot.body)
    if gone_since:
        details = {
            "same_bytes": previous == snapshot.sha256,
            "sha256": snapshot.sha256,
            "gone_since": gone_since,
        }
        events = _events(check, request, "agreement.moa_restored", snapshot.fetched_at, details)
    elif previous:
        before = {"sha256": previous, "size": len(store.body(previous) or b"")}
        events = _events(check, request, "agreement.moa_changed", snapshot.fetched_at, {"channel": request.channel},
                         before=before, after={"sha256": snapshot.sha256, "size": size})  # fmt: skip
    else:
        events = []
    if previous == snapshot.sha256:  # back with the bytes it had: no second copy of the same version
        ids = mark_gone(store, source, request.channel, answered, events, check.deliveries_for, check.origin)
        return Processed(request.channel, "restored", tuple(ids))
    doc = DocumentCommit(
        source=source, channel=request.channel, url=request.shown_url, sha256=snapshot.sha256, body=snapshot.body,
        fetched_at=snapshot.fetched_at, origin=check.origin, outcome="document", http_status=snapshot.http_status,
        content_type=snapshot.content_type, etag=snapshot.etag, last_modified=snapshot.last_modified,
        events=events, channel_update=answered, deliveries_for=check.deliveries_for,
    )  # fmt: skip
    ids = store.commit_document(doc)
    return Processed(request.channel, "kept" if not previous else "changed", tuple(ids))


def document_gone(check: Check, request: Request, status: int, at: str) -> tuple[str, ...]:
    """The link answers 404/410: `agreement.moa_removed` once per absence (the kept copies stay)."""
    channel = check.store.channel(check.source, request.channel) or {}
    if channel.get("gone_since"):
        check.store.update_channel(check.source, request.channel, {"checked_at": at})
        return ()
    details = {"http_status": status, "last_sha256": channel.get("current_sha256")}
    # A link that never answered with a document has nothing kept to remove: it is marked, not announced.
    events = (
        _events(check, request, "agreement.moa_removed", at, details) if channel.get("current_sha256") else []
    )
    values = {"url": request.shown_url, "checked_at": at, "gone_since": at}
    return tuple(mark_gone(check.store, check.source, request.channel, values, events, check.deliveries_for,
                           check.origin))  # fmt: skip


def _events(
    check: Check, request: Request, type_: str, at: str, details: dict[str, Any], **change: Any
) -> list[Event]:
    """One event per agreement whose row links the document (usually one), about that agreement."""
    return [
        new_event(
            type_,
            check.source,
            at,
            record_id=row["id"],
            state=row["state"],
            agency=row["agency"],
            model=row["model"],
            details={"url": request.shown_url, "document": row["document"], **details},
            **change,
        )  # fmt: skip
        for row in linking_records(check.store, check.source, request.shown_url)
    ]
