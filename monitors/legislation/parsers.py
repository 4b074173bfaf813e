"""Bill parsers: Open States v3 and the LegiScan Pull API -> bill records (pure). State legislature bill pages:
`monitors/legislation/bill_page.py`.

Every parser returns records built by `monitors.legislation.bills.make_record` (docs/legislation-spec.md). Bytes that are
not what the parser expects, and LegiScan's errors (which arrive as HTTP 200 with status "ERROR"), raise
`monitors.base.ParseError`.
"""

from __future__ import annotations

import json
from typing import Any

from monitors.base import ParseError
from monitors.legislation.bills import parsed_record as _record
from monitors.legislation.bills import session_id, stage_from_actions
from monitors.legislation.stages import LEGISCAN_STATUS_NAMES, legiscan_actions


def _load(payload: dict[str, Any] | list[Any] | bytes | str) -> Any:
    if isinstance(payload, bytes | bytearray | str):
        try:
            return json.loads(payload)
        except ValueError as exc:
            raise ParseError(f"not JSON: {exc}") from None
    return payload


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
