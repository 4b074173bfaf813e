"""Issue 9, item 9 (output): a message has a bounded size whatever arrives at once. Events are the real
pipeline's, from the real ICE lists of July 2025, repeated to 5,000 (as a mass addition would make)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from notifiers.render import MAX_BYTES, MAX_ITEMS, render_alert, render_digest
from rules.ice_rules import Rules
from tests.test_render import P0708, _replay

pytestmark = pytest.mark.filterwarnings("ignore:'imghdr' is deprecated:DeprecationWarning")


@pytest.fixture(scope="module")
def five_thousand() -> list[dict[str, Any]]:
    real = _replay(Rules())  # every event of the bundled lists, the 826 of the baseline included
    return [{**real[i % len(real)], "id": f"e{i}", "baseline": 0} for i in range(5000)]


def _items(text: str) -> int:
    return len(re.findall(r"^- ", text, flags=re.MULTILINE))


def test_a_5000_event_digest_lists_100_and_counts_the_rest(five_thousand):
    message = render_digest(
        five_thousand, "desk", "daily", "2025-07-07T00:00:00+00:00", "2025-07-16T00:00:00+00:00"
    )
    for body in (message.html, message.text, message.markdown):
        assert len(body.encode()) <= MAX_BYTES
    assert _items(message.text) == MAX_ITEMS == message.html.count('<tr class="w-item')
    assert "…and 4900 more events not listed here (this message lists 100:" in message.text
    assert f"Source list: {P0708}" in message.text or "Source list: https://www.ice.gov/" in message.text
    assert "5000 events" in message.text  # the counts are of everything
    assert "feed and report list every event" in message.markdown


def test_items_with_long_contents_are_cut_to_the_byte_limit(five_thousand):
    long_lines = "\n".join(f"+{'changed text ' * 20}{n}" for n in range(20))  # 20 shown lines of ~270 chars
    pages = [
        {**e, "type": "page.changed", "details": {"diff": long_lines}} for e in five_thousand[:MAX_ITEMS]
    ]
    message = render_alert(pages, "desk")
    for body in (message.html, message.text, message.markdown):
        assert len(body.encode()) <= MAX_BYTES
    shown = _items(message.text)
    assert 1 <= shown < MAX_ITEMS
    assert f"…and {MAX_ITEMS - shown} more events not listed here" in message.text


def test_a_small_batch_is_listed_whole(five_thousand):
    message = render_alert(five_thousand[:3], "desk")
    assert _items(message.text) == 3 and "not listed here" not in message.text
