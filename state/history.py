"""Read-only SQL for analysts: one record's history, and the canned queries served by Datasette.

Plain reads; `watch287g/analysts.py` turns them into history rows (`exports.py`: exports and feeds), and
`watch287g/datasette_metadata.py` publishes the canned queries below with titles for a human.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from events.event import StoredEvent, decode_event
from state.store import Store

_SNAPSHOT_COLUMNS = (
    "s.id as snapshot_id, s.sha256 as snapshot_sha256, s.url as url, s.fetched_at as fetched_at"
)


def _marks(values: list[Any]) -> str:
    return ",".join("?" * len(values))


def record_names(store: Store) -> list[dict[str, Any]]:
    """Every (record, name it has had): the current name and each version's agency name (renames)."""
    sql = """
        select r.id, r.kind, r.key, r.state, r.model, r.status, r.agency as current,
               json_extract(v.record, '$.agency') as name
        from records r join record_versions v on v.record_id = r.id
        group by r.id, name
        union
        select r.id, r.kind, r.key, r.state, r.model, r.status, r.agency, r.agency from records r
    """
    return list(store.db.query(sql))


def records(store: Store, ids: Iterable[str]) -> list[dict[str, Any]]:
    wanted = list(ids)
    rows = store.db.query(f"select * from records where id in ({_marks(wanted)})", wanted)
    return [{**row, "record": json.loads(row["record"] or "{}")} for row in rows]


def bills(store: Store) -> list[dict[str, Any]]:
    """Bill records: id, key ("MD|2026RS|HB444"), stage (status) and record."""
    rows = store.db.query("select id, key, status, record from records where kind = 'bill' order by key")
    return [{**row, "record": json.loads(row["record"] or "{}")} for row in rows]


def versions(store: Store, ids: Iterable[str]) -> list[dict[str, Any]]:
    """Record versions, oldest first, each with the snapshot it came from."""
    wanted = list(ids)
    sql = f"""
        select v.record_id, v.version, v.valid_from, v.status, v.record, v.changed, {_SNAPSHOT_COLUMNS}
        from record_versions v left join snapshots s on s.id = v.snapshot_id
        where v.record_id in ({_marks(wanted)}) order by v.record_id, v.version
    """
    return [
        {**row, "record": json.loads(row["record"] or "{}"), "changed": json.loads(row["changed"] or "[]")}
        for row in store.db.query(sql, wanted)
    ]


def record_events(store: Store, ids: Iterable[str]) -> list[StoredEvent]:
    """Events of these records, oldest first, with their snapshot's fetch time."""
    wanted = list(ids)
    sql = f"""
        select e.*, s.fetched_at as fetched_at from events e left join snapshots s on s.id = e.snapshot_id
        where e.record_id in ({_marks(wanted)}) order by e.detected_at, e.rowid
    """
    return [decode_event(row) for row in store.db.query(sql, wanted)]


def policy_events(store: Store, state: str) -> list[StoredEvent]:
    """policy.* events of one state (a bill's history shows those its enactment caused)."""
    sql = """
        select e.*, s.fetched_at as fetched_at from events e left join snapshots s on s.id = e.snapshot_id
        where e.type like 'policy.%' and e.state = ? order by e.detected_at, e.rowid
    """
    return [decode_event(row) for row in store.db.query(sql, [state])]


# ---- canned queries (Datasette) --------------------------------------------------------------------------
# Dates are inclusive whole days (UTC): `:end` = 2025-07-15 includes everything detected that day.

NEW_AGREEMENTS = """
select e.detected_at, e.state, e.agency, e.model, json_extract(e.after, '$.signed') as signed,
       json_extract(e.details, '$.was_pending') as was_pending, json_extract(e.after, '$.moa_url') as moa_url,
       e.url as source_url, e.snapshot_sha256, e.origin, e.id as event_id
from events e
where e.type = 'agreement.added' and e.baseline = 0
  and e.detected_at >= :start and (:end = '' or e.detected_at < date(:end, '+1 day'))
order by e.detected_at, e.state, e.agency
"""

TERMINATIONS = """
select e.detected_at, e.state, e.agency, e.model, json_extract(e.before, '$.signed') as signed,
       json_extract(e.details, '$.absent_since') as absent_since,
       json_extract(e.details, '$.last_seen') as last_seen,
       json_extract(e.details, '$.absent_lists') as absent_lists, e.url as source_url, e.snapshot_sha256,
       e.origin, e.id as event_id
from events e
where e.type = 'agreement.terminated'
order by e.detected_at desc, e.state, e.agency
"""

# state/queries.agreements_as_of in SQL: a date means the end of that day; a timestamp includes itself;
# an empty :as_of means now (everything stored).
AGREEMENTS_BY_STATE_MODEL = """
with bound as (
  select case when length(:as_of) = 10 then date(:as_of, '+1 day') else :as_of || char(65535) end as at
),
latest as (
  select v.status, v.record
  from record_versions v join records r on r.id = v.record_id, bound
  where r.kind = 'agreement' and v.valid_from < bound.at
    and v.version = (select max(w.version) from record_versions w
                     where w.record_id = v.record_id and w.valid_from < bound.at)
)
select json_extract(record, '$.state') as state, json_extract(record, '$.model') as model,
       sum(status = 'active') as active, sum(status = 'missing') as missing, count(*) as in_force
from latest
where status in ('active', 'missing')
group by 1, 2
order by 1, 2
"""


# `:agency` is matched literally (its % and _ are not wildcards), case-insensitively, against every name the
# record has had and against its key (so a bill key such as MD|2026RS|HB444 works too), and in its canonical
# form (`agency_key`, registered by state.connection: the CLI's own function) against every key it has had.
AGREEMENT_HISTORY = r"""
with pattern as (
  select '%' || replace(replace(replace(:agency, '\', '\\'), '%', '\%'), '_', '\_') || '%' as p,
         '%' || replace(nullif(agency_key(:agency), ''), '_', '\_') || '%' as k
),
matched as (
  select r.id from records r, pattern
  where :agency != '' and (r.agency like pattern.p escape '\' or r.key like pattern.p escape '\'
    or r.key like pattern.k escape '\'
    or exists (select 1 from record_versions v where v.record_id = r.id
               and (json_extract(v.record, '$.agency') like pattern.p escape '\'
                    or json_extract(v.record, '$.key') like pattern.k escape '\')))
)
select v.record_id, v.valid_from as time, 'version ' || v.version as what, v.status,
       json_extract(v.record, '$.agency') as agency, v.changed as detail,
       v.snapshot_id, s.sha256 as snapshot_sha256, s.url as source_url
from record_versions v join matched m on m.id = v.record_id left join snapshots s on s.id = v.snapshot_id
union all
select e.record_id, e.detected_at, e.type, case when e.baseline then 'baseline' else '' end, e.agency,
       e.details, e.snapshot_id, e.snapshot_sha256, e.url
from events e join matched m on m.id = e.record_id
order by 1, 2, 3
"""

BILLS_BY_STAGE = """
select r.status as stage, json_extract(r.record, '$.stage_date') as stage_date, r.state,
       json_extract(r.record, '$.identifier') as bill, json_extract(r.record, '$.session') as session,
       json_extract(r.record, '$.title') as title,
       json_extract(r.record, '$.classification.label') as classification, r.key, r.first_seen, r.last_seen,
       json_extract(r.record, '$.sources[0]') as source_url
from records r
where r.kind = 'bill' and coalesce(json_extract(r.record, '$.classification.label'), 'not_287g') != 'not_287g'
order by case r.status when 'enacted' then 0 when 'sent_to_governor' then 1 when 'passed_legislature' then 2
         when 'passed_chamber' then 3 when 'introduced' then 4 else 5 end, r.state, r.key
"""

FAILED_DELIVERIES = """
select d.id, d.subscriber, d.label as channel, d.attempts, d.last_error, d.next_attempt_at, d.created_at,
       e.type, e.state, e.agency, e.detected_at, e.id as event_id
from deliveries d join events e on e.id = d.event_id
where d.status = 'failed'
order by d.next_attempt_at, d.id
"""
