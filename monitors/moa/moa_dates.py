"""Dates as MOAs write them, typed or OCR'd: "March 3, 2025", "OCT 1 5 2019", "2/26/2025", "2020.06.23"."""

from __future__ import annotations

import re
from datetime import date

_MONTHS = {
    name: number
    for number, names in enumerate(
        ["jan january", "feb february", "mar march", "apr april", "may", "jun june", "jul july", "aug august",
         "sep sept september", "oct october", "nov november", "dec december"], start=1
    )
    for name in names.split()
}  # fmt: skip
# OCR splits digits ("1 5" for 15) and drops commas; a day is one or two digits with at most one space between.
_NAMED = re.compile(r"\b([A-Za-z]{3,9})\.?\s+(\d\s?\d?)(?:st|nd|rd|th)?\s*,?\s+((?:19|20)\d\d)\b")
_NUMERIC = re.compile(r"(?<![\d/])(\d{1,2})\s?[/-]\s?(\d{1,2})\s?[/-]\s?(\d{4}|\d{2})(?![\d/])")
# Digital-signature stamps "2020.06.24 10:01:06"; in OCR'd layers the year loses digits ("~~020.06.2410:01"),
# and the time that follows is what shows it is a stamp.
_DOTTED = re.compile(r"\b((?:19|20)\d\d)\.(\d\d)\.(\d\d)\b")
_STAMP = re.compile(r"(?<!\d)\d?(\d\d)\.(\d\d)\.(\d\d)\s?\d\d:\d\d")
FIRST_YEAR, LAST_YEAR = 2000, 2035  # the program's agreements; anything else is a misread


def _valid(year: int, month: int, day: int) -> str | None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return None
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def find_dates(text: str) -> list[tuple[int, str]]:
    """(offset, ISO date) of every plausible date in `text`, in order of appearance."""
    found: list[tuple[int, str]] = []
    for match in _NAMED.finditer(text):
        month = _MONTHS.get(match.group(1).lower())
        if month:
            iso = _valid(int(match.group(3)), month, int(match.group(2).replace(" ", "")))
            if iso:
                found.append((match.start(), iso))
    for match in _NUMERIC.finditer(text):
        month, day, year = (int(g) for g in match.groups())
        iso = _valid(year + 2000 if year < 100 else year, month, day)
        if iso:
            found.append((match.start(), iso))
    for match in _DOTTED.finditer(text):
        iso = _valid(*(int(g) for g in match.groups()))
        if iso:
            found.append((match.start(), iso))
    for match in _STAMP.finditer(text):
        year, month, day = (int(g) for g in match.groups())
        iso = _valid(2000 + year, month, day)
        if (
            iso
            and (match.start(), iso) not in found
            and not any(iso == f and abs(o - match.start()) < 4 for o, f in found)
        ):
            found.append((match.start(), iso))
    return sorted(found)
