"""The e-mail's HTML part in real headless Chromium (tests/support/chromium.py), on the real scenarios
(tests/support/message_scenarios.py): at phone width (375 px) nothing scrolls sideways, at desktop width it
renders, every link is http(s), and hostile text from a spreadsheet stays text (no script runs, no element or
javascript: link is made from it). Skipped, saying how to install it, only where Chromium is absent."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from notifiers.outbox import due_at
from notifiers.preview import html_document
from notifiers.render import Message, render_alert, render_digest
from tests.support.chromium import (
    INSTALL_HINT,
    NAMES,
    distinct_colours,
    dumped_dom,
    page_widths,
    read_png,
    screenshot,
)
from tests.support.html_parts import ParsedHtml
from tests.support.message_scenarios import (
    HOSTILE_LINK,
    HOSTILE_NAME,
    hostile,
    may_29,
    termination_rename_ban,
)

PHONE, DESKTOP = 375, 1280


@pytest.fixture(scope="module", autouse=True)
def chromium() -> None:
    if not any(shutil.which(name) for name in NAMES):
        pytest.skip(INSTALL_HINT)


@pytest.fixture(scope="module")
def emails(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each scenario's e-mails as the files `notify --preview --html` writes."""
    may, day = may_29(), termination_rename_ban()
    last = max(e["detected_at"] for e in day)
    messages = {
        "may-29-alert": render_alert(may, "newsroom"),
        "day-alert": render_alert(day, "newsroom"),
        "day-digest": render_digest(day, "newsroom", "daily", day[0]["detected_at"], due_at("daily", last)),
        "hostile-alert": render_alert(hostile(day), "newsroom"),
    }
    folder = tmp_path_factory.mktemp("emails")
    return {name: _write(folder / f"{name}.html", message) for name, message in messages.items()}


def _write(path: Path, message: Message) -> Path:
    path.write_text(html_document(message), encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["may-29-alert", "day-alert", "day-digest", "hostile-alert"])
def test_no_horizontal_scroll_at_phone_width(emails, name, tmp_path):
    scroll_width, viewport = page_widths(emails[name], PHONE, tmp_path)
    assert viewport == PHONE
    assert scroll_width <= viewport, f"{name}: the page is {scroll_width} px wide in a {viewport} px viewport"


def test_the_width_measure_sees_a_page_wider_than_the_phone(tmp_path):
    """The measure itself: a 600 px table scrolls at phone width, and fits at desktop width."""
    wide = tmp_path / "wide.html"
    wide.write_text(
        '<!DOCTYPE html><html><body><table style="width:600px"><tr><td>x</td></tr></table></body></html>'
    )
    assert page_widths(wide, PHONE, tmp_path) == (600 + 8, PHONE)  # the body's default 8 px margin
    assert page_widths(wide, DESKTOP, tmp_path) == (DESKTOP, DESKTOP)


@pytest.mark.parametrize("name", ["may-29-alert", "day-digest"])
def test_the_email_renders_at_desktop_and_phone_widths(emails, name, tmp_path):
    for width in (DESKTOP, PHONE):
        png = screenshot(emails[name], tmp_path / f"{name}-{width}.png", width=width, height=1600)
        shown_width, _, rows = read_png(png)
        assert shown_width == width
        assert distinct_colours(rows) > 2, f"{name} at {width} px: a blank page"
    scroll_width, viewport = page_widths(emails[name], DESKTOP, tmp_path)
    assert (scroll_width, viewport) == (DESKTOP, DESKTOP)


@pytest.mark.parametrize("name", ["may-29-alert", "day-alert", "day-digest", "hostile-alert"])
def test_every_link_is_http_and_the_page_runs_nothing(emails, name):
    page = ParsedHtml(emails[name].read_text(encoding="utf-8"))
    assert page.hrefs, f"{name} has no link"
    assert [href for href in page.hrefs if urlsplit(href).scheme not in ("http", "https")] == []
    assert not {"script", "iframe", "object", "embed", "form", "img"} & set(page.tags)
    assert [name for name, _ in page.attributes if name.startswith("on") or name == "src"] == []


def test_hostile_text_stays_inert_in_the_browser(emails):
    """The agency names carry a script and an onerror image that would mark the page if they ran, and the
    MOA and source links are javascript: URLs; Chromium's DOM after loading shows them as text only."""
    dom = dumped_dom(emails["hostile-alert"])
    parsed = ParsedHtml(dom)
    assert "data-pwned" not in [name for name, _ in parsed.attributes]  # nothing ran
    assert "script" not in parsed.tags and "img" not in parsed.tags  # nothing was made an element
    assert not [href for href in parsed.hrefs if not href.startswith(("http://", "https://"))]
    assert parsed.text.count(HOSTILE_NAME) >= 3  # shown, as the text it is
    assert HOSTILE_LINK not in parsed.hrefs


def test_the_example_script_remakes_the_screenshot(tmp_path):
    """docs/make_email_example.py (which made docs/email-example.png) still runs, cut below the last line."""
    script = Path(__file__).resolve().parents[1] / "docs" / "make_email_example.py"
    out = tmp_path / "email.png"
    done = subprocess.run([sys.executable, str(script), "--width", "800", "--out", str(out)], capture_output=True,
                          text=True, timeout=180)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{out}: ") and "Ohio" in done.stdout  # the title of the alert
    width, height, rows = read_png(out)
    assert width == 800 and 300 < height < 4000
    assert rows[-1] == rows[-2] and distinct_colours(rows) > 2  # a margin of background below the text
