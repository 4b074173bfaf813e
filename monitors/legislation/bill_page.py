"""State legislature bill pages -> bill records (pure): HTML read with CSS selectors (Maryland's by default), a
text rendering read by its labels, and a page without history rows (a governor's or a newsroom's page about the
bill) read by its sentences. Bytes that are not a readable bill page raise `monitors.base.ParseError`.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bs4 import BeautifulSoup, Tag

from monitors.base import ParseError
from monitors.html_text import text_pieces
from monitors.legislation.bills import iso_date, parsed_record, stage_from_actions
from monitors.legislation.prose import actions_from_prose

# mgaleg.maryland.gov/mgawebsite/Legislation/Details/hb0444?ys=2026RS (layout as read by Open States' MD scraper)
MARYLAND_SELECTORS = {
    "title": "dt:-soup-contains('Title') + dd",
    "status": "dt:-soup-contains('Status') + dd",
    "abstract": "h3:-soup-contains('Synopsis') + p",
    "companions": "dt:-soup-contains('Cross-filed') + dd a",
    "history": "table#detailsHistory tbody tr",
    "date": "td:nth-of-type(2)",
    "action": "td:nth-of-type(4)",
    "chamber": "td:nth-of-type(1)",
}
# Elements that end a line of a news or governor page's prose (its sentences are read for stages).
_PROSE_BLOCKS = frozenset(("p", "li", "div", "br", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "dd", "dt"))
_HOST_STATES = {"mgaleg.maryland.gov": "MD", "www.scstatehouse.gov": "SC", "scstatehouse.gov": "SC"}
_TEXT_LABELS = {"title": ("Title",), "status": ("Status",), "abstract": ("Synopsis", "Summary")}
_TEXT_HISTORY = re.compile(r"(\d{1,2}/\d{1,2}/\d{4})\s+(?:(House|Senate|Assembly|Post Passage)\s+)?(\S.*)")


def parse_bill_page(
    html_or_text: bytes,
    *,
    url: str,
    selectors: dict[str, str] | None = None,
    state: str | None = None,
    session: str | None = None,
    identifier: str | None = None,
) -> dict[str, Any]:
    """A state bill page -> record. HTML is read with CSS `selectors` (keys: title, status, abstract, text,
    companions, identifier, session, history rows, and date / action / chamber cells within a row; default
    MARYLAND_SELECTORS); a text rendering is read by its labels ("Title", "Status", "Synopsis") and its
    "m/d/yyyy [House|Senate] action" lines. State, session and identifier come from the arguments, else
    `selectors` values written "=SC" (literal text, for a configured page), else the URL (Maryland:
    /Details/hb0444?ys=2026RS; South Carolina: sess126_2025-2026), else the identifier / session selectors.

    The stage is the history's, raised by what the Status line says: an enactment or veto, or "In the Senate"
    for a House bill (and the reverse), which means it passed its first chamber (date unknown: None). A page
    without history rows (a governor's or a newsroom's page about the bill) is read by its sentences
    (monitors/legislation/prose.py): "the Governor signed HB 12 into law on May 5" is an enactment."""
    text = html_or_text.decode("utf-8", "replace")
    selectors = selectors or MARYLAND_SELECTORS
    literal = {k: v[1:].strip() for k, v in selectors.items() if v.startswith("=")}
    if re.search(r"<(?:html|body|div|dl|table)\b", text, re.IGNORECASE):
        fields, history = _html_fields(text, {k: v for k, v in selectors.items() if k not in literal})
    else:
        fields, history = _text_fields(text)
    state, session, identifier = _identity(url, fields, literal, (state, session, identifier))
    status = fields.get("status") or ""
    return parsed_record(
        "bill_page", url, state=state, session=session, identifier=identifier, title=fields.get("title", ""),
        abstract=fields.get("abstract", ""), text=fields.get("text") or fields.get("abstract") or fields.get("title"),
        actions=history or actions_from_prose(fields.get("prose", ""), published=fields.get("published"), identifier=identifier),
        stage=_status_stage(status, identifier), companions=fields.get("companions", []),
        sources=[url], source_id=url, status=status or None,
    )  # fmt: skip


def _identity(
    url: str,
    fields: dict[str, Any],
    literal: dict[str, str],
    given: tuple[str | None, str | None, str | None],
) -> tuple[str, str, str]:
    """State, session and identifier: as `given`, else the literal selectors, else the URL, else the page."""
    state, session, identifier = given
    parts = urlsplit(url)
    path_id = re.search(r"/Details/([a-z]+\d+)", parts.path, re.IGNORECASE)
    year_span = re.search(r"sess\d+_(\d{4}-\d{4})", parts.path)
    state = state or literal.get("state") or _HOST_STATES.get(parts.netloc.lower())
    session = session or literal.get("session")
    identifier = identifier or literal.get("identifier")
    session = session or next(iter(parse_qs(parts.query).get("ys", [])), None) or fields.get("session")
    session = session or (year_span.group(1) if year_span else None)
    identifier = identifier or (path_id.group(1) if path_id else None) or fields.get("identifier")
    if not (state and session and identifier):
        raise ParseError(f"{url}: state, session or identifier unknown; pass them as arguments")
    return state, session, identifier


def _status_stage(status: str, identifier: str) -> tuple[str, str | None] | None:
    stage, _ = stage_from_actions([{"date": None, "description": status}]) if status else ("introduced", None)
    if stage != "introduced":
        return stage, None
    origin = "S" if identifier.strip().upper().startswith("S") else "H"
    elsewhere = re.match(r"In the (House|Senate|Assembly)\b", status, re.IGNORECASE)
    if elsewhere and elsewhere.group(1).upper()[0] in ("S" if origin == "H" else "HA"):
        return "passed_chamber", None
    return None


def _html_fields(html: str, selectors: dict[str, str]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    soup = BeautifulSoup(html, "lxml")
    fields: dict[str, Any] = {}
    for name in ("title", "status", "abstract", "text", "identifier", "session"):
        node = soup.select_one(selectors[name]) if selectors.get(name) else None
        if node is not None:
            fields[name] = node.get_text(" ", strip=True)
    if selectors.get("companions"):
        fields["companions"] = [a.get_text(strip=True) for a in soup.select(selectors["companions"])]
    history = []
    for row in soup.select(selectors["history"]) if selectors.get("history") else []:
        cells = {k: _cell(row, selectors.get(k)) for k in ("date", "action", "chamber")}
        if iso_date(cells["date"]) and cells["action"]:  # rows without a date are document links
            history.append(
                {"date": cells["date"], "description": cells["action"], "chamber": cells["chamber"]}
            )
    if (
        not history
    ):  # the page's sentences, a block element ending a line, and the page's date for "on Tuesday"
        dated = soup.select_one("meta[property='article:published_time'], meta[name='date'], time[datetime]")
        fields["published"] = iso_date(dated.get("content") or dated.get("datetime")) if dated else None
        # One pass (html_text): appending a mark to every block is a bs4 tree edit, quadratic on deep pages.
        fields["prose"] = " ".join(text_pieces(soup.body or soup, blocks=_PROSE_BLOCKS, mark="\n"))
    return fields, history


def _cell(row: Tag, selector: str | None) -> str:
    node = row.select_one(selector) if selector else None
    return node.get_text(" ", strip=True) if node is not None else ""


def _text_fields(text: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    lines = [line.strip().removeprefix("- ").strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    fields: dict[str, Any] = {"text": "\n".join(lines)}  # a rendering: all of it may be operative text
    fields["prose"] = fields["text"]
    for name, labels in _TEXT_LABELS.items():
        for n, line in enumerate(lines):
            label, _, value = line.partition(":")
            if label.strip() in labels and (value.strip() or n + 1 < len(lines)):
                fields[name] = value.strip() or lines[n + 1]  # "Status" then the value, or "Summary: value"
                break
    history = [
        {"date": m.group(1), "description": m.group(3), "chamber": m.group(2)}
        for m in map(_TEXT_HISTORY.fullmatch, lines)
        if m
    ]
    return fields, history
