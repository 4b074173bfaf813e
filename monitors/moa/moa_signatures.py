"""Who signed and when: the signature blocks after "By signing this MOA" (and "... this addendum").

Signatures themselves are images; what the text gives is the printed name and title under them, the dates
typed or written beside them, and digital-signature stamps ("Digitally signed by Mark Lowe Date: 2020.06.23").
A party's name or date the text does not give is None, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from monitors.ice.names import clean_text
from monitors.moa.moa_dates import find_dates

_BLOCK_START = re.compile(r"By\s+signing\s+this\s+(MOA|addendum)", re.IGNORECASE)
_BLOCK_END = re.compile(r"^\s*(APPENDIX\b|ADDENDUM\b)", re.MULTILINE)
# The stamp's name may follow a line of OCR noise; within the name, words are separated by single spaces.
_DIGITAL = re.compile(r"Digitally\s+signed\s+by[\s\W]*([A-Z][A-Za-z.'-]*(?: [A-Z][A-Za-z.'-]*){1,3})")
_REVISION_FOOTER = re.compile(r"\bRev(?:ised|\.)?\s*\d{1,2}/\d{1,2}/\d{2,4}")
# 2025 template: two columns headed "For the LEA:" and "For ICE:" (in either order) on one line, or, in OCR
# of a scan, one header and its column after the other.
_HEADER = re.compile(r"For\s+(the\s+LEA|ICE)\s*:", re.IGNORECASE)
_DATE_LABEL = re.compile(r"\b[DdPp]ate\s*[:.,]")  # OCR reads "Date:" as "pate," too
_NAME_LABEL = re.compile(r"\bName\s*[:.·]")
_COLUMNS = re.compile(r"For\s+(the\s+LEA|ICE)\s*:?\s+For\s+(the\s+LEA|ICE)", re.IGNORECASE)
_ICE_WORDS = re.compile(r"Immigration\s+(?:and|&)\s+Customs|Enforcement\s+and\s+Removal|\bICE\b|Homeland")
_LEA_WORDS = re.compile(
    r"Sheriff|Police|County|Department|Detention|\bLEA\b|Chief|Commissioner", re.IGNORECASE
)
# "Timothy S. Robbins", "Walt McNeil", and the initials of "C.M. Cronen" / "C. M. Cronen".
_NAME_LINE = re.compile(
    r"^(?:[A-Z][a-z]+\.?|(?:[A-Z]\.\s?){1,2}[A-Z][a-z]+)(?:\s+[A-Z]\.?)?(?:\s+[A-Z][A-Za-z'-]+){0,2}$"
)
# The signatory's title printed under the name: what shows the line above is a signatory's name.
_TITLE_LINE = re.compile(
    r"^(?:Sheriff|Jailer|Chief|Assistant Director|Acting|Director|Executive|Superintendent)\b"
)
_NOT_NAMES = re.compile(r"Sheriff|Office|Director|County|Department|Enforcement|Security|Agency|Date|Title")
BLOCK_CHARS = 1600  # a signature block is ~400-1,200 characters; anything later is the next section


def signature_blocks(text: str) -> list[tuple[str, str]]:
    """(what is signed: "MOA" or "addendum", the block's text) in document order."""
    blocks = []
    for match in _BLOCK_START.finditer(text):
        body = _REVISION_FOOTER.sub(" ", text[match.end() : match.end() + BLOCK_CHARS])  # a page footer
        end = _BLOCK_END.search(body)
        blocks.append(
            (
                match.group(1).upper() if match.group(1).upper() == "MOA" else "addendum",
                body[: end.start() if end else None],
            )
        )
    return blocks


def signatures(text: str) -> list[dict[str, str | None]]:
    """Each signature found: {"document": "MOA"|"addendum", "party": "ICE"|"LEA", "name", "date"}."""
    found: list[dict[str, str | None]] = []
    for document, block in signature_blocks(text):
        found.extend({"document": document, **signature} for signature in _block_signatures(block))
    return found


def _block_signatures(block: str) -> list[dict[str, str | None]]:
    columns = _COLUMNS.search(block)
    if columns:
        return _column_signatures(
            block[columns.end() :], [_party(columns.group(1)), _party(columns.group(2))]
        )
    headers = list(_HEADER.finditer(block))
    if len(headers) >= 2:  # the columns read one after the other (OCR of a scan): each header opens its part
        parts = [(_party(h.group(1)), block[h.end() : nxt.start() if nxt else None])
                 for h, nxt in zip(headers, [*headers[1:], None], strict=True)]  # fmt: skip
        return [
            {
                "party": party,
                "name": _labelled_name(part) or _printed_name("\n" + part),
                "date": _first_date(part),
            }
            for party, part in parts
        ]
    return _stacked_signatures(block)


def _party(header: str) -> str:
    return "ICE" if header.strip().upper() == "ICE" else "LEA"


def _first_date(text: str) -> str | None:
    dates = find_dates(text)
    return dates[0][1] if dates else None


def _column_signatures(block: str, parties: list[str]) -> list[dict[str, str | None]]:
    """2025 template, two columns on each line: "Date: 3/12/25   Date: March 25, 2025". A line with two
    labels is split at the second; lines with one label count in turn (OCR sometimes splits a row)."""
    dates = _column_values(block, _DATE_LABEL, _first_date)
    names = _column_values(block, _NAME_LABEL, _name_value)
    found: list[dict[str, str | None]] = []
    for index, party in enumerate(parties):
        date_value = dates[index] if index < len(dates) else None
        name = names[index] if index < len(names) else None
        if date_value or name:
            found.append({"party": party, "name": name, "date": date_value})
    return found


def _column_values(
    block: str, label: re.Pattern[str], value: Callable[[str], str | None]
) -> list[str | None]:
    cells: list[str] = []
    for line in block.splitlines():
        starts = [m.end() for m in label.finditer(line)]
        if len(starts) >= 2:
            cells += [line[starts[0] : label.search(line, starts[0]).start()], line[starts[1] :]]  # type: ignore[union-attr]
        elif starts:
            cells.append(line[starts[0] :])
    return [value(cell) for cell in cells[:2]]


def _labelled_name(part: str) -> str | None:
    for line in part.splitlines():
        match = _NAME_LABEL.search(line)
        if match and (name := _name_value(line[match.end() :])):
            return name
    return None


def _name_value(cell: str) -> str | None:
    """A printed name after "Name:": OCR's underscores, bars and stray marks trimmed; two words or more."""
    words = [w for w in re.split(r"[\s_|]+", cell) if re.fullmatch(r"[A-Za-z][A-Za-z.'-]*", w)]
    return " ".join(words) if len(words) >= 2 and not _NOT_NAMES.search(" ".join(words)) else None


def _stacked_signatures(block: str) -> list[dict[str, str | None]]:
    """2019/2020 templates: one signatory after another, each a date, a printed name and a title whose
    words say the party (ICE's officials name ICE; the sheriff names the office)."""
    found: list[dict[str, str | None]] = []
    for offset, iso in find_dates(block):
        after = block[offset : offset + 260]
        party = "ICE" if _ICE_WORDS.search(after) and not re.search(r"Sheriff\b", after[:120]) else "LEA"
        if found and found[-1]["date"] == iso and found[-1]["party"] == party:
            continue  # the same date read twice (a stamp and its typed copy)
        stamp = _DIGITAL.search(block[max(0, offset - 160) : offset])  # "Digitally signed by X Date: ..."
        name = clean_text(stamp.group(1)) if stamp else _printed_name(after)
        found.append({"party": party, "name": name, "date": iso})
    return found + _undated_signatories(block, {str(s["name"]) for s in found if s["name"]})


def _undated_signatories(block: str, known: set[str]) -> list[dict[str, str | None]]:
    """Printed names above a title line whose date could not be read (handwriting): the name, no date."""
    lines = [clean_text(line).strip(" ,") for line in block.splitlines()]
    found: list[dict[str, str | None]] = []
    for index, line in enumerate(lines[:-1]):
        if line in known or not _TITLE_LINE.match(lines[index + 1]):
            continue
        if _NAME_LINE.match(line) and not _NOT_NAMES.search(line) and len(line.split()) >= 2:
            party = "ICE" if _ICE_WORDS.search(" ".join(lines[index + 1 : index + 5])) else "LEA"
            found.append({"party": party, "name": line, "date": None})
    return found


def _printed_name(after_date: str) -> str | None:
    """The first line after a date that looks like a person's name (two to four capitalised words)."""
    for line in after_date.splitlines()[1:6]:
        line = clean_text(line).strip(" ,")
        if _NAME_LINE.match(line) and not _NOT_NAMES.search(line):
            return line
    return None
