"""One event type, one constructor, one decoder of stored rows, and the table of every type there is.

An event is a `TypedDict`, not a class: stored events, JSON output and every reader keep plain dict access
(`event["type"]`). It sits below monitors/, state/, notifiers/ and watch287g/ and imports none of them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypedDict, cast

# The `source` of events that come from no configured source: delivery.*, policy.compliance.
OPERATOR_SOURCE = "watch287g"

# Who hears of an event of each type (notifiers/subscribers.py routes by this).
SUBSCRIBERS = "subscribers"  # subscribers whose filters match; never the operators
OPERATORS = "operators"  # the operators' channel only
OPT_IN = "operators, and subscribers who name it"  # not in a subscriber's default event globs
AS_CORRECTED = "whoever got the corrected event"  # event.corrected: routed as `details.was`

# Every type the code can emit. `new_event` refuses any other, so a module that emits a new type without
# adding it here fails its tests.
EVENT_TYPES = {
    "agreement.added": SUBSCRIBERS,
    "agreement.terminated": SUBSCRIBERS,
    "agreement.renamed": SUBSCRIBERS,
    "agreement.changed": SUBSCRIBERS,
    "agreement.moa_published": SUBSCRIBERS,
    "agreement.moa_changed": SUBSCRIBERS,
    "agreement.moa_removed": SUBSCRIBERS,
    "agreement.moa_restored": SUBSCRIBERS,
    "agreement.moa_mismatch": OPERATORS,
    "pending.added": SUBSCRIBERS,
    "pending.withdrawn": SUBSCRIBERS,
    "event.corrected": AS_CORRECTED,
    "page.changed": SUBSCRIBERS,
    "bill.introduced": SUBSCRIBERS,
    "bill.advanced": SUBSCRIBERS,
    "bill.enacted": SUBSCRIBERS,
    "bill.failed": SUBSCRIBERS,
    "policy.ban_enacted": SUBSCRIBERS,
    "policy.mandate_enacted": SUBSCRIBERS,
    "policy.restriction_enacted": SUBSCRIBERS,
    "policy.changed": SUBSCRIBERS,
    "policy.compliance": OPT_IN,
    "list.quarantined": OPERATORS,
    "source.failed": OPERATORS,
    "source.recovered": OPERATORS,
    "source.stale": OPERATORS,
    "delivery.failing": OPERATORS,
    "delivery.recovered": OPERATORS,
}
OPERATOR_ONLY = frozenset(t for t, audience in EVENT_TYPES.items() if audience == OPERATORS)
FOR_OPERATORS = tuple(t for t, audience in EVENT_TYPES.items() if audience in (OPERATORS, OPT_IN))
OPT_IN_ONLY = tuple(t for t, audience in EVENT_TYPES.items() if audience == OPT_IN)


class Event(TypedDict):
    """An event as emitted: about one record (record_id, state, agency, model, before/after) or about a
    document, a state, a source or a channel (those fields None). `baseline`: of a first check, never alerted."""

    type: str
    source: str
    detected_at: str
    record_id: str | None
    state: str | None
    agency: str | None
    model: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    details: dict[str, Any]
    baseline: bool


class StoredEvent(Event):
    """An event as read back: with what the store adds (state/store.py) and where it came from."""

    id: str
    origin: str | None  # live, backfill or demo
    snapshot_id: int | None  # the document it was read from; None for source.*, delivery.*, policy.compliance
    snapshot_sha256: str | None
    url: str | None  # the document's URL (a backfilled one: the archive's name after '#')


def new_event(
    type_: str,
    source: str,
    detected_at: str,
    *,
    record_id: str | None = None,
    state: str | None = None,
    agency: str | None = None,
    model: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
    baseline: bool = False,
) -> Event:
    """The one way an event is made; a type missing from EVENT_TYPES is a programming error."""
    if type_ not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type_!r}: add it to events.event.EVENT_TYPES")
    return {
        "type": type_, "source": source, "detected_at": detected_at, "record_id": record_id, "state": state,
        "agency": agency, "model": model, "before": before, "after": after,
        "details": {} if details is None else details, "baseline": baseline,
    }  # fmt: skip


def decode_event(row: Mapping[str, Any]) -> StoredEvent:
    """A row of the events table (with any joined columns, kept as they are): JSON columns decoded,
    `baseline` a bool. The row is changed in place when it is a dict (rows are read once)."""
    event = row if isinstance(row, dict) else dict(row)
    for name in ("before", "after", "details"):
        event[name] = json.loads(event[name]) if event[name] else None
    event["baseline"] = bool(event["baseline"])
    return cast(StoredEvent, event)
