"""Bill records (docs/legislation-spec.md): stages, keys, and the stage a bill reached from its actions.

Pure functions. The parsers that turn Open States, LegiScan and state bill pages into records live in
`monitors/bill_sources.py` and build every record with `make_record` below, so a key and a stage mean the same
thing whatever the source. Records carry three keys beyond the spec: `source_id` (ocd-bill id, LegiScan bill_id,
page URL), `change_hash` (LegiScan's, else None) and `status` (the source's own status text, else None).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from monitors.ice_names import STATES, visible_text

if TYPE_CHECKING:  # the parsers, importable from here too (loaded on first use: they import this module)
    from monitors.bill_sources import MARYLAND_SELECTORS as MARYLAND_SELECTORS
    from monitors.bill_sources import parse_bill_page as parse_bill_page
    from monitors.bill_sources import parse_legiscan_bill as parse_legiscan_bill
    from monitors.bill_sources import parse_legiscan_masterlist as parse_legiscan_masterlist
    from monitors.bill_sources import parse_legiscan_search as parse_legiscan_search
    from monitors.bill_sources import parse_openstates as parse_openstates

_PARSERS = ("MARYLAND_SELECTORS", "parse_bill_page", "parse_legiscan_bill", "parse_legiscan_masterlist",
            "parse_legiscan_search", "parse_openstates")  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _PARSERS:
        from monitors import bill_sources

        return getattr(bill_sources, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


STAGES = (
    "introduced",
    "passed_chamber",
    "passed_legislature",
    "sent_to_governor",
    "enacted",
    "vetoed",
    "failed",
)
FINAL_STAGES = frozenset({"enacted", "vetoed", "failed"})
# Vetoed and failed outrank every live stage (a bill never "advances" out of them) and rank below enacted,
# because a veto override enacts a vetoed bill.
_RANK = {
    "introduced": 0, "passed_chamber": 1, "passed_legislature": 2, "sent_to_governor": 3,
    "vetoed": 4, "failed": 4, "enacted": 5,
}  # fmt: skip
_LIVE = ("introduced", "passed_chamber", "passed_legislature", "sent_to_governor")


def stage_rank(stage: str | None) -> int:
    """Order of stages for "has it advanced?"; None (no stage yet) is -1."""
    if stage is None:
        return -1
    if stage not in _RANK:
        raise ValueError(f"unknown stage {stage!r}; valid stages: {', '.join(STAGES)}")
    return _RANK[stage]


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


def iso_date(value: object) -> str | None:
    """ "2026-01-22", "2026-01-22T00:00:00+00:00", "1/22/2026", "January 22, 2026" -> "2026-01-22"; else None."""
    text = " ".join(str(value or "").split())
    if re.match(r"\d{4}-\d{2}-\d{2}", text):
        return text[:10]
    slash = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
    if slash:
        return f"{slash.group(3)}-{int(slash.group(1)):02d}-{int(slash.group(2)):02d}"
    for fmt in ("%B %d, %Y", "%b %d, %Y", "%b. %d, %Y"):
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    return None


# ---- actions -> stage -------------------------------------------------------------------------------------

# Open States action classifications (plus "enrolled", used for LegiScan progress) -> kind of action.
_CLASSIFICATION_KIND = {
    "introduction": "introduced", "filing": "introduced", "reading-1": "introduced", "passage": "passage",
    "enrolled": "passed_legislature", "executive-receipt": "sent_to_governor",
    "executive-signature": "enacted", "became-law": "enacted", "executive-veto": "vetoed",
    "veto-override-passage": "override", "failure": "failed", "committee-failure": "failed",
    "withdrawal": "failed",
}  # fmt: skip
_KIND_PRIORITY = (
    "override", "enacted", "vetoed", "sent_to_governor", "passed_legislature", "passage", "failed", "introduced",
)  # fmt: skip

_GOV = r"(?:the\s+)?gov(?:ernor|\.|\b)"
# For actions without a classification: ordered, the first match decides. Matched case-insensitively.
_TEXT_RULES = [
    ("override", r"veto(?:es|ed)?\s+overrid|overrid\w*\s+(?:the\s+)?(?:governor'?s?\s+)?veto"
     r"|passed\s+(?:over|notwithstanding)\s+(?:the\s+)?(?:governor'?s?\s+)?(?:veto|objections)"),
    ("vetoed", r"(?<!line )(?<!item )(?<!partially )\bvetoed\b(?!\s+in\s+part)|\bpocket[- ]veto|\bveto\s+sustained"),
    ("enacted", rf"\b(?:approved|signed)\s+by\s+{_GOV}|\bgovernor\s+(?:signed|approved)|^signed\b"
     r"(?!\s+(?:by|in)\b)|\bbecame\s+(?:law|pub)|\bpub(?:lic)?\.?\s*ch(?:apter|\.)?\s*\d+|\bchapter(?:ed)?\s+(?:no\.?\s*)?\d+"
     r"|\bchap\.?\s*\d+|\benacted\b|\bpublic\s+act\s+\d|\bwithout\s+(?:the\s+)?governor'?s\s+signature"
     r"|\bacts?\s+of\s+assembly\s+chapter"),
    ("sent_to_governor", rf"\b(?:presented|sent|delivered|transmitted)\s+to\s+{_GOV}"),
    ("passed_legislature", r"\benrolled\b|\bpassed\s+both\s+(?:houses|chambers)"),
    ("passage", r"third\s+reading\s+passed|\bpassed\s+third\s+reading|\bpassed\s+(?:the\s+)?(?:house|senate"
     r"|assembly)\b|\b(?:house|senate|assembly)\s+passed\b|\bcrossed\s+over\b|^passed\b(?!\s+(?:to|on)\b)"),
    ("failed", r"\bdied\b|^(?:bill\s+)?failed\b|\b(?:third\s+reading|final\s+passage|passage)\s+failed"
     r"|\bfailed\s+(?:to\s+pass|passage|third\s+reading|final\s+passage)|^withdrawn\b(?!\s+from\s+(?:the\s+)?committee)"
     r"|;\s*withdrawn\b|\bwithdrawn\s+by\s+(?:the\s+)?sponsor|\bindefinitely\s+postponed|\bpostponed\s+indefinitely"),
    ("introduced", r"\bintroduc|\bfirst\s+reading|\bread\s+(?:the\s+)?first\s+time|\bpre-?fil|^filed\b"),
]  # fmt: skip
_COMMITTEE = re.compile(r"\b(?:sub)?committee\b", re.IGNORECASE)  # "Passed Senate Judiciary Committee"
_TEXT_RULES_RE = [(kind, re.compile(pattern, re.IGNORECASE)) for kind, pattern in _TEXT_RULES]

_CHAMBERS = {
    "upper": "upper", "s": "upper", "senate": "upper", "lower": "lower", "h": "lower", "a": "lower",
    "house": "lower", "assembly": "lower", "legislature": "legislature",
}  # fmt: skip
_TEXT_CHAMBER = re.compile(
    r"\bpassed\s+(?:the\s+)?(house|senate|assembly)|(house|senate|assembly)\s+passed", re.I
)


def action_kind(action: Mapping[str, Any]) -> str | None:
    """What an action does: by its Open States classification(s) if they say, else by its description."""
    classes = action.get("classification") or []
    kinds = {_CLASSIFICATION_KIND.get(c) for c in ([classes] if isinstance(classes, str) else classes)}
    for kind in _KIND_PRIORITY:
        if kind in kinds:
            return kind
    description = " ".join(str(action.get("description") or "").split())
    said = next((kind for kind, rule in _TEXT_RULES_RE if rule.search(description)), None)
    return None if said == "passage" and _COMMITTEE.search(description) else said


def _chamber(action: Mapping[str, Any]) -> str | None:
    chamber = _CHAMBERS.get(str(action.get("chamber") or "").strip().lower())
    if chamber:
        return chamber
    said = _TEXT_CHAMBER.search(str(action.get("description") or ""))
    return _CHAMBERS[(said.group(1) or said.group(2)).lower()] if said else None


def annotate_actions(actions: Iterable[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], str, str | None]:
    """Actions oldest first as {"date", "description", "stage"}, with the bill's (stage, stage_date).

    An action's "stage" is the stage it shows (a second chamber's passage shows passed_legislature), or None.
    The bill's stage never goes backwards; vetoed/failed replace any live stage; enacted is final; a veto
    override enacts; a live action after a failure (a reconsidered vote) revives the bill at its best stage.
    Passages are counted per chamber; a passage whose chamber is unknown counts once per date.
    """
    dated = [(iso_date(a.get("date")), n, a) for n, a in enumerate(actions)]
    dated.sort(key=lambda item: (item[0] or "9999-99-99", item[1]))
    stage: str | None = None
    stage_date: str | None = None
    best_live: str | None = None
    chambers: set[str] = set()
    out: list[dict[str, Any]] = []
    for date, _, action in dated:
        kind = action_kind(action)
        shown = kind
        if kind == "passage":
            chamber = _chamber(action)
            if chamber != "legislature":
                chambers.add(chamber or f"?{date}")
            passed_all = chamber == "legislature" or len(chambers) > 1
            shown = "passed_legislature" if passed_all else "passed_chamber"
        elif kind == "override":
            shown = "enacted"
        new = _advance(stage, best_live, shown)
        if new != stage:
            stage, stage_date = new, date
            if new in _LIVE:
                best_live = new
        description = " ".join(str(action.get("description") or "").split())
        out.append({"date": date, "description": description, "stage": shown})
    if stage is None:
        return out, "introduced", next((a["date"] for a in out if a["date"]), None)
    return out, stage, stage_date


def _advance(stage: str | None, best_live: str | None, shown: str | None) -> str | None:
    if shown is None or stage == "enacted":
        return stage
    if shown in ("vetoed", "failed"):
        return stage if stage in ("vetoed", "failed") else shown
    if stage == "vetoed":
        return shown if shown == "enacted" else stage
    if stage == "failed":  # revived: back to the best stage it had reached, or further
        return max(shown, best_live or shown, key=stage_rank)
    return shown if stage_rank(shown) > stage_rank(stage) else stage


def stage_from_actions(actions: Iterable[Mapping[str, Any]]) -> tuple[str, str | None]:
    """(stage, stage_date) from actions {"date", "description", optional "classification", "chamber"}."""
    _, stage, stage_date = annotate_actions(actions)
    return stage, stage_date


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
