"""Bill records (docs/legislation-spec.md): keys, and records whose stage comes from their actions.

Pure functions. The parsers that turn Open States, LegiScan and state bill pages into records live in
`monitors/legislation/parsers.py` and `bill_page.py` and build every record with `make_record` below (through
`parsed_record`), so a key and a stage mean the same thing whatever the source. Records carry three keys beyond the spec: `source_id` (ocd-bill id, LegiScan bill_id,
page URL), `change_hash` (LegiScan's, else None) and `status` (the source's own status text, else None).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from monitors.base import ParseError
from monitors.ice.names import STATES, visible_text
from monitors.legislation.stages import FINAL_STAGES as FINAL_STAGES
from monitors.legislation.stages import STAGES as STAGES
from monitors.legislation.stages import action_kind as action_kind
from monitors.legislation.stages import annotate_actions, stage_rank
from monitors.legislation.stages import iso_date as iso_date
from monitors.legislation.stages import stage_from_actions as stage_from_actions

if TYPE_CHECKING:  # the parsers, importable from here too (loaded on first use: they import this module)
    from monitors.legislation.bill_page import MARYLAND_SELECTORS as MARYLAND_SELECTORS
    from monitors.legislation.bill_page import parse_bill_page as parse_bill_page
    from monitors.legislation.parsers import parse_legiscan_bill as parse_legiscan_bill
    from monitors.legislation.parsers import parse_legiscan_masterlist as parse_legiscan_masterlist
    from monitors.legislation.parsers import parse_legiscan_search as parse_legiscan_search
    from monitors.legislation.parsers import parse_openstates as parse_openstates

_PARSERS = {"MARYLAND_SELECTORS": "bill_page", "parse_bill_page": "bill_page", "parse_legiscan_bill": "parsers",
            "parse_legiscan_masterlist": "parsers", "parse_legiscan_search": "parsers",
            "parse_openstates": "parsers"}  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _PARSERS:
        return getattr(importlib.import_module(f"monitors.legislation.{_PARSERS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---- keys -------------------------------------------------------------------------------------------------

_STATE_BY_NAME = {name.upper(): code for code, name in STATES.items()}
TITLE_LIMIT, ABSTRACT_LIMIT = 1000, 5000  # characters stored of a bill's title and abstract


def state_code(value: str) -> str:
    """USPS code from a code, a state name or an OCD jurisdiction id (".../state:tn/..."); exact, no guessing."""
    text = " ".join(str(value).split()).upper()
    ocd = re.search(r"/(?:STATE|DISTRICT|TERRITORY):([A-Z]{2})(?:/|$)", text)
    code = ocd.group(1) if ocd else _STATE_BY_NAME.get(text, text)
    if code not in STATES:
        raise ValueError(f"not a U.S. state or territory: {value!r}")
    return code


_ORDINAL = r"(\d+)(?:st|nd|rd|th)"


def session_id(raw: str | int) -> str:
    """Stable text for a legislative session, the same for every spelling of it within a source.

    Open States identifiers are kept ("114", "2025-2026") but a lone year; LegiScan names map to the same forms
    ("114th General Assembly" -> "114", "2025-2026 Regular Session" -> "2025-2026", "27th Legislature" -> "27",
    "2026 Regular Session", Open States "2026" and Maryland's "2026rs" -> "2026RS"; "... 1st Special Session"
    -> "<base>S1"), so the sources key a bill alike; a bare LegiScan session_id (an int) -> "LS<id>". Idempotent.
    """
    if isinstance(raw, int) and not isinstance(raw, bool):
        return f"LS{raw}"
    text = " ".join(str(raw).replace("\u2013", "-").replace("\u2014", "-").split())
    if not text:
        raise ValueError("empty session")
    special = re.fullmatch(
        rf"(.+?)[\s,-]*(?:{_ORDINAL}\s+)?(?:special|extraordinary)\s+session", text, re.IGNORECASE
    )
    if special:
        return f"{session_id(special.group(1)).removesuffix('RS')}S{special.group(2) or ''}"
    legislature = re.fullmatch(
        rf"{_ORDINAL}\s+(?:legislature|general\s+assembly)(?:\s*[-,]?\s*regular\s+session)?",
        text,
        re.IGNORECASE,
    )
    if legislature:
        return legislature.group(1)
    years = re.fullmatch(
        r"(\d{4})(?:\s*-\s*(\d{2}|\d{4}))?(?:\s+(regular\s+session|session|general\s+assembly))?", text, re.I
    )
    if years and years.group(2):
        end = years.group(2)
        return f"{years.group(1)}-{years.group(1)[:2] + end if len(end) == 2 else end}"
    if years:  # one year: that year's regular session, as Maryland writes it (Open States writes "2026")
        return f"{years.group(1)}RS"
    return text.replace(" ", "").upper()


_LONG_FORMS = [
    (r"HOUSE\s+JOINT\s+RESOLUTION", "HJR"), (r"SENATE\s+JOINT\s+RESOLUTION", "SJR"),
    (r"HOUSE\s+CONCURRENT\s+RESOLUTION", "HCR"), (r"SENATE\s+CONCURRENT\s+RESOLUTION", "SCR"),
    (r"HOUSE\s+RESOLUTION", "HR"), (r"SENATE\s+RESOLUTION", "SR"), (r"HOUSE\s+BILL", "HB"),
    (r"SENATE\s+BILL", "SB"), (r"ASSEMBLY\s+BILL", "AB"), (r"LEGISLATIVE\s+DOCUMENT", "LD"),
]  # fmt: skip


def _identifier_parts(identifier: str) -> tuple[str, str, str]:
    text = str(identifier).strip().upper()
    text = re.sub(r"^(?:CS\s*/\s*)+", "", text)  # Florida committee substitutes: "CS/CS/HB 1" is HB 1
    for pattern, short in _LONG_FORMS:
        text = re.sub(pattern, short, text)
    text = re.sub(r"[.\s_-]+", "", text)
    match = re.fullmatch(r"([A-Z]+)0*(\d+)([A-Z]*)", text)
    if not match:
        raise ValueError(f"not a bill identifier: {identifier!r}")
    return match.group(1), match.group(2), match.group(3)


def normalise_identifier(identifier: str) -> str:
    """ "HB0444", "H.B. 444", "hb 444", "House Bill 444" -> "HB444"; "H 4764" -> "H4764"."""
    return "".join(_identifier_parts(identifier))


def display_identifier(identifier: str) -> str:
    """Letters, a space, the number without leading zeros: "HB0444" -> "HB 444"."""
    prefix, number, suffix = _identifier_parts(identifier)
    return f"{prefix} {number}{suffix}"


def bill_key(state: str, session: str | int, identifier: str) -> str:
    """ "MD|2026RS|HB444": state | session | identifier, each normalised; never the title."""
    return f"{state_code(state)}|{session_id(session)}|{normalise_identifier(identifier)}"


def make_record(
    *, state: str, session: str | int, identifier: str, source_kind: str, title: str = "", abstract: str = "",
    text: str = "", actions: Iterable[Mapping[str, Any]] = (), companions: Iterable[str] = (),
    sources: Iterable[str | None] = (), stage: tuple[str, str | None] | None = None, source_id: str | None = None,
    change_hash: str | None = None, status: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """A bill record of the spec's shape; `stage` overrides the stage derived from `actions` when it ranks higher."""
    annotated, derived, derived_date = annotate_actions(actions)
    if stage is not None and stage_rank(stage[0]) > stage_rank(derived):
        derived, derived_date = stage
    shown = display_identifier(identifier)
    return {
        "key": bill_key(state, session, identifier),
        "state": state_code(state),
        "session": session_id(session),
        "identifier": shown,
        "title": _field(title, TITLE_LIMIT),
        "abstract": _field(abstract, ABSTRACT_LIMIT),
        "stage": derived,
        "stage_date": derived_date,
        "actions": annotated,
        "companions": [c for c in _unique(map(_shown_or_none, companions)) if c and c != shown],
        "sources": _unique(s for s in sources if s),
        "source_kind": source_kind,
        "text": (text or "").strip(),
        "source_id": source_id,
        "change_hash": change_hash,
        "status": status,
    }


def parsed_record(source_kind: str, where: str, **fields: Any) -> dict[str, Any]:
    """`make_record` for a parser: a state, session or identifier that cannot be keyed is a ParseError that
    names `where` (the bill or page read)."""
    try:
        return make_record(source_kind=source_kind, **fields)
    except ValueError as exc:
        raise ParseError(f"{where}: {exc}") from None


def _field(value: str | None, limit: int) -> str:
    """A title or abstract as stored and shown: one line without control or format characters (bidi
    overrides), at most `limit` characters (a page or API can send anything)."""
    text = visible_text(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _shown_or_none(identifier: str) -> str | None:
    try:
        return display_identifier(identifier)
    except ValueError:  # a companion that is not a bill number is not worth losing the bill over
        return None


def _unique(items: Iterable[str | None]) -> list[str | None]:
    return list(dict.fromkeys(items))
