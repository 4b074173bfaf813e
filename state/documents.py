"""Followed documents (the MOAs behind a list's links): which agreements link one, when each was last asked, and
the mark of a document that started answering 404/410. A kept version is an ordinary snapshot of the channel
`monitors.source.document_channel(url)`; its bytes are a `bodies` row like every other body."""

from __future__ import annotations

from typing import Any

from events.event import Event
from state.readings import agreements_linking
from state.store import DeliveriesFor, Store


def linking_records(store: Store, source: str, url: str) -> list[dict[str, Any]]:
    """The source's agreements whose row links this URL as its MOA or addendum, in id order, with which
    (`document`: "moa" or "addendum")."""
    return [
        {**row, "document": "moa" if row["link"] == "moa_url" else "addendum"}
        for row in agreements_linking(store, (url,))
        if row["source"] == source
    ]


def last_checked(store: Store, source: str, channels: list[str]) -> dict[str, str | None]:
    """When each followed document was last answered (None: never): the check asks the longest unasked first."""
    found: dict[str, str | None] = dict.fromkeys(channels)
    for start in range(0, len(channels), 500):  # SQLite's limit on bound parameters
        part = channels[start : start + 500]
        marks = ", ".join("?" * len(part))
        rows = store.db.query(
            f"select channel, checked_at from channels where source = ? and channel in ({marks})",
            [source, *part],
        )
        found.update({row["channel"]: row["checked_at"] for row in rows})
    return found


def mark_gone(
    store: Store, source: str, channel: str, values: dict[str, Any], events: list[Event],
    deliveries_for: DeliveriesFor | None, origin: str,
) -> list[str]:  # fmt: skip
    """A document that answers 404/410: its channel's mark and its `agreement.moa_removed` events, together."""
    with store.transaction() as db:
        ids = store.add_events(events, deliveries_for, origin=origin) if events else []
        db.table("channels").upsert(
            {"source": source, "channel": channel, **values}, pk=("source", "channel")
        )
    return ids
