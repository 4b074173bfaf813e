"""Read the first worksheet of an untrusted .xlsx: cell values via calamine, hyperlinks and hidden rows from XML.

calamine is fast but exposes neither hyperlinks nor hidden rows, and openpyxl is ~15x slower (its read-only
mode drops hyperlinks). So the sheet's own XML is scanned with a few compiled regexes for just the `<row>`
start tags, the `<hyperlinks>` block and the `<Relationship>` tags: a Python callback per cell is too slow.
Before anything is decompressed, the zip directory is checked against size and ratio limits; every member is
then inflated by hand with a hard cap, so calamine only ever sees parts that are known to be small.
"""

from __future__ import annotations

import io
import posixpath
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from typing import cast

from python_calamine import CalamineWorkbook

from monitors.base import ParseError

_MIB = 2**20
_MAX_MEMBERS = 10_000
_MAX_HYPERLINK_CELLS = 5_000_000  # work cap for hostile ranges like A1:XFD1048576, repeated
_ATTRS = r"((?:\s+[^\s=/>]++\s*=\s*(?:\"[^\"]*+\"|'[^']*+'))*+)\s*/?>"  # possessive: no backtracking
_ROW = re.compile(r"<(?:[\w.-]+:)?row" + _ATTRS)
_HYPERLINK = re.compile(r"<(?:[\w.-]+:)?hyperlink" + _ATTRS)
_RELATIONSHIP = re.compile(r"<(?:[\w.-]+:)?Relationship" + _ATTRS)
_SHEET = re.compile(r"<(?:[\w.-]+:)?sheet" + _ATTRS)
_ATTR = re.compile(r"(?:[\w.-]+(:))?([^\s=/>:]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_REF = re.compile(r"\$?([A-Z]{1,3})\$?([0-9]{1,7})")
_CHAR_REF = re.compile(r"&(?:#x([0-9a-fA-F]{1,6})|#([0-9]{1,7})|(amp|lt|gt|quot|apos));")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_UNSAFE = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_UNSAFE_TEXT = re.compile(r"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_IGNORED_START = re.compile(r"<!--|<!\[CDATA\[")  # comments and CDATA may hold tag-like text


@dataclass(frozen=True)
class Sheet:
    name: str
    rows: list[list[object]]  # calamine values, "" for empty; row 0 is sheet row 1; no trailing empty rows
    hyperlinks: dict[tuple[int, int], str]  # (row, col) -> URL as written, or "#"+location for internal links
    hidden_rows: frozenset[int]  # zero-based indexes into rows


def read_first_sheet(
    data: bytes, *, max_part_bytes: int = 64 * _MIB, max_total_bytes: int = 256 * _MIB, max_ratio: int = 200
) -> Sheet:
    """Values, hyperlinks and hidden rows of the first sheet in workbook order; ParseError for any bad input."""
    parts = _inflate_all(_open_zip(data), data, max_part_bytes, max_total_bytes, max_ratio)
    name, sheet_path = _first_sheet_part(parts)
    sheet_xml = _text(parts, sheet_path)
    rels_path = posixpath.join(
        posixpath.dirname(sheet_path), "_rels", posixpath.basename(sheet_path) + ".rels"
    )
    targets = _relationships(parts, rels_path) if rels_path in parts else {}
    rows = _calamine_rows(data, name)
    width = max(map(len, rows), default=0)
    return Sheet(
        name=name,
        rows=rows,
        hyperlinks=_hyperlinks(sheet_xml, targets, len(rows), width),
        hidden_rows=frozenset(i for i in _hidden_rows(sheet_xml) if i < len(rows)),
    )


def _open_zip(data: bytes) -> zipfile.ZipFile:
    if not data.startswith(b"PK\x03\x04"):
        raise ParseError(f"not an xlsx file: {_describe(data)}")
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except Exception as exc:  # zipfile is pure Python: anything it raises means a corrupt directory
        raise ParseError(f"not an xlsx file: truncated or corrupt zip ({exc})") from exc


def _describe(data: bytes) -> str:
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if not data:
        return "empty body"
    if head.startswith(b"<"):
        return (
            "the body looks like HTML" if b"<html" in head or b"<!doctype html" in head else "the body is XML"
        )
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "the body is an OLE2 file (a legacy .xls or a password-protected workbook)"
    if head.startswith((b"{", b"[")):
        return "the body looks like JSON"
    return f"the body does not start with a zip signature ({data[:16]!r})"


def _inflate_all(
    zf: zipfile.ZipFile, data: bytes, max_part: int, max_total: int, max_ratio: int
) -> dict[str, bytes]:
    """Check the whole directory first (declared sizes), then inflate each member, never past its declared size."""
    infos = zf.infolist()
    if len(infos) > _MAX_MEMBERS or len({i.filename for i in infos}) != len(infos):
        raise ParseError("not an xlsx file: too many or duplicate zip members")
    for info in infos:
        if info.file_size > max_part:
            raise ParseError(
                f"zip member {info.filename!r} declares {info.file_size} bytes (limit {max_part})"
            )
        if info.file_size > _MIB and info.file_size > max_ratio * max(info.compress_size, 1):
            raise ParseError(
                f"zip member {info.filename!r} has a compression ratio above {max_ratio} (zip bomb?)"
            )
    if sum(i.file_size for i in infos) > max_total:
        raise ParseError(f"zip members declare more than {max_total} bytes in total (zip bomb?)")
    return {info.filename: _inflate(info, data) for info in infos}


def _inflate(info: zipfile.ZipInfo, data: bytes) -> bytes:
    where = f"zip member {info.filename!r}"
    header = data[info.header_offset : info.header_offset + 30]
    if (
        info.header_offset < 0
        or len(header) < 30
        or not header.startswith(b"PK\x03\x04")
        or info.flag_bits & 1
    ):
        raise ParseError(f"{where}: corrupt local header or encrypted")
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
            raise ParseError(f"{where}: inflates to more than its declared size, or is truncated")
    else:
        raise ParseError(f"{where}: unsupported compression method {info.compress_type}")
    if len(out) != info.file_size or zlib.crc32(out) != info.CRC:
        raise ParseError(f"{where}: size or CRC does not match the zip directory")
    if info.filename.endswith((".xml", ".rels")) and _UNSAFE.search(out):
        raise ParseError(f"{where}: XML with a DOCTYPE or ENTITY declaration is refused")
    return out


def _text(parts: dict[str, bytes], path: str) -> str:
    if path not in parts:
        raise ParseError(f"not an xlsx file: missing part {path!r}")
    raw = parts[path]
    try:
        text = raw.decode("utf-16") if raw.startswith((b"\xff\xfe", b"\xfe\xff")) else raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(f"{path}: not UTF-8 or UTF-16 ({exc})") from exc
    if _UNSAFE_TEXT.search(text):  # again: the part may be UTF-16 or not named *.xml
        raise ParseError(f"{path}: XML with a DOCTYPE or ENTITY declaration is refused")
    return _without_comments(text) if "<!" in text else text


def _without_comments(text: str) -> str:
    """Drop comments and CDATA sections, in one linear pass (a lazy `.*?` regex is quadratic on hostile input)."""
    kept, pos = [], 0
    while start := _IGNORED_START.search(text, pos):
        end = text.find("-->" if start.group() == "<!--" else "]]>", start.end())
        if end < 0:
            raise ParseError("unterminated XML comment or CDATA section")
        kept.append(text[pos : start.start()])
        pos = end + 3
    kept.append(text[pos:])
    return "".join(kept)


def _first_sheet_part(parts: dict[str, bytes]) -> tuple[str, str]:
    """Name and zip path of the first <sheet> in xl/workbook.xml, via its r:id in the workbook's rels."""
    first = _SHEET.search(_text(parts, "xl/workbook.xml"))
    attrs = _attrs(first.group(1)) if first else {}
    if "name" not in attrs or "r:id" not in attrs:
        raise ParseError("xl/workbook.xml lists no sheet (or one without name and r:id)")
    target = _relationships(parts, "xl/_rels/workbook.xml.rels").get(attrs["r:id"])
    if target is None:
        raise ParseError(f"the first sheet's r:id {attrs['r:id']!r} is not in xl/_rels/workbook.xml.rels")
    path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
    return attrs["name"], path


def _relationships(parts: dict[str, bytes], path: str) -> dict[str, str]:
    """Relationship Id -> Target (unescaped)."""
    rels = (_attrs(m.group(1)) for m in _RELATIONSHIP.finditer(_text(parts, path)))
    return {r["Id"]: r["Target"] for r in rels if "Id" in r and "Target" in r}


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
    except BaseException as exc:  # a Rust panic surfaces as pyo3's PanicException, a BaseException
        if type(exc).__name__ != "PanicException":
            raise
        raise ParseError(f"calamine crashed reading the workbook: {exc}") from exc
    while rows and all(value == "" for value in rows[-1]):
        rows.pop()
    return rows


def _hidden_rows(xml: str) -> list[int]:
    hidden, index = [], -1
    for match in _ROW.finditer(xml):
        attrs = _attrs(match.group(1))
        index = (
            _row_number(attrs["r"]) - 1 if "r" in attrs else index + 1
        )  # r is optional: then it's the next row
        if attrs.get("hidden", "").strip() in ("1", "true"):
            hidden.append(index)
    return hidden


def _hyperlinks(xml: str, targets: dict[str, str], height: int, width: int) -> dict[tuple[int, int], str]:
    """Hyperlinks of cells inside the values grid; a `ref` range applies to every cell in it."""
    links: dict[tuple[int, int], str] = {}
    budget = _MAX_HYPERLINK_CELLS
    for match in _HYPERLINK.finditer(xml):
        attrs = _attrs(match.group(1))
        target = targets.get(attrs.get("r:id", ""), "")
        if "location" in attrs:  # for an external link, location is the fragment within the target
            target += "#" + attrs["location"]
        if not target or "ref" not in attrs:
            continue  # a dangling r:id: drop the link, keep the sheet
        (top, left), (bottom, right) = _range(attrs["ref"])
        rows, cols = range(top, min(bottom, height - 1) + 1), range(left, min(right, width - 1) + 1)
        budget -= len(rows) * len(cols)
        if budget < 0:
            raise ParseError(f"hyperlink ranges cover more than {_MAX_HYPERLINK_CELLS} cells")
        links.update(((r, c), target) for r in rows for c in cols)
    return links


def _range(ref: str) -> tuple[tuple[int, int], tuple[int, int]]:
    corners = [_cell(part) for part in ref.strip().split(":", 1)]
    (top, left), (bottom, right) = corners[0], corners[-1]
    return (min(top, bottom), min(left, right)), (max(top, bottom), max(left, right))


def _cell(ref: str) -> tuple[int, int]:
    match = _REF.fullmatch(ref.strip().upper())
    if not match:
        raise ParseError(f"bad cell reference {ref!r}")
    col = 0
    for letter in match.group(1):
        col = col * 26 + ord(letter) - 64
    return _row_number(match.group(2)) - 1, col - 1


def _row_number(text: str) -> int:
    if not text.strip().isdigit() or not 1 <= int(text) <= 1_048_576:
        raise ParseError(f"bad row number {text!r}")
    return int(text)


def _attrs(text: str) -> dict[str, str]:
    """Attributes by local name; a prefixed `id` (r:id, whatever the prefix) is kept as "r:id"."""
    attrs = {}
    for colon, name, dq, sq in _ATTR.findall(text):
        if colon and name != "id":
            continue  # xmlns:*, xr:uid, mc:Ignorable... are of no use here
        attrs["r:id" if colon else name] = _unescape(dq or sq)
    return attrs


def _unescape(value: str) -> str:
    if "&" not in value:
        return value
    if value.count("&") != len(_CHAR_REF.findall(value)):
        raise ParseError(f"bad character reference in {value[:80]!r}")
    return _CHAR_REF.sub(_char, value)


def _char(match: re.Match[str]) -> str:
    hex_code, dec_code, name = match.groups()
    if name:
        return _NAMED[name]
    code = int(hex_code, 16) if hex_code else int(dec_code)
    if not (0 < code <= 0x10FFFF) or 0xD800 <= code <= 0xDFFF:
        raise ParseError(f"bad character reference {match.group(0)!r}")
    return chr(code)
