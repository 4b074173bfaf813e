"""The source contract's two nouns: a `Request` a monitor asks the check loop to make, and what the monitor's
`parse` reads in one answered document (`Parsed`): records or page text, and the follow-up requests it leads
to (the ICE page's two lists, LegiScan's getBills). The loop itself is watch287g.check_loop."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal

from monitors.http import redact_url
from monitors.ice.lists import ParsedList


@dataclass(frozen=True)
class Recheck:
    """A followed document (an MOA behind a list's link): asked again only `every` seconds after its last
    answer, at most `per_check` of them in one check (the longest unasked first, so a long backlog resumes where
    it stopped), at least `pace` seconds apart on one host, and none started after `within` seconds of them. Its failures are its own: a 404/410 is
    `agreement.moa_removed`, any other error is logged and retried next check; the check goes on."""

    every: float
    per_check: int
    pace: float = 0.0
    within: float = 1200.0  # seconds one check may spend on followed documents (a slow host cannot stall it)


def document_channel(url: str) -> str:
    """A followed document's channel: the same URL is the same document, whichever row links it."""
    return "moa:" + hashlib.sha256(url.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Request:
    channel: str  # which document of the source: "page", "participating", "search:TX:0", "bill:123"...
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    change_hash: str | None = None  # LegiScan: skip the fetch when the stored hash is the same
    max_bytes: int | None = None  # a lower cap than the client's for this one response (the ICE page)
    # "always": send the channel's stored validators even if its URL moved (the ICE page, configured once);
    # "same_url": only when the stored URL is this one (a list's file name changes with every update).
    conditional: Literal["always", "same_url"] = "same_url"
    # On 304 Not Modified, read the follow-ups from the stored copy (the ICE page: its lists' links).
    follow_from_stored: bool = False
    # A follow-up (a bill a search found) is a baseline exactly when the search that found it was: its own
    # channel is new whenever the bill is, so "first document of the channel" would hide every new bill.
    baseline: bool | None = None
    recheck: Recheck | None = None  # a followed document, not one of the source's own (see Recheck)

    @property
    def shown_url(self) -> str:
        return redact_url(self.url)


@dataclass
class Parsed:
    bills: list[dict[str, Any]] = field(default_factory=list)  # legislation: bill records
    sheet: ParsedList | None = None  # an ICE list: its records and shape
    follow: list[Request] = field(default_factory=list)
    page_text: str | None = None  # a page: normalised text, for page.changed
    # A document that is stored but leaves the check unable to go on (a page without its lists' links): the
    # loop fails the check after the document is committed.
    failure: str | None = None
