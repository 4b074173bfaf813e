"""Read the first worksheet of an untrusted .xlsx: cell values via calamine, hyperlinks and hidden rows from XML.

calamine exposes neither hyperlinks nor hidden rows, and openpyxl is >10x slower; a Python callback per cell is too
slow too. So the sheet XML is scanned with compiled regexes for just its `<row>` and `<hyperlink>` start tags, and
its rels for `<Relationship>`. Safety: the zip directory is checked before anything is inflated, every member is
inflated here under a hard cap, and calamine reads an uncompressed copy of just the checked parts it needs, whose
cell extent and string count are bounded first (monitors/xlsx_cells.py).
"""

from __future__ import annotations

import functools
import io
import operator
import posixpath
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass

from monitors.base import ParseError
from monitors.xlsx_cells import ATTRS, calamine_rows, column

_MIB = 2**20
_MAX_MEMBERS = 10_000
_MAX_LINK_CELLS = 5_000_000  # a work cap: ranges like A1:XFD1048576, repeated, must not hang us
_MAX_ROW = 1_048_576
# Start-tag attributes in any order and quoting; possessive, so that a malformed tag cannot backtrack.
_ATTRS = ATTRS + "/?>"
_ATTR = re.compile(r"([^\s=]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
# Excel's own spelling of the tags we need, read in one regex pass. Any other spelling of the tag matches the
# last alternative, whose group is then not empty: that sends the whole part to the generic path.
_FAST_ROW = re.compile(
    r'<row(?: r="([0-9]++)"(?: (?!hidden=)[\w:]++="[^"]*+")*+(?: hidden="([^"]*+)")?(?: [\w:]++="[^"]*+")*+/?>'
    r"|(.))",
    re.DOTALL,
)
_FAST_LINK = re.compile(
    r'<hyperlink(?: ref="([^"]*+)"(?: r:id="([^"]*+)")?(?: location="([^"]*+)")?'
    r'(?: (?:display|tooltip|xr:uid)="[^"]*+")*+/>|(.))',
    re.DOTALL,
)
_FAST_REL = re.compile(
    r'<Relationship(?: Id="([^"]*+)" Type="[^"]*+" Target="([^"]*+)"(?: TargetMode="[^"]*+")?/>|(.))',
    re.DOTALL,
)
_ROOT = re.compile(r"<([\w.-]++:)?[\w.-]++[\s/>]")
_CELL = re.compile(r"([A-Z]{1,3})([1-9][0-9]{0,6})")
_RANGE = re.compile(r"\s*\$?([A-Za-z]{1,3})\$?([0-9]{1,7})(?::\$?([A-Za-z]{1,3})\$?([0-9]{1,7}))?\s*")
_CHAR_REF = re.compile(r"&(?:#x([0-9a-fA-F]{1,6});|#([0-9]{1,7});|(amp|lt|gt|quot|apos);)?")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_UNSAFE = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_Span = tuple[int, int]  # [start, end) offsets in a text
_Parts = tuple[dict[str, bytes], dict[str, int]]  # contents and CRCs by zip member name
_SKIPPED = re.compile(r"<!--|<!\[CDATA\[")  # comments and CDATA may hold tag-like text


@dataclass(frozen=True)
class Sheet:
    """The first worksheet. A hyperlink is the URL as written in the rels (unescaped), and/or "#" + location."""

    name: str
    rows: list[list[object]]  # calamine values, "" for empty; row 0 is sheet row 1; no trailing empty rows
    hyperlinks: dict[tuple[int, int], str]  # (row, col), zero-based as in rows -> target
    hidden_rows: frozenset[int]  # rows hidden in the sheet XML (any beyond `rows` are left out)


def read_first_sheet(
    data: bytes, *, max_part_bytes: int = 64 * _MIB, max_total_bytes: int = 256 * _MIB, max_ratio: int = 200
) -> Sheet:
    """Values, hyperlinks and hidden rows of the first sheet in workbook order; ParseError for any bad input."""
    parts, crcs = _inflate_all(_open_zip(data), data, max_part_bytes, max_total_bytes, max_ratio)
    name, path = _first_sheet(parts)
    xml = _text(parts, path)
    rows = calamine_rows(parts, crcs, name, path)
    prefix = _root_prefix(xml)
    data_span = _content_span(xml, prefix, "sheetData")
    links_span = _content_span(xml, prefix, "hyperlinks", data_span[1])
    folder, filename = posixpath.split(path)
    targets = _relationships(parts, posixpath.join(folder, "_rels", filename + ".rels"))
    hidden = _hidden_rows(xml, prefix, data_span)
    return Sheet(
        name=name,
        rows=rows,
        hyperlinks=_hyperlinks(xml, prefix, links_span, targets, len(rows), max(map(len, rows), default=0)),
        hidden_rows=frozenset(i for i in hidden if 0 <= i < len(rows)),
    )


def _open_zip(data: bytes) -> zipfile.ZipFile:
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if not data:
        raise ParseError("not an xlsx file: empty body")
    if head.startswith(b"<"):
        kind = "HTML" if b"<html" in head or b"<!doctype html" in head else "XML"
        raise ParseError(f"not an xlsx file: the body looks like {kind}")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ParseError("not an xlsx file: the body is OLE2 (a legacy .xls, or an encrypted xlsx)")
    if not data.startswith(b"PK\x03\x04"):
        raise ParseError(f"not an xlsx file: the body does not start with a zip signature ({data[:16]!r})")
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except Exception as exc:  # zipfile is pure Python: whatever it raises means a corrupt directory
        raise ParseError(f"not an xlsx file: truncated or corrupt zip ({exc})") from exc


def _inflate_all(zf: zipfile.ZipFile, data: bytes, max_part: int, max_total: int, max_ratio: int) -> _Parts:
    """Check the declared sizes of all members first; then inflate each, never past its declared size."""
    infos = [info for info in zf.infolist() if not info.is_dir()]
    if len(infos) > _MAX_MEMBERS or len({info.filename.lower() for info in infos}) != len(infos):
        raise ParseError(
            "not an xlsx file: too many or duplicate zip members (names are compared ignoring case)"
        )
    for info in infos:
        if info.file_size > max_part:
            raise ParseError(f"zip member {info.filename!r} declares {info.file_size} bytes (max {max_part})")
        if info.file_size > _MIB and info.file_size > max_ratio * max(info.compress_size, 1):
            raise ParseError(f"zip member {info.filename!r} compresses more than {max_ratio}:1 (zip bomb?)")
    if sum(info.file_size for info in infos) > max_total:
        raise ParseError(f"zip members declare more than {max_total} bytes in all (zip bomb?)")
    return {i.filename: _inflate(i, data) for i in infos}, {i.filename: i.CRC for i in infos}


def _inflate(info: zipfile.ZipInfo, data: bytes) -> bytes:
    where = f"zip member {info.filename!r}"
    header = data[info.header_offset : info.header_offset + 30] if info.header_offset >= 0 else b""
    if len(header) < 30 or not header.startswith(b"PK\x03\x04") or info.flag_bits & 1:
        raise ParseError(f"{where}: corrupt local header, or encrypted")
    start = info.header_offset + 30 + sum(struct.unpack("<HH", header[26:30]))
    raw = memoryview(data)[start : start + info.compress_size]
    if info.compress_type == zipfile.ZIP_STORED:
        out = bytes(raw)
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        inflater = zlib.decompressobj(-15)
        try:  # the hard cap: one byte past the declared size
            out = inflater.decompress(raw, info.file_size + 1)
        except zlib.error as exc:
            raise ParseError(f"{where}: corrupt deflate data ({exc})") from exc
        if not inflater.eof:
            raise ParseError(f"{where}: truncated, or inflates past its declared size")
    else:
        raise ParseError(f"{where}: unsupported compression method {info.compress_type}")
    if len(out) != info.file_size or zlib.crc32(out) != info.CRC:
        raise ParseError(f"{where}: truncated, or its size or CRC differs from the zip directory")
    if b"!" in out and _UNSAFE.search(out):  # no entity expansion, ever: refuse any DTD, in any part
        raise ParseError(f"{where}: XML with a DOCTYPE or ENTITY declaration is refused")
    return out


def _text(parts: dict[str, bytes], path: str) -> str:
    """A part as text, without comments or CDATA sections."""
    if path not in parts:
        raise ParseError(f"not an xlsx file: no part {path!r}")
    try:
        text = parts[path].decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(f"{path} is not UTF-8 ({exc})") from exc
    kept, pos, maybe = [], 0, "!" in text  # a one-character search is a fast test for "none at all"
    while maybe and (skipped := _SKIPPED.search(text, pos)):
        end = text.find("-->" if skipped.group() == "<!--" else "]]>", skipped.end())  # linear, unlike `.*?`
        if end < 0:
            raise ParseError(f"{path}: unterminated comment or CDATA section")
        kept.append(text[pos : skipped.start()])
        pos = end + 3
    return "".join([*kept, text[pos:]]) if kept else text


def _first_sheet(parts: dict[str, bytes]) -> tuple[str, str]:
    """Name and zip path of the first <sheet> in xl/workbook.xml, via its r:id in the workbook's rels."""
    xml = _text(parts, "xl/workbook.xml")
    prefix = _root_prefix(xml)
    sheets = _tag_fields(xml, prefix, "sheet", ("name", "r:id"), None, _content_span(xml, prefix, "sheets"))
    if not sheets or not all(sheets[0][:2]):
        raise ParseError("xl/workbook.xml lists no sheet, or one without a name or r:id")
    name, rid = map(_unescape, sheets[0][:2])
    target = _relationships(parts, "xl/_rels/workbook.xml.rels").get(rid)
    if not target:
        raise ParseError(f"the first sheet's r:id {rid!r} is not in xl/_rels/workbook.xml.rels")
    return name, target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))


def _relationships(parts: dict[str, bytes], path: str) -> dict[str, str]:
    """Relationship Id -> Target, unescaped; none if the part is missing."""
    if path not in parts:
        return {}
    xml = _text(parts, path)
    prefix = _root_prefix(xml)
    span = _content_span(xml, prefix, "Relationships")
    fields = _tag_fields(xml, prefix, "Relationship", ("Id", "Target"), _FAST_REL, span)
    return {_unescape(rid): target if "&" not in target else _unescape(target) for rid, target, _ in fields}


def _hidden_rows(xml: str, prefix: str, span: _Span) -> list[int]:
    if xml.find("hidden", *span) < 0:  # most lists hide nothing
        return []
    hidden, index = [], -1
    for r, flag, _ in _tag_fields(xml, prefix, "row", ("r", "hidden"), _FAST_ROW, span):
        index = (int(r) if r.isdecimal() else _row_number(r)) - 1 if r else index + 1  # no r: the next row
        if flag == "1" or (flag and _unescape(flag).strip() in ("1", "true")):
            hidden.append(index)
    return hidden


def _hyperlinks(
    xml: str, prefix: str, span: _Span, targets: dict[str, str], height: int, width: int
) -> dict[tuple[int, int], str]:
    """Hyperlinks of cells inside the values grid; a `ref` range applies to every cell in it."""
    links: dict[tuple[int, int], str] = {}
    budget = _MAX_LINK_CELLS
    fields = ("ref", "r:id", "location")
    for ref, rid, location, _ in _tag_fields(xml, prefix, "hyperlink", fields, _FAST_LINK, span):
        target = targets.get(_unescape(rid), "") if rid else ""
        if location:  # an internal link; or, for an external one, the fragment within its target
            target += "#" + _unescape(location)
        if (cell := _CELL.fullmatch(ref)) and target:  # the usual single cell, kept cheap
            top, left = int(cell[2]) - 1, column(cell[1])
            if top < height and left < width:
                links[top, left] = target
            continue
        top, left, bottom, right = _range(_unescape(ref))
        rows, cols = range(top, min(bottom + 1, height)), range(left, min(right + 1, width))
        budget -= len(rows) * len(cols)
        if budget < 0:
            raise ParseError(f"hyperlink ranges cover more than {_MAX_LINK_CELLS} cells")
        if target:  # else a dangling r:id: drop the link, keep the sheet
            links.update(((row, col), target) for row in rows for col in cols)
    return links


def _root_prefix(xml: str) -> str:
    """The root element's namespace prefix ("x:" in `<x:worksheet>`); its children are assumed to share it."""
    root = _ROOT.search(xml)
    return (root.group(1) or "") if root else ""


def _content_span(xml: str, prefix: str, element: str, pos: int = 0) -> tuple[int, int]:
    """Where the content of the first `element` from pos starts and ends; empty if there is none."""
    opening = _tag(prefix, element).search(xml, pos)
    if not opening or opening.group().endswith("/>"):
        return len(xml), len(xml)
    closing = xml.rfind(f"</{opening.group(1)}", opening.end())  # it is near the end: rfind gets there first
    return opening.end(), closing if closing >= 0 else len(xml)


@functools.lru_cache(maxsize=64)
def _tag(prefix: str, element: str) -> re.Pattern[str]:
    """`<element …>` start tags, unprefixed or with `prefix`, capturing the tag name and attribute text."""
    return re.compile(f"<((?:{re.escape(prefix)})?{element}){_ATTRS}" if prefix else f"<({element}){_ATTRS}")


def _tag_fields(
    xml: str, prefix: str, element: str, fields: tuple[str, ...], fast: re.Pattern[str] | None, span: _Span
) -> list[tuple[str, ...]]:
    """Raw values of `fields` in every `element` start tag in span ("" where absent), and a last "" each.

    `fast` reads Excel's own spelling in one pass; if any tag is spelt otherwise (another writer, attribute
    order or quoting), each tag's attributes are parsed one by one instead."""
    if fast is not None and not prefix:
        found: list[tuple[str, ...]] = fast.findall(xml, *span)
        if not any(map(operator.itemgetter(-1), found)):
            return found
    tags = _tag(prefix, element).findall(xml, *span)
    return [(*(attrs.get(f, "") for f in fields), "") for attrs in (_attrs(text) for _, text in tags)]


def _attrs(text: str) -> dict[str, str]:
    """Raw attribute values by name; a prefixed `id` (r:id, whatever the prefix) is keyed "r:id"."""
    return {"r:id" if name.endswith(":id") else name: dq or sq for name, dq, sq in _ATTR.findall(text)}


def _range(ref: str) -> tuple[int, int, int, int]:
    """Zero-based top, left, bottom, right of "G2" or "G2:H4" (either corner first)."""
    cells = _RANGE.fullmatch(ref)
    if not cells:
        raise ParseError(f"bad cell reference {ref!r}")
    col1, row1, col2, row2 = cells.groups()
    top, left = _row_number(row1) - 1, column(col1)
    bottom, right = (_row_number(row2) - 1, column(col2)) if col2 else (top, left)
    return min(top, bottom), min(left, right), max(top, bottom), max(left, right)


def _row_number(text: str) -> int:
    text = _unescape(text).strip()
    if not (text.isascii() and text.isdigit() and 1 <= int(text) <= _MAX_ROW):
        raise ParseError(f"bad row number {text!r}")
    return int(text)


def _unescape(value: str) -> str:
    if "&" not in value:
        return value
    if value.count("&") == value.count("&amp;"):  # the usual case: a URL's query string
        return value.replace("&amp;", "&")
    return _CHAR_REF.sub(_char, value)


def _char(match: re.Match[str]) -> str:
    hex_code, dec_code, name = match.groups()
    if name:
        return _NAMED[name]
    code = int(hex_code, 16) if hex_code else int(dec_code or "0")
    if not 0 < code <= 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise ParseError(f"bad character reference {match.group()!r} (a bare & is not XML)")
    return chr(code)
