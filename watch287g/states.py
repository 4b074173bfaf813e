"""`watch287g states`: each state's 287(g) policy beside its active agreements, with the evidence.

A state that bans 287(g) but still has active agreements is shown, not alerted: agreements end on their own
schedule (Maryland required termination by 2026-07-01) and the ICE list lags.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from monitors.bill_rules import BILL
from monitors.ice_names import STATES
from monitors.policy import from_bills, load_seed, policies
from state import queries
from state.store import Store
from watch287g.render import plural


def state_table(store: Store, as_of: str) -> list[dict[str, Any]]:
    views = policies(load_seed() + from_bills([row["record"] for row in store.tracked_of_kind(BILL)]))
    active = Counter(r["state"] for r in queries.agreements_as_of(store.db, as_of) if r["status"] == "active")
    rows = []
    for state in sorted(set(views) | set(active), key=lambda s: STATES.get(s, s)):
        view = views.get(state)
        labels = view.label() if view else ("none", "none")
        count = active.get(state, 0)
        note = ""
        if "ban" in labels and count:
            note = f"{plural(count, 'agreement')} still listed as active despite a ban"
        elif labels[1] == "mandate" and not count:
            note = "mandate in force but no active agreement listed"
        rows.append({
            "state": state, "name": STATES.get(state, state), "state_agencies": labels[0],
            "local_agencies": labels[1], "active_agreements": count, "note": note,
            "evidence": [{"name": i.name, "effect": i.effect, "enacted": i.enacted, "source_url": i.source_url,
                          "evidence": i.evidence} for i in (view.instruments if view else [])],
        })  # fmt: skip
    return rows
