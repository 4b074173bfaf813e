"""What one subscriber would get, rendered without sending anything or changing the outbox (`notify --preview`).

It is the message its due deliveries would make now (what the next `watch287g notify` sends, one message per
channel, so the events are counted once); when none is due, the message its RECENT_EVENTS latest matching
events (baseline excluded, whenever they were seen) would make, so a new subscriber sees what its filters
give. Either is rendered as that subscriber gets it: an alert when immediate, else its digest up to `now`.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from notifiers.outbox import Enrich, render_batch
from notifiers.render import Audience, Message
from notifiers.subscribers import Routing
from notifiers.text import plural
from state import deliveries, queries
from state.store import Store

RECENT_EVENTS = 20


@dataclass(frozen=True)
class Preview:
    message: Message | None  # None: nothing to show
    events: int  # how many events the message is about
    what: str  # which events these are, in words (or why there is nothing to show)


def preview(
    store: Store,
    routing: Routing,
    name: str,
    now: str,
    enrich: Enrich | None = None,
    audience: Audience | None = None,
) -> Preview:
    """The message `name` would get now. Reads only: deliveries keep their status, attempts and receipts.
    An unknown `name` raises ConfigError naming the configured subscribers."""
    subscriber = routing.subscriber(name)
    enrich = enrich or (lambda rows: rows)
    due = _once_each([row for row in deliveries.due(store, now) if row["subscriber"] == name])
    if due:
        what = f"{plural(len(due), 'due event')}: what `watch287g notify` would send {name} now"
        return Preview(render_batch(subscriber, enrich(due), now, audience), len(due), what)
    stored: list[dict[str, Any]] = [dict(e) for e in queries.events(store, include_baseline=False)]
    matching = [e for e in stored if subscriber.wants(e)]
    recent = matching[-RECENT_EVENTS:]
    if not recent:
        return Preview(None, 0, f"nothing to show: nothing is due for {name} and no stored event matches its filters")  # fmt: skip
    what = (f"nothing is due for {name}; its {plural(len(recent), 'latest matching event')} "
            f"(at most {RECENT_EVENTS}; seen {recent[0]['detected_at'][:10]} to {recent[-1]['detected_at'][:10]})")  # fmt: skip
    return Preview(render_batch(subscriber, enrich(recent), now, audience), len(recent), what)


def _once_each(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per event: a subscriber with several channels has a delivery per channel for each event."""
    seen: set[str] = set()
    unique = []
    for row in rows:
        if row["id"] not in seen:
            seen.add(row["id"])
            unique.append(row)
    return sorted(unique, key=lambda row: str(row["detected_at"]))


def html_document(message: Message) -> str:
    """The HTML part as a file a browser opens as a mail client shows it: a whole document (UTF-8, the
    message's title, a mobile viewport) around the part, or the part itself when it already is one."""
    if message.html.lstrip().lower().startswith(("<!doctype", "<html")):
        return message.html
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(message.title, quote=True)}</title></head>\n<body>\n{message.html}</body></html>\n"
    )
