"""Event sets for message tests, made by the real pipeline (process_list) from ICE's real lists in memory.

- `may_29`: the real 2025-05-28 pm -> 2025-05-29 am change (both lists of both days, tests/fixtures/ice).
- `termination_rename_ban`: the 2025-07-14 list replayed after the week before it (watch287g/demo) with a
  hold-back of one list and no days, so one agreement missing from it is terminated, next to two renames, a
  correction and additions; plus Maryland's ban (HB 444, the reviewed seed watch287g/data/state_policy.csv)
  as `policy.compliance` tells it on the day it took effect, with Maryland's agreements still listed.
- `hostile`: real events whose agency names and links carry markup, scripts and javascript: URLs.

Every time is fixed (publication or capture times), so the messages rendered from them are stable.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from monitors.base import Snapshot
from rules.ice_rules import Rules
from state import queries
from state.store import DeliveriesFor, Store
from watch287g.compliance_settling import settle_compliance
from watch287g.pipeline import process_list

ROOT = Path(__file__).resolve().parents[2]
ICE = ROOT / "tests" / "fixtures" / "ice"
DEMO = ROOT / "watch287g" / "demo"  # real ICE lists of July 2025
FOLDER = "https://www.ice.gov/doclib/about/offices/ero/287g/"
Event = dict[str, Any]

# (file, when it was seen): the capture times of the archives these copies come from.
MAY_LISTS = [
    ("2025-05-28_participatingAgencies05282025pm.xlsx", "2025-05-28T22:30:11+00:00"),
    ("2025-05-28_pendingAgencies05282025pm.xlsx", "2025-05-28T22:30:11+00:00"),
    ("2025-05-29_participatingAgencies05292025am.xlsx", "2025-05-29T15:17:33+00:00"),
    ("2025-05-29_pendingAgencies05292025am.xlsx", "2025-05-29T15:17:33+00:00"),
]
MAY_29 = "2025-05-29T15:17:33+00:00"
JULY_PUBLISHED = {"2025-07-07": "21:00", "2025-07-08": "21:00", "2025-07-14": "13:00"}
JULY_14 = "2025-07-14T13:00:00+00:00"
MARYLAND_BAN = "2026-02-17T13:00:00+00:00"  # HB 444 signed and in force (seed)
HOSTILE_NAME = (
    "<script>document.documentElement.setAttribute('data-pwned','script')</script>"
    "<img src=x onerror=\"document.documentElement.setAttribute('data-pwned','img')\"> & <!channel> *bold*"
)
HOSTILE_LINK = "javascript:document.documentElement.setAttribute('data-pwned','link')"


def process(store: Store, path: Path, at: str, rules: Rules, deliveries: DeliveriesFor | None = None) -> None:
    """One real list through process_list as a live run would take it."""
    stem = path.stem.split("_", 1)[1]
    channel = "participating" if stem.startswith("participating") else "pending"
    snapshot = Snapshot("ice-287g", channel, f"{FOLDER}{stem}.xlsx", at, path.read_bytes())
    result = process_list(store, snapshot, origin="live", rules=rules, deliveries_for=deliveries)
    assert result.outcome == "processed"


def may_29() -> list[Event]:
    """The events of ICE's 2025-05-29 am lists, seen after its 2025-05-28 pm lists."""
    store = Store(None)
    try:
        for name, at in MAY_LISTS:
            process(store, ICE / name, at, Rules())
        return [e for e in queries.events(store, since=MAY_29, include_baseline=False)]
    finally:
        store.close()


def termination_rename_ban() -> list[Event]:
    """The 2025-07-14 list's events (a termination, renames, a correction, additions) and Maryland's ban."""
    store = Store(None)
    try:
        for path in sorted(DEMO.glob("*.xlsx")):
            day = path.name[:10]
            if day in JULY_PUBLISHED:
                process(
                    store, path, f"{day}T{JULY_PUBLISHED[day]}:00+00:00", Rules(absent_lists=1, absent_days=0)
                )
        day = [e for e in queries.events(store, since=JULY_14, include_baseline=False)]
        settle_compliance(store, MARYLAND_BAN, None)
        ban = queries.events(store, since=MARYLAND_BAN, type_glob="policy.compliance", state="MD")
        return day + ban
    finally:
        store.close()


def hostile(events: list[Event]) -> list[Event]:
    """Copies of real events whose agency names carry a script and an onerror handler, and whose MOA links
    are javascript: URLs, as a tampered spreadsheet could carry them."""
    tampered = []
    for event in events[:3]:
        event = copy.deepcopy(event)
        event["agency"] = HOSTILE_NAME
        for side in ("after", "before"):
            if isinstance(event.get(side), dict):
                event[side] = {**event[side], "agency": HOSTILE_NAME, "moa_url": HOSTILE_LINK}
        event["url"] = HOSTILE_LINK if len(tampered) == 1 else event.get("url")
        tampered.append(event)
    return tampered
