"""Named crash points for the reliability tests: with WATCH287G_CRASH_AT=<name> the process kills itself
with SIGKILL (no cleanup, no finally blocks) when it reaches that point. Unset, each call is one dict lookup.

Points: after_fetch (a response is in memory, nothing stored), mid_transaction (inside a document's
transaction, after its snapshot row), after_commit (events and deliveries stored), before_send (a message is
rendered, nothing sent), after_send (sent, receipt not yet written: the one at-least-once window).
`<name>:<n>` kills at the n-th time the point is reached (e.g. `after_commit:5`, the fifth document).
"""

from __future__ import annotations

import os
import signal

POINTS = ("after_fetch", "mid_transaction", "after_commit", "before_send", "after_send")


_reached: dict[str, int] = {}


def crash_point(name: str) -> None:
    point, _, nth = os.environ.get("WATCH287G_CRASH_AT", "").partition(":")
    if point != name:
        return
    _reached[name] = _reached.get(name, 0) + 1
    if _reached[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
