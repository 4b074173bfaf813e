"""Cell values of a workbook's first sheet: calamine, reading a bounded copy of parts that were checked already.

A pure-Python pass over the sheet XML (regex + loop) is no faster than calamine here (bench/README.md), so calamine
stays. But it trusts numbers in the XML: before it returns, it allocates the sheet's whole grid from A1, and room for
`uniqueCount` shared strings; and a failed allocation in Rust aborts the process instead of raising, as a 1 KB sheet
with one cell at XFD1048576 did. So calamine gets an uncompressed copy of just the parts it reads, and each part's
cells and strings are bounded here first.
"""

from __future__ import annotations

import functools
import io
import operator
import re
import struct
from typing import cast

from python_calamine import CalamineWorkbook

from monitors.base import ParseError

_MAX_GRID = 4_000_000  # cells from A1, all allocated by calamine up front (~400x the largest ICE list)
_MAX_STRINGS = 2**24  # more shared strings than a 64 MiB part can hold
_MAX_TAGS = 1_000_000  # read one by one to place cells in a sheet not in Excel's spelling (~1-2 s here)
# The parts calamine reads (looked up ignoring case) for the first sheet's values, besides that sheet.
_CALAMINE_PARTS = frozenset(
    [
        "[content_types].xml",
        "_rels/.rels",
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "xl/sharedstrings.xml",
        "xl/styles.xml",
    ]
)
# Start-tag attributes in any order and quoting; possessive, so that a malformed tag cannot backtrack.
ATTRS = r"((?:\s+[^\s=/>]++\s*=\s*(?:\"[^\"]*+\"|'[^']*+'))*+)\s*"
_ATTR = re.compile(r"\s+([^\s=/>]++)\s*=\s*(?:\"([^\"]*+)\"|'([^']*+)')")  # one by one, in ATTRS' text
# A cell tag, prefixed or not, other than Excel's `<c r="A1"` to `<c r="Z99999"` (searched from each "c": that is fast).
_UNUSUAL_CELL = re.compile(r'c(?! r="[A-Z][0-9]{1,5}")(?<=[<:]c)')
_FAST_CELL = re.compile(r'<c r="([A-Z]{1,3}+)([0-9]{1,7}+)"')  # cells in Excel's spelling
_SHEET_DATA = re.compile(r"<(?:[^\s:/<>\"'=]++:)?sheetData(?=[\s/>])")
# Any tag (with any prefix); a processing instruction, comment or CDATA section; or else a `<` that starts none of
# them (the last group). Read in turn, so that a `<!--` in an attribute value is no comment, as for calamine.
_ANY_TAG = re.compile(
    r"<(?:(/?)(?:[^\s:/<>\"'=]++:)?([^\s:/<>\"'=]++)" + ATTRS + r"(/?)>"
    r"|\?(?:[^?]++|\?(?!>))*+\?>|!--(?:[^-]++|-(?!->))*+-->|!\[CDATA\[(?:[^\]]++|\](?!\]>))*+\]\]>|(.))",
    re.DOTALL,
)
_UNIQUE_COUNT = re.compile(rb"uniqueCount\s*=\s*[\"']0*+([0-9]{8,})[\"']")
_REF = re.compile(r"([A-Za-z]*+)([0-9]++)")


def calamine_rows(parts: dict[str, bytes], crcs: dict[str, int], name: str, path: str) -> list[list[object]]:
    """calamine's values of the first sheet (`name`, at `path`), less trailing empty rows; `parts` and their CRCs
    are all the zip's members, checked."""
    return _calamine_rows(_stored_copy(parts, crcs, path), name)


def _stored_copy(parts: dict[str, bytes], crcs: dict[str, int], path: str) -> bytes:
    """The parts calamine reads, bounded, as an uncompressed zip (by hand: zipfile's writer costs more than it saves).

    Member names are unique ignoring case, so calamine's lookups find these or nothing; wherever calamine's path
    to the first sheet leads among them, that part's cells are bounded."""
    wanted = _CALAMINE_PARTS | {path.lower()}
    given = {name: content for name, content in parts.items() if name.lower() in wanted}
    for name, content in given.items():
        if b"sheetData" in content:
            try:  # as it is: comments and CDATA may hide cells from a reader less careful than calamine
                _check_extent(content.decode("utf-8-sig"), name)
            except UnicodeDecodeError as exc:
                raise ParseError(f"{name} is not UTF-8 ({exc})") from exc
        if b"uniqueCount" in content and any(
            int(n[1]) > _MAX_STRINGS for n in _UNIQUE_COUNT.finditer(content)
        ):
            raise ParseError(f"{name} declares more than {_MAX_STRINGS} shared strings")
    chunks: list[bytes] = []
    directory: list[bytes] = []
    offset = 0
    for name, content in given.items():
        encoded = name.encode()
        # UTF-8 names, stored, 1980-01-01, CRC, sizes, name length
        fields = (0x800, 0, 0, 0x21, crcs[name], len(content), len(content), len(encoded))
        directory += (struct.pack("<4s6H3L5H2L", b"PK\1\2", 20, 20, *fields, 0, 0, 0, 0, 0, offset), encoded)
        chunks += (struct.pack("<4s5H3L2H", b"PK\3\4", 20, *fields, 0), encoded, content)
        offset += 30 + len(encoded) + len(content)
    sizes = (len(given), len(given), sum(map(len, directory)), offset)
    return b"".join([*chunks, *directory, struct.pack("<4s4H2LH", b"PK\5\6", 0, 0, *sizes, 0)])


def _check_extent(xml: str, path: str) -> None:
    """Refuse a sheet whose cells, placed as calamine places them, would span more than _MAX_GRID cells from A1.

    Cells are streamed, never listed, so memory stays small whatever the sheet."""
    # From the first `<sheetData` on, at or before calamine's start, to the last "sheetData", at or after its end.
    start = _SHEET_DATA.search(xml)
    end = xml.rfind("sheetData", start.end()) if start else -1
    span = (start.end(), end if end >= 0 else len(xml)) if start else (0, 0)
    if not _UNUSUAL_CELL.search(xml, *span):
        return  # the usual case: each cell is somewhere in A1:Z99999, which is small enough
    if (
        xml.find(":c", *span) < 0
        and xml.count("<c", *span) <= _MAX_TAGS
        and _fits_in_excel_spelling(xml, span)
    ):
        return
    height, width = _placed_extent(xml, path)
    if height * width > _MAX_GRID:
        raise ParseError(f"{path}: cells span {height} rows x {width} columns (max {_MAX_GRID} cells)")


def _fits_in_excel_spelling(xml: str, span: tuple[int, int]) -> bool:
    """Whether every cell is in Excel's spelling, and all of them, even empty, lie within _MAX_GRID cells from A1."""
    cells = functools.partial(_FAST_CELL.finditer, xml, *span)
    if sum(1 for _ in cells()) != xml.count("<c", *span):
        return False
    height = max(map(int, map(operator.itemgetter(2), cells())), default=0)
    width = max(map(column, set(map(operator.itemgetter(1), cells()))), default=-1) + 1
    return height * width <= _MAX_GRID


def _placed_extent(xml: str, path: str) -> tuple[int, int]:
    """Height and width from A1 of the non-empty cells, read tag by tag as calamine does, in any spelling.

    A cell without `r` goes after the previous cell, in the row after the previous row or at the row's `r`. A
    self-closing cell is empty; any other counts, so the bound is safe, if at times generous. Past _MAX_TAGS tags,
    the sheet is refused."""
    height = width = row = col = 0
    inside = False
    for count, tag in enumerate(_ANY_TAG.finditer(xml)):
        end_tag, name, attrs, empty, bad = tag.groups("")
        if bad:
            raise ParseError(f"{path}: a '<' that starts no tag calamine would read alike")
        if count > _MAX_TAGS:
            raise ParseError(f"{path}: more than {_MAX_TAGS} tags to place cells by")
        if end_tag and (attrs or empty):
            continue  # to calamine, an end tag of some other name
        if name == "sheetData" and (end_tag if inside else empty):
            break  # the cells end at the first end of sheetData
        if not inside:
            inside = name == "sheetData" and not end_tag
            continue
        ref = "" if end_tag or name not in ("row", "c") else _r(attrs)
        if (place := _REF.fullmatch(ref)) and (len(place[1]) > 3 or len(place[2]) > 7):
            raise ParseError(f"{path}: cell reference {ref!r} is out of range")
        if name == "row":
            row = int(place[2]) - 1 if place else row
            row, col = (row + 1, 0) if end_tag or empty else (row, col)
        elif name == "c" and not end_tag and (place and place[1] or not ref):  # else calamine refuses it
            row_at, col_at = (int(place[2]) - 1, column(place[1])) if place else (row, col)
            col = col_at + 1
            if not empty:
                height, width = max(height, row_at + 1), max(width, col_at + 1)
    return height, width


def _calamine_rows(data: bytes, name: str) -> list[list[object]]:
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        if workbook.sheet_names[:1] != [name]:
            raise ParseError(f"calamine's first sheet {workbook.sheet_names[:1]} is not {name!r}")
        rows = cast(list[list[object]], workbook.get_sheet_by_index(0).to_python(skip_empty_area=False))
    except ParseError:
        raise
    except Exception as exc:
        raise ParseError(f"calamine could not read the workbook: {exc}") from exc
    except BaseException as exc:  # a Rust panic arrives as pyo3's PanicException, a BaseException
        if type(exc).__name__ != "PanicException":
            raise
        raise ParseError(f"calamine crashed reading the workbook: {exc}") from exc
    while rows and all(value == "" for value in rows[-1]):
        rows.pop()
    return rows


@functools.lru_cache(maxsize=1024)
def column(letters: str) -> int:
    """Zero-based index of a column's letters: A is 0, AA is 26."""
    index = 0
    for letter in letters.upper():
        index = index * 26 + ord(letter) - 64
    return index - 1


def _r(attrs: str) -> str:
    """The raw value of the `r` attribute in a start tag's attribute text, or ""."""
    return next((dq or sq for name, dq, sq in _ATTR.findall(attrs) if name == "r"), "")
