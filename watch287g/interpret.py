"""Which pipeline step interprets a fetched document, by the monitor's family: the ICE page -> process_page,
an ICE list -> process_list (rules, related policy), a legislation document -> process_bills (bills,
policy). The check loop (watch287g.check_loop) calls `interpret`; monitors/ never imports upward to here."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from monitors.base import Snapshot
from monitors.ice.lists import ParsedList
from monitors.source import Parsed, Request
from watch287g.pipeline import Processed, process_bills, process_list, process_page

if TYPE_CHECKING:
    from watch287g.check_loop import Check

Step = Callable[["Check", Request, Snapshot], tuple[Processed, Parsed]]


def interpret(check: Check, request: Request, snapshot: Snapshot) -> tuple[Processed, Parsed]:
    """Commit one snapshot through its family's step: what it stored, and what the check does next."""
    return STEPS[check.monitor.family](check, request, snapshot)


def _ice(check: Check, request: Request, snapshot: Snapshot) -> tuple[Processed, Parsed]:
    if request.channel == "page":
        processed = process_page(
            check.store, snapshot, origin=check.origin, deliveries_for=check.deliveries_for
        )
        return processed, check.monitor.parse(request, snapshot.body)  # its lists, or why they are missing
    processed = process_list(
        check.store, snapshot, origin=check.origin, rules=check.rules, deliveries_for=check.deliveries_for,
        parse=lambda body: _sheet(check.monitor.parse(request, body)),
    )  # fmt: skip
    return processed, Parsed()


def _sheet(parsed: Parsed) -> ParsedList:
    assert parsed.sheet is not None, "an ICE list parses to a sheet"
    return parsed.sheet


def _legislation(check: Check, request: Request, snapshot: Snapshot) -> tuple[Processed, Parsed]:
    processed, follow = process_bills(check, check.monitor, request, snapshot)
    return processed, Parsed(follow=follow)


STEPS: dict[str, Step] = {"ice": _ice, "legislation": _legislation}
