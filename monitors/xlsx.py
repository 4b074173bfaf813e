"""Read the first worksheet of an untrusted .xlsx: cell values via calamine, hyperlinks and hidden rows from XML.

calamine is fast but exposes neither hyperlinks nor hidden rows, and openpyxl is ~10x slower (its read-only mode
drops hyperlinks). So the sheet's XML is scanned with compiled regexes for just the `<row>` start tags, the
`<hyperlink>` tags and the `<Relationship>` tags of its rels: a Python callback per cell would be too slow.
Safety: the zip directory is checked before anything is inflated, every member is then inflated here with a hard
cap, and calamine reads an uncompressed copy of those checked parts, so it never inflates anything itself.
"""

from __future__ import annotations

import functools
import io
import posixpath
import re
import string
import struct
import sys
import zipfile
import zlib
from dataclasses import dataclass
from typing import cast

from python_calamine import CalamineWorkbook

from monitors.base import ParseError

_MIB = 2**20
_MAX_MEMBERS = 10_000
_MAX_HYPERLINK_CELLS = 5_000_000  # a work cap: a range like A1:XFD1048576, repeated, must not hang us
_MAX_ROW = 1_048_576
_AZ = string.ascii_uppercase
# Start-tag attributes: any order, either quote; possessive quantifiers so a malformed tag cannot backtrack.
_ATTRS = r"((?:\s+[^\s=/>]++\s*=\s*(?:\"[^\"]*+\"|'[^']*+'))*+)\s*/?>"
_ATTR = re.compile(r"([^\s=]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
# Excel's own spelling of the three tags we need: one regex pass each; anything else takes the generic path.
_FAST_ROW = re.compile(
    r'<row r="([0-9]++)"(?: (?!hidden=)[\w:]++="[^"]*+")*+(?: hidden="([^"]*+)")?(?: [\w:]++="[^"]*+")*+/?>'
)
_FAST_HYPERLINK = re.compile(
    r'<hyperlink ref="([^"]*+)"(?: r:id="([^"]*+)")?(?: location="([^"]*+)")?'
    r'(?: (?:tooltip|display|xr:uid)="[^"]*+")*+/>'
)
_FAST_RELATIONSHIP = re.compile(
    r'<Relationship Id="([^"]*+)" Type="[^"]*+" Target="([^"]*+)"(?: TargetMode="[^"]*+")?/>'
)
_ROOT = re.compile(r"<([\w.-]+:)?[\w.-]+[\s/>]")
_RANGE = re.compile(r"\s*\$?([A-Za-z]{1,3})\$?([0-9]{1,7})(?::\$?([A-Za-z]{1,3})\$?([0-9]{1,7}))?\s*")
_COLUMNS = {letters: index for index, letters in enumerate([*_AZ, *(a + b for a in _AZ for b in _AZ)])}
_CHAR_REF = re.compile(r"&(?:#x([0-9a-fA-F]{1,6});|#([0-9]{1,7});|(amp|lt|gt|quot|apos);)?")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_UNSAFE = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_UNSAFE_TEXT = re.compile(r"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_SKIPPED = re.compile(r"<!--|<!\[CDATA\[")  # comments and CDATA may hold tag-like text


@dataclass(frozen=True)
class Sheet:
    name: str
    rows: list[list[object]]  # calamine values, "" for empty; row 0 is sheet row 1; no trailing empty rows
    hyperlinks: dict[tuple[int, int], str]  # (row, col) inside rows -> URL as written, or "#"+location
    hidden_rows: frozenset[int]  # indexes into rows


def read_first_sheet(
    data: bytes, *, max_part_bytes: int = 64 * _MIB, max_total_bytes: int = 256 * _MIB, max_ratio: int = 200
) -> Sheet:
    """Values, hyperlinks and hidden rows of the first sheet in workbook order; ParseError for any bad input."""
    parts, crcs = _inflate_all(_open_zip(data), data, max_part_bytes, max_total_bytes, max_ratio)
    name, path = _first_sheet(parts)
    xml = _text(parts, path)
    rows = _calamine_rows(_stored_copy(parts, crcs), name)
    prefix = _root_prefix(xml)
    data_start, data_end = _content_span(xml, prefix, "sheetData")
    links_span = _content_span(xml, prefix, "hyperlinks", data_end)
    rels_path = posixpath.join(posixpath.dirname(path), "_rels", posixpath.basename(path) + ".rels")
    width = max(map(len, rows), default=0)
    return Sheet(
        name=name,
        rows=rows,
        hyperlinks=_hyperlinks(xml, prefix, links_span, _relationships(parts, rels_path), len(rows), width),
        hidden_rows=frozenset(
            i for i in _hidden_rows(xml, prefix, data_start, data_end) if 0 <= i < len(rows)
        ),
    )


def _open_zip(data: bytes) -> zipfile.ZipFile:
    if not data.startswith(b"PK\x03\x04"):
        raise ParseError(f"not an xlsx file: {_describe(data)}")
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except Exception as exc:  # zipfile is pure Python: whatever it raises means a corrupt directory
        raise ParseError(f"not an xlsx file: truncated or corrupt zip ({exc})") from exc


def _describe(data: bytes) -> str:
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if not data:
        return "empty body"
    if head.startswith(b"<"):
        is_html = b"<html" in head or b"<!doctype html" in head
        return "the body looks like HTML" if is_html else "the body looks like XML"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "the body is an OLE2 file (a legacy .xls, or a password-protected workbook)"
    if head.startswith((b"{", b"[")):
        return "the body looks like JSON"
    return f"the body does not start with a zip signature ({data[:16]!r})"


def _inflate_all(
    zf: zipfile.ZipFile, data: bytes, max_part: int, max_total: int, max_ratio: int
) -> tuple[dict[str, bytes], dict[str, int]]:
    """Check the declared sizes of all members first, then inflate each, never past its declared size."""
    infos = [info for info in zf.infolist() if not info.is_dir()]
    if len(infos) > _MAX_MEMBERS or len({info.filename for info in infos}) != len(infos):
        raise ParseError("not an xlsx file: too many or duplicate zip members")
    for info in infos:
        if info.file_size > max_part:
            raise ParseError(f"zip member {info.filename!r} declares {info.file_size} bytes (max {max_part})")
        if info.file_size > _MIB and info.file_size > max_ratio * max(info.compress_size, 1):
            raise ParseError(f"zip member {info.filename!r} compresses more than {max_ratio}:1 (zip bomb?)")
    if sum(info.file_size for info in infos) > max_total:
        raise ParseError(f"zip members declare more than {max_total} bytes in all (zip bomb?)")
    return {info.filename: _inflate(info, data) for info in infos}, {
        info.filename: info.CRC for info in infos
    }


def _inflate(info: zipfile.ZipInfo, data: bytes) -> bytes:
    where = f"zip member {info.filename!r}"
    header = data[info.header_offset : info.header_offset + 30] if info.header_offset >= 0 else b""
    if not header.startswith(b"PK\x03\x04") or len(header) < 30 or info.flag_bits & 1:
        raise ParseError(f"{where}: corrupt local header, or encrypted")
    start = info.header_offset + 30 + sum(struct.unpack("<HH", header[26:30]))
    raw = memoryview(data)[start : start + info.compress_size]
    if len(raw) < info.compress_size:
        raise ParseError(f"{where}: truncated zip")
    if info.compress_type == zipfile.ZIP_STORED:
        out = bytes(raw)
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        inflater = zlib.decompressobj(-15)
        try:
            out = inflater.decompress(
                raw, info.file_size + 1
            )  # the hard cap: one byte past the declared size
        except zlib.error as exc:
            raise ParseError(f"{where}: corrupt deflate data ({exc})") from exc
        if not inflater.eof:
            raise ParseError(f"{where}: inflates past its declared size, or is truncated")
    else:
        raise ParseError(f"{where}: unsupported compression method {info.compress_type}")
    if len(out) != info.file_size or zlib.crc32(out) != info.CRC:
        raise ParseError(f"{where}: size or CRC differs from the zip directory")
    if info.filename.endswith((".xml", ".rels")) and b"!" in out and _UNSAFE.search(out):
        raise ParseError(f"{where}: XML with a DOCTYPE or ENTITY declaration is refused")
    return out


def _stored_copy(parts: dict[str, bytes], crcs: dict[str, int]) -> bytes:
    """The checked parts as an uncompressed zip: calamine reads exactly what was checked, and never inflates.

    Written by hand because zipfile's writer costs more than calamine saves by not inflating."""
    chunks, directory, offset = [], [], 0
    for name, content in parts.items():
        encoded = name.encode()
        # flags (UTF-8 names), method (stored), time, date (1980-01-01), CRC, sizes, name length
        fields = (0x800, 0, 0, 0x21, crcs[name], len(content), len(content), len(encoded))
        local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, *fields, 0)
        directory.append(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, *fields, 0, 0, 0, 0, 0, offset))
        directory.append(encoded)
        chunks += (local, encoded, content)
        offset += len(local) + len(encoded) + len(content)
    size = sum(map(len, directory))
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(parts), len(parts), size, offset, 0)
    return b"".join([*chunks, *directory, end])


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


def _text(parts: dict[str, bytes], path: str) -> str:
    if path not in parts:
        raise ParseError(f"not an xlsx file: no part {path!r}")
    raw = parts[path]
    try:
        text = raw.decode("utf-16") if raw.startswith((b"\xff\xfe", b"\xfe\xff")) else raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(f"{path}: neither UTF-8 nor UTF-16 ({exc})") from exc
    if "!" not in text or "<!" not in text:  # a one-character search is much faster
        return text
    if _UNSAFE_TEXT.search(text):  # checked again: the part may be UTF-16, or not named *.xml
        raise ParseError(f"{path}: XML with a DOCTYPE or ENTITY declaration is refused")
    kept, pos = [], 0
    while skipped := _SKIPPED.search(text, pos):  # find() keeps this linear, unlike a lazy `.*?` regex
        end = text.find("-->" if skipped.group() == "<!--" else "]]>", skipped.end())
        if end < 0:
            raise ParseError(f"{path}: unterminated comment or CDATA section")
        kept.append(text[pos : skipped.start()])
        pos = end + 3
    return "".join([*kept, text[pos:]])


def _first_sheet(parts: dict[str, bytes]) -> tuple[str, str]:
    """Name and zip path of the first <sheet> in xl/workbook.xml, via its r:id in the workbook's rels."""
    xml = _text(parts, "xl/workbook.xml")
    prefix = _root_prefix(xml)
    sheets = _tag_fields(xml, prefix, "sheet", ("name", "r:id"), None, *_content_span(xml, prefix, "sheets"))
    if not sheets or not all(sheets[0]):
        raise ParseError("xl/workbook.xml lists no sheet, or one without a name or r:id")
    name, rid = map(_unescape, sheets[0])
    target = _relationships(parts, "xl/_rels/workbook.xml.rels").get(rid)
    if not target:
        raise ParseError(f"the first sheet's r:id {rid!r} is not in xl/_rels/workbook.xml.rels")
    return name, target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))


def _relationships(parts: dict[str, bytes], path: str) -> dict[str, str]:
    """Relationship Id -> Target, unescaped; no part, no relationships."""
    if path not in parts:
        return {}
    xml = _text(parts, path)
    prefix = _root_prefix(xml)
    span = _content_span(xml, prefix, "Relationships")
    fields = _tag_fields(xml, prefix, "Relationship", ("Id", "Target"), _FAST_RELATIONSHIP, *span)
    return {_unescape(rid): _unescape(target) for rid, target in fields}


def _hidden_rows(xml: str, prefix: str, start: int, end: int) -> list[int]:
    if xml.find("hidden", start, end) < 0:  # most lists hide nothing
        return []
    hidden, last_r, after = [], "", 0  # a row without r is the one after the previous row
    for r, flag in _tag_fields(xml, prefix, "row", ("r", "hidden"), _FAST_ROW, start, end):
        if r:
            last_r, after = r, 0
        else:
            after += 1
        if flag == "1" or (flag and _unescape(flag).strip() in ("1", "true")):
            hidden.append(
                (int(last_r) if last_r.isdigit() else _row_number(last_r) if last_r else 0) - 1 + after
            )
    return hidden


def _hyperlinks(
    xml: str, prefix: str, span: tuple[int, int], targets: dict[str, str], height: int, width: int
) -> dict[tuple[int, int], str]:
    """Hyperlinks of cells inside the values grid; a `ref` range applies to every cell in it."""
    links: dict[tuple[int, int], str] = {}
    budget = _MAX_HYPERLINK_CELLS
    fields = ("ref", "r:id", "location")
    for ref, rid, location in _tag_fields(xml, prefix, "hyperlink", fields, _FAST_HYPERLINK, *span):
        target = targets.get(_unescape(rid), "") if rid else ""
        if location:  # internal link; or, for an external one, the fragment within its target
            target += "#" + _unescape(location)
        top, left, bottom, right = _range(_unescape(ref))
        if not target:
            continue  # a dangling r:id: drop the link, keep the sheet
        if top == bottom and left == right:  # the usual single cell, kept cheap
            if top < height and left < width:
                links[top, left] = target
            continue
        rows, cols = range(top, min(bottom, height - 1) + 1), range(left, min(right, width - 1) + 1)
        budget -= len(rows) * len(cols)
        if budget < 0:
            raise ParseError(f"hyperlink ranges cover more than {_MAX_HYPERLINK_CELLS} cells")
        links.update(((row, col), target) for row in rows for col in cols)
    return links


def _root_prefix(xml: str) -> str:
    """The root element's namespace prefix ("x:" in `<x:worksheet>`); its children are assumed to share it."""
    root = _ROOT.search(xml)
    return (root.group(1) or "") if root else ""


def _content_span(xml: str, prefix: str, element: str, pos: int = 0) -> tuple[int, int]:
    """Where the content of the first `element` at or after pos starts and ends; empty if there is none."""
    opening = _tag(prefix, element).search(xml, pos)
    if not opening or opening.group().endswith("/>"):
        return len(xml), len(xml)
    closing = xml.rfind(f"</{opening.group(1)}", opening.end())  # near the end: rfind gets there first
    return opening.end(), closing if closing >= 0 else len(xml)


@functools.lru_cache(maxsize=64)
def _tag(prefix: str, element: str) -> re.Pattern[str]:
    """`<element …>` start tags, unprefixed or with `prefix`, capturing the tag name and attribute text."""
    return re.compile(f"<((?:{re.escape(prefix)})?{element}){_ATTRS}" if prefix else f"<({element}){_ATTRS}")


def _tag_fields(
    xml: str,
    prefix: str,
    element: str,
    fields: tuple[str, ...],
    fast: re.Pattern[str] | None,
    pos: int = 0,
    endpos: int = sys.maxsize,
) -> list[tuple[str, ...]]:
    """Raw (still escaped) values of `fields` in every `element` start tag between pos and endpos (inside their
    container, so that "<element" starts nothing else there), "" where absent.

    `fast` reads Excel's own spelling in one pass; if it misses any tag (another writer, attribute order or
    quoting), every tag's attributes are parsed one by one instead."""
    generic = _tag(prefix, element)
    if fast is not None and not prefix:
        found: list[tuple[str, ...]] = fast.findall(xml, pos, endpos)
        if len(found) == xml.count(f"<{element}", pos, endpos):  # an upper bound on the tags, counted in C
            return found
    tags = generic.findall(xml, pos, endpos)
    return [tuple(attrs.get(f, "") for f in fields) for attrs in (_attrs(text) for _, text in tags)]


def _attrs(text: str) -> dict[str, str]:
    """Raw attribute values by name; a prefixed `id` (r:id, whatever the prefix) is keyed "r:id"."""
    return {"r:id" if name.endswith(":id") else name: dq or sq for name, dq, sq in _ATTR.findall(text)}


def _range(ref: str) -> tuple[int, int, int, int]:
    """Zero-based top, left, bottom, right of "G2" or "G2:H4" (either corner first)."""
    cells = _RANGE.fullmatch(ref)
    if not cells:
        raise ParseError(f"bad cell reference {ref!r}")
    col1, row1, col2, row2 = cells.groups()
    top, left = int(row1) - 1, _column(col1)
    bottom, right = (int(row2) - 1, _column(col2)) if col2 else (top, left)
    if not (0 <= top < _MAX_ROW and 0 <= bottom < _MAX_ROW):
        raise ParseError(f"bad cell reference {ref!r}")
    return min(top, bottom), min(left, right), max(top, bottom), max(left, right)


def _column(letters: str) -> int:
    index = _COLUMNS.get(letters)
    if index is None:
        index = 0
        for letter in letters.upper():
            index = index * 26 + ord(letter) - 64
        index -= 1
    return index


def _row_number(text: str) -> int:
    if not (text.isascii() and text.isdigit()):  # Excel's plain "123" skips the unescaping
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
