"""Compliance with state bans and mandates, read from the store: the per-state rows behind `watch287g states`
and the report, the policy attached to an agreement.terminated, and `policy.compliance` events (once when a
ban is in force with agreements still listed, once when the last of them goes)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from events.event import OPERATOR_SOURCE, Event, StoredEvent
from rules.bill_rules import BILL
from rules.compliance import BINDING, Compliance, binding, compliance, compliance_events, related_policy
from rules.policy import StatePolicy, combined, from_bills, load_seed, policies
from state import queries
from state.store import DeliveriesFor, Store

SOURCE = OPERATOR_SOURCE  # like delivery.* events, they come from no configured source
TOLD = ("ban",)  # the effects whose compliance is told as events (rules.compliance.compliance_events)


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
    for row in queries.agreements_as_of(store, as_of, states=bound_states):
        in_force[row["state"]].append(row)
    moves: dict[tuple[str | None, str], list[StoredEvent]] = defaultdict(list)
    for event in queries.events(store, types=("agreement.terminated", "agreement.added"), states=bound_states,
                                before=bound, include_baseline=False):  # fmt: skip
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
        for e in queries.events(store, types=("policy.compliance",))
    }
    rows = [row for rows in compliance_rows(store, at, effects=TOLD).values() for row in rows]
    events = compliance_events(rows, seen, at, SOURCE, queries.first_list_at(store))
    return store.add_events(events, deliveries_for, origin=origin) if events else []


class BackfillSettler:
    """`settle_compliance` after each backfilled list, but only when it could store something: on the first
    list, when an instrument started or ended since the last settle, or when the list wrote records of a state
    that had a ban in force at the last settle (the effects told: TOLD). Otherwise the instruments in force
    and the agreements they concern are those of the last settle, which stored every event they made due, so
    settling again would store nothing (and asking costs a query on every list)."""

    def __init__(self, store: Store, origin: str) -> None:
        bills = from_bills([row["record"] for row in store.tracked_of_kind(BILL)])
        self.store, self.origin, self.instruments = store, origin, combined(load_seed(), bills)
        # a mandate or restriction starting or ending can change which law decides a scope: every date counts
        self.dates = sorted({day for i in self.instruments for day in (i.since, i.ended) if day})
        self.settled_day: str | None = None  # the day of the last settle; None: not yet in this run
        self.watched: frozenset[str] = frozenset()  # the states settled then (compliance_rows' filter)

    def due(self, at: str, states: frozenset[str]) -> bool:
        """Could settling at `at`, after a list that wrote records of `states`, store anything new?"""
        last, day = self.settled_day, at[:10]
        return last is None or bool(states & self.watched) or any(last < d <= day for d in self.dates)

    def after_list(self, at: str, states: frozenset[str]) -> list[str]:
        if not self.due(at, states):
            return []
        self.settled_day = at[:10]
        views = policies(self.instruments, self.settled_day)
        self.watched = frozenset(
            s for s, view in views.items() if any(i.effect in TOLD for i, _ in binding(view))
        )
        return settle_compliance(self.store, at, None, self.origin)  # history as it was then; no alerts
