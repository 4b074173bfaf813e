"""Per-state 287(g) policy, derived (pure) from enacted instruments: the reviewed seed file of known
instruments (watch287g/data/state_policy.csv) plus bills this tool saw enacted and classified.

For each state and scope (state agencies, local agencies) the newest ban or mandate wins; a restriction
counts only where no ban or mandate applies. Companion bills enacted together are one change of policy,
so they give one policy event.

As of a date, an instrument counts from its effective date; when that is unknown (left blank in the seed,
never guessed), from its enactment, the earliest it can have been in force; with neither, at any date. An
instrument repealed or rescinded counts until its `ended` date.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

SEED = Path(__file__).resolve().parents[1] / "watch287g" / "data" / "state_policy.csv"
SCOPES = ("state_agencies", "local_agencies")
IN_FORCE = ("enacted", "in_force", "repealed")  # a repealed one only with its `ended` date (see load_seed)
EVENT_FOR = {
    "ban": "policy.ban_enacted",
    "mandate": "policy.mandate_enacted",
    "restrict": "policy.restriction_enacted",
}


@dataclass(frozen=True)
class Instrument:
    state: str
    effect: str  # ban | mandate | restrict
    scope: tuple[bool, bool]  # (state agencies, local agencies)
    name: str
    enacted: str  # ISO date or "" when unknown
    source_url: str
    evidence: str  # seed evidence level, or "bill" for bills seen enacted
    effective: str = ""  # ISO date the instrument took effect, "" when unknown
    ended: str = ""  # ISO date it was repealed or rescinded, "" while in force
    identifiers: tuple[str, ...] = ()  # bills: the bill and its companions ("HB 444", "SB 245")

    @property
    def since(self) -> str:
        """The date it counts from: its effective date, else its enactment ("" when neither is known)."""
        return self.effective or self.enacted

    def in_force(self, as_of: str | None) -> bool:
        """In force at the end of day `as_of` (a date or ISO timestamp); `None`: today, whatever its start."""
        day = (as_of or "")[:10]
        if self.ended and (not day or self.ended <= day):
            return False
        return not day or not self.since or self.since <= day


@dataclass
class StatePolicy:
    state: str
    state_agencies: str = "none"
    local_agencies: str = "none"
    instruments: list[Instrument] = field(default_factory=list)
    # scope -> the first instrument of the run that gave its current label (the date it is "in force since")
    decided_by: dict[str, Instrument] = field(default_factory=dict)

    def label(self) -> tuple[str, str]:
        return self.state_agencies, self.local_agencies


def load_seed(path: Path | None = None) -> list[Instrument]:
    with open(path or SEED, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [
        Instrument(
            row["state"],
            row["effect"],
            (_yes(row["scope_state"]), _yes(row["scope_local"])),
            row["instrument"],
            row.get("enacted") or "",
            row.get("source_url") or "",
            row.get("evidence_level") or "",
            row.get("effective") or "",
            row.get("ended") or "",
        )  # fmt: skip
        for row in rows
        if row["status"] in IN_FORCE
        and row["effect"] in EVENT_FOR
        and (row["status"] != "repealed" or row.get("ended"))  # when it ended is needed to place it in time
    ]


def _yes(value: str | None) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "y")


def from_bills(bills: list[dict[str, Any]]) -> list[Instrument]:
    """Enacted bills classified ban / mandate / restrict, one instrument per policy (companions merged)."""
    instruments: list[Instrument] = []
    seen: set[frozenset[str]] = set()
    for bill in bills:
        decided = bill.get("classification") or {}
        label = decided.get("label")
        if bill.get("stage") != "enacted" or label not in EVENT_FOR:
            continue
        if decided.get("phrase") == decided.get("about"):  # about 287(g), but no operative phrase decided it
            continue
        group = frozenset([bill["identifier"], *(bill.get("companions") or [])])
        if any(group & other for other in seen):
            continue
        seen.add(group)
        scope = (bill.get("classification") or {}).get("scope") or {}
        sources = bill.get("sources") or [""]
        instruments.append(
            Instrument(
                bill["state"],
                label,
                (bool(scope.get("state_agencies", True)), bool(scope.get("local_agencies", True))),
                f"{bill['identifier']} ({bill.get('session')})",
                bill.get("stage_date") or "",
                sources[0],
                "bill",
                effective=effective_from(bill),
                identifiers=tuple(sorted(group)),
            )  # fmt: skip
        )
    return instruments


_MONTHS = "january february march april may june july august september october november december".split()
_NUMERIC = re.compile(r"\beffective (?:on |date:? )?(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})\b", re.I)
_WORDED = re.compile(
    rf"\b(?:takes? effect|effective)(?: on)? ({'|'.join(_MONTHS)}) (\d{{1,2}}), (\d{{4}})", re.I
)
_ON_ENACTMENT = re.compile(
    r"\b(?:takes? effect|effective) (?:immediately|upon (?:its )?(?:passage|enactment|approval|signature))"
    r"|\bemergency (?:measure|bill|act)\b",
    re.I,
)


def effective_from(bill: dict[str, Any]) -> str:
    """The effective date an enacted bill states ("Effective on 1/1/26" in its actions; "shall take effect
    January 1, 2026" or "effective immediately" in its text), when it states exactly one; else ""."""
    words = [str(a.get("description") or "") for a in bill.get("actions") or []]
    words += [str(bill.get(name) or "") for name in ("status", "title", "abstract", "text")]
    found = set()
    for text in words:
        for month, day, year in _NUMERIC.findall(text):
            found.add(_iso(int(year) + (2000 if len(year) == 2 else 0), int(month), int(day)))
        for month, day, year in _WORDED.findall(text):
            found.add(_iso(int(year), _MONTHS.index(month.lower()) + 1, int(day)))
        if _ON_ENACTMENT.search(text) and bill.get("stage_date"):
            found.add(str(bill["stage_date"])[:10])
    found.discard("")
    return found.pop() if len(found) == 1 else ""


def _iso(year: int, month: int, day: int) -> str:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return ""


def combined(seed: list[Instrument], bills: list[Instrument]) -> list[Instrument]:
    """The seed plus the bills seen enacted that it does not already hold (the reviewed row has the dates)."""

    def in_seed(bill: Instrument) -> bool:
        return any(
            re.search(rf"\b{re.escape(number)}\b", item.name)
            for item in seed
            if item.state == bill.state
            for number in bill.identifiers
        )

    return seed + [bill for bill in bills if not in_seed(bill)]


def policies(instruments: list[Instrument], as_of: str | None = None) -> dict[str, StatePolicy]:
    """Each state's view from the instruments in force at `as_of` (default: today, see Instrument.in_force)."""
    result: dict[str, StatePolicy] = {}
    in_force = [i for i in instruments if i.in_force(as_of)]
    for item in sorted(in_force, key=lambda i: (i.since or "0000", i.name)):
        view = result.setdefault(item.state, StatePolicy(item.state))
        view.instruments.append(item)
        for index, scope in enumerate(SCOPES):
            if not item.scope[index]:
                continue
            current = getattr(view, scope)
            if item.effect in ("ban", "mandate") or current in ("none", "restrict"):
                if current != item.effect or scope not in view.decided_by:  # a later law of the same effect
                    view.decided_by[scope] = item  # does not restart "in force since"
                setattr(view, scope, item.effect)
    return result


def policy_events(
    before: dict[str, StatePolicy], after: dict[str, StatePolicy]
) -> list[tuple[str, StatePolicy, StatePolicy | None]]:
    """(event type, new view, old view) for every state whose (state agencies, local agencies) label changed."""
    changes = []
    for state, view in sorted(after.items()):
        old = before.get(state)
        if old is not None and old.label() == view.label():
            continue
        old_labels = old.label() if old else ("none", "none")
        new_effects = {e for e, o in zip(view.label(), old_labels, strict=True) if e != o and e != "none"}
        kind = EVENT_FOR[new_effects.pop()] if len(new_effects) == 1 else "policy.changed"
        changes.append((kind, view, old))
    return changes
