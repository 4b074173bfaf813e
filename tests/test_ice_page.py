"""Link discovery and change-relevant text of the ICE 287(g) page, on hand-built fixture pages."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType

import pytest

from monitors.ice.page import ListLinks, find_list_links, normalized_text
from monitors.legislation.kinds import Request, WebPageMonitor

FIXTURES = Path(__file__).parent / "fixtures" / "ice"
PAGE_URL = "https://www.ice.gov/identify-and-arrest/287g"
DOCLIB = "https://www.ice.gov/doclib/about/offices/ero/287g/"


def page(name: str) -> bytes:
    return (FIXTURES / f"page_{name}.html").read_bytes()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "basic",
            ListLinks(
                DOCLIB + "participatingAgencies07302025pm.xlsx",
                DOCLIB + "pendingAgencies07302025pm.xlsx",
            ),
        ),
        (
            "variant",
            ListLinks(
                DOCLIB + "ParticipatingAgencies08062025PM%20copy.xlsx",
                DOCLIB + "PENDINGAGENCIES08062025AM.xlsx?v=2",
            ),
        ),
        (
            "changed",
            ListLinks(
                DOCLIB + "participatingAgencies07302025pm.xlsx",
                DOCLIB + "pendingAgencies07302025pm.xlsx",
            ),
        ),
        # link text only; the older PDF and the second pending file lose; raw space quoted; fragment dropped
        (
            "textlinks",
            ListLinks(DOCLIB + "list-a.XLSX", DOCLIB + "pendingAgencies07302025pm%20copy.xlsx"),
        ),
        ("nolinks", ListLinks(None, None)),
    ],
)
def test_list_links_on_each_page(name: str, expected: ListLinks) -> None:
    assert find_list_links(page(name), PAGE_URL) == expected


@pytest.mark.parametrize(
    "file_name",
    [
        "participatingAgencies07302025am.xlsx",
        "participatingAgencies07302025mid.xlsx",
        "participatingAgencies07302025AM.xlsx",
        "participatingAgencies07302025pm2.xlsx",
        "participatingAgencies07302025amB.xlsx",
        "participatingAgencies07302025pmB.xlsx",
        "participatingAgencies07302025am_b.xlsx",
        "participatingAgencies07302025pm_b.xlsx",
        "participatingAgencies07302025pm%20copy.xlsx",
        "participatingAgencies07302025.xlsx",
        "participatingAgencies.xlsx",
        "PARTICIPATINGAGENCIES07302025PM.xlsx",
    ],
)
def test_every_file_name_style_is_found_without_link_text(file_name: str) -> None:
    html = (
        f'<html><body><p><a href="/doclib/about/offices/ero/287g/{file_name}">Download</a></p></body></html>'
    )
    assert find_list_links(html.encode(), PAGE_URL) == ListLinks(DOCLIB + file_name, None)


def test_html_link_is_used_only_when_its_file_name_names_the_list() -> None:
    html = b"""<main><a href="/news/legislation-update">Pending legislation</a>
        <a href="/doclib/about/offices/ero/287g/participatingAgencies.csv">Participating</a></main>"""
    assert find_list_links(html, PAGE_URL) == ListLinks(
        "https://www.ice.gov/doclib/about/offices/ero/287g/participatingAgencies.csv", None
    )


def test_mail_and_fragment_links_are_ignored() -> None:
    html = b'<a href="mailto:pending@ice.dhs.gov">pending</a><a href="#participating">participating</a>'
    assert find_list_links(html, PAGE_URL) == ListLinks(None, None)


def test_text_ignores_dates_nav_order_whitespace_and_nbsp() -> None:
    assert normalized_text(page("variant")) == normalized_text(page("basic"))


def test_text_changes_when_a_paragraph_changes() -> None:
    basic, changed = normalized_text(page("basic")), normalized_text(page("changed"))
    assert basic != changed
    removed = set(basic.splitlines()) - set(changed.splitlines())
    assert removed == {
        "A force multiplier for law enforcement agencies enforcing limited immigration authority with ICE "
        "oversight during their routine police duties."
    }


def test_text_keeps_content_and_drops_chrome() -> None:
    lines = normalized_text(page("basic")).splitlines()
    assert lines[0] == "Delegation of Immigration Authority Section 287(g) Immigration and Nationality Act"
    assert lines[1] == "ICE's 287(g) Program"  # NBSP folded
    assert lines[-1] == "Last Reviewed/Updated: [date]"
    for expected in ("287(g) Program Models", "Jail Enforcement Model", "Task Force Model",
                     "Warrant Service Officer program",
                     "How Can Your Agency Participate in the ICE 287(g) Program?"):  # fmt: skip
        assert expected in lines
    text = "\n".join(lines)
    for chrome in (
        "Newsroom",
        "Secure Communities",
        "Skip to main content",
        "Privacy Policy",
        "dataLayer",
        "Search",
    ):
        assert chrome not in text


def test_text_without_main_uses_the_h1_container() -> None:
    assert normalized_text(page("textlinks")).splitlines() == [
        "Delegation of Immigration Authority Section 287(g) Immigration and Nationality Act",
        "ICE's 287(g) Program",
        "Archived: participating agencies (2019, PDF)",
        "Current lists: participating agencies list (xlsx), pending agencies list (xlsx), "
        "pending agencies list, previous (xlsx)",
        "287(g) Program Models",
        "Jail Enforcement Model, Task Force Model and the Warrant Service Officer program.",
        "How Can Your Agency Participate in the ICE 287(g) Program?",
        "Contact the 287(g) program office.",
        "Last Reviewed/Updated: [date]",
    ]


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("Last Reviewed/Updated: 07/30/2025", "Last Reviewed/Updated: [date]"),
        ("Last Updated: 2025-07-30", "Last Updated: [date]"),
        ("Updated: July 30, 2025", "Updated: [date]"),
        ("(updated 7/30/25)", "(updated [date])"),
        ("As of Aug. 6, 2025, 900 agencies", "As of [date], 900 agencies"),
        ("Signed on 07/30/2025", "Signed on 07/30/2025"),  # other dates are content
    ],
)
def test_volatile_dates_are_masked(snippet: str, expected: str) -> None:
    assert normalized_text(f"<main><p>{snippet}</p></main>".encode()) == expected


def test_text_is_unicode_normalized() -> None:
    composed, decomposed = "<main><p>Ca\u00f1on\u00a0City</p></main>", "<main><p>Can\u0303on City</p></main>"
    assert normalized_text(composed.encode()) == normalized_text(decomposed.encode()) == "Ca\u00f1on City"


def _python_lines_run(html: bytes, extract: Callable[[bytes], object] = normalized_text) -> int:
    """How many lines of Python `extract` executes on `html`: a measure of work that, unlike time, does not
    depend on the machine's load."""
    count = 0

    def tracer(frame: FrameType, event: str, arg: object) -> object:
        nonlocal count
        count += event == "line"
        return tracer

    sys.settrace(tracer)  # type: ignore[arg-type]
    try:
        extract(html)
    finally:
        sys.settrace(None)
    return count


def test_normalized_text_work_grows_linearly_with_the_page() -> None:
    """Many sibling blocks and chrome elements (a long page): inserting line marks or decomposing chrome
    through bs4 scans the siblings each time, so 4x the page meant ~10x the work (157 s for 3 MB)."""

    def long_page(blocks: int) -> bytes:
        return ("<main>" + "<p>Task Force Model</p><button>Share</button>" * blocks + "</main>").encode()

    _python_lines_run(long_page(10))  # first use imports and caches; not part of the measure
    small, large = _python_lines_run(long_page(250)), _python_lines_run(long_page(1000))
    assert large / small < 5  # linear: ~4
    assert normalized_text(long_page(3)) == "Task Force Model\nTask Force Model\nTask Force Model"


def test_webpage_text_work_grows_linearly_with_the_page() -> None:
    """The `webpage` source kind decomposed every script/style/noscript element: the same quadratic scan."""
    monitor = WebPageMonitor({"name": "tx", "kind": "webpage", "url": "https://gov.texas.gov/news"})

    def page_text(html: bytes) -> object:
        return monitor.parse(Request("page", monitor.config["url"]), html).page_text

    def long_page(blocks: int) -> bytes:
        return (
            "<body>" + "<script>track()</script><p>Executive order</p><noscript>x</noscript>" * blocks
        ).encode()

    _python_lines_run(long_page(10), page_text)
    small, large = _python_lines_run(long_page(250), page_text), _python_lines_run(long_page(1000), page_text)
    assert large / small < 5
    assert page_text(long_page(2)) == "Executive order Executive order"
