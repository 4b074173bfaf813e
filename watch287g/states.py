"""`watch287g states`: each state's 287(g) policy beside its active agreements, with the evidence.

Each ban or mandate in force says since when and what became of the agreements it concerns ("ban in force
since 2026-02-17; 7 agreements still listed, 0 terminated since"); agreements end on their own schedule and
the ICE list lags, so a ban with agreements still listed is shown here and told once to operators (and to
subscribers who want `policy.compliance`), see watch287g/compliance_settling.py.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from monitors.ice.names import STATES
from state import queries
from state.store import Store
from watch287g.compliance_settling import compliance_rows, policy_views


def state_table(store: Store, as_of: str) -> list[dict[str, Any]]:
    """One row per state: its policy from the instruments in force at `as_of` (so a 2026 law is not shown
    for 2025), its active agreements then, and for each ban or mandate the agreements it concerns."""
    views = policy_views(store, as_of)
    binding = compliance_rows(store, as_of, views)
    active = Counter(r["state"] for r in queries.agreements_as_of(store, as_of) if r["status"] == "active")
    rows = []
    for state in sorted(set(views) | set(active), key=lambda s: STATES.get(s, s)):
        view = views.get(state)
        labels = view.label() if view else ("none", "none")
        count = active.get(state, 0)
        compliance = binding.get(state, [])
        notes = [c.summary() for c in compliance]
        rows.append({
            "state": state, "name": STATES.get(state, state), "state_agencies": labels[0],
            "local_agencies": labels[1], "active_agreements": count, "note": "; ".join(notes),
            "ban_with_agreements": any(c.effect == "ban" and c.listed for c in compliance),
            "compliance": [c.as_dict() for c in compliance],
            "evidence": [{"name": i.name, "effect": i.effect, "enacted": i.enacted, "effective": i.effective or None,
                          "source_url": i.source_url, "evidence": i.evidence}
                         for i in (view.instruments if view else [])],
        })  # fmt: skip
    return rows
