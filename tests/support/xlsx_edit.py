"""Minimal, targeted edits of real ICE .xlsx files, for cases that no archived file shows.

Each helper takes the bytes of a real workbook and returns new bytes with one change to the first worksheet
(its XML, its shared strings or its hyperlink relationships); every other zip member is copied unchanged.
Edits are exact: text or cells that are not found raise ValueError, so a fixture that drifts cannot silently
stop testing anything.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable
from xml.sax.saxutils import escape, quoteattr

SHARED_STRINGS = "xl/sharedStrings.xml"
SHEET = "xl/worksheets/sheet1.xml"
SHEET_RELS = "xl/worksheets/_rels/sheet1.xml.rels"

_CELL_REF = re.compile(r"([A-Z]{1,3})([0-9]+)")


def read_part(data: bytes, name: str) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return zf.read(name).decode("utf-8")


def rewrite_parts(data: bytes, changes: dict[str, str]) -> bytes:
    """The workbook with the given members replaced (same order, same compression for the others)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        unknown = set(changes) - set(src.namelist())
        if unknown:
            raise ValueError(f"no such zip member(s): {sorted(unknown)}")
        for info in src.infolist():
            body = changes[info.filename].encode("utf-8") if info.filename in changes else src.read(info)
            dst.writestr(info, body, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def replace_text(data: bytes, old: str, new: str, *, count: int | None = None) -> bytes:
    """Replace a shared string whose whole text is `old` by `new` (every cell using it changes).

    `count`, when given, is how many `<t>` elements must match (a shared string normally occurs once).
    """
    xml = read_part(data, SHARED_STRINGS)
    pattern = re.compile(r"<t(?:\s[^>]*)?>" + re.escape(escape(old)) + r"</t>")
    found = len(pattern.findall(xml))
    if not found or (count is not None and found != count):
        raise ValueError(f"shared string {old!r} found {found} times (expected {count or 'some'})")
    replacement = f'<t xml:space="preserve">{escape(new)}</t>'
    return rewrite_parts(data, {SHARED_STRINGS: pattern.sub(lambda _m: replacement, xml)})


def replace_hyperlink(data: bytes, old_url: str, new_url: str) -> bytes:
    """Point the hyperlink(s) whose relationship target is exactly `old_url` at `new_url`."""
    xml = read_part(data, SHEET_RELS)
    old_attr, new_attr = f"Target={quoteattr(old_url)}", f"Target={quoteattr(new_url)}"
    if old_attr not in xml:
        raise ValueError(f"no hyperlink target {old_url!r}")
    return rewrite_parts(data, {SHEET_RELS: xml.replace(old_attr, new_attr)})


def _cell_pattern(ref: str) -> re.Pattern[str]:
    return re.compile(r'<c r="' + re.escape(ref) + r'"([^>]*?)(?:/>|>(.*?)</c>)', re.DOTALL)


def set_cell(data: bytes, ref: str, value: str | int | float) -> bytes:
    """Rewrite one existing cell (e.g. "B12") as an inline string or a number, keeping its style."""
    xml = read_part(data, SHEET)
    pattern = _cell_pattern(ref)
    match = pattern.search(xml)
    if not match:
        raise ValueError(f"no cell {ref} in {SHEET}")
    style = re.search(r'\ss="[^"]*"', match.group(1))
    attrs = f'r="{ref}"' + (style.group(0) if style else "")
    if isinstance(value, str):
        cell = f'<c {attrs} t="inlineStr"><is><t xml:space="preserve">{escape(value)}</t></is></c>'
    else:
        cell = f"<c {attrs}><v>{value!r}</v></c>"
    return rewrite_parts(data, {SHEET: xml[: match.start()] + cell + xml[match.end() :]})


def drop_rows(data: bytes, rows: Iterable[int]) -> bytes:
    """Delete whole sheet rows by their Excel row number (later rows keep their numbers)."""
    xml = read_part(data, SHEET)
    for number in sorted(set(rows)):
        pattern = re.compile(r'<row r="' + str(number) + r'"[^>]*?(?:/>|>.*?</row>)', re.DOTALL)
        xml, found = pattern.subn("", xml, count=1)
        if not found:
            raise ValueError(f"no row {number} in {SHEET}")
    return rewrite_parts(data, {SHEET: xml})


def keep_rows(data: bytes, last_row: int) -> bytes:
    """Delete every sheet row after `last_row` (keep_rows(data, 1) leaves only the header)."""
    xml = read_part(data, SHEET)
    numbers = [int(n) for n in re.findall(r'<row r="([0-9]+)"', xml)]
    return drop_rows(data, [n for n in numbers if n > last_row])


def drop_column(data: bytes, column: str) -> bytes:
    """Delete every cell of one column (e.g. "E"), header included; the other columns do not move."""
    xml = read_part(data, SHEET)
    pattern = re.compile(r'<c r="' + re.escape(column) + r'[0-9]+"[^>]*?(?:/>|>.*?</c>)', re.DOTALL)
    xml, found = pattern.subn("", xml)
    if not found:
        raise ValueError(f"no cells in column {column}")
    return rewrite_parts(data, {SHEET: xml})


def column_letter(index: int) -> str:
    """0 -> "A", 25 -> "Z", 26 -> "AA"."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
