"""Source health: failure streaks and staleness become operator events, once per streak."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from events.event import Event, new_event
from notifiers.subscribers import Operators
from state.store import DeliveriesFor, Store


def settle_health(
    store: Store,
    source: str,
    error: str | None,
    at: str,
    operators: Operators,
    deliveries_for: DeliveriesFor | None,
) -> list[str]:
    """Record a check's outcome; `source.failed` when a failure streak reaches the limit, `source.recovered`
    when an alerted streak ends. Returns the ids of the events stored."""
    health = store.health(source)
    events: list[Event] = []
    if error is None:
        if health.get("alerted"):
            since = health.get("last_failure")
            events.append(_event("source.recovered", source, at, {"source": source, "since": since}))
        health.update(consecutive_failures=0, last_success=at, alerted=0)
    else:
        failures = (health.get("consecutive_failures") or 0) + 1
        health.update(consecutive_failures=failures, last_failure=at, last_error=error)
        if failures >= operators.failures_before_alert and not health.get("alerted"):
            details = {"source": source, "error": error, "failures": failures, "since": at}
            events.append(_event("source.failed", source, at, details))
            health["alerted"] = 1
    return store.add_events(events, deliveries_for, health=health)


def check_sources_staleness(
    store: Store, sources: list[str], now: str, operators: Operators, deliveries_for: DeliveriesFor | None
) -> list[str]:
    """`check_staleness` for each source inside one write transaction: the health rows are read under the
    write lock, so senders running at once (`notify` beside `notify` or `run`) raise each alert once."""
    with store.transaction():
        return [id_ for s in sources for id_ in check_staleness(store, s, now, operators, deliveries_for)]


def check_staleness(
    store: Store, source: str, now: str, operators: Operators, deliveries_for: DeliveriesFor | None
) -> list[str]:
    """`source.stale` once when no check succeeded for `stale_after_hours`, or no new participating list
    arrived for `no_new_list_days`; re-armed when the source is fresh again."""
    health = store.health(source)
    moment = datetime.fromisoformat(now)
    reasons = []
    last_success = health.get("last_success")
    if last_success and moment - datetime.fromisoformat(last_success) > timedelta(
        hours=operators.stale_after_hours
    ):
        reasons.append(f"no successful check since {last_success}")
    newest_list = (store.channel(source, "participating") or {}).get("valid_at")
    if newest_list and moment - datetime.fromisoformat(newest_list) > timedelta(
        days=operators.no_new_list_days
    ):
        reasons.append(f"no new participating list since {newest_list}")
    if not reasons:
        if health.get("stale_alerted"):
            health["stale_alerted"] = 0
            return store.add_events([], None, health=health)
        return []
    if health.get("stale_alerted"):
        return []
    health["stale_alerted"] = 1
    event = _event("source.stale", source, now, {"source": source, "error": "; ".join(reasons)})
    return store.add_events([event], deliveries_for, health=health)


def _event(kind: str, source: str, at: str, details: dict[str, Any]) -> Event:
    return new_event(kind, source, at, details=details)
