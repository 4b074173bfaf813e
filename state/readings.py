"""What the MOA reader made of the kept documents (table `readings`), and the agreements a document belongs to.

A kept document is a body snapshotted on a followed channel ("moa:<hash of its URL>"); it is read once per
reader version, whatever URLs served it. A reading is saved with its mismatch events in one transaction, so
a crash never leaves a reading without the events it implied (nor events of a reading that is not stored).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from events.event import Event
from state.store import DeliveriesFor, Store, canonical_json

MISMATCH = "agreement.moa_mismatch"
_UNREAD = """
select s.sha256, json_group_array(distinct s.url) as urls, min(s.fetched_at) as first_kept, b.size
from snapshots s join bodies b on b.sha256 = s.sha256
where s.channel like 'moa:%' and not exists (
    select 1 from readings r where r.sha256 = s.sha256 and r.reader_version = ?)
group by s.sha256 order by first_kept, s.sha256 limit ?
"""


@dataclass(frozen=True)
class KeptDocument:
    """One body to read: the URLs it was kept under (usually one) and its size in bytes."""

    sha256: str
    urls: tuple[str, ...]
    size: int


def unread_documents(store: Store, reader_version: str, limit: int | None = None) -> list[KeptDocument]:
    """The kept document bodies without a reading of `reader_version`, each once, oldest kept first."""
    rows = store.db.execute(_UNREAD, [reader_version, -1 if limit is None else limit]).fetchall()
    return [KeptDocument(sha256, tuple(sorted(json.loads(urls))), size) for sha256, urls, _, size in rows]


def agreements_linking(store: Store, urls: tuple[str, ...]) -> list[dict[str, Any]]:
    """The agreements whose MOA or addendum link is one of `urls`, with their current list values
    (`record`, decoded) and `link`: "moa_url" or "addendum_url"."""
    marks = ", ".join("?" * len(urls))
    rows = store.db.execute(
        f"select id, source, state, agency, model, status, record from records where kind = 'agreement' and "
        f"(json_extract(record, '$.moa_url') in ({marks}) or json_extract(record, '$.addendum_url') in ({marks}))"
        " order by id",
        [*urls, *urls],
    ).fetchall()
    found = []
    for record_id, source, state, agency, model, status, record_json in rows:
        record = json.loads(record_json)
        link = "moa_url" if record.get("moa_url") in urls else "addendum_url"
        found.append({"id": record_id, "source": source, "state": state, "agency": agency, "model": model,
                      "status": status, "record": record, "link": link})  # fmt: skip
    return found


def reading(store: Store, sha256: str, reader_version: str) -> dict[str, Any] | None:
    """The stored reading of a body by that reader version (`fields` decoded), or None."""
    rows = list(
        store.db.query(
            "select * from readings where sha256 = ? and reader_version = ?", [sha256, reader_version]
        )
    )
    if not rows:
        return None
    return {**rows[0], "fields": json.loads(rows[0]["fields"]) if rows[0]["fields"] else None}


def save_reading(
    store: Store, row: dict[str, Any], mismatches: list[Event], deliveries_for: DeliveriesFor | None
) -> list[str]:
    """Store one reading (once: a second save of the same body and version changes nothing) and the mismatch
    events not reported before for the same agreement, bytes and disagreements; returns the new event ids."""
    with store.transaction() as db:
        db.table("readings").insert(row, pk=("sha256", "reader_version"), ignore=True)
        new = [event for event in mismatches if not _reported(store, event)]
        return store.add_events(new, deliveries_for) if new else []


def _reported(store: Store, event: Event) -> bool:
    """An `agreement.moa_mismatch` of the same agreement, document bytes and disagreements is stored."""
    details = event["details"]
    stored = store.db.execute(
        "select json_extract(details, '$.disagreements') from events where type = ? and record_id = ? "
        "and json_extract(details, '$.sha256') = ?",
        [MISMATCH, event["record_id"], details["sha256"]],
    ).fetchall()
    wanted = canonical_json(details["disagreements"])
    return any(canonical_json(json.loads(found)) == wanted for (found,) in stored)
