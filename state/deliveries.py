"""SQL of the outbox: due deliveries, receipts, retries, channel health. Used by notifiers/outbox.py."""

from __future__ import annotations

from typing import Any

from events.event import decode_event
from state.store import Store


def due(store: Store, now: str) -> list[dict[str, Any]]:
    """Deliveries to attempt now, each with its event decoded; a delivery with a receipt is never due."""
    rows = store.db.query(
        """
        select d.id as delivery_id, d.subscriber, d.target, d.label, d.attempts, d.due_at, e.*
        from deliveries d join events e on e.id = d.event_id
        where d.status in ('pending', 'failed') and d.sent_at is null
          and d.due_at <= :now and d.next_attempt_at <= :now
        order by d.subscriber, d.target, e.detected_at, e.rowid
        """,
        {"now": now},
    )
    result = []
    for row in rows:
        decode_event(row)  # in place: the row keeps the delivery's columns
        result.append(row)
    return result


def mark_sent(store: Store, delivery_ids: list[int], message: dict[str, Any]) -> int:
    """Receipt: the message row and every delivery it carried, in one transaction."""
    with store.transaction() as db:
        message_id = db.table("messages").insert(message).last_pk
        marks = ",".join("?" * len(delivery_ids))
        db.execute(
            f"update deliveries set status = 'sent', sent_at = ?, message_id = ?, attempts = attempts + 1, "
            f"last_error = null where id in ({marks}) and sent_at is null",
            [message["sent_at"], message_id, *delivery_ids],
        )
    assert isinstance(message_id, int)
    return message_id


def mark_failed(store: Store, delivery_ids: list[int], error: str, retry_at: str) -> None:
    marks = ",".join("?" * len(delivery_ids))
    with store.transaction() as db:
        db.execute(
            f"update deliveries set status = 'failed', attempts = attempts + 1, last_error = ?, "
            f"next_attempt_at = ? where id in ({marks}) and sent_at is null",
            [error, retry_at, *delivery_ids],
        )


def channel(store: Store, subscriber: str, target: int) -> dict[str, Any]:
    rows = list(
        store.db.query(
            "select * from channel_health where subscriber = ? and target = ?", [subscriber, target]
        )
    )
    return (
        rows[0]
        if rows
        else {"subscriber": subscriber, "target": target, "consecutive_failures": 0, "alerted": 0}
    )


def save_channel(store: Store, row: dict[str, Any]) -> None:
    with store.transaction() as db:
        db.table("channel_health").upsert(row, pk=("subscriber", "target"))


def listing(store: Store, status: str | None = None) -> list[dict[str, Any]]:
    where, params = ("where d.status = ?", [status]) if status else ("", [])
    return list(
        store.db.query(
            f"""
            select d.id, d.status, d.subscriber, d.label, d.attempts, d.last_error, d.due_at, d.next_attempt_at,
                   d.sent_at, e.type, e.state, e.agency, e.detected_at
            from deliveries d join events e on e.id = d.event_id {where}
            order by d.id
            """,
            params,
        )
    )
