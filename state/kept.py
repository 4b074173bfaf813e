"""SQL of kept documents for alerts and `moa get`: the copy a followed document's channel holds now, and the
kept bodies a sha256 prefix names. Used by watch287g/kept_links.py and watch287g/cli_moa.py."""

from __future__ import annotations

from typing import Any

from state.store import Store

_HEX = frozenset("0123456789abcdef")


def current_copy(store: Store, source: str, channel: str) -> dict[str, Any] | None:
    """The copy a document's channel holds now: {sha256, size, fetched_at} (when those bytes were last
    fetched as new for the channel), or None when the channel has no kept body."""
    rows = list(
        store.db.query(
            """
            select c.current_sha256 as sha256, b.size as size,
                   (select max(s.fetched_at) from snapshots s
                    where s.source = c.source and s.channel = c.channel and s.sha256 = c.current_sha256)
                   as fetched_at
            from channels c join bodies b on b.sha256 = c.current_sha256
            where c.source = :source and c.channel = :channel
            """,
            {"source": source, "channel": channel},
        )
    )
    return rows[0] if rows else None


def kept_sizes(store: Store, sha256s: list[str]) -> dict[str, int]:
    """The size of each of these bodies that is kept (a body never kept is left out)."""
    if not sha256s:
        return {}
    marks = ",".join("?" * len(sha256s))
    rows = store.db.query(f"select sha256, size from bodies where sha256 in ({marks})", sha256s)
    return {row["sha256"]: row["size"] for row in rows}


def bodies_named(store: Store, prefix: str, limit: int = 2) -> list[str]:
    """The sha256 of up to `limit` kept bodies starting with `prefix` (lowercase hex; anything else names
    none): two answers are enough to tell an ambiguous prefix."""
    prefix = prefix.lower()
    if not prefix or not set(prefix) <= _HEX:
        return []
    # The primary key's index serves a range, where `like` would scan every body.
    rows = store.db.query(
        "select sha256 from bodies where sha256 >= :low and sha256 < :high order by sha256 limit :limit",
        {"low": prefix, "high": prefix + "g", "limit": limit},
    )
    return [row["sha256"] for row in rows]
