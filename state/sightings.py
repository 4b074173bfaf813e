"""Sightings (table `sightings`): every time a public archive showed a file, kept before it is interpreted.

An import keeps each file the moment it arrives (its bytes as a body, the sighting as `waiting`), then interprets
the waiting ones in time order. A run killed half-way therefore loses nothing: the next run skips the sightings
already kept (their key is known) and interprets whatever still waits, its own and the earlier run's alike.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from state.store import Store

WAITING = "waiting"  # kept, not interpreted yet
SKIPPED = "skipped"  # not one of ICE's lists: the reason is in `detail`, the bytes are not kept
PAGE = "page"  # a program page capture read for its links (in `detail`, JSON): not read again


@dataclass(frozen=True)
class Sighting:
    key: str  # the capture URL, or repository@commit:path
    archive: str  # wayback | git
    channel: str | None  # participating | pending; None when skipped
    sha256: str
    fetched_at: str
    name: str
    provenance: dict[str, str]


def is_known(store: Store, source: str, key: str) -> bool:
    """Was this sighting kept already (by this run or an earlier one)?"""
    found = store.db.execute("select 1 from sightings where source = ? and key = ?", [source, key]).fetchone()
    return found is not None


def keep(
    store: Store, source: str, sighting: Sighting, body: bytes | None, *, why: str | None = None,
    outcome: str | None = None,
) -> bool:  # fmt: skip
    """Keep one sighting (and its bytes when given, as a body) in one transaction; False when already kept.

    Without bytes it is kept as `skipped` with `why` (or as `outcome`, `why` its detail), so a resumed import
    does not fetch it again either."""
    row = {
        "source": source, "key": sighting.key, "archive": sighting.archive, "channel": sighting.channel,
        "sha256": sighting.sha256, "fetched_at": sighting.fetched_at, "name": sighting.name,
        "provenance": json.dumps(sighting.provenance, sort_keys=True),
        "kept_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "outcome": outcome or (WAITING if body is not None else SKIPPED), "detail": why,
    }  # fmt: skip
    with store.transaction() as db:
        if is_known(store, source, sighting.key):
            return False
        if body is not None:
            store.keep_body(sighting.sha256, body, sighting.fetched_at)
        db.table("sightings").insert(row)
    return True


def page_links(store: Store, source: str, key: str) -> list[str] | None:
    """The links a program page capture carried when an earlier import read it, or None if none did."""
    found = store.db.execute(
        "select detail from sightings where source = ? and key = ? and outcome = ?", [source, key, PAGE]
    ).fetchone()
    return [str(link) for link in json.loads(found[0] or "[]")] if found else None


def waiting(store: Store, source: str) -> list[Sighting]:
    """The kept sightings not interpreted yet, oldest first (ties by key, so every run orders them alike)."""
    rows = store.db.execute(
        "select key, archive, channel, sha256, fetched_at, name, provenance from sightings "
        "where source = ? and outcome = ? order by fetched_at, key",
        [source, WAITING],
    ).fetchall()
    return [Sighting(k, a, c, s, f, n, json.loads(p)) for k, a, c, s, f, n, p in rows]


def settle(store: Store, source: str, key: str, outcome: str, detail: str | None) -> None:
    """Record what interpreting a waiting sighting gave (processed, unchanged, quarantined, already_seen)."""
    with store.transaction() as db:
        db.execute(
            "update sightings set outcome = ?, detail = ? where source = ? and key = ?",
            [outcome, detail, source, key],
        )


def committed_as(
    store: Store, source: str, channel: str, key: str, sha256: str, fetched_at: str
) -> str | None:
    """The outcome of a snapshot already committed from this sighting (a run killed between the commit and
    `settle`), so the resumed run reports `processed`, not `unchanged`."""
    found = store.db.execute(
        "select outcome from snapshots where source = ? and channel = ? and url = ? and sha256 = ? "
        "and fetched_at = ? order by id desc limit 1",
        [source, channel, key, sha256, fetched_at],
    ).fetchone()
    return str(found[0]) if found else None


def of_body(store: Store, sha256: str) -> list[dict[str, Any]]:
    """Every time these bytes were seen: archive sightings and the snapshots checks stored, oldest first."""
    rows = store.db.execute(
        "select fetched_at, archive as seen_by, key as 'where', outcome from sightings where sha256 = :sha "
        "union all select fetched_at, origin, url, outcome from snapshots where sha256 = :sha "
        "and url not in (select key from sightings where sha256 = :sha) "
        "order by fetched_at",
        {"sha": sha256},
    ).fetchall()
    return [{"fetched_at": f, "seen_by": s, "where": w, "outcome": o} for f, s, w, o in rows]
