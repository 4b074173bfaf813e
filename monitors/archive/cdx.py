"""Pure functions over the Wayback Machine's CDX API: the query, its JSON answer, and what a capture's bytes are.

The API is documented in the Internet Archive's wayback repository, wayback-cdx-server/README.md
(https://github.com/internetarchive/wayback/tree/master/wayback-cdx-server): `url` plus `matchType=prefix` for
everything under a path, `output=json` (an array of arrays whose first row is the header, `[]` when nothing
matched), `fl` to choose the fields, `filter=statuscode:200`, `collapse=digest` (drops *adjacent* rows with the
same digest only, so distinct digests are still kept here per URL), `from`/`to` as 1-14 digit timestamps.
A capture's raw bytes, without the replay banner or rewritten links, are at /web/<timestamp>id_/<original>.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import unquote, urlencode, urlsplit

from monitors.base import ParseError

CDX_FIELDS = ("timestamp", "original", "statuscode", "mimetype", "digest", "length")
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .xls (a compound file)
_OLE_SECTOR = 512


class CdxError(ParseError):
    """The CDX API answered something that is not its JSON (an HTML error page, a rate-limit notice...)."""


@dataclass(frozen=True)
class CdxRow:
    timestamp: str  # 14 digits, UTC: yyyyMMddhhmmss
    original: str  # the URL as it was crawled
    statuscode: str
    mimetype: str
    digest: str  # base32 SHA-1 of the captured payload: equal digests, equal bytes
    length: int | None  # the size of the compressed archive record, not of the file (so not compared to it)


def cdx_query(
    cdx_endpoint: str,
    url: str,
    *,
    prefix: bool,
    since: date | None,
    until: date | None,
    collapse: str = "digest",
) -> str:
    """The CDX query URL for captures of `url` (everything under it when `prefix`) that answered 200.
    `collapse="timestamp:8"` keeps one capture a day (a page whose every capture differs a little)."""
    params = [("url", url), ("output", "json"), ("fl", ",".join(CDX_FIELDS))]
    params += [("filter", "statuscode:200"), ("collapse", collapse)]
    if prefix:
        params.append(("matchType", "prefix"))
    if since:
        params.append(("from", since.strftime("%Y%m%d")))
    if until:
        params.append(("to", until.strftime("%Y%m%d")))
    return f"{cdx_endpoint}?{urlencode(params)}"


def parse_cdx(body: bytes, what: str) -> list[CdxRow]:
    """The rows of a CDX JSON answer (header first; `[]` or empty when nothing matched). CdxError otherwise,
    naming `what` was asked, so an HTML page or garbage stops the import with a clear message."""
    text = body.decode("utf-8", errors="replace").strip()
    if not text:
        return []
    if text.startswith("<"):
        raise CdxError(
            f"the CDX API answered {what} with an HTML page, not JSON (an error or rate-limit page?)"
        )
    try:
        table = json.loads(text)
    except ValueError:
        raise CdxError(
            f"the CDX API answered {what} with something that is not JSON: {text[:80]!r}"
        ) from None
    if not isinstance(table, list) or not all(isinstance(row, list) for row in table):
        raise CdxError(f"the CDX API answered {what} with JSON that is not a table of rows")
    rows = [row for row in table if row]  # a resume key is preceded by an empty row
    if not rows:
        return []
    return _rows(rows[0], rows[1:], what)


def _rows(header: list[object], rows: list[list[object]], what: str) -> list[CdxRow]:
    """The rows by the header's field names (the API may order `fl` fields its own way)."""
    missing = [field for field in CDX_FIELDS if field not in header]
    if missing:
        raise CdxError(f"the CDX API's answer for {what} lacks the fields {', '.join(missing)}")
    at = {field: header.index(field) for field in CDX_FIELDS}
    parsed = []
    for row in rows:
        cells = [cell for cell in row if isinstance(cell, str)]
        if len(cells) != len(header) or not _timestamp(cells[at["timestamp"]]):
            raise CdxError(f"the CDX API's answer for {what} has a malformed row: {str(row)[:80]}")
        length = cells[at["length"]]
        parsed.append(CdxRow(
            timestamp=cells[at["timestamp"]], original=cells[at["original"]], statuscode=cells[at["statuscode"]],
            mimetype=cells[at["mimetype"]], digest=cells[at["digest"]],
            length=int(length) if length.isdigit() else None,
        ))  # fmt: skip
    return parsed


def _timestamp(value: str) -> bool:
    return value.isdigit() and 4 <= len(value) <= 14


def distinct_captures(rows: list[CdxRow]) -> list[CdxRow]:
    """The captures whose bytes differ from the URL's previous capture, all of them oldest first.

    Only a repeat of the previous digest is dropped: a list that goes A -> B -> A must keep its third capture,
    or the revert to A is never seen (the import treats a repeat of the list in force as unchanged anyway)."""
    kept: list[CdxRow] = []
    previous: dict[str, str] = {}
    for row in sorted(rows, key=lambda row: (row.timestamp, row.original)):
        if previous.get(row.original) != row.digest:
            kept.append(row)
        previous[row.original] = row.digest
    return kept


def raw_capture_url(archive_base: str, row: CdxRow) -> str:
    """The capture's bytes as crawled (`id_`: no banner, no rewritten links)."""
    return f"{archive_base.rstrip('/')}/web/{row.timestamp}id_/{row.original}"


def capture_time(timestamp: str) -> str:
    """A CDX timestamp (UTC, possibly shortened) as ISO 8601 with offset."""
    digits = timestamp[:14] + "20000101000000"[len(timestamp[:14]) :]  # a missing month or day is the first
    moment = datetime.strptime(digits, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    return moment.isoformat(timespec="seconds")


def file_name(url: str) -> str:
    return unquote(urlsplit(url).path.rsplit("/", 1)[-1]) or url


def is_spreadsheet_url(url: str) -> bool:
    return urlsplit(url).path.lower().endswith((".xlsx", ".xls"))


def capture_problem(body: bytes) -> tuple[str, str] | None:
    """Why these bytes are not a spreadsheet worth importing: ("error page", why) when the archive kept a page
    (ICE's or its own error page) or something else, ("truncated", why) when the file is cut short; else None.
    Cheap checks only: the zip's directory and member extents, never decompression (monitors/xlsx.py does that)."""
    if not body:
        return "truncated", "empty body"
    head = body.lstrip()[:16].lower()
    if head.startswith(b"<"):
        return "error page", "an HTML page, not a spreadsheet"
    if body.startswith(_ZIP_MAGIC):
        broken = _zip_problem(body)
        return ("truncated", broken) if broken else None
    if body.startswith(_OLE_MAGIC):
        if len(body) % _OLE_SECTOR:
            return (
                "truncated",
                f"an .xls of {len(body)} bytes, not a whole number of {_OLE_SECTOR}-byte sectors",
            )
        return None
    return "error page", f"neither a zip (xlsx) nor an .xls: starts with {body[:8]!r}"


def _zip_problem(body: bytes) -> str | None:
    """A zip whose end-of-directory record is missing, or whose members run past the end, was cut short."""
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        return f"a zip that does not open ({len(body)} bytes: {error})"
    for member in members:
        if member.header_offset + member.compress_size > len(body):
            return f"a zip whose member {member.filename} runs past the end of its {len(body)} bytes"
    return None
