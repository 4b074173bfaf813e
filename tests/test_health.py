"""Staleness alerts under concurrency: two senders (`notify` beside `notify` or `run`) looking at a stale source
at once raise one `source.stale`, not two (issue 9: each concurrent sender used to raise its own)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from notifiers.subscribers import Operators
from state import queries
from state.store import Store
from watch287g.health import check_sources_staleness, settle_health

LAST_CHECK = "2025-07-08T09:00:00+00:00"
LATER = "2025-07-08T21:00:00+00:00"  # 12 hours on: stale after 6
NOWS = (LATER, "2025-07-08T21:00:02+00:00")  # each sender reads its own clock


class SlowReadingStore(Store):
    """A store whose health reads take a while (a busy disk): it widens the moment between reading a source's
    health and writing the alert, where a second sender could read the same 'not yet alerted'."""

    def health(self, source: str) -> dict[str, Any]:
        row = super().health(source)
        time.sleep(0.5)
        return row


def test_two_senders_at_once_raise_one_stale_alert(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    store = Store(path)
    settle_health(store, "ice", None, LAST_CHECK, Operators(), None)  # one good check, then silence
    store.close()
    errors: list[BaseException] = []

    def sender(now: str) -> None:
        slow = SlowReadingStore(path)
        try:
            check_sources_staleness(slow, ["ice"], now, Operators(), None)
        except BaseException as exc:  # reported below: a thread's exception would otherwise vanish
            errors.append(exc)
        finally:
            slow.close()

    threads = [threading.Thread(target=sender, args=(now,)) for now in NOWS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    store = Store(path)
    stale = queries.events(store, type_glob="source.stale")
    assert len(stale) == 1, stale
    assert "no successful check since" in stale[0]["details"]["error"]
    # Re-armed only when the source is fresh again: a third look raises nothing.
    assert check_sources_staleness(store, ["ice"], LATER, Operators(), None) == []
    store.close()
