"""parse_list on ICE's real participating / pending spreadsheets (and minimal edits of them)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from urllib.parse import quote

import pytest

from monitors.base import ParseError
from monitors.ice.lists import ParsedList, parse_list
from tests.support.xlsx_edit import drop_column, keep_rows, replace_hyperlink, replace_text, set_cell

FIXTURES = Path(__file__).parent / "fixtures" / "ice"

P0308 = "2025-03-08_participatingAgencies-20250308103021.xlsx"
P0317 = "2025-03-17_participatingAgencies-20250317231040.xlsx"
P0529 = "2025-05-29_participatingAgencies05292025am.xlsx"
P0620 = "2025-06-20_participatingAgencies06202025am.xlsx"
P0623 = "2025-06-23_participatingAgencies06232025am.xlsx"
P0627 = "2025-06-27_participatingAgencies06272025am.xlsx"
P0701 = "2025-07-01_participatingAgencies07012025pm.xlsx"
P0703 = "2025-07-03_participatingAgencies07032025pm.xlsx"
P0703_V2 = "2025-07-03_participatingAgencies07032025pm__v2.xlsx"
P0711 = "2025-07-11_participatingAgencies07112025pm.xlsx"
N0529 = "2025-05-29_pendingAgencies05292025am.xlsx"
N0708 = "2025-07-08_pendingAgencies07082025pm.xlsx"

PARTICIPATING_7 = ("STATE", "LAW ENFORCEMENT AGENCY", "TYPE", "COUNTY", "SUPPORT TYPE", "SIGNED", "MOA")


def data(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@cache
def parsed(name: str) -> ParsedList:
    return parse_list(data(name))


def find(parsed_list: ParsedList, agency: str, model: str, state: str | None = None) -> dict:
    found = [
        r
        for r in parsed_list.records
        if r["agency"] == agency and r["model"] == model and (state is None or r["state"] == state)
    ]
    assert len(found) == 1, found
    return found[0]


def content(records: list[dict]) -> list[dict]:
    """Records without their layout fields."""
    return [{k: v for k, v in r.items() if k not in ("row", "hidden")} for r in records]


def by_key(records: list[dict]) -> dict[str, dict]:
    return {r["key"]: c for r, c in zip(records, content(records), strict=True)}


# -- shape, header, columns --------------------------------------------------------------------------------


def test_participating_and_pending_shapes_come_from_the_header() -> None:
    assert parsed(P0308).shape == "participating"
    assert parsed(P0308).columns == (
        "STATE",
        "LAW ENFORCEMENT AGENCY",
        "TYPE",
        "SUPPORT TYPE",
        "SIGNED",
        "MOA",
    )
    assert parsed(N0708).shape == "pending"
    assert parsed(N0708).columns == ("STATE", "LAW ENFORCEMENT AGENCY", "TYPE", "COUNTY", "SUPPORT TYPE")


def test_county_column_inserted_mid_row_is_found_by_header() -> None:
    before, after = parsed(P0308), parsed(P0317)
    assert after.columns == PARTICIPATING_7
    assert (len(before.records), len(after.records)) == (318, 360)
    old = find(before, "Nassau County Sheriff's Office", "Warrant Service Officer", "FL")
    new = find(after, "Nassau County Sheriff's Office", "Warrant Service Officer", "FL")
    # Every field after COUNTY moved one column right and is still read from the right column.
    assert content([old]) == [
        {
            "key": "FL|nassau county sheriffs office|Warrant Service Officer",
            "state": "FL",
            "agency": "Nassau County Sheriff's Office",
            "model": "Warrant Service Officer",
            "type": "County",
            "signed": "2019-10-15",
            "signed_text": None,
            "moa_url": "https://www.ice.gov/doclib/287gMOA/287gWSO_NassauCoFl2019-10-15.pdf",
            "moa_pending": False,
        }
    ]
    assert content([new]) == [{**content([old])[0], "county": "Nassau County"}]  # "Nassau County " trimmed
    # A list without the COUNTY column has no `county` field at all (not county=None).
    assert not any("county" in r for r in before.records)
    assert all("county" in r for r in after.records)


def test_addendum_column_appended() -> None:
    before, after = parsed(P0627), parsed(P0701)
    assert after.columns == (*PARTICIPATING_7, "ADDENDUM")
    assert not any("addendum_url" in r for r in before.records)
    aransas = find(after, "Aransas County Sheriff's Office", "Jail Enforcement Model", "TX")
    # Both links are Outlook safelinks in the file.
    assert aransas["moa_url"] == "https://www.ice.gov/doclib/287gMOA/287gJEM_AransasCoTX_06-08-2020.pdf"
    assert aransas["addendum_url"] == "https://www.ice.gov/doclib/287gMOA/287gJEM_AransasCoTX_addendum.pdf"
    assert sum(1 for r in after.records if r["addendum_url"]) == 16


def test_required_column_missing_is_a_parse_error() -> None:
    without_model = drop_column(data(N0708), "E")  # SUPPORT TYPE
    with pytest.raises(ParseError) as error:
        parse_list(without_model)
    assert str(error.value) == (
        "expected columns missing: model (header is ['STATE', 'LAW ENFORCEMENT AGENCY', 'TYPE', 'COUNTY'])"
    )


def test_header_only_list_has_no_records() -> None:
    empty = parse_list(keep_rows(data(N0708), 1))
    assert (empty.shape, empty.records, empty.warnings, empty.hidden_rows) == ("pending", [], [], 0)


# -- hidden rows ---------------------------------------------------------------------------------------------


def test_autofilter_hidden_rows_are_agreements() -> None:
    filtered, unfiltered = parsed(P0620), parsed(P0623)
    assert (filtered.hidden_rows, len(filtered.records)) == (371, 719)
    assert sum(r["hidden"] for r in filtered.records) == 371
    hidden_models = {r["model"] for r in filtered.records if r["hidden"]}
    assert hidden_models == {
        "Jail Enforcement Model",
        "Warrant Service Officer",
    }  # filter kept Task Force only
    # 06-23 is the same list with the filter removed (and re-sorted): same content, nothing hidden.
    assert (unfiltered.hidden_rows, len(unfiltered.records)) == (0, 719)
    assert by_key(filtered.records) == by_key(unfiltered.records)


def test_hidden_rows_in_a_pending_list() -> None:
    pending = parsed(N0708)
    assert (pending.hidden_rows, len(pending.records)) == (8, 20)
    hidden = [r for r in pending.records if r["hidden"]]
    assert [r["row"] for r in hidden] == [2, 4, 6, 7, 9, 12, 16, 21]
    assert {r["model"] for r in hidden} == {"Jail Enforcement Model", "Task Force Model"}  # filtered on WSO


# -- canonical values ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("canonical", "variant"),
    [
        ("Task Force Model", "Task Force Officer"),
        ("Warrant Service Officer", "Warrant Services Officer"),
        ("Jail Enforcement Model", "Jail Enforcment Model"),
        ("Task Force Model", "  Task Force Model   "),
        ("Jail Enforcement Model", "JAIL ENFORCEMENT MODEL"),
    ],
)
def test_support_type_spellings_map_to_the_canonical_model(canonical: str, variant: str) -> None:
    original = parsed(N0529)
    edited = parse_list(replace_text(data(N0529), canonical, variant, count=1))
    counts = {
        "Jail Enforcement Model": 7,
        "Task Force Model": 43,
        "Warrant Service Officer": 18,
    }  # ICE, May 29
    assert sum(r["model"] == canonical for r in edited.records) == counts[canonical]
    assert content(edited.records) == content(original.records)
    assert edited.warnings == []


@pytest.mark.parametrize(
    ("canonical", "variant", "code", "rows"),
    [
        ("UTAH", "UTAHJ", "UT", 3),
        ("UTAH", "UTAh", "UT", 3),
        ("ALABAMA", "AlABAMA", "AL", 13),
        ("MISSOURI", "MISSOURI ", "MO", 4),
        ("FLORIDA", "\u00a0Florida\u00a0", "FL", 271),
    ],
)
def test_state_typos_map_to_the_usps_code(canonical: str, variant: str, code: str, rows: int) -> None:
    edited = parse_list(replace_text(data(P0529), canonical, variant, count=1))
    assert sum(r["state"] == code for r in edited.records) == rows
    assert content(edited.records) == content(parsed(P0529).records)


def test_real_utahj_typo() -> None:
    weber = find(parsed(P0703_V2), "Weber County Sheriff's Office", "Task Force Model")
    assert (weber["state"], weber["key"]) == ("UT", "UT|weber county sheriffs office|Task Force Model")


@pytest.mark.parametrize(
    ("variant", "expected"),
    [
        ("Muncipality", "Municipality"),
        ("Municipal", "Municipality"),
        ("State", "State Agency"),
        ("County ", "County"),
        ("#NA", None),
        ("", None),
    ],
)
def test_agency_type_vocabulary(variant: str, expected: str | None) -> None:
    # Row 3 of the 07-08 pending list: Marion County Sheriff's Office (AL), TYPE "County".
    edited = parse_list(set_cell(data(N0708), "C3", variant))
    assert edited.records[1]["agency"] == "Marion County Sheriff's Office"
    assert edited.records[1]["type"] == expected


@pytest.mark.parametrize(
    "variant",
    [
        "Marion County Sheriff's Office   ",
        "Marion\u00a0County Sheriff's Office\u00a0",
        "MARION COUNTY SHERIFF'S OFFICE",
    ],
)
def test_agency_name_noise_keeps_the_key(variant: str) -> None:
    edited = parse_list(set_cell(data(N0708), "B3", variant))
    assert edited.records[1]["key"] == "AL|marion county sheriffs office|Warrant Service Officer"
    assert edited.records[1]["agency"] == " ".join(variant.replace("\u00a0", " ").split())


def test_unreadable_rows_are_warnings_not_silent_drops() -> None:
    edited = parse_list(set_cell(set_cell(data(N0708), "A3", "NOWHERE"), "E5", "Liaison"))
    assert edited.warnings == [
        "row 3: unknown state 'NOWHERE'; row skipped",
        "row 5: unknown support type 'Liaison'; row skipped",
    ]
    assert len(edited.records) == 18


# -- duplicates, dates, links --------------------------------------------------------------------------------


def test_duplicate_rows_are_kept_once_with_a_warning() -> None:
    first = parsed(P0703)
    assert first.warnings == ["row 552: duplicate of row 549 (St. Cloud Police Department)"]
    assert len(first.records) == 752  # 753 data rows
    st_cloud = find(first, "St. Cloud Police Department", "Task Force Model", "FL")
    assert st_cloud["row"] == 549
    assert parsed(P0703_V2).warnings == ["row 296: duplicate of row 295 (St. Cloud Police Department)"]


@pytest.mark.parametrize(
    ("agency", "model", "state", "text", "expected"),
    [
        ("Terry County Sheriff's Office", "Warrant Service Officer", "TX", "7/72025", "2025-07-07"),
        ("Tooele County Sheriff's Office", "Warrant Service Officer", "UT", "7/72025", "2025-07-07"),
        ("Campbell County Sheriff's Office", "Task Force Model", "VA", "05/082025", "2025-05-08"),
    ],
)
def test_broken_signed_texts_parse_to_the_date(
    agency: str, model: str, state: str, text: str, expected: str
) -> None:
    record = find(parsed(P0711), agency, model, state)
    assert (record["signed"], record["signed_text"]) == (expected, None)


def test_unparseable_signed_text_is_kept_as_text() -> None:
    # E4 of the 03-08 list: Kodiak Police Department's SIGNED, an Excel date (2020-07-20); write a text there.
    edited = parse_list(set_cell(data(P0308), "E4", "pending signature"))
    kodiak = edited.records[2]
    assert kodiak["agency"] == "Kodiak Police Department"
    assert (kodiak["signed"], kodiak["signed_text"]) == (None, "pending signature")
    assert parsed(P0308).records[2]["signed"] == "2020-07-20"


def test_moa_link_variants() -> None:
    after = parsed(P0317)
    belleair = find(after, "Belleair Police Department", "Task Force Model")
    assert (
        belleair["moa_url"]
        == "https://www.ice.gov/doclib/287gMOA/BellairePoliceDept_TFM_MOA_02.28.25%20508.pdf"
    )
    etowah = find(after, "Etowah County Sheriff's Office", "Jail Enforcement Model")
    assert etowah["moa_url"] == "https://www.ice.gov/doclib/287gMOA/287gJEM_%20etowahCoAL_06-09-2020.pdf"
    pending = find(after, "Nassau County Sheriff's Office", "Task Force Model", "FL")
    assert (pending["moa_url"], pending["moa_pending"]) == (None, True)  # "link pending"
    blank = find(parsed(P0308), "Belleair Police Department", "Task Force Model")
    assert (blank["moa_url"], blank["moa_pending"]) == (None, False)  # an NBSP, no link


def test_outlook_safelinks_are_unwrapped_everywhere() -> None:
    records = parsed(P0701).records
    alachua = find(parsed(P0701), "Alachua County Sheriff's Office", "Task Force Model")
    assert (
        alachua["moa_url"]
        == "https://www.ice.gov/doclib/287gMOA/AlachuaCoSheriffsOfficeFL_TFM_MOA_02262025.pdf"
    )
    urls = [r[f] for r in records for f in ("moa_url", "addendum_url") if r[f]]
    assert len(urls) == 596  # every hyperlink in the file (the catalog counts 596)
    assert not [
        u for u in urls if "safelinks" in u or "%2F" in u or not u.startswith(("https://", "http://"))
    ]


NASSAU_WSO_MOA = "https://www.ice.gov/doclib/287gMOA/287gWSO_NassauCoFl2019-10-15.pdf"


@pytest.mark.parametrize(
    "written",
    [
        "https:/www.ice.gov/doclib/287gMOA/287gWSO_NassauCoFl2019-10-15.pdf",
        "https://gcc02.safelinks.protection.outlook.com/?url="
        + quote(NASSAU_WSO_MOA, safe="")
        + "&data=05%7C02%7CWebmaster.ICE%40ice.dhs.gov%7C0%7C&sdata=x%3D&reserved=0",
        "https://www.ice.gov/doclib/287gMOA/287gWSO%5FNassauCoFl2019-10-15.pdf",
        "https://web.archive.org/web/20250301000000/https://www.ice.gov/doclib/287gMOA/287gWSO_NassauCoFl2019-10-15.pdf",
    ],
)
def test_moa_hyperlink_is_mended(written: str) -> None:
    edited = parse_list(replace_hyperlink(data(P0317), NASSAU_WSO_MOA, written))
    record = find(edited, "Nassau County Sheriff's Office", "Warrant Service Officer", "FL")
    assert record["moa_url"] == NASSAU_WSO_MOA


def test_moa_url_written_as_text() -> None:
    url = "https://www.ice.gov/doclib/287gMOA/UnivFLPDFL_TFM_MOA_041525.pdf"
    # G132 of the 03-17 list: Nassau County Sheriff's Office (FL, Task Force Model), "link pending", no link.
    edited = parse_list(set_cell(data(P0317), "G132", url))
    record = find(edited, "Nassau County Sheriff's Office", "Task Force Model", "FL")
    assert (record["moa_url"], record["moa_pending"]) == (url, False)
