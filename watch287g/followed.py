"""The check loop's politeness toward followed documents (the MOAs a list links, `Request.recheck`): which are
due (never asked, or last answered `every` seconds ago or more), the longest unasked first, at most `per_check`
in one check so a first check of 1,800 links is spread over several checks and resumes where it stopped; a
pace of at least `pace` seconds between two requests to one host; and no document started once the check has
spent `within` seconds on them (a host that answers slowly cannot hold a check for hours)."""

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
    started: float | None = None  # when this check asked its first followed document

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

    def go(self, request: Request) -> bool:
        """Whether to ask for this request now: always for the source's own documents; a followed one after
        its host's pace, unless this check has spent its time on documents (then it waits for the next)."""
        if request.recheck is None:
            return True
        self.started = self.clock() if self.started is None else self.started
        if self.clock() - self.started >= request.recheck.within:
            self.asked, self.deferred = self.asked - 1, self.deferred + 1
            return False
        self._wait_for_host(request)
        return True

    def _wait_for_host(self, request: Request) -> None:
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
