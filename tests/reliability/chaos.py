"""Shared pieces of the randomised reliability tests (test_random_kills.py, test_random_faults.py): the seed,
and comparisons of two databases that hold the same history detected at different moments."""

from __future__ import annotations

import json
import os
import random
from collections import Counter
from pathlib import Path
from typing import Any

from state import queries
from state.store import Store
from tests.reliability.conftest import OPERATOR_TYPES, untimed

SEED_VARIABLE = "WATCH287G_CHAOS_SEED"
FAR_FUTURE = "9000-01-01"  # "in force at the end", whatever the clock of the runs said


def seed(default: int) -> int:
    """The seed of a randomised test: WATCH287G_CHAOS_SEED when set (to reproduce a failure), else `default`."""
    return int(os.environ.get(SEED_VARIABLE) or default)


def rng_for(test: str, base: int, trial: int) -> random.Random:
    """One independent, reproducible stream per (test, seed, trial)."""
    return random.Random(f"{test}:{base}:{trial}")


def reproduce(test: str, base: int) -> str:
    return f"[{test}] reproduce with {SEED_VARIABLE}={base}"


def subscriber_events(database: Path) -> Counter[str]:
    """Subscriber events (operators' and delivery events left out) as a multiset of (type, record, baseline,
    details without times): what any run of the same lists must produce, whenever each was detected."""
    store = Store(database)
    try:
        return Counter(
            json.dumps([e["type"], e["record_id"], e["baseline"], untimed(e["details"])], sort_keys=True)
            for e in queries.events(store)
            if e["type"] not in OPERATOR_TYPES and not e["type"].startswith("delivery.")
        )
    finally:
        store.close()


def operator_events(database: Path) -> list[dict[str, Any]]:
    """What operators hear about: failing, recovered, stale sources and quarantined lists; failing channels."""
    store = Store(database)
    try:
        return [
            e
            for e in queries.events(store)
            if e["type"] in OPERATOR_TYPES or e["type"].startswith("delivery.")
        ]
    finally:
        store.close()


def final_state(database: Path) -> dict[str, Any]:
    """Records, their versions, agreements and requests in force at the end, and each channel's last valid
    list, without the moments they were detected (those follow the clock of the runs)."""
    store = Store(database)
    try:
        db = store.db
        return untimed(
            {
                "records": list(
                    db.query(
                        "select id, kind, key, state, agency, model, status, missing_lists, record, hash "
                        "from records order by id"
                    )
                ),
                "versions": list(
                    db.query(
                        "select record_id, version, status, record, hash, changed "
                        "from record_versions order by record_id, version"
                    )
                ),
                "agreements": queries.agreements_as_of(store, FAR_FUTURE),
                "pending": queries.pending_as_of(store, FAR_FUTURE),
                "channels": list(
                    db.query(
                        "select source, channel, url, valid_sha256, valid_lists from channels "
                        "order by source, channel"
                    )
                ),
            }
        )
    finally:
        store.close()


def outbox(database: Path, subscriber: str) -> dict[str, Any]:
    """The subscriber's deliveries by status and its receipts (one `messages` row per message sent)."""
    store = Store(database)
    try:
        db = store.db
        return {
            "deliveries": dict(
                db.execute(
                    "select status, count(*) from deliveries where subscriber = ? group by status",
                    [subscriber],
                ).fetchall()
            ),
            "receipts": db.execute(
                "select count(*) from messages where subscriber = ?", [subscriber]
            ).fetchone()[0],
        }
    finally:
        store.close()
