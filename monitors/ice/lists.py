"""ICE's participating / pending spreadsheets -> canonical records (pure; golden-tested on real files).

Columns are found by header name (they move between lists); the MOA link is read from the cell's hyperlink;
hidden rows are data. Rows that cannot be keyed are reported as warnings, never silently dropped.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from monitors.base import ParseError
from monitors.ice.names import agency_key, clean_text, signed_date, state_code, support_model, unwrap_url
from monitors.xlsx import Sheet, read_first_sheet

PARSER_VERSION = "ice_lists/2"  # 2: control and format characters removed, long fields cut

# header text (cleaned, upper case) -> field name
_HEADER_ALIASES = {
    "STATE": "state", "LAW ENFORCEMENT AGENCY": "agency", "AGENCY": "agency", "TYPE": "type",
    "AGENCY TYPE": "type", "COUNTY": "county", "SUPPORT TYPE": "model", "SUPPORT MODEL": "model",
    "MODEL": "model", "SIGNED": "signed", "DATE SIGNED": "signed", "MOA": "moa", "ADDENDUM": "addendum",
}  # fmt: skip
REQUIRED_COLUMNS = ("state", "agency", "model")
AGENCY_TYPES = ("County", "Municipality", "State Agency", "Tribal", "Federal")
# Longest text kept per field (the longest real agency name is under 100 characters): a 100,000-character
# cell would otherwise be stored, alerted and laid out as it is. A longer value is cut, with a warning.
FIELD_LIMIT = 300
URL_LIMIT = 2000

# Fields that make up an agreement's content; `row` and `hidden` are layout, not content.
CONTENT_FIELDS = (
    "agency",
    "type",
    "county",
    "signed",
    "signed_text",
    "moa_url",
    "moa_pending",
    "addendum_url",
)


@dataclass(frozen=True)
class ParsedList:
    shape: str  # "participating" (has SIGNED) or "pending" (no SIGNED column): what the bytes ARE
    columns: tuple[str, ...]  # header cells as found
    records: list[dict[str, Any]]
    warnings: list[str] = field(default_factory=list)
    hidden_rows: int = 0
    parser_version: str = PARSER_VERSION


def record_key(state: str, agency: str, model: str) -> str:
    """Identity of an agreement (or pending request): state, canonical agency name, model."""
    return f"{state}|{agency_key(agency)}|{model}"


def parse_list(data: bytes) -> ParsedList:
    sheet = read_first_sheet(data)
    header_index, columns = _find_header(sheet)
    fields = [_HEADER_ALIASES.get(clean_text(c).upper()) for c in columns]
    missing = [name for name in REQUIRED_COLUMNS if name not in fields]
    if missing:
        raise ParseError(f"expected columns missing: {', '.join(missing)} (header is {list(columns)})")
    shape = "participating" if "signed" in fields else "pending"
    present = frozenset(name for name in fields if name)
    columns_of = [(i, name) for i, name in enumerate(fields) if name]  # computed once, used per row
    link_columns = [(i, name) for i, name in columns_of if name in ("moa", "addendum")]
    records: list[dict[str, Any]] = []
    warnings: list[str] = []
    seen: dict[str, int] = {}
    for index in range(header_index + 1, len(sheet.rows)):
        row = sheet.rows[index]
        cells = {name: row[i] for i, name in columns_of if i < len(row)}
        if not any(clean_text(v) for v in cells.values()):
            continue
        links = {
            name: sheet.hyperlinks[(index, i)] for i, name in link_columns if (index, i) in sheet.hyperlinks
        }
        record, problem = _record(cells, links, index, index in sheet.hidden_rows, present)
        if not problem:
            warnings += [
                f"row {index + 1}: {name} longer than {limit} characters, cut" for name, limit in _cut(record)
            ]
        if problem:
            warnings.append(f"row {index + 1}: {problem}; row skipped")
        elif record["key"] in seen:
            warnings.append(f"row {index + 1}: duplicate of row {seen[record['key']]} ({record['agency']})")
        else:
            seen[record["key"]] = index + 1
            records.append(record)
    hidden = len(sheet.hidden_rows & set(range(header_index + 1, len(sheet.rows))))
    return ParsedList(shape, tuple(clean_text(c) for c in columns), records, warnings, hidden)


def _find_header(sheet: Sheet) -> tuple[int, list[object]]:
    """The first row (of the first ten) that names a state and an agency column."""
    for index, row in enumerate(sheet.rows[:10]):
        names = {_HEADER_ALIASES.get(clean_text(c).upper()) for c in row}
        if {"state", "agency"} <= names:
            return index, list(row)
    if not sheet.rows:
        raise ParseError("the spreadsheet is empty")
    raise ParseError(f"no header row with STATE and LAW ENFORCEMENT AGENCY (first row is {sheet.rows[0]!r})")


def _record(
    cells: dict[str, Any], links: dict[str, str], index: int, hidden: bool, present: frozenset[str]
) -> tuple[dict[str, Any], str | None]:
    """A record holds only the fields whose column this list has: a column ICE adds later (COUNTY,
    ADDENDUM) must not look like a change of every agreement."""
    agency = clean_text(cells.get("agency"))
    state = state_code(cells.get("state"))
    model = support_model(cells.get("model"))
    if not agency:
        return {}, "no agency name"
    if not state:
        return {}, f"unknown state {clean_text(cells.get('state'))!r}"
    if not model:
        return {}, f"unknown support type {clean_text(cells.get('model'))!r}"
    record: dict[str, Any] = {
        "key": record_key(state, agency, model),
        "state": state,
        "agency": agency,
        "model": model,
    }
    if "type" in present:
        record["type"] = agency_type(cells.get("type"))
    if "county" in present:
        record["county"] = clean_text(cells.get("county")) or None
    if "signed" in present:
        record["signed"], record["signed_text"] = signed_date(cells.get("signed"))
    if "moa" in present:
        moa_text = clean_text(cells.get("moa"))  # keep case: it may be the URL itself
        written_url = unwrap_url(moa_text) if moa_text.lower().startswith("http") else None
        moa_url = unwrap_url(links.get("moa")) or written_url
        record["moa_url"], record["moa_pending"] = moa_url, moa_url is None and "pending" in moa_text.lower()
    if "addendum" in present:
        record["addendum_url"] = unwrap_url(links.get("addendum"))
    record["row"], record["hidden"] = index + 1, hidden
    return record, None


def _cut(record: dict[str, Any]) -> list[tuple[str, int]]:
    """Cut over-long text fields in place (and re-key the record); the fields cut and their limits."""
    cut = []
    # Hot path (every row of every list): only strings past the smaller limit are looked at further.
    for name in [n for n, v in record.items() if type(v) is str and len(v) > FIELD_LIMIT and n != "key"]:
        limit = URL_LIMIT if name.endswith("_url") else FIELD_LIMIT
        if len(record[name]) > limit:
            record[name] = record[name][:limit].rstrip()
            cut.append((name, limit))
    if cut:
        record["key"] = record_key(record["state"], record["agency"], record["model"])
    return cut


@lru_cache(maxsize=1024)
def agency_type(value: object) -> str | None:
    """TYPE column in a closed vocabulary where it is recognisable ("Muncipality" -> "Municipality")."""
    text = clean_text(value)
    if not text or re.fullmatch(r"#?N/?A", text, flags=re.IGNORECASE):
        return None
    if text.lower() in ("state", "municipal"):
        return {"state": "State Agency", "municipal": "Municipality"}[text.lower()]
    close = difflib.get_close_matches(text.title(), AGENCY_TYPES, n=1, cutoff=0.8)
    return close[0] if close else text
