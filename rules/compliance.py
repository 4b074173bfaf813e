"""Compliance (pure): for each ban or mandate in force, the agreements it concerns and what became of them.

A ban or mandate binds the scope it names (state agencies, local agencies); an agreement's scope comes from
ICE's TYPE column ("State Agency" vs County / Municipality / Tribal). The I/O around this (agreements and
events read from the store, events written) is in watch287g/compliance_settling.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

from events.event import Event, new_event
from rules.policy import SCOPES, Instrument, StatePolicy

BINDING = ("ban", "mandate")
# Words of a state body when ICE left TYPE empty: "Virginia State Police", "Department of Corrections".
_STATE_WORDS = ("state police", "state patrol", "highway patrol", "department of", "division of", "state ")
STILL_LISTED, ALL_ENDED = "still_listed", "all_ended"  # the two moments a ban's compliance is news


def agency_scope(record: dict[str, Any]) -> str | None:
    """`state_agencies`, `local_agencies`, or None for a federal body (no state policy binds it)."""
    kind = str(record.get("type") or "")
    if kind == "State Agency":
        return "state_agencies"
    if kind in ("County", "Municipality", "Tribal"):
        return "local_agencies"
    if kind == "Federal":
        return None
    name = str(record.get("agency") or "").casefold()
    if "county" not in name and "city" not in name and any(w in name for w in _STATE_WORDS):
        return "state_agencies"
    return "local_agencies"


@dataclass
class Compliance:
    """One binding instrument of a state, as of a date: the agreements it concerns and what became of them."""

    state: str
    effect: str  # ban | mandate
    instrument: Instrument
    scopes: tuple[str, ...]  # the scopes this instrument decides
    listed: list[dict[str, Any]] = field(default_factory=list)  # agreements in those scopes still active
    missing: list[dict[str, Any]] = field(default_factory=list)  # absent from the list, not yet terminated
    ended: list[Event] = field(default_factory=list)  # terminated since it took effect (bans)
    added: list[Event] = field(default_factory=list)  # added since it took effect (mandates)

    @property
    def start(self) -> str:
        """`in force since 2026-02-17`, `enacted 2026-02-05 (effective date unknown)`, or the unknown."""
        if self.instrument.effective:
            return f"in force since {self.instrument.effective}"
        if self.instrument.enacted:
            return f"enacted {self.instrument.enacted} (effective date unknown)"
        return "in force (effective date unknown)"

    def summary(self) -> str:
        who = "" if len(self.scopes) == len(SCOPES) else f" for {self.scopes[0].replace('_', ' ')}"
        count = len(self.listed)
        listed = f"{count} agreement{'' if count == 1 else 's'}"
        missing = f", {len(self.missing)} missing" if self.missing else ""
        if self.effect == "ban":
            return (
                f"ban{who} {self.start}; {listed} still listed{missing}, {len(self.ended)} terminated since"
            )
        return f"mandate{who} {self.start}; {listed} listed, {len(self.added)} added since"

    def as_dict(self) -> dict[str, Any]:
        item = self.instrument
        return {
            "effect": self.effect, "instrument": item.name, "scopes": list(self.scopes),
            "enacted": item.enacted or None, "effective": item.effective or None, "source_url": item.source_url,
            "listed": len(self.listed), "missing": len(self.missing), "terminated_since": len(self.ended),
            "added_since": len(self.added), "summary": self.summary(),
            "agencies": sorted(a["agency"] for a in self.listed),
        }  # fmt: skip


def binding(view: StatePolicy | None) -> list[tuple[Instrument, tuple[str, ...]]]:
    """The bans and mandates deciding a state's labels, each with the scopes it decides."""
    found: dict[int, tuple[Instrument, list[str]]] = {}
    for scope in SCOPES if view else ():
        item = view.decided_by.get(scope) if view and getattr(view, scope) in BINDING else None
        if item is not None:
            found.setdefault(id(item), (item, []))[1].append(scope)
    return [(item, tuple(scopes)) for item, scopes in found.values()]


def compliance(
    view: StatePolicy | None,
    agreements: list[dict[str, Any]],
    terminated: Sequence[Event],
    added: Sequence[Event],
) -> list[Compliance]:
    """A state's binding instruments with the agreements they concern. `agreements`: the state's agreements
    in force (status active or missing); `terminated` / `added`: its agreement.terminated / agreement.added
    events (with `detected_at` and the record in `before` / `after`), kept here from when each instrument
    took effect."""
    rows = []
    for item, scopes in binding(view):

        def concerned(record: dict[str, Any] | None, scopes: tuple[str, ...] = scopes) -> bool:
            return bool(record) and agency_scope(record or {}) in scopes

        def since(events: Sequence[Event], side: str, item: Instrument = item) -> list[Event]:
            sides = [(e.get("before") if side == "before" else e.get("after"), e) for e in events]
            return [
                e for record, e in sides if concerned(record) and str(e["detected_at"])[:10] >= item.since
            ]

        rows.append(Compliance(
            item.state, item.effect, item, scopes,
            listed=[a for a in agreements if a["status"] == "active" and concerned(a)],
            missing=[a for a in agreements if a["status"] == "missing" and concerned(a)],
            ended=since(terminated, "before") if item.effect == "ban" else [],
            added=since(added, "after") if item.effect == "mandate" else [],
        ))  # fmt: skip
    return rows


def related_policy(view: StatePolicy | None, record: dict[str, Any]) -> dict[str, Any] | None:
    """The ban in force over this agreement's agency, for an agreement.terminated event's details."""
    scope = agency_scope(record)
    for item, scopes in binding(view):
        if item.effect == "ban" and scope in scopes:
            return {"effect": "ban", "instrument": item.name, "enacted": item.enacted or None,
                    "effective": item.effective or None, "source_url": item.source_url, "scopes": list(scopes)}  # fmt: skip
    return None


def compliance_events(
    rows: list[Compliance],
    seen: AbstractSet[tuple[str | None, str | None, str | None]],
    at: str,
    source: str,
    watching_since: str | None,
) -> list[Event]:
    """`policy.compliance` once when a ban is in force with agreements still listed, and once when the last
    of them is terminated (a missing one may come back). `seen`: the (state, instrument, phase) reported.
    A ban already in force when the history of agreements began (`watching_since`) is how things stood on
    the first day, not news: that `still_listed` is a baseline event (stored, shown, never alerted)."""
    events = []
    for row in rows:
        if row.effect != "ban":
            continue
        key = (row.state, row.instrument.name)
        if row.listed and (*key, STILL_LISTED) not in seen:
            phase = STILL_LISTED
        elif (
            not row.listed
            and not row.missing
            and (*key, STILL_LISTED) in seen
            and (*key, ALL_ENDED) not in seen
        ):
            phase = ALL_ENDED
        else:
            continue
        details = {**row.as_dict(), "phase": phase}
        since = row.instrument.since
        already = phase == STILL_LISTED and (not since or since < (watching_since or "")[:10])
        events.append(
            new_event("policy.compliance", source, at, state=row.state, details=details, baseline=already)
        )
    return events
