"""Re-deriving a source's history when an earlier list arrives late: whether it is allowed, and the wipe.

A history made only of archives (import, backfill) was never alerted nor acted on, so it can be rebuilt from
its kept bytes in time order with the late list in its place. Once a live check (or the demo) has stored
anything for the source, subscribers were told what followed from the old order: a late list is refused then.
"""

from __future__ import annotations

from dataclasses import dataclass

from state.store import Store

REPLAYABLE = ("import", "backfill")
_MARKS = ", ".join("?" * len(REPLAYABLE))


@dataclass(frozen=True)
class ReplayItem:
    """A list to interpret again: a backfilled snapshot, or an archive sighting (key = its provenance)."""

    fetched_at: str
    channel: str
    url: str
    sha256: str
    origin: str
    key: str | None  # the sighting's key; None for a backfilled list


def blocking_origins(store: Store, source: str) -> list[str]:
    """The origins (live, demo...) of what the source stored that no archive gave: empty when re-deriving is
    allowed. Compliance events count whatever their source: they are derived from every source's records."""
    rows = store.db.execute(
        f"select origin from snapshots where source = ? and origin not in ({_MARKS}) union "
        f"select origin from events where (source = ? or type = 'policy.compliance') and origin not in ({_MARKS})"
        " union select 'delivered' from deliveries d join events e on e.id = d.event_id"
        " where e.source = ? or e.type = 'policy.compliance'",
        [source, *REPLAYABLE, source, *REPLAYABLE, source],
    ).fetchall()
    return sorted({str(origin) for (origin,) in rows})


def replay_items(store: Store, source: str) -> list[ReplayItem]:
    """Every list of the source an archive gave, oldest first: backfilled snapshots and kept sightings (an
    imported snapshot is its sighting: it is listed once, as the sighting)."""
    rows = store.db.execute(
        "select fetched_at, channel, url, sha256, origin, null from snapshots s where source = :source "
        "and origin = 'backfill' and not exists (select 1 from sightings g where g.source = s.source and "
        "g.key = s.url) union all select fetched_at, channel, key, sha256, 'import', key from sightings "
        "where source = :source and channel is not null and outcome != 'skipped' order by 1, 3",
        {"source": source},
    ).fetchall()
    return [ReplayItem(*row) for row in rows]


def wipe_derived(store: Store, source: str) -> None:
    """Delete what was derived from the source's lists (records, versions, events, snapshots, channels, the
    compliance events of archives) and mark its sightings waiting. Call inside the replay's transaction."""
    db = store.db
    snapshot_ids = "select id from snapshots where source = :source"
    db.execute(
        "delete from events where source = :source or (type = 'policy.compliance' and origin in "
        "('import', 'backfill'))",
        {"source": source},
    )
    db.execute(
        "delete from record_versions where record_id in (select id from records where source = :source)",
        {"source": source},
    )
    db.execute("delete from records where source = :source", {"source": source})
    db.execute(
        f"update fetches set snapshot_id = null where snapshot_id in ({snapshot_ids})", {"source": source}
    )
    db.execute("delete from snapshots where source = :source", {"source": source})
    db.execute("delete from channels where source = :source", {"source": source})
    db.execute(
        "update sightings set outcome = 'waiting', detail = null where source = :source and channel is not null "
        "and outcome != 'skipped'",
        {"source": source},
    )
