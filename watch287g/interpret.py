"""Which pipeline step interprets a fetched document, by the monitor's family: the ICE page -> process_page,
an ICE list -> process_list (rules, related policy), a legislation document -> process_bills (bills,
policy). The check loop (watch287g.check_loop) calls `interpret`; monitors/ never imports upward to here."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from monitors.base import Snapshot
from monitors.ice.kind import Ice287gMonitor
from monitors.ice.lists import PARSER_VERSION, ParsedList
from monitors.source import Parsed, Request
from watch287g.moa_changes import process_document
from watch287g.pipeline import Processed, process_bills, process_list, process_page

if TYPE_CHECKING:
    from watch287g.check_loop import Check


class SourceFailed(RuntimeError):
    """The check could not complete; the message is one line fit for an operator."""


Step = Callable[["Check", Request, Snapshot], tuple[Processed, Parsed]]


def interpret(check: Check, request: Request, snapshot: Snapshot) -> tuple[Processed, Parsed]:
    """Commit one snapshot through its family's step: what it stored, and what the check does next."""
    return STEPS[check.monitor.family](check, request, snapshot)


def _ice(check: Check, request: Request, snapshot: Snapshot) -> tuple[Processed, Parsed]:
    if request.recheck is not None:  # a followed document: the MOA behind a list's link
        return process_document(check, request, snapshot), Parsed()
    if request.channel == "page":
        processed = process_page(
            check.store, snapshot, origin=check.origin, deliveries_for=check.deliveries_for
        )
        return processed, check.monitor.parse(request, snapshot.body)  # its lists, or why they are missing
    processed = process_list(
        check.store, snapshot, origin=check.origin, rules=check.rules, deliveries_for=check.deliveries_for,
        parse=lambda body: _sheet(check.monitor.parse(request, body)),
    )  # fmt: skip
    if processed.outcome not in ("processed", "unchanged"):  # a list not believed (or older) leads nowhere
        return processed, Parsed()
    return processed, Parsed(follow=_documents(check, request, snapshot.sha256))


def stored_follow_ups(check: Check, request: Request, sha256: str) -> list[Request]:
    """Not modified: the follow-ups of the stored copy (the ICE page's lists; a list's MOA documents)."""
    if check.monitor.family == "ice" and request.channel != "page":  # a list: only one that was believed
        believed = (check.store.channel(check.source, request.channel) or {}).get("valid_sha256") == sha256
        return _documents(check, request, sha256) if believed else []
    body = check.store.body(sha256)
    if body is None:
        raise SourceFailed(
            f"{check.source}: the server said 304 Not Modified but no copy of the {request.channel} is stored"
        )
    parsed = check.monitor.parse(request, body)
    if parsed.failure:
        raise SourceFailed(f"{check.source}: {parsed.failure}")
    return parsed.follow


def _documents(check: Check, request: Request, sha256: str) -> list[Request]:
    """The documents a stored list links, read from its cached parse (never parsing the spreadsheet again)."""
    cached = check.store.cached_parse(sha256, PARSER_VERSION)
    if not cached or cached["error"]:
        return []
    assert isinstance(check.monitor, Ice287gMonitor), "the ice family is the ice_287g kind"
    return check.monitor.documents(cached["records"])


def _sheet(parsed: Parsed) -> ParsedList:
    assert parsed.sheet is not None, "an ICE list parses to a sheet"
    return parsed.sheet


def _legislation(check: Check, request: Request, snapshot: Snapshot) -> tuple[Processed, Parsed]:
    processed, follow = process_bills(check, check.monitor, request, snapshot)
    return processed, Parsed(follow=follow)


STEPS: dict[str, Step] = {"ice": _ice, "legislation": _legislation}
