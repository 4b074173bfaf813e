"""Issue 14's layouts: the e-mail's HTML (a table per state, a summary line, links with words, stand-out
rows, every URL in full for the text/plain part), the text part without repeated headings, the Slack mrkdwn,
the footer (the subscriber's filters, the config keys, public_url links) and the "and N more" pointer.
Events are the real pipeline's from the real ICE lists of July 2025; delivery over a real SMTP server and a
loopback Slack webhook."""

from __future__ import annotations

import copy
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import apprise
import pytest
from apprise.conversion import convert_between

from notifiers.render import Audience, render_alert, render_digest
from notifiers.subscribers import Subscriber, parse_routing
from rules.ice_rules import Rules
from state.store import Store
from tests.support.fixtures import SLACK_WEBHOOK_PATH
from tests.support.ice_site import publish
from tests.support.smtpserver import parts
from tests.test_outbox import DAY2, P08, Q08, run_check
from tests.test_render import FOLDER, MOA, P0708, _replay, on, one
from watch287g.config import load_config
from watch287g.deliver import deliver

pytestmark = pytest.mark.filterwarnings("ignore:'imghdr' is deprecated:DeprecationWarning")
PUBLIC = "https://watch287g.example.org"
Event = dict[str, Any]


class Anchors(HTMLParser):
    """Every <a>: (href, its text); and the class of every <tr> and <table>."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []
        self.classes: list[str] = []
        self._open: list[str] | None = None
        self.feed(markup)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in ("tr", "table"):
            self.classes.append(f"{tag}.{found.get('class') or ''}")
        if tag == "a":
            self._open = [found.get("href") or "", ""]

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open[1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open is not None:
            self.links.append((self._open[0], self._open[1]))
            self._open = None


@pytest.fixture(scope="module")
def week() -> list[Event]:
    return [e for e in _replay(Rules()) if not e["baseline"]]


@pytest.fixture(scope="module")
def ended() -> list[Event]:
    """The same lists with a hold-back of one list and no days: real terminations and a withdrawal."""
    return [e for e in _replay(Rules(absent_lists=1, absent_days=0)) if not e["baseline"]]


def desk(**filters: Any) -> Subscriber:
    return Subscriber("desk", (), **filters)


def test_the_html_is_a_summary_line_then_a_table_per_state_with_links_in_words(week):
    batch = on(week, "2025-07-08")
    message = render_alert(batch, "desk")
    found = Anchors(message.html)
    assert found.classes.count("table.w-state") == 12 == message.html.count("<h2 ")  # 12 states that day
    assert found.classes.count("tr.w-item") == 35
    assert '<p class="w-summary" style="margin:0 0 8px;font-size:15px;font-weight:600">35 events in 12 states: ' \
           "31 new agreements, 4 MOAs published.</p>" in message.html  # fmt: skip
    assert found.links and all(href.startswith(("http://", "https://")) for href, _ in found.links)
    assert [text for _, text in found.links if "://" in text or text.startswith("www")] == []
    assert {text for _, text in found.links} == {"MOA", "ICE's list of 8 July 2025"}
    # made for mail clients: no script, no image, nothing wider than a phone's 375 px
    assert not re.search(r"<(script|img|link|iframe)", message.html)
    widths = re.findall(r'(?<![-\w])width(?:="|:)(\d+)(?:px|")', message.html)
    assert widths and max(int(w) for w in widths) <= 375
    assert "max-width:640px" in message.html


def test_the_text_plain_part_apprise_derives_keeps_every_url_in_full(week):
    message = render_alert(on(week, "2025-07-08"), "desk")
    plain = convert_between(apprise.NotifyFormat.HTML, apprise.NotifyFormat.TEXT, message.html)
    hrefs = {href for href, _ in Anchors(message.html).links}
    assert len(hrefs) == 5 and [url for url in sorted(hrefs) if url not in plain] == []
    assert f"ICE's list of 8 July 2025: {P0708}" in plain
    assert "@media" not in plain  # the dark-mode block is not text
    states = message.html.count('class="w-state"')
    assert states > 1 and plain.count("What happened") == 1  # the column names once, not under every state


def test_terminations_withdrawals_bans_and_corrections_stand_out_with_a_word(ended, week):
    ends = [e for e in ended if e["type"] in ("agreement.terminated", "pending.withdrawn")]
    added = one(week, "agreement.added", "Arkansas State Police Department")
    ban = {"type": "policy.adopted", "state": "MD", "detected_at": "2025-07-16T09:00:00Z",
           "details": {"title": "County executive order", "effect": "ban"}}  # fmt: skip
    corrected = {**copy.deepcopy(ends[0]), "type": "event.corrected", "id": "c1",
                 "details": {"was": "agreement.terminated", "now": "active"}}  # fmt: skip
    message = render_alert([*ends, added, ban, corrected], "desk")
    rows = message.html.split('<tr class="w-item')[1:]
    marked = [row for row in rows if row.startswith(' w-standout">')]
    assert len(rows) == len(ends) + 3 and len(marked) == len(ends) + 2  # the addition is not marked
    words = re.findall(r'<strong class="w-label" style="color:#[0-9a-f]{6}">([^<]+)</strong>', message.html)
    assert sorted(words) == sorted(["Terminated"] * (len(ends) - 1) + ["Withdrawn", "Ban", "Correction"])
    assert all("border-left:4px solid #" in row for row in marked)
    assert "border-left:4px solid transparent" in next(r for r in rows if "Arkansas State Police" in r)
    slack = [line[2:].split(":*")[0] for line in message.markdown.splitlines() if line.startswith("• *")]
    assert sorted(slack) == sorted(["*Terminated"] * (len(ends) - 1) + ["*Withdrawn", "*Ban", "*Correction"])


def test_a_state_with_one_kind_of_event_has_no_second_heading_in_the_text_part(week):
    digest = render_digest(week, "desk", "weekly", "2025-07-07", "2025-07-15")
    blocks = digest.text.split("\n\n")
    for index, block in enumerate(blocks):
        if block.startswith("== ") and "," not in block:  # one kind in this state
            assert blocks[index + 1].startswith("- "), (block, blocks[index + 1])
    idaho = digest.text.split("== Idaho")[1].split("\n== ")[0]
    assert "New agreements (1):" in idaho  # two kinds in Idaho: each gets its heading
    georgia = digest.text.split("== Georgia: 1 new agreement ==\n\n")[1]
    assert georgia.startswith("- ") and f"  Source: {FOLDER}" in georgia.split("\n\n")[0]


def test_the_footer_says_why_how_to_change_it_and_links_the_served_history(week):
    subscriber = desk(events=("agreement.*", "policy.*"), states=frozenset({"MD", "AL"}),
                      models=frozenset({"Task Force Model"}))  # fmt: skip
    event = one(on(week, "2025-07-08"), "agreement.moa_published", "Marion County Sheriff's Office")
    served = render_alert([event], "desk", audience=Audience(subscriber, PUBLIC, "w"))
    why = ("Sent to desk by watch287g for: Alabama and Maryland; events matching agreement.*, policy.*; Task "
           "Force Model only; sent immediately.")  # fmt: skip
    how = ("To change it: subscribers[desk].states (or .events, .models, .effects, .frequency) in watch287g's "
           "config.")  # fmt: skip
    assert served.text.endswith(
        f"{why}\n{how}\nRead more: all events, newest first: {PUBLIC}/w/events?_sort_desc=detected_at · agreements "
        f"per state and model: {PUBLIC}/w/agreements_by_state_and_model\nTimes are UTC.\n"
    )
    history = f"{PUBLIC}/w/agreement_history?agency=Marion+County+Sheriff%27s+Office"
    assert (history, "history") in Anchors(served.html).links
    assert f"  History: {history}\n" in served.text and f"<{history}|history>" in served.markdown
    assert f"<{PUBLIC}/w/events?_sort_desc=detected_at|all events, newest first>" in served.markdown
    plain = render_alert([event], "desk", audience=Audience(desk(frequency="weekly")))
    assert plain.text.endswith(
        "Sent to desk by watch287g for: all states; agreement, pending-request, program-page, policy and bill "
        f"events; in a weekly digest (Mondays, 13:00 UTC).\n{how}\nTimes are UTC.\n"
    )
    assert PUBLIC not in plain.html + plain.text + plain.markdown and "history" not in plain.text


def test_and_n_more_points_at_the_served_events_or_names_the_command(week):
    many = [{**week[i % len(week)], "id": f"e{i}"} for i in range(150)]
    served = render_digest(
        many, "desk", "daily", "2025-07-07", "2025-07-16", audience=Audience(desk(), PUBLIC)
    )
    link = f"{PUBLIC}/watch287g/events?_sort_desc=detected_at&detected_at__gte=2025-07-08"
    assert f"See every event since 2025-07-08: {link};" in served.text
    assert f"<{link}|every event since 2025-07-08>" in served.markdown
    unserved = render_digest(many, "desk", "daily", "2025-07-07", "2025-07-16")
    assert "…and 50 more events not listed here (this message lists 100:" in unserved.text
    assert "`watch287g events --since 2025-07-08` lists them" in unserved.text
    assert "…and 110 more events not listed here (this message lists 40:" in unserved.markdown


def test_a_real_email_has_an_html_part_and_a_plain_part_with_full_urls(http_server, smtp_server, tmp_path):
    path = tmp_path / "watch287g.yaml"
    page = publish(http_server, "participatingAgencies07072025pm", "pendingAgencies07072025pm")
    path.write_text(
        f"database: w.db\npublic_url: {PUBLIC}/\nsources:\n  - name: ice\n    kind: ice_287g\n    url: {page}\n"
        f'    timeout: 2\nsubscribers:\n  - name: al-desk\n    notify: ["{smtp_server.url_for_apprise()}"]\n'
        "    states: [AL]\n"
    )
    config = load_config(path)
    store = Store(config.database)
    try:
        run_check(config, store, "2025-07-07T21:00:00+00:00")
        publish(http_server, P08, Q08)
        run_check(config, store, DAY2)
        assert deliver(store, config, now=DAY2).messages == 1
    finally:
        store.close()
    (received,) = smtp_server.wait_for(1, timeout=5)
    body = parts(received)
    assert set(body) == {"text/plain", "text/html"}
    marion = MOA + "MarionCoSheriffsOfficeAL_TFM_MOA_06122025.pdf"
    assert f'<a href="{marion}" style="color:#1d4ed8">MOA</a>' in body["text/html"]
    source = re.findall(r"ICE's list of 8 July 2025: (http://127\.0\.0\.1:\d+/\S+/participatingAgencies07082025pm\.xlsx)",
                        body["text/plain"])  # fmt: skip
    assert len(source) == 1 and f'<a href="{source[0]}" style="color:#1d4ed8">ICE' in body["text/html"]
    for url in (marion, f"{PUBLIC}/w/agreement_history?agency=Marion+County+Sheriff%27s+Office"):
        assert url in body["text/plain"]
    assert "Sent to al-desk by watch287g for: Alabama; agreement, pending-request" in body["text/plain"]
    assert "subscribers[al-desk].states" in body["text/plain"]


@pytest.mark.parametrize("blocks", ["no", "yes"])
def test_slack_gets_one_line_per_event_with_named_links(http_server, slack_webhook, blocks, week):
    from notifiers.outbox import apprise_send

    event = one(on(week, "2025-07-08"), "agreement.moa_published", "Marion County Sheriff's Office")
    message = render_alert([event], "desk", audience=Audience(desk(), PUBLIC, "w"))
    ok, reason = apprise_send(f"{slack_webhook}?blocks={blocks}&footer=no", message)
    assert (ok, reason) == (True, None)
    (posted,) = http_server.posted_json(SLACK_WEBHOOK_PATH)
    attachment = posted["attachments"][0]
    if blocks == "yes":  # apprise's own blocks: the title as a header, the body as one mrkdwn section
        assert [b["type"] for b in attachment["blocks"]] == ["header", "section"]
        assert attachment["blocks"][0]["text"]["text"] == message.title
        text = attachment["blocks"][1]["text"]["text"]
        assert attachment["blocks"][1]["text"]["type"] == "mrkdwn" and len(text) <= 3000
    else:
        assert attachment["title"] == message.title
        text = attachment["text"]
    marion = MOA + "MarionCoSheriffsOfficeAL_TFM_MOA_06122025.pdf"
    history = f"{PUBLIC}/w/agreement_history?agency=Marion+County+Sheriff%27s+Office"
    assert f"• Marion County Sheriff's Office (Task Force Model): MOA published · <{marion}|MOA> · " \
           f"<{history}|history>" in text  # fmt: skip
    assert f"Source: <{P0708}|ICE's list of 8 July 2025> (snapshot #3," in text


def test_the_routing_subscriber_words_match_the_config(tmp_path: Path):
    routing = parse_routing([{"name": "md", "notify": ["json://127.0.0.1/x"], "states": ["MD"],
                              "effects": ["ban"], "frequency": "daily"}], None, "test")  # fmt: skip
    message = render_alert([], "md", audience=Audience(routing.subscriber("md")))
    assert message.text.splitlines()[-3] == (
        "Sent to md by watch287g for: Maryland; agreement, pending-request, program-page, policy and bill events; "
        "policies and bills that ban; in a daily digest (13:00 UTC)."
    )


def test_the_operators_footer_names_their_key(week):
    from notifiers.subscribers import OPERATOR_EVENTS, OPERATORS

    operators = Subscriber(OPERATORS, (), OPERATOR_EVENTS)
    message = render_alert(on(week, "2025-07-08")[:1], OPERATORS, audience=Audience(operators))
    assert message.text.splitlines()[-3:] == [
        "Sent to operators by watch287g for: the operators' channel: quarantined lists, failing or stale sources "
        "and deliveries, compliance.",
        "To change where these go: operators.notify in watch287g's config.",
        "Times are UTC.",
    ]


def test_a_long_digest_fits_a_slack_channel_in_block_kit_mode(http_server, slack_webhook, week):
    """apprise sends a Block Kit body as ONE section (3,000 characters at most) under a header (150): the
    digest is folded to that channel's size, and the title cut, so Slack does not refuse the whole message."""
    from notifiers.outbox import apprise_send, for_channel

    blocks_url, legacy_url = f"{slack_webhook}?blocks=yes&footer=no", f"{slack_webhook}?footer=no"
    site = Audience(desk(), PUBLIC, "w")
    assert for_channel(site, legacy_url) == site
    narrow = for_channel(site, blocks_url)
    assert narrow.slack_chars < 3000
    digest = render_digest(week, "desk", "weekly", "2025-07-07", "2025-07-15", audience=narrow)
    assert (
        len(render_digest(week, "desk", "weekly", "2025-07-07", "2025-07-15", audience=site).markdown) > 3000
    )
    assert len(digest.markdown) <= narrow.slack_chars and "more" in digest.markdown
    long_title = digest.__class__(digest.title + " " + "x" * 200, digest.html, digest.text, digest.markdown)
    assert apprise_send(blocks_url, long_title) == (True, None)
    (posted,) = http_server.posted_json(SLACK_WEBHOOK_PATH)
    header, section = posted["attachments"][0]["blocks"]
    assert len(header["text"]["text"]) == 150 and header["text"]["text"].endswith("…")
    assert len(section["text"]["text"]) <= 3000


def test_a_source_list_is_named_by_the_date_its_file_name_states() -> None:
    from notifiers.items import source_words

    def words(url: str) -> str:
        return source_words({"type": "agreement.added", "url": url})

    assert words(FOLDER + "participatingAgencies07082025pm.xlsx") == "ICE's list of 8 July 2025"
    assert words(FOLDER + "pendingAgencies05292025am.xlsx") == "ICE's pending list of 29 May 2025"
    assert words(FOLDER + "participatingAgencies-20250221214937.xlsx") == "ICE's list of 21 February 2025"
    assert words("https://www.ice.gov/287g#2025-05-29_participatingAgencies05292025am.xlsx") == (
        "ICE's list of 29 May 2025"
    )
    assert words(FOLDER + "participatingAgencies13452025am.xlsx") == "Source"  # no such day
