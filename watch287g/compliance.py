"""Compliance with state bans and mandates, read from the store: the per-state rows behind `watch287g states`
and the report, the policy attached to an agreement.terminated, and `policy.compliance` events (once when a
ban is in force with agreements still listed, once when the last of them goes)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from events.event import Event, StoredEvent
from monitors.bill_rules import BILL
from monitors.compliance import BINDING, Compliance, binding, compliance, compliance_events, related_policy
from monitors.policy import StatePolicy, combined, from_bills, load_seed, policies
from state import queries
from state.store import DeliveriesFor, Store

SOURCE = "watch287g"  # like delivery.* events, from no source (flows/prefect_events.py: OPERATOR_SOURCE)


def policy_views(store: Store, as_of: str | None) -> dict[str, StatePolicy]:
    """Each state's policy from the instruments in force at `as_of` (None: today)."""
    bills = from_bills([row["record"] for row in store.tracked_of_kind(BILL)])
    return policies(combined(load_seed(), bills), as_of)


def compliance_rows(
    store: Store, as_of: str, views: dict[str, StatePolicy] | None = None, effects: tuple[str, ...] = BINDING
) -> dict[str, list[Compliance]]:
    """Per state, its binding instruments (of these effects) in force at `as_of` and the agreements they
    concern then."""
    views = policy_views(store, as_of) if views is None else views
    views = {
        state: view for state, view in views.items() if any(i.effect in effects for i, _ in binding(view))
    }
    bound, bound_states = queries.upper_bound(as_of), sorted(views)
    in_force: dict[str, list[dict[str, Any]]] = defaultdict(list)  # active or missing
    for row in queries.agreements_as_of(store.db, as_of, states=bound_states):
        in_force[row["state"]].append(row)
    moves: dict[tuple[str | None, str], list[StoredEvent]] = defaultdict(list)
    for event in queries.events_of(store.db, ("agreement.terminated", "agreement.added"), states=bound_states,
                                   before=bound):  # fmt: skip
        moves[(event["state"], event["type"])].append(event)
    return {
        state: rows
        for state, view in views.items()
        if (
            rows := compliance(
                view,
                in_force[state],
                moves[(state, "agreement.terminated")],
                moves[(state, "agreement.added")],
            )
        )  # fmt: skip
    }


def with_related_policy(store: Store, events: list[Event], at: str) -> list[Event]:
    """agreement.terminated events in a state with a ban in force carry it in `details.policy`."""
    ended = [e for e in events if e["type"] == "agreement.terminated"]
    if not ended:
        return events
    views = policy_views(store, at)
    for event in ended:
        policy = related_policy(views.get(event.get("state") or ""), event.get("before") or {})
        if policy:
            event["details"] = {**(event.get("details") or {}), "policy": policy}
    return events


def settle_compliance(
    store: Store, at: str, deliveries_for: DeliveriesFor | None, origin: str = "live"
) -> list[str]:
    """Store the `policy.compliance` events now due (each phase of each ban once, across runs)."""
    seen = {
        (e["state"], e["details"].get("instrument"), e["details"].get("phase"))
        for e in queries.events_of(store.db, ("policy.compliance",), include_baseline=True)
    }
    rows = [row for rows in compliance_rows(store, at, effects=("ban",)).values() for row in rows]
    events = compliance_events(rows, seen, at, SOURCE, queries.first_list_at(store.db))
    return store.add_events(events, deliveries_for, origin=origin) if events else []
