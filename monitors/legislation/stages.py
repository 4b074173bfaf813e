"""The stage a bill reached, from the words legislatures and trackers use (pure; docs/legislation-spec.md).

Inputs are actions {"date", "description", optional "classification", "chamber"} from state histories, Open
States (classifications), LegiScan (numeric status and progress events, see `legiscan_actions`), trackers' status
words ("Died in committee", "Chaptered") and dated sentences of news or governors' pages (monitors/legislation/prose.py).
Two guarantees: the stage never goes backwards, and a bill is never `enacted` before it is — a passage, an
enrolment, a presentment, a presiding officer's signature or one chamber's override vote is not an enactment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

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


def iso_date(value: object) -> str | None:
    """ "2026-01-22", "2026-01-22T00:00:00+00:00", "1/22/2026", "January 22, 2026", "Feb 09, 2024" -> ISO; else None."""
    text = " ".join(str(value or "").split())
    if re.match(r"\d{4}-\d{2}-\d{2}", text):
        return text[:10]
    slash = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})", text)
    if slash:
        year = slash.group(3) if len(slash.group(3)) == 4 else f"20{slash.group(3)}"  # "04/23/19"
        return f"{year}-{int(slash.group(1)):02d}-{int(slash.group(2)):02d}"
    for fmt in ("%B %d, %Y", "%b %d, %Y", "%b. %d, %Y"):
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    return None


# ---- LegiScan ---------------------------------------------------------------------------------------------

# LegiScan API manual: bill status 0-6 and progress events 1-12 (7-12 only as progress events).
LEGISCAN_STATUS_NAMES = {
    0: "N/A", 1: "Introduced", 2: "Engrossed", 3: "Enrolled", 4: "Passed", 5: "Vetoed", 6: "Failed",
    7: "Override", 8: "Chaptered", 9: "Refer", 10: "Report Pass", 11: "Report DNP", 12: "Draft",
}  # fmt: skip
# -> Open States-like classification. 4 "Passed" is LegiScan's word for a bill that became law; 7 "Override"
# is recorded once the veto is overridden. 0 and 9-12 (referral, committee reports, drafts) are not stages:
# a "do not pass" report does not kill a bill.
_LEGISCAN_CLASSIFICATION = {
    1: "introduction", 2: "passage", 3: "enrolled", 4: "became-law", 5: "executive-veto", 6: "failure",
    7: "veto-override-passage", 8: "became-law",
}  # fmt: skip


def legiscan_actions(
    progress: Iterable[Mapping[str, Any]],
    *,
    status: object = None,
    status_date: object = None,
    body: str | None = None,
) -> list[dict[str, Any]]:
    """LegiScan progress events [{"date", "event"}] (else the bill's status and status_date) as classified actions.
    `body` is the originating chamber (an Engrossed bill passed it); an override counts for the whole legislature."""
    steps = [(p.get("date"), p.get("event")) for p in progress] or [(status_date, status)]
    actions = []
    for date, event in steps:
        kind = _LEGISCAN_CLASSIFICATION.get(event) if isinstance(event, int) else None
        if kind is None:
            continue
        name = LEGISCAN_STATUS_NAMES[event]  # type: ignore[index]
        chamber = "legislature" if kind == "veto-override-passage" else body
        actions.append({"date": date, "description": f"LegiScan progress: {name}", "classification": [kind],
                        "chamber": chamber})  # fmt: skip
    return actions


# ---- what one action does ---------------------------------------------------------------------------------

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
_HOUSES = r"(?:house|senate|assembly|upper\s+chamber|lower\s+chamber)"
# After a chamber named as a subject: "of Representatives", ", under Republican control,", "on Tuesday", "has".
_SUBJECT_TAIL = (
    r"(?!bill\b)(?:of\s+(?:representatives|delegates)\b\s*)?(?:,[^,.;]{0,40},\s*)?(?:\w+\s+){0,3}?"
)
_VOTE = r"(?:\(?\s*yeas?\b|by\s+a\s+(?:\w+\s+)?vote|(?:on\s+a\s+)?\d+\s*(?:-|–|to)\s*\d+|y\d+\s+n\d+)"
# For actions without a classification: ordered, the first match decides. Matched case-insensitively.
_TEXT_RULES = [
    ("override", r"^(?:veto\s+)?overridden\b|\bveto(?:es)?\b[^.;]{0,60}?\b(?:was|were|is|been|are)\s+overridden|\bveto(?:es)?\s+overridden"
     r"|\boverr(?:ode|idden)\s+(?:the\s+)?(?:[\w.'’]+\s+){0,6}?veto|\bveto\s+override\s+(?:passed|successful)"
     r"|\bvoted\s+(?:\d+\s*(?:-|–|to)\s*\d+\s+)?to\s+override\b"
     r"|passed\s+(?:over|notwithstanding)\s+(?:the\s+)?(?:governor'?s?\s+)?(?:veto|objections)"),
    ("vetoed", r"(?<!line )(?<!item )(?<!partially )\bvetoed\b(?!\s+in\s+part)|\bpocket[- ]veto|\bveto\s+sustained|\bsustain(?:ed)?\s+(?:the\s+)?(?:[\w'’]+\s+){0,3}?veto\b"),
    ("enacted", rf"\b(?:approved|signed)\s+by\s+{_GOV}|(?<!lieutenant )(?<!lt\. )(?<!lt )\bgov(?:ernor|\.)\s+(?:[\w.'’()-]+\s+){{0,3}}?(?:has\s+)?(?:signed|approved)\b|^signed\b"
     r"(?!\s+(?:by|in)\b)|\bbecame\s+(?:law|pub)|\bpub(?:lic)?\.?\s*ch(?:apter|\.)?\s*\d+|\bchapter(?:ed)?\s+(?:no\.?\s*)?\d+"
     r"|\bchap\.?\s*\d+|\benacted\b|\bpublic\s+act\s+\d|\bwithout\s+(?:the\s+)?governor'?s\s+signature"
     r"|\bacts?\s+of\s+assembly\s+chapter|^chaptered\b|\b(?:is\s+now|became|becomes)\s+(?:public\s+)?act\b"
     r"|\bsigned\s+(?:\w+\s+){0,6}?into\s+law|\bbecome\s+law\s+without\s+(?:\w+\s+)?signature"),
    ("sent_to_governor", rf"\b(?:presented|sent|delivered|transmitted)\s+(?:[\w-]+\s+){{0,4}}?to\s+{_GOV}"),
    ("passed_legislature", r"\benrolled\b|\bto\s+enrollment\b|\bpassed\s+both\s+(?:houses|chambers)"
     rf"|\b(?:passed|approved)\s+by\s+both\s+(?:houses|chambers)|\b(?:passed|approved)\s+(?:by\s+)?(?:the\s+)?"
     rf"{_HOUSES}\s+and\s+(?:the\s+)?{_HOUSES}|\bboth\s+(?:houses|chambers)\s+(?:have\s+)?(?:passed|approved)\b|\bconcur(?:s|red)?\s+in\s+(?:the\s+)?(?:\w+\s+)?amendments?"),
    ("passage", rf"third\s+reading\s+passed|\bpassed\s+third\s+reading|\bthird\s+(?:time|reading)[.,;]?\s+(?:and\s+)?passed"
     rf"|\bpassed\s+(?!to\b|on\b)(?:the\s+)?(?:\w+\s+){{0,2}}?{_HOUSES}\b|\b{_HOUSES}\s+{_SUBJECT_TAIL}passed\b|\bcrossed\s+over\b"
     rf"|^passed\b(?!\s+(?:to|on)\b)|\bpassed\b[,.]?\s*{_VOTE}|^engrossed$"
     r"|\bvoted\s+(?:\d+\s*(?:-|–|to)\s*\d+\s+)?to\s+(?:pass|approve)\b"),
    ("failed", r"\bdied\b|^(?:bill\s+)?(?:has\s+)?failed\b|\bbill\s+has\s+failed|^(?:bill\s+(?:is\s+)?)?dead\b"
     r"|\b(?:third\s+reading|final\s+passage|passage)\s+failed"
     r"|\bfailed\s+(?:to\s+pass|passage|third\s+reading|final\s+passage)|^withdrawn\b(?!\s+from\s+(?:the\s+)?committee)"
     r"|;\s*withdrawn\b|\bwithdrawn\s+by\s+(?:the\s+)?sponsor|\bindefinitely\s+postponed|\bpostponed\s+indefinitely"),
    ("introduced", r"\bintroduc|\bfirst\s+reading|\bread\s+(?:the\s+)?first\s+time|\bpre-?fil|^filed\b"),
]  # fmt: skip
_TEXT_RULES_RE = [(kind, re.compile(pattern, re.IGNORECASE)) for kind, pattern in _TEXT_RULES]
_COMMITTEE = re.compile(  # a committee's vote: "Passed Senate Judiciary Committee", "Committee passed"
    r"\bpassed\s+(?:out\s+of\s+)?(?:the\s+)?(?:[\w&,.]+\s+){0,4}?(?:sub)?committee\b|\bcommittees?\s+(?:\w+\s+){0,3}?passed\b"
    r"|^(?:the\s+)?(?:[\w&,.]+\s+){0,6}?(?:sub)?committees?\b[^.;]{0,80}?\b(?:passed|voted)\b",
    re.IGNORECASE,
)
_NOT_PASSAGE = re.compile(r"\bpassed\s+(?:to\s+)?(?:first|second)\s+reading\b", re.IGNORECASE)

_CHAMBERS = {
    "upper": "upper", "s": "upper", "senate": "upper", "upper chamber": "upper", "lower": "lower", "h": "lower",
    "a": "lower", "house": "lower", "assembly": "lower", "lower chamber": "lower", "legislature": "legislature",
    "general assembly": "legislature", "both chambers": "legislature", "both houses": "legislature",
}  # fmt: skip
_CHAMBER_WORDS = r"(general\s+assembly|legislature|both\s+chambers|both\s+houses|house|senate|assembly|upper\s+chamber|lower\s+chamber)"
_TEXT_CHAMBER = [
    re.compile(p, re.IGNORECASE)
    for p in (
        rf"^{_CHAMBER_WORDS}\b(?!\s+(?:bill|committee|file)\b)",  # "House Read the third time and passed"
        rf"\b(?:passed|overridden|approved)\s+(?:by\s+)?(?:the\s+)?(?:\w+\s+){{0,2}}?{_CHAMBER_WORDS}\b(?!\s+bill)",
        rf"\b(?:passed|overridden|overrode|override\s+passed)\b[^.;]{{0,20}}?\bin\s+the\s+(?:state\s+)?{_CHAMBER_WORDS}\b",
        rf"\b{_CHAMBER_WORDS}\s+{_SUBJECT_TAIL}(?:passed|overrode|voted)\b",
    )
]


def action_kind(action: Mapping[str, Any]) -> str | None:
    """What an action does: by its Open States classification(s) if they say, else by its description."""
    classes = action.get("classification") or []
    kinds = {_CLASSIFICATION_KIND.get(c) for c in ([classes] if isinstance(classes, str) else classes)}
    for kind in _KIND_PRIORITY:
        if kind in kinds:
            return kind
    description = " ".join(str(action.get("description") or "").split())
    return next((kind for kind, _ in text_matches(description)), None)


def text_matches(description: str) -> Iterator[tuple[str, re.Match[str]]]:
    """Every (kind, match) the description's words show, most decisive rule first (a committee's vote and a
    second reading are not passages)."""
    for kind, rule in _TEXT_RULES_RE:
        for match in rule.finditer(description):
            if kind == "passage" and (_COMMITTEE.search(description) or _NOT_PASSAGE.search(description)):
                continue
            yield kind, match


def chamber_of(action: Mapping[str, Any]) -> str | None:
    """upper / lower / legislature, from the action's chamber or its words; None if they do not say."""
    return _chamber(action)


def _chamber(action: Mapping[str, Any]) -> str | None:
    chamber = _CHAMBERS.get(str(action.get("chamber") or "").strip().lower())
    if chamber:
        return chamber
    description = " ".join(str(action.get("description") or "").split())
    for rule in _TEXT_CHAMBER:
        said = rule.search(description)
        if said:
            return _CHAMBERS[" ".join(said.group(1).lower().split())]
    return None


class _Votes:
    """Which chambers have voted (to pass, or to override): a legislature acts when two chambers have.
    A vote whose chamber is unknown counts as another chamber only when dated on a day no vote was seen."""

    def __init__(self) -> None:
        self.chambers: set[str] = set()
        self.dates: set[str | None] = set()

    def add(self, chamber: str | None, date: str | None) -> bool:
        """Records a vote; True once the whole legislature has acted."""
        if chamber == "legislature":
            return True
        if chamber:
            # an unknown chamber's vote that day (or undated) was this one's
            self.chambers -= {f"?{date}", "?"}
            self.chambers.add(chamber)
        elif date and date not in self.dates:
            self.chambers.add(f"?{date}")
        elif not self.chambers:
            self.chambers.add("?")
        self.dates.add(date)
        return len(self.chambers) > 1


def annotate_actions(actions: Iterable[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], str, str | None]:
    """Actions oldest first as {"date", "description", "stage"}, with the bill's (stage, stage_date).

    An action's "stage" is the stage it shows (a second chamber's passage shows passed_legislature; one
    chamber's override vote shows vetoed, both chambers' enacted), or None. The bill's stage never goes
    backwards; vetoed/failed replace any live stage; enacted is final; a live action after a failure (a
    reconsidered vote) revives the bill at its best stage. Undated actions count before dated ones; a stage
    reached undated takes the date of the first dated action that shows it.
    """
    dated = [(iso_date(a.get("date")), n, a) for n, a in enumerate(actions)]
    # an undated action (a news sentence) counts as early as it could have happened
    dated.sort(key=lambda item: (item[0] or "", item[1]))
    stage: str | None = None
    stage_date: str | None = None
    best_live: str | None = None
    passages, overrides = _Votes(), _Votes()
    out: list[dict[str, Any]] = []
    for date, _, action in dated:
        kind = action_kind(action)
        shown = kind
        if kind == "passage":
            shown = "passed_legislature" if passages.add(_chamber(action), date) else "passed_chamber"
        elif kind == "override":
            chamber = _chamber(action)
            shown = "enacted" if chamber is None or overrides.add(chamber, date) else "vetoed"
        new = _advance(stage, best_live, shown)
        if new != stage:
            stage, stage_date = new, date
            if new in _LIVE:
                best_live = new
        elif shown == stage and stage_date is None:  # first known date of the stage an undated action reached
            stage_date = date
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
