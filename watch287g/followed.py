"""The check loop's politeness toward followed documents (the MOAs a list links, `Request.recheck`): which are
due (never asked, or last answered `every` seconds ago or more), the longest unasked first, at most `per_check`
in one check so a first check of 1,800 links is spread over several checks and resumes where it stopped; and a
pace of at least `pace` seconds between two requests to one host."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from monitors.base import instant
from monitors.source import Request
from state.documents import last_checked
from state.store import Store


@dataclass
class Followed:
    """One check's account of its followed documents."""

    asked: int = 0  # documents let into the queue so far
    not_due: int = 0  # answered less than `every` ago
    deferred: int = 0  # due, but over this check's `per_check`: the next check asks them first
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    last_on_host: dict[str, float] = field(default_factory=dict)

    def admit(self, store: Store, source: str, now: str, follow: list[Request]) -> list[Request]:
        """The follow-ups to queue: every ordinary one, and the followed documents that are due, in budget."""
        documents = [r for r in follow if r.recheck is not None]
        if not documents:
            return follow
        last = last_checked(store, source, [r.channel for r in documents])
        due = [r for r in documents if _due(r, last[r.channel], now)]
        self.not_due += len(documents) - len(due)
        due.sort(key=lambda r: (last[r.channel] is not None, last[r.channel] or "", r.url))
        room = max(0, min(r.recheck.per_check for r in due if r.recheck) - self.asked) if due else 0
        self.asked += min(room, len(due))
        self.deferred += max(0, len(due) - room)
        return [r for r in follow if r.recheck is None] + due[:room]

    def wait_for_host(self, request: Request) -> None:
        """Sleep until the request's host may be asked again."""
        if request.recheck is None or request.recheck.pace <= 0:
            return
        host = urlsplit(request.url).hostname or ""
        if host in self.last_on_host:
            wait = self.last_on_host[host] + request.recheck.pace - self.clock()
            if wait > 0:
                self.sleep(wait)
        self.last_on_host[host] = self.clock()

    def summary(self) -> str | None:
        if not (self.asked or self.not_due or self.deferred):
            return None
        return f"{self.asked} asked, {self.not_due} not due yet, {self.deferred} left for the next checks"


def _due(request: Request, checked_at: str | None, now: str) -> bool:
    assert request.recheck is not None
    if checked_at is None:
        return True
    return (instant(now) - instant(checked_at)).total_seconds() >= request.recheck.every
