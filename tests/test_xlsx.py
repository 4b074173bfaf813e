"""monitors.xlsx: real ICE lists read exactly (values, hyperlinks, hidden rows); hostile bodies only ParseError."""

from __future__ import annotations

import ast
import contextlib
import io
import pickle
import re
import struct
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from monitors import xlsx_cells
from monitors.base import ParseError
from monitors.xlsx import Sheet, read_first_sheet

ROOT = Path(__file__).parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "ice"
DEMO = ROOT / "watch287g" / "demo"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
HEADER = ["STATE", "LAW ENFORCEMENT AGENCY", "TYPE", "COUNTY", "SUPPORT TYPE"]
FUZZ = settings(max_examples=100, deadline=timedelta(seconds=2), database=None)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def make_xlsx(sheet: str, links: str | None = None, *, extra: dict[str, bytes] | None = None) -> bytes:
    """A minimal workbook whose only sheet is `sheet` (at a path other than sheet1.xml), with hyperlink rels."""
    parts = {
        "_rels/.rels": f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{REL}/officeDocument"'
        ' Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>'
        '<sheet name="List &amp; more" sheetId="1" r:id="rId9"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{PKG}">'
        f'<Relationship Id="rId9" Type="{REL}/worksheet" Target="worksheets/data.xml"/></Relationships>',
        "xl/worksheets/data.xml": sheet,
    }
    if links is not None:
        parts["xl/worksheets/_rels/data.xml.rels"] = f'<Relationships xmlns="{PKG}">{links}</Relationships>'
    return rezip({name: text.encode() for name, text in parts.items()} | (extra or {}))


def rezip(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in parts.items():
            zf.writestr(name, content)
    return buffer.getvalue()


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def worksheet(rows: str, tail: str = "", root: str = "worksheet", ns: str = "") -> str:
    return f'<?xml version="1.0"?><{root} xmlns{ns}="{MAIN}" xmlns:r="{REL}">{rows}{tail}</{root}>'


def calamine(data: bytes) -> list[list[object]]:
    """calamine's own reading of the first sheet, trailing empty rows left out: the oracle for values."""
    rows = (
        CalamineWorkbook.from_filelike(io.BytesIO(data))
        .get_sheet_by_index(0)
        .to_python(skip_empty_area=False)
    )
    while rows and all(value == "" for value in rows[-1]):
        rows.pop()
    return rows


def typed(rows: list[list[object]]) -> list[list[tuple[type, object]]]:
    return [[(type(value), value) for value in row] for row in rows]


def declare_size(data: bytes, name: str, size: int) -> bytes:
    """`data` with the zip directory's uncompressed size of member `name` replaced (nothing else changed)."""
    pos = data.index(b"PK\1\2")
    while data[pos + 46 : pos + 46 + struct.unpack_from("<H", data, pos + 28)[0]] != name.encode():
        pos = data.index(b"PK\1\2", pos + 46)
    return data[: pos + 24] + struct.pack("<L", size) + data[pos + 28 :]


# --- real ICE lists ------------------------------------------------------------------------------------------


def test_participating_list_with_an_autofilter_keeps_its_hidden_rows() -> None:
    sheet = read_first_sheet(fixture("2025-06-20_participatingAgencies06202025am.xlsx"))
    assert sheet.name == "Sheet1"
    assert len(sheet.rows) == 720  # header + 719 agreements; the trailing empty rows are gone
    assert sheet.rows[0] == [*HEADER[:4], "SUPPORT TYPE", "SIGNED", "MOA"]
    assert sheet.rows[1] == [
        "ALABAMA",
        "Colbert County Sheriff's Office",
        "County",
        "Colbert County",
        "Jail Enforcement Model",
        date(2025, 5, 8),
        "link pending",
    ]
    # The filter shows only the Task Force Model; the 371 hidden rows are agreements all the same.
    assert len(sheet.hidden_rows) == 371
    assert min(sheet.hidden_rows) == 1 and max(sheet.hidden_rows) == 719
    assert {sheet.rows[i][4] for i in sheet.hidden_rows} == {
        "Warrant Service Officer",
        "Jail Enforcement Model",
    }
    visible = [row for i, row in enumerate(sheet.rows[1:], 1) if i not in sheet.hidden_rows]
    assert len(visible) == 348 and {row[4] for row in visible} == {"Task Force Model"}


def test_participating_list_hyperlinks_are_the_rels_targets_unescaped() -> None:
    sheet = read_first_sheet(fixture("2025-06-20_participatingAgencies06202025am.xlsx"))
    assert len(sheet.hyperlinks) == 462
    assert {sheet.rows[row][col] for row, col in sheet.hyperlinks} == {"link"}
    assert sum(row[6] == "link" for row in sheet.rows[1:]) == 462  # every "link" cell has its hyperlink
    assert (
        sheet.hyperlinks[(3, 6)] == "https://www.ice.gov/doclib/287gMOA/CrenshawCoAL_WSO_MOA_04.16.2025.pdf"
    )
    assert (
        sheet.hyperlinks[(5, 6)] == "https://www.ice.gov/doclib/287gMOA/287gJEM_%20etowahCoAL_06-09-2020.pdf"
    )
    safelink = sheet.hyperlinks[(2, 6)]  # an Outlook safelinks wrapper, with &amp; unescaped
    assert safelink.startswith(
        "https://gcc02.safelinks.protection.outlook.com/?url=https%3A%2F%2Fwww.ice.gov%2Fdoclib%2F287gMOA%2F"
        "ColbertCoSheriffsOfficeAL_WSO_MOA_05.08.25.pdf&data=05%7C02%7C"
    )
    assert safelink.endswith("&reserved=0") and "&amp;" not in safelink
    assert sum("safelinks" in url for url in sheet.hyperlinks.values()) == 37


def test_pending_list() -> None:
    sheet = read_first_sheet(fixture("2025-07-08_pendingAgencies07082025pm.xlsx"))
    assert (sheet.name, len(sheet.rows), sheet.rows[0]) == ("Sheet1", 21, HEADER)
    assert sheet.rows[1] == [
        "ALABAMA",
        "Madison County Sheriff's Office",
        "County",
        "Madison County",
        "Task Force Model",
    ]
    assert sorted(sheet.hidden_rows) == [1, 3, 5, 6, 8, 11, 15, 20]
    assert sheet.hyperlinks == {}


def test_sheet_named_sheet_space_1() -> None:
    sheet = read_first_sheet(fixture("2025-07-31_pendingAgencies07312025am.xlsx"))
    assert (sheet.name, len(sheet.rows), sheet.rows[0]) == ("Sheet 1", 23, HEADER)
    assert sheet.rows[-1][:2] == ["WISCONSIN", "Calumet County Sheriff's Office"]


def test_html_era_list_written_by_another_tool() -> None:
    sheet = read_first_sheet(fixture("2025-02-19_ParticipatingEntities-20250219163339.xlsx"))
    assert (sheet.name, len(sheet.rows)) == ("287(g) Agreements", 146)
    assert sheet.rows[0] == ["STATE", "LAW ENFORCEMENT AGENCY", "SUPPORT TYPE", "SIGNED", "MOA"]
    assert str(sheet.rows[1][4]).startswith("https://web.archive.org/web/20250219163339/https://www.ice.gov/")
    assert (sheet.hyperlinks, sheet.hidden_rows) == ({}, frozenset())


@pytest.mark.parametrize(
    "path",
    sorted([*FIXTURES.glob("*.xlsx"), *DEMO.glob("*.xlsx")]),
    ids=lambda path: path.parent.name + "/" + path.name,
)
def test_values_are_exactly_calamines_own_reading(path: Path) -> None:
    """Type and value (date, float, str) of every cell, as calamine reads the original file itself."""
    data = path.read_bytes()
    assert typed(read_first_sheet(data).rows) == typed(calamine(data))


def test_excel_spelling_and_any_other_spelling_read_the_same() -> None:
    """Single quotes and other attribute orders take the generic path; the result must not change."""
    original = fixture("2025-06-20_participatingAgencies06202025am.xlsx")
    parts = unzip(original)
    for name in ("xl/worksheets/sheet1.xml", "xl/worksheets/_rels/sheet1.xml.rels"):
        text = parts[name].decode()
        text = re.sub(r"<(row|hyperlink|Relationship) ([^>]*?)(/?)>", _reverse_attributes, text)
        parts[name] = text.encode()
    assert read_first_sheet(rezip(parts)) == read_first_sheet(original)


def _reverse_attributes(tag: re.Match[str]) -> str:
    attributes = re.findall(r'(\S+)="([^"]*)"', tag[2])
    return (
        f"<{tag[1]} " + " ".join(f"{name}='{value}'" for name, value in reversed(attributes)) + f"{tag[3]}>"
    )


# --- the XML, spelled in every legal way -------------------------------------------------------------------


def test_hyperlink_ranges_locations_prefixes_quotes_and_escapes() -> None:
    rows = (
        "<x:sheetData>"
        '<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>MOA</x:t></x:is></x:c></x:row>'
        "<x:row r='2' hidden='true'><x:c r='A2' t='inlineStr'><x:is><x:t>link</x:t></x:is></x:c>"
        '<x:c r="AB2"><x:v>7</x:v></x:c></x:row>'
        '<x:row spans="1:28" hidden="1"><x:c r="A3"><x:v>3</x:v></x:c></x:row>'  # no r: the row after 2
        '<x:row r="4" hidden="0"><x:c r="A4"><x:v>4</x:v></x:c></x:row>'
        "</x:sheetData>"
    )
    links = (
        "<x:hyperlinks>"
        '<x:hyperlink xr:uid="{1}" r:id="rId3" ref="A2:A4"/>'
        "<x:hyperlink ref='AB2' location='Other&apos;s!A1' display='x'/>"
        '<x:hyperlink ref="A1" r:id="rId4"/>'
        "</x:hyperlinks>"
    )
    rels = (
        f'<Relationship TargetMode="External" Target="https://a.test/?a=1&amp;b=&#x41;&lt;&#66;" Id="rId3"'
        f' Type="{REL}/hyperlink"/>'
        f"<Relationship Type='{REL}/hyperlink' Id='rId4' Target='https:/www.ice.gov/x%20y.pdf'/>"
    )
    sheet = read_first_sheet(make_xlsx(worksheet(rows, links, "x:worksheet", ":x"), rels))
    assert sheet.name == "List & more"
    assert [row[0] for row in sheet.rows] == ["MOA", "link", 3.0, 4.0] and len(sheet.rows[0]) == 28
    assert sheet.hidden_rows == {1, 2}
    assert sheet.hyperlinks == {
        (0, 0): "https:/www.ice.gov/x%20y.pdf",  # as written: fixing URLs is the caller's business
        (1, 0): "https://a.test/?a=1&b=A<B",
        (2, 0): "https://a.test/?a=1&b=A<B",
        (3, 0): "https://a.test/?a=1&b=A<B",
        (1, 27): "#Other's!A1",
    }


def test_data_not_starting_at_a1_keeps_sheet_coordinates() -> None:
    rows = '<sheetData><row r="3"><c r="C3"><v>1</v></c></row><row r="9"><c r="A9" s="1"/></row></sheetData>'
    sheet = read_first_sheet(
        make_xlsx(
            worksheet(rows, '<hyperlinks><hyperlink ref="C3" r:id="r"/></hyperlinks>'),
            f'<Relationship Id="r" Target="https://a.test/" Type="{REL}/hyperlink"/>',
        )
    )
    assert sheet.rows == [["", "", ""], ["", "", ""], ["", "", 1.0]]
    assert sheet.hyperlinks == {(2, 2): "https://a.test/"}


def test_huge_hyperlink_ranges_are_clipped_to_the_cells_and_do_not_hang() -> None:
    rows = '<sheetData><row r="1"><c r="A1"><v>1</v></c><c r="B1"><v>2</v></c></row></sheetData>'
    links = "<hyperlinks>" + '<hyperlink ref="A1:XFD1048576" r:id="r"/>' * 20_000 + "</hyperlinks>"
    started = time.perf_counter()
    sheet = read_first_sheet(
        make_xlsx(worksheet(rows, links), f'<Relationship Id="r" Target="t" Type="{REL}/h"/>')
    )
    assert sheet.hyperlinks == {(0, 0): "t", (0, 1): "t"}
    assert time.perf_counter() - started < 5


def test_comments_and_cdata_hide_nothing() -> None:
    rows = (
        '<sheetData><!-- <row r="1" hidden="1"> --><row r="1"><c r="A1" t="inlineStr"><is><t><![CDATA[<row'
        ' r="1" hidden="1">]]></t></is></c></row></sheetData>'
    )
    sheet = read_first_sheet(make_xlsx(worksheet(rows)))
    assert sheet.rows == [['<row r="1" hidden="1">']] and sheet.hidden_rows == frozenset()


def test_dangling_hyperlink_ids_are_dropped() -> None:
    rows = '<sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData>'
    sheet = read_first_sheet(
        make_xlsx(worksheet(rows, '<hyperlinks><hyperlink ref="A1" r:id="nope"/></hyperlinks>'))
    )
    assert sheet.hyperlinks == {}


# --- hostile bodies ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty body"),
        (b"<!DOCTYPE html>\n<html><head><title>Access Denied</title></head></html>", "looks like HTML"),
        (b"\n  <HTML><body>503 Service Unavailable</body></HTML>", "looks like HTML"),
        (b'<?xml version="1.0"?><Error><Code>NoSuchKey</Code></Error>', "looks like XML"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "OLE2"),
        (b'{"error": "rate limited"}', "does not start with a zip signature"),
        (b"PK\3\4" + bytes(100), "truncated or corrupt zip"),
    ],
)
def test_bodies_that_are_not_xlsx(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        read_first_sheet(body)


def test_truncated_download() -> None:
    data = fixture("2025-07-08_pendingAgencies07082025pm.xlsx")
    for size in (len(data) // 2, len(data) - 1, 100):
        with pytest.raises(ParseError, match="truncated or corrupt zip"):
            read_first_sheet(data[:size])


def test_zip_bomb_by_compression_ratio_is_refused_before_inflating() -> None:
    bomb = rezip(unzip(make_xlsx(worksheet("<sheetData/>"))) | {"xl/media/zeros.bin": bytes(8 * 2**20)})
    assert len(bomb) < 40_000
    with pytest.raises(ParseError, match="compresses more than 200:1"):
        read_first_sheet(bomb)


def test_zip_bomb_by_declared_size_is_refused_before_inflating() -> None:
    data = make_xlsx(worksheet("<sheetData/>"))
    with pytest.raises(ParseError, match="declares 4294967295 bytes"):
        read_first_sheet(declare_size(data, "xl/worksheets/data.xml", 2**32 - 1))
    with pytest.raises(ParseError, match="in all"):
        read_first_sheet(data, max_total_bytes=500)


def test_member_inflating_past_its_declared_size_is_cut_off() -> None:
    """A directory that lies (1 MiB declared, 8 MiB inside) passes the declared checks; the hard cap stops it."""
    data = rezip(unzip(make_xlsx(worksheet("<sheetData/>"))) | {"xl/media/zeros.bin": bytes(8 * 2**20)})
    with pytest.raises(ParseError, match="inflates past its declared size"):
        read_first_sheet(declare_size(data, "xl/media/zeros.bin", 2**20))


def test_entity_declarations_are_refused_anywhere() -> None:
    laughs = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;">]>'
    rows = '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&b;</t></is></c></row></sheetData>'
    with pytest.raises(ParseError, match="DOCTYPE or ENTITY"):
        read_first_sheet(make_xlsx(laughs + worksheet(rows).split("?>", 1)[1]))
    shared = f'{laughs}<sst xmlns="{MAIN}"><si><t>&b;</t></si></sst>'.encode()
    with pytest.raises(ParseError, match="DOCTYPE or ENTITY"):
        read_first_sheet(make_xlsx(worksheet("<sheetData/>"), extra={"xl/sharedStrings.xml": shared}))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p.pop("xl/worksheets/data.xml"), "no part 'xl/worksheets/data.xml'"),
        (lambda p: p.pop("xl/workbook.xml"), "no part 'xl/workbook.xml'"),
        (
            lambda p: p.update(
                {"xl/workbook.xml": f'<workbook xmlns="{MAIN}"><sheets/></workbook>'.encode()}
            ),
            "lists no sheet",
        ),
        (
            lambda p: p.update({"xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{PKG}"/>'.encode()}),
            "is not in xl/_rels/workbook.xml.rels",
        ),
        (
            lambda p: p.update({"xl/worksheets/data.xml": b"<worksheet><!-- unterminated"}),
            "unterminated comment",
        ),
        (lambda p: p.update({"xl/worksheets/data.xml": b"\xff\xfe<\0w\0"}), "not UTF-8"),
        (lambda p: p.update({"xl/worksheets/data.xml": b"<worksheet><sheetData><row"}), "calamine"),
    ],
)
def test_broken_workbooks(change: Callable[[dict[str, bytes]], object], message: str) -> None:
    parts = unzip(make_xlsx(worksheet('<sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData>')))
    change(parts)
    with pytest.raises(ParseError, match=re.escape(message)):
        read_first_sheet(rezip(parts))


def test_bad_references_in_tags() -> None:
    base = '<sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData>'
    link = f'<Relationship Id="r" Target="&#0;" Type="{REL}/hyperlink"/>'
    with pytest.raises(ParseError, match="bad character reference"):
        read_first_sheet(
            make_xlsx(worksheet(base, '<hyperlinks><hyperlink ref="A1" r:id="r"/></hyperlinks>'), link)
        )
    with pytest.raises(ParseError, match="bad cell reference"):
        read_first_sheet(
            make_xlsx(worksheet(base, '<hyperlinks><hyperlink ref="1A" location="x"/></hyperlinks>'))
        )


# calamine allocates a sheet's whole grid, and room for `uniqueCount` shared strings, before it returns; a failed
# allocation in Rust aborts the process. So these tiny bodies run in a child process with 4 GiB of address space.
A1 = '<row r="1"><c r="A1"><v>1</v></c></row>'  # with it, calamine's range runs from A1
BOMBS = {
    "a cell at XFD1048576": f'{A1}<row r="1048576"><c r="XFD1048576"><v>2</v></c></row>',
    "the same, prefixed": f'{A1}<x:row><x:c r="XFD1048576" xmlns:x="{MAIN}"><x:v>2</x:v></x:c></x:row>',
    "the same, lowercase, quoted, r last": f"{A1}<row><c s='1' r='xfd1048576'><v>2</v></c></row>",
    "a row number past the grid": f'{A1}<row r="99999999999"><c><v>1</v></c></row>',
    "placed by counting": "<row/>" * 20_000 + "<row>" + "<c><v>1</v></c>" * 20_000 + "</row>",
}


def outcomes_in_a_child(bodies: dict[str, bytes]) -> dict[str, int | str]:
    """read_first_sheet on each body in a child process: its row count, or the ParseError's message."""
    script = (
        "import pickle, resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))\n"
        "from monitors.base import ParseError\n"
        "from monitors.xlsx import read_first_sheet\n"
        "for name, body in pickle.load(sys.stdin.buffer).items():\n"
        "    try:\n"
        "        print(repr((name, len(read_first_sheet(body).rows))), flush=True)\n"
        "    except ParseError as exc:\n"
        "        print(repr((name, str(exc))), flush=True)\n"
    )
    child = subprocess.run(
        [sys.executable, "-c", script], input=pickle.dumps(bodies), capture_output=True, cwd=ROOT, timeout=120
    )
    return dict(ast.literal_eval(line) for line in child.stdout.decode().splitlines())


def test_cell_and_string_counts_calamine_would_allocate_are_refused_first() -> None:
    bodies = {name: make_xlsx(worksheet(f"<sheetData>{rows}</sheetData>")) for name, rows in BOMBS.items()}
    # A `<!--` in an attribute value starts no comment for calamine, only for a careless reader
    hidden = f'<sheetPr codeName="<!--"/><sheetData>{BOMBS["a cell at XFD1048576"]}</sheetData><x y="-->"/>'
    bodies["inside what looks like a comment"] = make_xlsx(worksheet(hidden))
    shared = f'<sst xmlns="{MAIN}" count="1" uniqueCount="4000000000"><si><t>x</t></si></sst>'.encode()
    bodies["uniqueCount 4000000000"] = make_xlsx(
        worksheet("<sheetData/>"), extra={"xl/sharedStrings.xml": shared}
    )
    # calamine takes any <sheet> in workbook.xml for a sheet; this one, first, points at styles.xml, which it reads
    parts = unzip(make_xlsx(worksheet('<sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData>')))
    parts["xl/styles.xml"] = (
        f'<styleSheet xmlns="{MAIN}"><sheetData>{BOMBS["a cell at XFD1048576"]}</sheetData></styleSheet>'.encode()
    )
    sheet = f'<x:sheet xmlns:x="{MAIN}" name="List &amp; more" r:id="rId8"/><sheets>'
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(b"<sheets>", sheet.encode())
    link = f'<Relationship Id="rId8" Type="{REL}/worksheet" Target="styles.xml"/></Relationships>'
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", link.encode()
    )
    bodies["calamine's own first sheet"] = rezip(parts)
    outcomes = outcomes_in_a_child(bodies)
    assert outcomes.keys() == bodies.keys()  # else the child died at the first one missing
    refused = re.compile("max 4000000 cells|out of range|more than 16777216 shared strings")
    assert {name: outcome for name, outcome in outcomes.items() if not refused.search(str(outcome))} == {}


def test_far_away_empty_cells_count_for_nothing() -> None:
    """Excel writes a formatted but empty cell self-closing; calamine leaves it out, and so does the bound."""
    rows = (
        '<row r="1"><c r="A1"><v>1</v></c></row><row r="900"><c r="ZZ900" s="1"/><c r="XFD900" s="1"/></row>'
    )
    data = make_xlsx(worksheet(f"<sheetData>{rows}</sheetData>"))
    assert read_first_sheet(data).rows == calamine(data) == [[1.0]]
    prefixed = make_xlsx(worksheet(f"<sheetData>{rows}</sheetData>".replace("<c ", "<x:c "), ns=":x"))
    assert read_first_sheet(prefixed).rows == [[1.0]]


def test_member_names_that_differ_only_in_case_are_refused() -> None:
    """calamine looks parts up ignoring case; we would check one and it might read the other."""
    data = make_xlsx(worksheet("<sheetData/>"), extra={"XL/Worksheets/Data.xml": b"<worksheet/>"})
    with pytest.raises(ParseError, match="duplicate zip members"):
        read_first_sheet(data)


CELL_TAGS = st.tuples(
    st.sampled_from(["", "x:"]),  # prefix
    st.one_of(st.none(), st.tuples(st.integers(0, 30), st.integers(0, 3))),  # r: row, column
    st.sampled_from(["value", "self-closing", "formula"]),
    st.booleans(),  # r before or after s
)
ROW_TAGS = st.tuples(
    st.sampled_from(["", "x:"]), st.one_of(st.none(), st.integers(0, 30)), st.lists(CELL_TAGS, max_size=5)
)


@FUZZ
@given(st.lists(ROW_TAGS, max_size=8), st.booleans())
def test_the_bound_places_cells_exactly_as_calamine_does(rows: list[tuple], comments: bool) -> None:
    """Rows and cells with and without `r`, prefixed or not: the bound on the grid is calamine's grid."""
    xml = ""
    for row_prefix, row_at, cells in rows:
        xml += (
            f"<{row_prefix}row"
            + (f' r="{row_at + 1}"' if row_at is not None else "")
            + (">" if cells else "/>")
        )
        for prefix, ref, kind, r_first in cells:
            attrs = ['s="1"', *([f"r='{'ABCD'[ref[1]]}{ref[0] + 1}'"] if ref else [])]
            tag = f"<{prefix}c {' '.join(reversed(attrs) if r_first else attrs)}"
            formula = f"<{prefix}f>1</{prefix}f>" if kind == "formula" else ""
            xml += (
                tag + "/>"
                if kind == "self-closing"
                else f'{tag} t="str">{formula}<{prefix}v>x</{prefix}v></{prefix}c>'
            )
            xml += '<!-- <row r="40"/> -->' if comments else ""
        xml += f"</{row_prefix}row>" if cells else ""
    sheet = worksheet(f'<sheetData xmlns:x="{MAIN}">{xml}</sheetData>')
    grid = CalamineWorkbook.from_filelike(io.BytesIO(make_xlsx(sheet))).get_sheet_by_index(0).to_python(False)
    assert xlsx_cells._placed_extent(sheet, "sheet") == (len(grid), len(grid[0]) if grid else 0)


# --- fuzzing: anything goes in, only a Sheet or a ParseError comes out -------------------------------------

SMALL = fixture("2025-07-08_pendingAgencies07082025pm.xlsx")
SMALL_PARTS = unzip(SMALL)
XML_BYTES = st.sampled_from(list(b"<>/=\"'&;!-[]?# rhidn1:AZ\x00\xff"))


def _outcome(data: bytes) -> None:
    with contextlib.suppress(ParseError):
        assert isinstance(read_first_sheet(data), Sheet)


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(SMALL) - 1), st.integers(0, 255)), min_size=1, max_size=6))
def test_fuzz_zip_bytes(changes: list[tuple[int, int]]) -> None:
    data = bytearray(SMALL)
    for position, value in changes:
        data[position] = value
    _outcome(bytes(data))


@FUZZ
@given(
    st.sampled_from(["xl/worksheets/sheet1.xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels"]),
    st.lists(st.tuples(st.floats(0, 1, exclude_max=True), XML_BYTES, st.booleans()), min_size=1, max_size=6),
)
def test_fuzz_xml_inside_a_valid_zip(name: str, changes: list[tuple[float, int, bool]]) -> None:
    xml = bytearray(SMALL_PARTS[name])
    for where, value, insert in changes:
        position = int(where * len(xml))
        xml[position : position + (0 if insert else 1)] = bytes([value])
    _outcome(rezip(SMALL_PARTS | {name: bytes(xml)}))


@settings(FUZZ, max_examples=30, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, len(SMALL) - 1))
def test_fuzz_truncation(size: int) -> None:
    with pytest.raises(ParseError):
        read_first_sheet(SMALL[:size])
