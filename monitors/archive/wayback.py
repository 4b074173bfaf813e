"""Read ICE's lists from the Wayback Machine: list captures with the CDX API, download each distinct one raw.

Only the archive's own server is ever contacted (the fetch scope allows its origin and no other host), politely:
the project's User-Agent with the operator's contact, one request per `pace` seconds, retries with backoff on 429
and 5xx (Retry-After honoured, capped) and on network errors. Captures are listed first (the program page's
captures are read to discover the spreadsheet links it carried, as a live check does), then downloaded oldest
first and yielded one by one, so an interrupted run has already handed over what it downloaded and a second
run, told what is `known`, downloads only the rest. Captures that are error pages or cut short are reported,
not yielded.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol

from monitors.archive.body import ArchivedBody
from monitors.archive.cdx import (
    CdxError,
    CdxRow,
    capture_problem,
    capture_time,
    cdx_query,
    distinct_captures,
    file_name,
    is_spreadsheet_url,
    parse_cdx,
    raw_capture_url,
)
from monitors.base import FetchError
from monitors.fetch_scope import FetchScope
from monitors.http import HttpClient
from monitors.ice.page import find_list_links

ARCHIVE_BASE = "https://web.archive.org"
# Where ICE has published the program page: today's address (since 2021), the landing page and the fact sheet
# before it (2017-2021), and the older news-library fact sheet. The earlier ones held the list as an HTML table.
PROGRAM_PAGES = (
    "https://www.ice.gov/identify-and-arrest/287g",
    "https://www.ice.gov/287g",
    "https://www.ice.gov/factsheets/287g",
    "https://www.ice.gov/news/library/factsheets/287g.htm",
)
# The folder the page's spreadsheets live in (participatingAgencies<date>.xlsx, pendingAgencies<date>.xlsx);
# links found on captured pages elsewhere are looked up one by one.
LIST_FOLDERS = ("https://www.ice.gov/doclib/about/offices/ero/287g/",)
_PAGE_MAX_BYTES = 5_000_000


class PageMemory(Protocol):
    """What earlier imports read on program page captures, so a resumed or repeated import does not read
    years of daily captures again (at the pace, minutes)."""

    def recall(self, capture: str) -> list[str] | None: ...  # the links it carried, or None: never read

    def remember(self, capture: str, fetched_at: str, page: bytes, links: list[str]) -> None: ...


class _NoMemory:
    def recall(self, capture: str) -> list[str] | None:
        return None

    def remember(self, capture: str, fetched_at: str, page: bytes, links: list[str]) -> None:
        return None


class WaybackError(RuntimeError):
    """The captures could not be listed (the CDX API failed or answered garbage): nothing was imported."""


@dataclass
class WaybackReport:
    """What a run did; the reasons name the capture URL."""

    captures_listed: int = 0  # CDX rows of spreadsheets (after the API's own collapse of adjacent duplicates)
    distinct: int = 0  # one per original URL and content digest
    pages_read: int = 0  # program page captures read for their links
    pages_recalled: int = 0  # program page captures an earlier import read (their links remembered)
    downloaded: int = 0  # yielded
    skipped_known: int = 0
    error_pages: list[tuple[str, str]] = field(default_factory=list)  # (capture, why)
    truncated: list[tuple[str, str]] = field(default_factory=list)
    retries: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (URL, error) after the last attempt

    def lines(self) -> list[str]:
        """The report as the command prints it: the counts, then each capture not imported and why."""
        counts = (
            f"wayback: {self.captures_listed} captures listed, {self.distinct} distinct, {self.pages_read} page "
            f"captures read{f' ({self.pages_recalled} more remembered)' if self.pages_recalled else ''}; "
            f"{self.downloaded} downloaded, {self.skipped_known} already imported; "
            f"{len(self.error_pages)} error pages, {len(self.truncated)} truncated, {len(self.failures)} failed; "
            f"{self.retries} retries"
        )
        rejected = [
            ("error page", self.error_pages),
            ("truncated", self.truncated),
            ("failed", self.failures),
        ]
        return [counts] + [f"  {kind}: {url}: {why}" for kind, found in rejected for url, why in found]


def _nothing_known(capture: str) -> bool:
    return False


class WaybackArchive:
    def __init__(
        self,
        contact: str | None,
        *,
        archive_base: str = ARCHIVE_BASE,
        pace: float = 1.0,
        max_attempts: int = 4,
        backoff: float = 5.0,
        max_retry_wait: float = 60.0,
        program_pages: tuple[str, ...] = PROGRAM_PAGES,
        list_folders: tuple[str, ...] = LIST_FOLDERS,
        progress: Callable[[str], None] | None = None,
        max_bytes: int = 50_000_000,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.archive_base = archive_base.rstrip("/")
        self.cdx_endpoint = f"{self.archive_base}/cdx/search/cdx"
        self.pace = pace  # seconds between the starts of two requests
        self.max_attempts = max(1, max_attempts)
        self.backoff = backoff  # first wait before a retry without Retry-After; doubles each time
        self.max_retry_wait = max_retry_wait
        self.program_pages = program_pages
        self.list_folders = list_folders
        self.progress = progress or (lambda message: None)
        self.sleep = sleep
        self.report = WaybackReport()
        scope = FetchScope.around(self.archive_base, hosts=())  # the archive itself and nothing else
        self.client = HttpClient(contact, max_bytes=max_bytes, scope=scope)
        self._last_request = float("-inf")

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> WaybackArchive:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def bodies(
        self,
        since: date | None = None,
        until: date | None = None,
        known: Callable[[str], bool] = _nothing_known,
        pages: PageMemory | None = None,
    ) -> Iterator[ArchivedBody]:
        """Each distinct spreadsheet capture between `since` and `until` (days, inclusive), oldest first, except
        those whose capture URL `known` says are known; program page captures `pages` recalls are not read
        again. Raises WaybackError if the captures cannot be listed."""
        captures = self._list_captures(since, until, pages or _NoMemory())
        for number, row in enumerate(captures, start=1):
            archived = self._take(row, known)
            self.progress(f"wayback: {number}/{len(captures)} captures done ({self._tally()})")
            if archived is not None:
                yield archived

    def _tally(self) -> str:
        report = self.report
        rejected = len(report.error_pages) + len(report.truncated) + len(report.failures)
        return f"{report.downloaded} downloaded, {report.skipped_known} already known, {rejected} rejected"

    # -- listing -------------------------------------------------------------------------------------------
    def _list_captures(self, since: date | None, until: date | None, memory: PageMemory) -> list[CdxRow]:
        """Distinct spreadsheet captures, oldest first: under the list folders, plus the links the program
        page's captures carried outside them."""
        # The page differs a little in every capture (tokens, review dates): one capture a day is read for its
        # links. Lists published and replaced within a day are still found by the folder's prefix query.
        pages = distinct_captures(
            [r for page in self.program_pages for r in self._cdx(page, False, since, until, "timestamp:8")]
        )
        links = self._links_on(pages, memory)
        rows = [r for folder in self.list_folders for r in self._cdx(folder, True, since, until)]
        rows = [row for row in rows if is_spreadsheet_url(row.original) or row.original in links]
        for link in sorted(link for link in links if not self._in_folders(link)):
            rows += self._cdx(link, False, since, until)
        captures = distinct_captures(rows)
        self.report.captures_listed += len(rows)
        self.report.distinct += len(captures)
        self.progress(f"wayback: {len(rows)} spreadsheet captures listed, {len(captures)} distinct")
        return captures

    def _cdx(
        self, url: str, prefix: bool, since: date | None, until: date | None, collapse: str = "digest"
    ) -> list[CdxRow]:
        what = f"{'everything under ' if prefix else ''}{url}"
        self.progress(f"wayback: listing captures of {what}")
        query = cdx_query(self.cdx_endpoint, url, prefix=prefix, since=since, until=until, collapse=collapse)
        try:
            answer = self._get(query)
            return parse_cdx(answer or b"", what)
        except (FetchError, CdxError) as error:
            raise WaybackError(f"cannot list the Wayback Machine's captures of {what}: {error}") from None

    def _links_on(self, pages: list[CdxRow], memory: PageMemory) -> set[str]:
        """The spreadsheet links on each page capture: recalled, else read (a page that cannot be read is a
        reported failure)."""
        links: set[str] = set()
        for number, row in enumerate(pages, start=1):
            if number % 20 == 0:
                self.progress(f"wayback: {number}/{len(pages)} program page captures read for their links")
            capture = raw_capture_url(self.archive_base, row)
            recalled = memory.recall(capture)
            if recalled is not None:
                self.report.pages_recalled += 1
                links |= set(recalled)
                continue
            try:
                html = self._get(capture, max_bytes=_PAGE_MAX_BYTES) or b""
            except FetchError as error:
                self.report.failures.append((capture, str(error)))
                continue
            self.report.pages_read += 1
            found = find_list_links(html, row.original)
            carried = sorted(link for link in (found.participating, found.pending) if link)
            memory.remember(capture, capture_time(row.timestamp), html, carried)
            links |= set(carried)
        self.progress(
            f"wayback: {len(pages)} program page captures read, {len(links)} spreadsheet links found"
        )
        return links

    def _in_folders(self, url: str) -> bool:
        """Covered by a folder's prefix query (the CDX index ignores the scheme and the host's case)."""
        bare = url.split("://", 1)[-1].lower()
        return any(bare.startswith(folder.split("://", 1)[-1].lower()) for folder in self.list_folders)

    # -- downloading ---------------------------------------------------------------------------------------
    def _take(self, row: CdxRow, known: Callable[[str], bool]) -> ArchivedBody | None:
        """The capture as an ArchivedBody, or None (known, failed, an error page, cut short: each counted)."""
        capture = raw_capture_url(self.archive_base, row)
        if known(capture):
            self.report.skipped_known += 1
            return None
        try:
            body = self._get(capture) or b""
        except FetchError as error:
            self.report.failures.append((capture, str(error)))
            return None
        problem = capture_problem(body)
        if problem:
            kind, why = problem
            rejected = self.report.error_pages if kind == "error page" else self.report.truncated
            rejected.append((capture, why))
            return None
        self.report.downloaded += 1
        provenance = {
            "archive": "wayback",
            "url": row.original,
            "timestamp": row.timestamp,
            "capture": capture,
        }
        return ArchivedBody(capture_time(row.timestamp), body, file_name(row.original), provenance)

    def _get(self, url: str, max_bytes: int | None = None) -> bytes | None:
        """One GET at the pace, retried on transient errors (429, 5xx, network) until `max_attempts`."""
        for attempt in range(1, self.max_attempts + 1):
            self._wait_for_pace()
            try:
                return self.client.get(url, max_bytes=max_bytes).body
            except FetchError as error:
                if not error.transient or attempt == self.max_attempts:
                    raise
                wait = self._retry_wait(error, attempt)
                self.report.retries += 1
                self.progress(f"wayback: retrying in {wait:g}s ({error})")
                self.sleep(wait)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _wait_for_pace(self) -> None:
        wait = self._last_request + self.pace - time.monotonic()
        if wait > 0:
            self.sleep(wait)
        self._last_request = time.monotonic()

    def _retry_wait(self, error: FetchError, attempt: int) -> float:
        """Retry-After when the server sent one (seconds or an HTTP date), else exponential backoff; capped."""
        asked = retry_after_seconds(error.retry_after)
        wait = asked if asked is not None else self.backoff * 2 ** (attempt - 1)
        return min(max(wait, 0.0), self.max_retry_wait)


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """A Retry-After header (delay-seconds or an HTTP date) as seconds from now; None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
