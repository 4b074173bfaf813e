"""Read-only SQL over the kept MOA documents: full-text search of their readings (`watch287g moa search` and
serve's canned query), and an agreement's documents with every kept version (`watch287g history`).

A kept document is a snapshot on a channel "moa:..." (`monitors.source.document_channel` of the link's URL,
which a redirect does not change); an agreement links it when its record's `moa_url` or `addendum_url` has that
channel. Readings are searched for the current reader version only: an older reader's text is stale.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from monitors.moa import READER_VERSION
from monitors.source import document_channel
from state.store import Store

MARK_OPEN, MARK_CLOSE = "«", "»"  # around each matched phrase in a snippet: rare in MOA text, and printable
SNIPPET_TOKENS = 24

# A user's phrase as ONE FTS5 phrase, in SQL so that a Datasette user cannot get around it: inside double
# quotes, its own double quotes doubled, so no input is FTS5 syntax (NEAR, *, -, parentheses, column filters
# are words). FTS5 reads the query as a C string: a NUL would end it inside the quotes ("unterminated
# string"), so the phrase stops at its first NUL (SQLite's length() counts the characters before it).
PHRASE_MATCH = (
    """'"' || replace(substr(coalesce(:phrase, ''), 1, length(coalesce(:phrase, ''))), '"', '""') || '"'"""
)

# Every (bytes, channel, URL) kept under an MOA link, and the agreements (current records) linking a channel.
# Materialized: computed once per query, not once per hit (measured on 1,800 readings of 48 KB and 1,000
# agreements: a --state search 0.7 s -> 0.09 s, the canned query 0.4-0.8 s -> 0.13 s).
_KEPT_AND_LINKED = """
kept as materialized (
  select distinct sha256, channel, url from snapshots where channel like 'moa:%'
  union
  select current_sha256, channel, url from channels where channel like 'moa:%' and current_sha256 is not null
),
linking as materialized (
  select id as record_id, state, agency, model, status,
         document_channel(json_extract(record, '$.moa_url')) as moa_channel,
         document_channel(json_extract(record, '$.addendum_url')) as addendum_channel
  from records where kind = 'agreement'
)"""

_TOP_HITS = f"""
with {_KEPT_AND_LINKED.strip()},
hits as (
  select r.rowid as reading, bm25(readings_fts) as rank
  from readings_fts join readings r on r.rowid = readings_fts.rowid
  where readings_fts match {PHRASE_MATCH} and r.reader_version = :version
    and (:state = '' or json_extract(r.fields, '$.state') = :state
         or exists (select 1 from kept k join linking a on k.channel in (a.moa_channel, a.addendum_channel)
                    where k.sha256 = r.sha256 and a.state = :state))
  order by rank limit :limit
)
select r.sha256, h.rank, r.fields, r.text_source, r.pages,
       snippet(readings_fts, 0, '{MARK_OPEN}', '{MARK_CLOSE}', ' … ', {SNIPPET_TOKENS}) as snippet
from readings_fts join hits h on h.reading = readings_fts.rowid join readings r on r.rowid = h.reading
where readings_fts match {PHRASE_MATCH}
order by h.rank, r.sha256
"""

_LINKS = f"""
with {_KEPT_AND_LINKED.strip()}
select k.sha256, k.channel, k.url, a.record_id, a.state, a.agency, a.model, a.status,
       case when k.channel = a.addendum_channel then 'addendum' when a.record_id is not null then 'moa' end
         as document,
       exists (select 1 from channels c where c.channel = k.channel and c.current_sha256 = k.sha256) as current
from kept k left join linking a on k.channel in (a.moa_channel, a.addendum_channel)
where k.sha256 in (select value from json_each(:shas))
order by k.sha256, k.url, a.state, a.agency, a.record_id
"""


def search(
    store: Store, phrase: str, *, state: str | None = None, limit: int = 20, version: str = READER_VERSION
) -> list[dict[str, Any]]:
    """Kept documents whose reading contains `phrase` (as a phrase; porter stemming, any case), best first
    (bm25): sha256, rank, snippet, the reading's fields, and every URL it was kept under with the agreements
    linking it (`links`: url, current (the bytes its URL serves now), record_id, state, agency, model,
    status, document). `state`: a USPS code that
    a linking agreement or the reading itself has."""
    # A lone surrogate (bytes that are not UTF-8 on a command line) cannot be bound: it becomes U+FFFD.
    phrase = phrase.encode("utf-8", "replace").decode("utf-8")
    params = {"phrase": phrase, "version": version, "state": state or "", "limit": max(0, limit)}
    hits = [dict(row) for row in store.db.query(_TOP_HITS, params)]
    links: dict[str, list[dict[str, Any]]] = {}
    shas = json.dumps([hit["sha256"] for hit in hits])
    for row in store.db.query(_LINKS, {"shas": shas}):
        links.setdefault(row.pop("sha256"), []).append(row)
    for hit in hits:
        hit["fields"] = json.loads(hit["fields"] or "{}")
        hit["links"] = links.get(hit["sha256"], [])
    return hits


# Serve's canned query: the same match, for a person in a browser (one row per document, URL and agreement);
# the reader version is written in (a literal, quoted) so that it is not a parameter a visitor can set.
CANNED_SEARCH = f"""
with {_KEPT_AND_LINKED.strip()},
hits as (
  select r.sha256, bm25(readings_fts) as rank,
         snippet(readings_fts, 0, '{MARK_OPEN}', '{MARK_CLOSE}', ' … ', {SNIPPET_TOKENS}) as snippet
  from readings_fts join readings r on r.rowid = readings_fts.rowid
  where readings_fts match {PHRASE_MATCH} and r.reader_version = '{READER_VERSION.replace("'", "''")}'
  order by rank limit 100
)
select a.agency, a.state, k.url, h.snippet, h.sha256
from hits h left join kept k on k.sha256 = h.sha256
  left join linking a on k.channel in (a.moa_channel, a.addendum_channel)
order by h.rank, h.sha256, k.url, a.state, a.agency
"""


def linked_urls(store: Store, record_ids: Iterable[str]) -> list[dict[str, Any]]:
    """Every document URL each record has linked in any of its versions: record_id, url, document
    ("moa" | "addendum"), first_linked; in the order they were first linked."""
    wanted = json.dumps(list(record_ids))
    sql = """
        select record_id, url, document, min(valid_from) as first_linked from (
          select record_id, json_extract(record, '$.moa_url') as url, 'moa' as document, valid_from
          from record_versions where record_id in (select value from json_each(:ids))
          union all
          select record_id, json_extract(record, '$.addendum_url'), 'addendum', valid_from
          from record_versions where record_id in (select value from json_each(:ids))
        )
        where url is not null and url != ''
        group by record_id, url, document
        order by record_id, first_linked, document, url
    """
    return [dict(row) for row in store.db.query(sql, {"ids": wanted})]


def kept_versions(
    store: Store, urls: Iterable[str], version: str = READER_VERSION
) -> dict[str, dict[str, Any]]:
    """For each link URL, its document: the channel's state (checked_at, gone_since, current_sha256; None
    when it was never asked) and each kept version, oldest first (snapshot_id, fetched_at, url, sha256, size,
    http_status and the reading of those bytes by `version`, if any: fields, text_source, error)."""
    channels = {url: document_channel(url) for url in urls}
    wanted = json.dumps(sorted(set(channels.values())))
    state_sql = """
        select channel, max(checked_at) as checked_at, max(gone_since) as gone_since,
               max(current_sha256) as current_sha256
        from channels where channel in (select value from json_each(:channels)) group by channel
    """
    versions_sql = """
        select s.channel, s.id as snapshot_id, s.fetched_at, s.url, s.sha256, b.size, s.http_status,
               r.sha256 is not null as has_reading, r.read_at, r.fields, r.text_source, r.error
        from snapshots s left join bodies b on b.sha256 = s.sha256
          left join readings r on r.sha256 = s.sha256 and r.reader_version = :version
        where s.channel in (select value from json_each(:channels))
        order by s.channel, s.fetched_at, s.id
    """
    states = {row.pop("channel"): row for row in store.db.query(state_sql, {"channels": wanted})}
    versions: dict[str, list[dict[str, Any]]] = {}
    for row in store.db.query(versions_sql, {"channels": wanted, "version": version}):
        reading = {key: row.pop(key) for key in ("read_at", "fields", "text_source", "error")}
        reading["fields"] = json.loads(reading["fields"] or "{}")
        row["reading"] = reading if row.pop("has_reading") else None
        versions.setdefault(row.pop("channel"), []).append(row)
    return {
        url: {"channel": channel, **(states.get(channel) or {"checked_at": None, "gone_since": None,
              "current_sha256": None}), "versions": versions.get(channel, [])}
        for url, channel in channels.items()
    }  # fmt: skip
