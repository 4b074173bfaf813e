"""Stage actions from dated sentences on news and governors' pages (pure; docs/legislation-spec.md).

"The Senate voted 24-15 to pass ...", "the Governor signed ... into law", "... vetoed", "allowed to become law
without signature": each sentence whose words show a stage becomes an action, dated by the date it gives
("on March 31", "Tuesday", read against the page's date). Sentences that only foresee, hope or report on other
bills are not evidence: "would", "is expected to sign", "if passed", "not", "previously", "then-Governor", a
sentence naming another bill or an earlier year.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from monitors.legislation.stages import chamber_of, text_matches

_ABBREVIATION = re.compile(
    r"\b(?:Gov|Govs|Sen|Sens|Rep|Reps|Del|Lt|Mr|Mrs|Ms|Dr|St|No|Nos|Jan|Feb|Mar|Apr|Aug|Sept?|Oct|Nov|Dec|Jr|Sr|vs"
    r"|U\.S|[A-Z])\.$"
)
# A sentence ends at . ! ? before a capital, and at ";" (lists: "HB 5 was signed by the governor; HB 81 was vetoed")
_BOUNDARY = re.compile(r"(?<=[.!?])\s+(?=[\"“'(A-Z0-9])|(?<=;)\s+")
# Words that make what follows a forecast, a hope, a condition or a denial, when they come just before it.
_NOT_YET = re.compile(  # lower case: "Sen. Will Smith", "on May 5" are not forecasts
    r"\b(?:would|could|might|may(?!\s+\d)|will|shall|should|expected|expects|potentially|likely|if|unless|once"
    r"|whether|hopes?|hoped|plans?|intends?|poised|set\s+to|ready\s+to|urged?|asks?|asked|not|never|no\s+longer"
    r"|cannot)\b|n['’]t\b|^(?:If|Once|Unless|Should|Would|Could)\b"
)
_CLAUSE = re.compile(r"[,;:—–]|\b(?:and|but|that|which|who|while|after|before)\b", re.IGNORECASE)
_ELSEWHERE = re.compile(  # about another bill or another time
    r"\bthen-|\b(?:previously|previous|prior(?!\s+to)|former|formerly|similar)\b|\blast\s+(?:year|session|summer|spring)\b"
    r"|\bin\s+recent\s+years\b",
    re.IGNORECASE,
)
_BILLISH = re.compile(r"\b(?:bills?|measures?|legislation|proposals?|act|it)\b", re.IGNORECASE)
_GOVERNOR = re.compile(r"(?<!lieutenant )(?<!lt\. )(?<!lt )\bgov(?:ernor|\.)", re.IGNORECASE)
_NOW = re.compile(r"\bthis\s+(?:year|session|week|month)\b", re.IGNORECASE)
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_MENTION = re.compile(
    r"\b(house|senate|assembly)\s+(bill|file|joint\s+resolution|resolution)\s+(?:\(\w+\)\s+)?(?:no\.\s*)?(\d+[a-z]?)\b"
    r"|\b([HS]\.?\s?[BF]|A\.?\s?B|HJR|SJR|LD)\.?\s*(\d+[a-z]?)\b",
    re.IGNORECASE,
)
_SHORT = {"house bill": "HB", "senate bill": "SB", "assembly bill": "AB", "house file": "HF", "senate file": "SF",
          "house joint resolution": "HJR", "senate joint resolution": "SJR", "house resolution": "HR",
          "senate resolution": "SR"}  # fmt: skip
_MONTHS = {m: n for n, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}  # fmt: skip
_MONTH_DAY = re.compile(
    r"\b(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?"
    r"|nov(?:ember)?|dec(?:ember)?)\b\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s+(\d{4}))?",
    re.IGNORECASE,
)
_LATER = re.compile(r"\b(?:effect|effective|until|deadline|by|before|through)\s+(?:on\s+)?$", re.IGNORECASE)
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY = re.compile(rf"\b({'|'.join(_WEEKDAYS)}|today|yesterday)\b", re.IGNORECASE)
_CLASSIFICATION = {
    "introduced": "introduction", "passage": "passage", "passed_legislature": "enrolled",
    "sent_to_governor": "executive-receipt", "enacted": "became-law", "vetoed": "executive-veto",
    "override": "veto-override-passage", "failed": "failure",
}  # fmt: skip


def actions_from_prose(
    text: str, *, published: str | None = None, identifier: str | None = None
) -> list[dict[str, Any]]:
    """Actions {"date", "description", "classification", "chamber"} from a page's sentences, in page order.
    `published` is the page's date ("2025-06-20", or "2025-06" when only the month is known); `identifier` the
    watched bill ("SB 8"): a sentence that names no bill is about the bill the last one named (or the page's bill),
    and sentences about other bills are skipped."""
    watched = _normal(identifier) if identifier else None
    year = published[:4] if published and re.match(r"\d{4}", published) else None
    actions = []
    subject: set[str] = set()  # the bills the last sentence naming any was about
    # the text is telling of another time ("Last year, ... The bill passed the House floor")
    elsewhere = False
    for sentence in sentences(text):
        named = {_mention(m) for m in _MENTION.finditer(sentence)}
        subject = named or subject
        if named or _MONTH_DAY.search(sentence) or _WEEKDAY.search(sentence) or _NOW.search(sentence):
            elsewhere = False
        if _ELSEWHERE.search(sentence) or year and any(y < year for y in _YEAR.findall(sentence)):
            elsewhere = True
        if elsewhere or watched and subject and watched not in subject:
            continue
        ours = bool(watched and watched in named)
        kind = next(
            (
                k
                for k, match in text_matches(sentence)
                if not _foreseen(sentence, match.start()) and _whose(k, sentence, match.start(), ours)
            ),
            None,
        )
        if kind is None:
            continue
        actions.append({"date": _date(sentence, published), "description": sentence,
                        "classification": [_CLASSIFICATION[kind]], "chamber": chamber_of({"description": sentence})})  # fmt: skip
    return actions


def sentences(text: str) -> list[str]:
    """The text's sentences and ";" clauses (a line is at least one: headings, list items), not split after "Gov."
    or "U.S."."""
    out: list[str] = []
    for line in text.splitlines():
        pieces = _BOUNDARY.split(" ".join(line.split()))
        start = len(out)
        for piece in filter(None, pieces):
            if len(out) > start and _ABBREVIATION.search(out[-1]):
                out[-1] = f"{out[-1]} {piece}"
            else:
                out.append(piece)
    return out


def _foreseen(sentence: str, start: int) -> bool:
    """A forecast, condition or denial word in the same clause, in the 60 characters before the stage words."""
    before = sentence[max(0, start - 60) : start]
    clauses = list(_CLAUSE.finditer(before))
    return bool(_NOT_YET.search(before[clauses[-1].end() :] if clauses else before))


def _whose(kind: str, sentence: str, start: int, ours: bool) -> bool:
    """An enactment, veto or death told of the bill: the sentence names it, or a bill is the subject ("the bill
    died", "two of the bills Stein vetoed"), or (not for a death) a governor acts. "President Trump signed the
    Laken Riley Act into law", "a detainee died", "states have enacted laws" are not."""
    if kind not in ("enacted", "vetoed", "failed") or ours:
        return True
    if _BILLISH.search(sentence[max(0, start - 60) : start]):
        return True
    return kind != "failed" and bool(_GOVERNOR.search(sentence))


def _normal(identifier: str) -> str:
    letters, number = re.match(r"([A-Z]*)(.*)", re.sub(r"[^A-Z0-9]", "", identifier.upper())).groups()  # type: ignore[union-attr]
    return letters + _number(number)


def _mention(match: re.Match[str]) -> str:
    if match.group(1):
        kind = " ".join(f"{match.group(1)} {match.group(2)}".lower().split())
        return f"{_SHORT.get(kind, kind[:1].upper() + 'B')}{_number(match.group(3))}"
    return f"{re.sub(r'[^A-Z]', '', match.group(4).upper())}{_number(match.group(5))}"


def _number(text: str) -> str:
    return text.upper().lstrip("0")


def _date(sentence: str, published: str | None) -> str | None:
    """The date a sentence gives: "on March 31" (the page's year), "Tuesday" (the last one on or before the
    page's date), else None."""
    explicit = next(
        (m for m in _MONTH_DAY.finditer(sentence) if not _LATER.search(sentence[: m.start()])), None
    )
    year = explicit and (explicit.group(3) or (published or "")[:4])
    if explicit and year and year.isdigit():
        month, day_of_month = _MONTHS[explicit.group(1)[:3].lower()], int(explicit.group(2))
        try:
            when = date(int(year), month, day_of_month)
            # no year said and later than the page: last year's ("on Dec. 30" in a January article)
            if not explicit.group(3) and published and when.isoformat()[: len(published)] > published:
                when = date(int(year) - 1, month, day_of_month)
        except ValueError:  # "Feb. 30", or Feb. 29 of a year without one
            return None
        return when.isoformat()
    day = _WEEKDAY.search(sentence)
    if not (day and published and re.fullmatch(r"\d{4}-\d{2}-\d{2}", published)):
        return None
    anchor = date.fromisoformat(published)
    word = day.group(1).lower()
    if word in ("today", "yesterday"):
        return (anchor - timedelta(days=word == "yesterday")).isoformat()
    return (anchor - timedelta(days=(anchor.weekday() - _WEEKDAYS.index(word)) % 7)).isoformat()
