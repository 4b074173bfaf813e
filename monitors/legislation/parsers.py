"""Bill parsers: Open States v3, LegiScan Pull API, state legislature bill pages -> bill records (pure).

Every parser returns records built by `monitors.legislation.bills.make_record` (docs/legislation-spec.md). Bytes that are
not what the parser expects, and LegiScan's errors (which arrive as HTTP 200 with status "ERROR"), raise
`monitors.base.ParseError`.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bs4 import BeautifulSoup, Tag

from monitors.base import ParseError
from monitors.html_text import text_pieces
from monitors.legislation.bills import iso_date, make_record, session_id, stage_from_actions
from monitors.legislation.prose import actions_from_prose
from monitors.legislation.stages import LEGISCAN_STATUS_NAMES, legiscan_actions


def _load(payload: dict[str, Any] | list[Any] | bytes | str) -> Any:
    if isinstance(payload, bytes | bytearray | str):
        try:
            return json.loads(payload)
        except ValueError as exc:
            raise ParseError(f"not JSON: {exc}") from None
    return payload


def _record(source_kind: str, where: str, **fields: Any) -> dict[str, Any]:
    try:
        return make_record(source_kind=source_kind, **fields)
    except ValueError as exc:  # a state, session or identifier that cannot be keyed
        raise ParseError(f"{where}: {exc}") from None


# ---- Open States v3 ---------------------------------------------------------------------------------------


def parse_openstates(payload: dict[str, Any] | bytes) -> list[dict[str, Any]]:
    """A v3 /bills page ({"results": [...]}, ideally include=actions,abstracts,sources,related_bills) or one
    bill object -> records. Without actions, the stage comes from first_action_date, latest_passage_date and
    latest_action_description (never from updated_at)."""
    data = _load(payload)
    if isinstance(data, dict) and isinstance(data.get("results"), list):
        items = data["results"]
    elif isinstance(data, dict) and "identifier" in data:
        items = [data]
    elif isinstance(data, list):
        items = data
    else:
        detail = data.get("detail") if isinstance(data, dict) else None
        raise ParseError(f"not an Open States bill or /bills page{f': {detail}' if detail else ''}")
    return [_openstates_bill(item) for item in items]


def _openstates_bill(bill: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(bill, dict):
        raise ParseError(f"Open States bill is not an object: {str(bill)[:80]!r}")
    where = f"Open States bill {bill.get('id') or bill.get('identifier')!r}"
    jurisdiction = bill.get("jurisdiction")
    state = (jurisdiction.get("id") or jurisdiction.get("name")) if isinstance(jurisdiction, dict) else None
    session = bill.get("session") or (bill.get("legislative_session") or {}).get("identifier")
    if not (state and session and bill.get("identifier")):
        raise ParseError(f"{where}: no jurisdiction, session or identifier")
    abstracts = [
        a["abstract"].strip() for a in bill.get("abstracts") or [] if (a.get("abstract") or "").strip()
    ]
    actions = [
        {
            "date": a.get("date"),
            "description": a.get("description") or "",
            "classification": a.get("classification") or [],
            "chamber": (a.get("organization") or {}).get("classification"),
        }
        for a in bill.get("actions") or []
    ] or _openstates_summary_actions(bill)
    companions = [
        r["identifier"]
        for r in bill.get("related_bills") or []
        if r.get("relation_type") == "companion" and r.get("identifier")
        and r.get("legislative_session") in (None, "", session)
    ]  # fmt: skip
    title = bill.get("title") or ""
    return _record(
        "openstates", where, state=state, session=session, identifier=bill["identifier"], title=title,
        abstract=abstracts[0] if abstracts else "", text="\n\n".join(abstracts) or title, actions=actions,
        companions=companions, sources=[*(s.get("url") for s in bill.get("sources") or []),
        bill.get("openstates_url")], source_id=bill.get("id"), status=bill.get("latest_action_description"),
    )  # fmt: skip


def _openstates_summary_actions(bill: dict[str, Any]) -> list[dict[str, Any]]:
    """Stand-ins for the actions a search result without include=actions summarises."""
    first, passed = bill.get("first_action_date"), bill.get("latest_passage_date")  # chamber unknown: one
    latest, what = bill.get("latest_action_date"), bill.get("latest_action_description")
    return [
        *([{"date": first, "description": "First action (first_action_date)", "classification": ["introduction"]}]
          if first else []),
        *([{"date": passed, "description": "Passage (latest_passage_date)", "classification": ["passage"]}]
          if passed else []),
        *([{"date": latest, "description": what}] if latest and what else []),
    ]  # fmt: skip


# ---- LegiScan ---------------------------------------------------------------------------------------------

_COMPANION_SASTS = {1, 5}  # Same As, Cross-filed


def _legiscan(payload: dict[str, Any] | bytes, key: str) -> Any:
    data = _load(payload)
    if not isinstance(data, dict):
        raise ParseError("not a LegiScan response (not a JSON object)")
    status = data.get("status")
    if status != "OK" and (status is not None or key not in data):
        alert = data.get("alert")
        message = alert.get("message") if isinstance(alert, dict) else alert
        raise ParseError(f"LegiScan {status or 'response without status'}: {message or 'no message'}")
    if key not in data:
        raise ParseError(f"LegiScan response without {key!r}")
    return data[key]


def parse_legiscan_bill(payload: dict[str, Any] | bytes) -> dict[str, Any]:
    """getBill response ({"status": "OK", "bill": {...}}) or a dataset bill file ({"bill": {...}}) -> record.

    The stage is LegiScan's progress (its own reading of the history; `status` if there is none), raised by
    the history's text where that says more (e.g. sent to the governor, which LegiScan does not track)."""
    bill = _legiscan(payload, "bill")
    if not isinstance(bill, dict):
        raise ParseError("LegiScan 'bill' is not an object")
    history = [
        {"date": h.get("date"), "description": h.get("action") or "", "chamber": h.get("chamber")}
        for h in bill.get("history") or []
    ]
    progress = legiscan_actions(
        [p for p in bill.get("progress") or [] if isinstance(p, dict)], status=bill.get("status"),
        status_date=bill.get("status_date"), body=bill.get("body"),
    )  # fmt: skip
    texts = sorted(bill.get("texts") or [], key=lambda t: str(t.get("date") or ""))
    latest_text = (texts[-1].get("state_link") or texts[-1].get("url")) if texts else None
    companions = [
        s["sast_bill_number"]
        for s in bill.get("sasts") or []
        if s.get("type_id") in _COMPANION_SASTS and s.get("sast_bill_number")
    ]
    status = bill.get("status")
    return _record(
        "legiscan", f"LegiScan bill {bill.get('bill_id')!r}", state=bill.get("state") or "",
        session=_legiscan_session(bill), identifier=bill.get("bill_number") or "", title=bill.get("title") or "",
        abstract=bill.get("description") or "", text=bill.get("description") or bill.get("title") or "",
        actions=history, stage=stage_from_actions(progress), companions=companions,
        sources=[bill.get("url"), bill.get("state_link"), latest_text],
        source_id=None if bill.get("bill_id") is None else str(bill["bill_id"]),
        change_hash=bill.get("change_hash"),
        status=LEGISCAN_STATUS_NAMES.get(status) if isinstance(status, int) else None,
    )  # fmt: skip


def _legiscan_session(bill: dict[str, Any]) -> str:
    session = bill.get("session")
    if isinstance(session, dict) and session.get("session_name"):
        return session_id(session["session_name"])
    if isinstance(session, dict) and session.get("year_start"):
        start, end = session["year_start"], session.get("year_end") or session["year_start"]
        return session_id(f"{start}-{end}" if end != start else str(start))
    if isinstance(bill.get("session_id"), int):
        return session_id(bill["session_id"])
    raise ParseError(f"LegiScan bill {bill.get('bill_id')!r}: no session")


def _numbered(container: Any) -> list[dict[str, Any]]:
    """LegiScan lists arrive as objects keyed "0", "1", ... next to other keys ("summary", "session")."""
    if isinstance(container, list):
        return [item for item in container if isinstance(item, dict)]
    if not isinstance(container, dict):
        raise ParseError("LegiScan list is neither an object nor an array")
    keys = sorted((k for k in container if str(k).isdigit()), key=int)
    return [container[k] for k in keys if isinstance(container[k], dict)]


def parse_legiscan_masterlist(payload: dict[str, Any] | bytes) -> dict[int, str]:
    """getMasterListRaw (or getMasterList) -> {bill_id: change_hash}."""
    return {
        int(item["bill_id"]): str(item["change_hash"])
        for item in _numbered(_legiscan(payload, "masterlist"))
        if item.get("bill_id") is not None and item.get("change_hash")
    }


def parse_legiscan_search(payload: dict[str, Any] | bytes) -> list[dict[str, Any]]:
    """getSearchRaw (or getSearch) -> [{"bill_id", "change_hash", "relevance"}] in the API's order."""
    return [
        {"bill_id": int(item["bill_id"]), "change_hash": str(item.get("change_hash") or ""),
         "relevance": int(item.get("relevance") or 0)}
        for item in _numbered(_legiscan(payload, "searchresult"))
        if item.get("bill_id") is not None
    ]  # fmt: skip


# ---- state legislature bill pages -------------------------------------------------------------------------

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
    parts = urlsplit(url)
    selectors = selectors or MARYLAND_SELECTORS
    literal = {k: v[1:].strip() for k, v in selectors.items() if v.startswith("=")}
    if re.search(r"<(?:html|body|div|dl|table)\b", text, re.IGNORECASE):
        fields, history = _html_fields(text, {k: v for k, v in selectors.items() if k not in literal})
    else:
        fields, history = _text_fields(text)
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
    status = fields.get("status") or ""
    return _record(
        "bill_page", url, state=state, session=session, identifier=identifier, title=fields.get("title", ""),
        abstract=fields.get("abstract", ""), text=fields.get("text") or fields.get("abstract") or fields.get("title"),
        actions=history or actions_from_prose(fields.get("prose", ""), published=fields.get("published"), identifier=identifier),
        stage=_status_stage(status, identifier), companions=fields.get("companions", []),
        sources=[url], source_id=url, status=status or None,
    )  # fmt: skip


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
