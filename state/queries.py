"""Read-only questions analysts and the CLI ask of the history."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from events.event import StoredEvent, decode_event
from state.store import Store


def upper_bound(as_of: str) -> str:
    """A date means the whole day: everything strictly before the next day."""
    if len(as_of) == 10:
        return (date.fromisoformat(as_of) + timedelta(days=1)).isoformat()
    return as_of + "\uffff"  # a full timestamp: everything up to and including it


def events(
    store: Store,
    *,
    since: str | None = None,
    type_glob: str | None = None,
    types: tuple[str, ...] | None = None,
    state: str | None = None,
    states: list[str] | None = None,
    before: str | None = None,
    include_baseline: bool = True,
) -> list[StoredEvent]:
    """Stored events, oldest first. `types` and `states` are decided in SQL (the compliance view asks after
    every list, so it must not decode every event); `type_glob` after decoding."""
    where: list[str] = ["1 = 1"]
    params: list[Any] = []
    if types is not None:
        where.append(f"type in ({', '.join('?' * len(types))})")
        params.extend(types)
    if since:
        where.append("detected_at >= ?")
        params.append(since)
    if before:
        where.append("detected_at < ?")
        params.append(before)
    if state:
        where.append("state = ?")
        params.append(state.upper())
    if states is not None:
        where.append(f"state in ({', '.join('?' * len(states))})")
        params.extend(states)
    if not include_baseline:
        where.append("baseline = 0")
    sql = f"select * from events where {' and '.join(where)} order by detected_at, rowid"
    rows = [decode_event(row) for row in store.db.query(sql, params)]
    return [row for row in rows if not type_glob or fnmatch.fnmatchcase(row["type"], type_glob)]


def first_list_at(store: Store) -> str | None:
    """When the history of agreements begins: the first participating list interpreted."""
    row = store.db.execute(
        "select min(fetched_at) from snapshots where channel = 'participating' and outcome = 'processed'"
    ).fetchone()
    return row[0] if row else None


def agreements_as_of(
    store: Store, as_of: str, *, state: str | None = None, states: list[str] | None = None
) -> list[dict[str, Any]]:
    """Agreements in force at that time: each with state, agency, model, signed and status (active|missing).
    `states`: only those states' (decided in SQL: the compliance view asks this after every list)."""
    among = (
        ""
        if states is None
        else "and json_extract(v.record, '$.state') in (select value from json_each(:states))"
    )
    sql = f"""
        select r.id, r.source, v.status, v.record, v.valid_from
        from record_versions v join records r on r.id = v.record_id
        where r.kind = 'agreement' and v.valid_from < :bound
          and v.version = (select max(version) from record_versions w
                           where w.record_id = v.record_id and w.valid_from < :bound)
          and v.status in ('active', 'missing') {among}
    """
    rows = []
    for row in store.db.query(sql, {"bound": upper_bound(as_of), "states": json.dumps(states or [])}):
        record = json.loads(row["record"])
        if state and record["state"] != state.upper():
            continue
        rows.append(
            {
                "state": record["state"], "agency": record["agency"], "model": record["model"],
                "signed": record.get("signed"), "status": row["status"], "county": record.get("county"),
                "type": record.get("type"), "moa_url": record.get("moa_url"), "since": row["valid_from"],
                "id": row["id"],
            }
        )  # fmt: skip
    return sorted(rows, key=lambda r: (r["state"], r["agency"].casefold(), r["model"]))


def pending_as_of(store: Store, as_of: str) -> list[dict[str, Any]]:
    sql = """
        select r.id, v.status, v.record from record_versions v join records r on r.id = v.record_id
        where r.kind = 'pending' and v.valid_from < :bound and v.status in ('pending', 'missing')
          and v.version = (select max(version) from record_versions w
                           where w.record_id = v.record_id and w.valid_from < :bound)
    """
    return [
        {**json.loads(row["record"]), "status": row["status"]}
        for row in store.db.query(sql, {"bound": upper_bound(as_of)})
    ]


def participating_lists_before(store: Store, as_of: str) -> list[str]:
    """When each participating list was interpreted, up to `as_of` (the report's time axis)."""
    sql = (
        "select distinct fetched_at from snapshots where channel = 'participating' and outcome = 'processed'"
        " and fetched_at < :bound order by fetched_at"
    )
    return [row["fetched_at"] for row in store.db.query(sql, {"bound": upper_bound(as_of)})]


def agreement_versions_before(store: Store, as_of: str) -> Iterator[dict[str, Any]]:
    """Every agreement version up to `as_of` in time order (record_id, status, model, valid_from), streamed:
    the report sweeps them once instead of asking agreements_as_of at each list."""
    sql = """select v.record_id, v.status, json_extract(v.record, '$.model') as model, v.valid_from
             from record_versions v join records r on r.id = v.record_id
             where r.kind = 'agreement' and v.valid_from < :bound order by v.valid_from, v.version"""
    return store.db.query(sql, {"bound": upper_bound(as_of)})
