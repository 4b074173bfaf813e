"""Alert, digest and test messages, rendered from events the real pipeline makes from real ICE lists."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from pathlib import Path
from typing import Any
from unittest import mock

import apprise
import pytest
from apprise.conversion import convert_between
from apprise.plugins import slack
from hypothesis import given, settings
from hypothesis import strategies as st

from monitors.base import Snapshot
from notifiers.render import Message, link_url, render_alert, render_digest, render_test, title_for
from notifiers.slack_text import SLACK_ITEMS
from notifiers.wording import clean
from rules.ice_rules import Rules
from state import queries
from state.store import Store
from tests.support.html_parts import ParsedHtml
from watch287g.demo import INTRO, PAGE
from watch287g.pipeline import process_list, process_page

DEMO = Path(__file__).resolve().parents[1] / "watch287g" / "demo"  # real ICE lists, July 2025
PUBLISHED = {"2025-07-07": "21:00", "2025-07-08": "21:00", "2025-07-14": "13:00", "2025-07-15": "13:00"}
FOLDER = "https://www.ice.gov/doclib/about/offices/ero/287g/"
ICE_PAGE = "https://www.ice.gov/identify-and-arrest/287g"
P0708 = FOLDER + "participatingAgencies07082025pm.xlsx"
MOA = "https://www.ice.gov/doclib/287gMOA/"
HOSTILE = "<script>alert(1)</script> & <!channel> <@U1> <http://evil.example|x> *bold*"
Event = dict[str, Any]
# apprise imports the deprecated imghdr when it loads its plugins; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:'imghdr' is deprecated:DeprecationWarning")


def _replay(rules: Rules) -> list[Event]:
    """Every bundled list through process_list, in publication order; all stored events (baseline too)."""
    store = Store(None)
    for path in sorted(DEMO.glob("*.xlsx")):
        day, stem = path.stem.split("_", 1)
        channel = "participating" if stem.startswith("participating") else "pending"
        at = f"{day}T{PUBLISHED[day]}:00+00:00"
        snapshot = Snapshot("ice-287g", channel, f"{FOLDER}{stem}.xlsx", at, path.read_bytes())
        process_list(store, snapshot, origin="backfill", rules=rules)
    events = queries.events(store)
    store.close()
    return events


@pytest.fixture(scope="module")
def replayed() -> list[Event]:
    return _replay(Rules())


@pytest.fixture(scope="module")
def week(replayed: list[Event]) -> list[Event]:
    return [e for e in replayed if not e["baseline"]]


@pytest.fixture(scope="module")
def ended() -> list[Event]:
    """The same lists with a hold-back of one list and no days: real terminations and a withdrawal."""
    return [e for e in _replay(Rules(absent_lists=1, absent_days=0)) if not e["baseline"]]


@pytest.fixture(scope="module")
def operations() -> list[Event]:
    """A quarantined list (an HTML error page behind the spreadsheet link) and a changed program page."""
    store = Store(None)

    def page(intro: str, at: str) -> None:
        process_page(store, Snapshot("ice-287g", "page", ICE_PAGE, at, _page(intro)), origin="backfill")

    page(INTRO, "2025-07-07T21:00:00+00:00")
    first = next(DEMO.glob("*_participatingAgencies07072025pm.xlsx")).read_bytes()
    for at, url, body in (
        ("2025-07-07T21:00:00+00:00", FOLDER + "participatingAgencies07072025pm.xlsx", first),
        ("2025-07-08T21:00:00+00:00", P0708, b"<html><body>Access denied</body></html>"),
    ):
        process_list(
            store, Snapshot("ice-287g", "participating", url, at, body), origin="live", rules=Rules()
        )
    page(INTRO + " Agencies may request to join any of the three models.", "2025-07-15T13:00:00+00:00")
    events = queries.events(store, include_baseline=False)
    store.close()
    return events


def _page(intro: str) -> bytes:
    return PAGE.format(intro=intro, participating="p.xlsx", pending="q.xlsx").encode()


def on(events: list[Event], day: str, kind: str = "") -> list[Event]:
    return [e for e in events if e["detected_at"].startswith(day) and e["type"].startswith(kind)]


def one(events: list[Event], kind: str, agency: str) -> Event:
    return next(e for e in events if e["type"] == kind and e["agency"] == agency)


def lines_with(text: str, start: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(start)]


def slack_payload_texts(message: Message) -> list[str]:
    """What apprise's Slack plugin would post for this markdown, legacy and Block Kit modes (no network)."""
    texts: list[str] = []

    def capture(method: str, url: str, data: str | None = None, **kwargs: Any) -> Any:
        payload = json.loads(data or "{}")
        attachment = payload["attachments"][0]
        texts.append(attachment["text"] if "text" in attachment else attachment["blocks"][1]["text"]["text"])
        return mock.Mock(status_code=200, content=b"ok")

    for blocks in ("no", "yes"):
        plugin = apprise.Apprise.instantiate(
            f"slack://T1ABCDEFG/B1ABCDEFG/abcdefghijklmnopqrstuvwx/?blocks={blocks}&footer=no"
        )
        plugin.request_rate_per_sec = 0
        with mock.patch.object(slack.requests, "request", capture):
            assert plugin.notify(body=message.markdown, title=message.title, body_format="markdown") is True
    return texts


SLACK_LINK = re.compile(r"<(https?://[^|<>]+)\|[^<>]*>")


# --- titles ---------------------------------------------------------------------------------------


def test_title_of_the_07_08_batch_counts_by_type_and_state_within_200_chars(week):
    title = title_for(on(week, "2025-07-08"))
    assert title == (
        "8 new 287(g) agreements in Texas, 5 in Florida, 3 in Arkansas, 3 in Mississippi, 3 in Tennessee, "
        "2 in Pennsylvania, 2 in South Carolina, 1 in Alabama, 1 in Georgia, 1 in Kansas and 6 more…"
    )
    assert len(title) == 188  # one more part ("1 in Missouri") would pass 200


def test_title_of_the_07_14_batch_names_every_type(week):
    assert title_for(on(week, "2025-07-14")) == (
        "3 new 287(g) agreements in Arkansas, 1 in Idaho, 1 in Louisiana, 1 in Utah; 1 renamed in Florida, "
        "1 in Kansas; 1 changed in Florida; 1 MOA published in Florida"
    )


def test_title_of_the_07_15_renames(week):
    assert title_for(on(week, "2025-07-15", "agreement.renamed")) == (
        "287(g): 4 agreements renamed in Florida, 1 in Idaho, 1 in Louisiana, 1 in New Hampshire, 1 in Pennsylvania"
    )


def test_titles_singular_and_plural(week, ended):
    texas = [e for e in on(week, "2025-07-08", "agreement.added") if e["state"] == "TX"]
    fwc = one(ended, "agreement.terminated", "Florida Fish and Wildlife Conservation Commission")
    assert title_for(texas[:1]) == "1 new 287(g) agreement in Texas"
    assert title_for(texas[:3] + [fwc]) == "3 new 287(g) agreements in Texas; 1 terminated in Florida"
    assert title_for([fwc]) == "287(g): 1 agreement terminated in Florida"
    assert title_for(on(ended, "", "agreement.terminated")) == (
        "287(g): 1 agreement terminated in Florida, 1 in Minnesota"
    )
    assert title_for(on(ended, "", "pending.withdrawn")) == "287(g): 1 pending request withdrawn in Kansas"
    maryland = [e for e in on(week, "2025-07-15", "pending.added") if e["state"] == "MD"]
    assert title_for(maryland) == "287(g): 1 new pending request in Maryland"
    assert title_for(on(week, "2025-07-08", "agreement.moa_published")) == (
        "287(g): 3 MOAs published in Alabama, 1 in Arkansas"
    )
    assert title_for([]) == "No 287(g) changes"


def test_titles_of_quarantines_page_changes_and_operator_events(operations):
    assert title_for(operations) == "287(g): 1 list quarantined; program page changed"
    failed = {"type": "source.failed", "detected_at": "2025-07-16T09:00:00+00:00",
              "details": {"source": "ice-287g", "error": "HTTP 503", "failures": 3,
                          "since": "2025-07-15T21:00:00+00:00"}}  # fmt: skip
    failing = {"type": "delivery.failing", "detected_at": "2025-07-16T09:00:00+00:00",
               "details": {"subscriber": "newsroom", "channel": "slack", "error": "HTTP 404", "failures": 1}}  # fmt: skip
    stale = {"type": "source.stale", "detected_at": "2025-07-16T09:00:00+00:00",
             "details": {"source": "ice-287g", "since": "2025-07-01"}}  # fmt: skip
    recovered = {"type": "source.recovered", "detected_at": "2025-07-16T10:00:00+00:00",
                 "details": {"source": "ice-287g"}}  # fmt: skip
    assert title_for([failed]) == "watch287g: source ice-287g is failing"
    assert title_for([failed, failing]) == (
        "watch287g: source ice-287g is failing; alerts to newsroom (slack) are failing"
    )
    assert (
        title_for([stale, recovered])
        == "watch287g: source ice-287g looks stale; source ice-287g has recovered"
    )
    message = render_alert([failed, failing], "ops")
    assert lines_with(message.text, "- ") == [
        "- source ice-287g is failing: HTTP 503 (3 failures in a row); since 2025-07-15 21:00 UTC",
        "- alerts to newsroom (slack) are failing: HTTP 404 (1 failure in a row)",
    ]
    assert lines_with(message.text, "  Evidence") == ["  Evidence: seen 2025-07-16 09:00 UTC"] * 2
    assert lines_with(message.text, "== ") == [
        "== Not tied to a state: 1 source failure, 1 delivery failure =="
    ]


def test_policy_and_bill_events_get_generic_readable_words():
    bill = {"type": "bill.introduced", "state": "TX", "detected_at": "2025-07-16T09:00:00Z",
            "url": "https://capitol.texas.gov/BillLookup/History.aspx?LegSess=89R&Bill=HB123",
            "details": {"bill": "HB 123", "title": "Relating to 287(g) agreements", "effect": "mandate"}}  # fmt: skip
    policy = {"type": "policy.adopted", "state": "MD", "detected_at": "2025-07-16T09:00:00Z",
              "details": {"title": "County executive order", "effect": "ban"}}  # fmt: skip
    assert title_for([bill]) == "287(g): 1 bill introduced in Texas"
    assert title_for([bill, dict(bill), policy]) == (
        "287(g): 2 bills introduced in Texas; 1 policy adopted in Maryland"
    )
    message = render_alert([bill, policy], "newsroom")
    assert lines_with(message.text, "- ") == [
        "- County executive order: policy adopted; bans 287(g) agreements",
        "- HB 123 Relating to 287(g) agreements: bill introduced; would require 287(g) agreements",
    ]
    # one type per state: the state's line says what they are, no second heading repeats it
    assert lines_with(message.text, "== ") == [
        "== Maryland: 1 policy adopted ==",
        "== Texas: 1 bill introduced ==",
    ]
    assert lines_with(message.text, "Bills") == lines_with(message.text, "Policies") == []
    assert (
        "<https://capitol.texas.gov/BillLookup/History.aspx?LegSess=89R&Bill=HB123|Source>"
        in message.markdown
    )


def test_long_titles_end_with_and_n_more_within_200_chars(week, ended, operations):
    everything = week + on(ended, "", "agreement.terminated") + operations
    title = title_for(everything)
    assert title == (
        "8 new 287(g) agreements in Texas, 6 in Arkansas, 6 in Florida, 3 in Mississippi, 3 in Tennessee, "
        "2 in Pennsylvania, 2 in South Carolina, 2 in Utah, 1 in Alabama, 1 in Georgia, 1 in Idaho and 43 more…"
    )
    assert len(title) == 199  # 78 events; the next part (", 1 in Kansas") would pass 200
    huge = {"type": "source.failed", "detected_at": "2025-07-16T09:00:00Z", "details": {"source": "x" * 300}}
    title = title_for([huge])
    assert (len(title), title[:22], title[-2:]) == (200, "watch287g: source xxxx", "x…")
    assert "\n" not in title_for([{**huge, "details": {"source": "a\nb\r\u2028c"}}])


# --- bodies: evidence ----------------------------------------------------------------------------


def test_an_moa_alert_in_all_three_formats(week):
    event = one(on(week, "2025-07-08"), "agreement.moa_published", "Marion County Sheriff's Office")
    message = render_alert([event], "Newsroom desk")
    moa = MOA + "MarionCoSheriffsOfficeAL_TFM_MOA_06122025.pdf"
    seen = "(snapshot #3, sha256 7708afe5b4f0, seen 2025-07-08 21:00 UTC)"
    assert message.title == "287(g): 1 MOA published in Alabama"
    assert message.text == (
        "1 event: 1 MOA published.\n\n== Alabama: 1 MOA published ==\n\n"
        "- Marion County Sheriff's Office (Task Force Model): MOA published\n"
        f"  MOA: {moa}\n  Source: {P0708} {seen}\n\n"
        "Sent to Newsroom desk by watch287g. Times are UTC.\n"
    )
    assert message.markdown == (
        "*1 event in Alabama: 1 MOA published.*\n\n*Alabama*\n"
        f"• Marion County Sheriff's Office (Task Force Model): MOA published · <{moa}|MOA>\n\n"
        f"Source: <{P0708}|ICE's list of 8 July 2025> {seen}\n\n"
        "Sent to Newsroom desk by watch287g. Times are UTC.\n"
    )
    parsed = ParsedHtml(message.html)  # links carry words; every URL is listed in full at the end
    assert parsed.hrefs == [moa, P0708]
    assert parsed.text.rsplit("}}", 1)[1].strip() == (
        "1 event in Alabama: 1 MOA published.\nAlabama\n\nAgencyWhat happenedDate\n"
        f"Marion County Sheriff's OfficeTask Force ModelMOA publishedMOAICE's list of 8 July 2025 {seen}"
        f"seen2025-07-08\n\nLinks in this message:\nMOA: {moa}\nICE's list of 8 July 2025: {P0708}\n"
        "Sent to Newsroom desk by watch287g. Times are UTC."
    )
    assert message.html.count('class="w-item"') == 1 and "<script" not in message.html


def test_every_moa_and_source_url_appears_in_every_body_and_in_the_emails_text_part(week):
    batch = on(week, "2025-07-08")
    message = render_alert(batch, "newsroom")
    moas = {e["after"]["moa_url"] for e in batch if e["type"] == "agreement.moa_published"}
    assert moas == {
        MOA + "LauderdaleCoSheriffsOfficeAL_WSO_MOA_06122025.pdf",
        MOA + "LauderdaleCoSheriffsOfficeAL_JEM_MOA_06122025.pdf",
        MOA + "MarionCoSheriffsOfficeAL_TFM_MOA_06122025.pdf",
        MOA + "HamptonPoliceDeptAR_TFM_MOA_06302025.pdf",
    }
    plain_part = convert_between(apprise.NotifyFormat.HTML, apprise.NotifyFormat.TEXT, message.html)
    for body in (message.html, message.text, message.markdown, plain_part):
        assert [url for url in sorted(moas) if url not in body] == []
    # the text links each event's list; the HTML too (an <a> with words), then lists each URL once in full,
    # which is what the text/plain part apprise derives from the HTML keeps; Slack names each source once
    assert message.text.count(P0708) == ParsedHtml(message.html).hrefs.count(P0708) == 35
    assert [body.count(P0708) for body in (message.html, message.markdown, plain_part)] == [36, 1, 1]
    assert sorted(set(ParsedHtml(message.html).hrefs)) == sorted(moas | {P0708})
    assert sorted(set(SLACK_LINK.findall(message.markdown))) == sorted(moas | {P0708})


def test_renames_changes_and_terminations_show_before_after_and_absence(week, ended):
    renames = render_alert(on(week, "2025-07-15", "agreement.renamed"), "newsroom")
    assert lines_with(renames.text, "- Ft.") == [
        "- Ft. Myers Police Department -> Fort Myers Police Department (Task Force Model)"
    ]
    assert lines_with(renames.markdown, "• Indiatlantic") == [
        "• Indiatlantic Police Department -> Indialantic Police Department (Task Force Model) · "
        f"<{MOA}IndiatlanticPoliceDeptFL_TFM_MOA_05132025.pdf|MOA>"
    ]  # one line per event in Slack, its links named
    july14 = render_alert(on(week, "2025-07-14"), "newsroom")
    assert lines_with(july14.text, "- St. Cloud") == [
        "- St. Cloud Police Department (Task Force Model): signed: 2025-04-15 -> 2025-04-14",
        "- St. Cloud Police Department (Task Force Model): MOA published",
    ]
    assert lines_with(july14.text, "- Ellis") == [
        "- Ellis County Sheriff's Office: state TX -> KS (Warrant Service Officer)"
    ]
    ends = render_alert(on(ended, "", "agreement.terminated"), "newsroom")
    assert lines_with(ends.text, "- ") == [
        "- Florida Fish and Wildlife Conservation Commission (Task Force Model); absent from 1 list since "
        "2025-07-15, last seen 2025-07-14",
        "- Jackson County Sheriff's Office (Jail Enforcement Model); absent from 1 list since 2025-07-14, "
        "last seen 2025-07-08",
    ]
    assert lines_with(ends.text, "  Source:")[1] == (
        f"  Source: {FOLDER}participatingAgencies07142025am.xlsx "
        "(snapshot #5, sha256 29f095b63ee9, seen 2025-07-14 13:00 UTC)"
    )


def test_quarantine_and_page_change_show_the_reason_the_diff_and_the_evidence(operations):
    message = render_alert(operations, "ops")
    page_sha = hashlib.sha256(
        _page(INTRO + " Agencies may request to join any of the three models.")
    ).hexdigest()
    assert message.text.split("\n\n")[1:-1] == [
        "== Not tied to a state: 1 list quarantined, 1 page change ==",
        "Quarantined lists (1):",
        "- participating list not believed: unreadable spreadsheet: not an xlsx file: the body looks like HTML\n"
        f"  Source: {P0708} (snapshot #3, sha256 0695436e0177, seen 2025-07-08 21:00 UTC)",
        "Program page (1):",
        "- the program page's text changed\n  Added: Agencies may request to join any of the three models.\n"
        f"  Source: {ICE_PAGE} (snapshot #4, sha256 {page_sha[:12]}, seen 2025-07-15 13:00 UTC)",
    ]


def test_a_baseline_event_renders_marked_as_baseline(replayed):
    baseline = next(e for e in replayed if e["baseline"] and e["type"] == "pending.added")
    message = render_alert([baseline], "ops")
    assert lines_with(message.text, "  Source:") == [
        f"  Source: {FOLDER}pendingAgencies07072025pm.xlsx "
        "(snapshot #2, sha256 81dd90e135c5, seen 2025-07-07 21:00 UTC, baseline)"
    ]


# --- escaping ------------------------------------------------------------------------------------


def _hostile(week: list[Event]) -> list[Event]:
    """Real events with a hostile agency name, model and links, as a tampered spreadsheet could carry."""
    moa = copy.deepcopy(
        one(on(week, "2025-07-08"), "agreement.moa_published", "Marion County Sheriff's Office")
    )
    moa["agency"] = moa["after"]["agency"] = HOSTILE
    moa["after"]["model"] = "Task <b>Force</b>"
    added = copy.deepcopy(one(week, "agreement.added", "Arkansas State Police Department"))
    added["agency"] = added["after"]["agency"] = HOSTILE
    added["after"]["moa_url"] = "javascript:alert(document.cookie)"
    added["after"]["addendum_url"] = "https://evil.example/a|<!here>@U2"
    renamed = copy.deepcopy(one(week, "agreement.renamed", "Fort Myers Police Department"))
    renamed["after"]["agency"] = HOSTILE + "\nMOA: https://evil.example/forged"
    return [moa, added, renamed]


def test_hostile_data_is_escaped_in_html_and_present_as_text(week):
    message = render_alert(_hostile(week), "newsroom")
    parsed = ParsedHtml(message.html)
    assert "<script" not in message.html and "<b>" not in message.html
    assert parsed.tags == {"html", "head", "meta", "style", "body", "table", "tr", "th", "td", "h2", "p", "span",
                           "strong", "br", "a"}  # fmt: skip
    assert sorted(set(parsed.hrefs)) == [
        "https://evil.example/a%7C%3C%21here%3E%40U2",
        MOA + "FortMyersPoliceDeptFL_TFM_MOA_05162025.pdf",
        MOA + "MarionCoSheriffsOfficeAL_TFM_MOA_06122025.pdf",
        P0708,
        FOLDER + "participatingAgencies07152025am.xlsx",
    ]
    assert parsed.text.count(HOSTILE) == 4  # 3 agency cells, and the rename's "old -> new" words
    assert "MOA (not a web link): javascript:alert(document.cookie)" in parsed.text
    assert lines_with(message.text, "- Ft.") == [
        f"- Ft. Myers Police Department -> {HOSTILE} MOA: https://evil.example/forged (Task Force Model)"
    ]
    assert lines_with(message.text, "  MOA") == [
        f"  MOA: {MOA}MarionCoSheriffsOfficeAL_TFM_MOA_06122025.pdf",
        "  MOA (not a web link): javascript:alert(document.cookie)",
        f"  MOA: {MOA}FortMyersPoliceDeptFL_TFM_MOA_05162025.pdf",
    ]
    assert lines_with(message.text, "  Addendum") == [
        "  Addendum: https://evil.example/a%7C%3C%21here%3E%40U2"
    ]
    assert message.text.count(HOSTILE) == 3
    assert f"- {HOSTILE} (Task <b>Force</b>): MOA published" in message.text.splitlines()


def test_hostile_data_cannot_ping_or_link_in_slack(week):
    message = render_alert(_hostile(week), "newsroom")
    neutral = "‹script›alert(1)‹/script› & ‹!channel› ‹@U1› ‹http://evil.example¦x› ∗bold∗"
    assert message.markdown.count(neutral) == 3
    for bad in ("<!channel", "<!here", "<@", "<http://evil", "<script", "*bold*"):
        assert bad not in message.markdown
    for posted in slack_payload_texts(message):
        assert ("<!" in posted, "<@" in posted) == (False, False)
        assert sorted(set(SLACK_LINK.findall(posted))) == [
            "https://evil.example/a%7C%3C%21here%3E%40U2",
            MOA + "FortMyersPoliceDeptFL_TFM_MOA_05162025.pdf",
            MOA + "MarionCoSheriffsOfficeAL_TFM_MOA_06122025.pdf",
            P0708,
            FOLDER + "participatingAgencies07152025am.xlsx",
        ]


def test_subscriber_names_and_titles_are_data_too():
    message = render_test("<!channel> desk\n<script>", "2025-07-16T09:30:00-04:00")
    assert message.title == "watch287g test message for <!channel> desk <script>"
    assert message.text == (
        "This is a test message from watch287g to <!channel> desk <script>, sent 2025-07-16 13:30 UTC. "
        f"If you can read it, 287(g) alerts will reach you here.\n\nWatching: {ICE_PAGE}\n"
    )
    assert message.markdown == (
        "This is a test message from watch287g to ‹!channel› desk ‹script›, sent 2025-07-16 13:30 UTC. "
        f"If you can read it, 287(g) alerts will reach you here.\n\n<{ICE_PAGE}|Watching>\n"
    )
    # the e-mail frame's content
    card = message.html.split('text-align:left">\n', 1)[1].split("\n</td>", 1)[0]
    assert card == (
        '<p style="margin:0 0 10px">This is a test message from watch287g to &lt;!channel&gt; desk '
        "&lt;script&gt;, sent 2025-07-16 13:30 UTC. If you can read it, 287(g) alerts will reach you here.</p>\n"
        f'<p style="margin:0 0 10px"><a href="{ICE_PAGE}" style="color:#1d4ed8">Watching</a></p>\n'
        '<p class="w-quiet w-urls" style="color:#6b7280;font-size:12px;margin:20px 0 0;word-break:break-all">'
        f"Links in this message:<br>\nWatching: {ICE_PAGE}</p>"
    )
    assert message.html.startswith("<!DOCTYPE html>") and "<script" not in message.html


@settings(max_examples=150, deadline=None)
@given(agency=st.text(max_size=80))
def test_any_agency_name_stays_data_in_every_format(week, agency):
    event = copy.deepcopy(
        one(on(week, "2025-07-08"), "agreement.moa_published", "Marion County Sheriff's Office")
    )
    benign = render_alert([event], "desk")
    event["agency"] = event["after"]["agency"] = agency
    message = render_alert([event], "desk")
    moa = MOA + "MarionCoSheriffsOfficeAL_TFM_MOA_06122025.pdf"
    for posted in slack_payload_texts(message):
        assert ("<!" in posted, "<@" in posted) == (False, False)
        assert SLACK_LINK.findall(posted) == [moa, P0708]
    assert SLACK_LINK.findall(message.markdown) == [moa, P0708]
    bullet = next(line for line in message.markdown.splitlines() if line.startswith("• "))  # the event's line
    shown = bullet[2:].rsplit(" (Task Force Model)", 1)[0]
    assert bullet.endswith(f" (Task Force Model): MOA published · <{moa}|MOA>")
    assert set(shown) & set("<>|*_~`\n\r") == set()
    parsed = ParsedHtml(message.html)
    assert (parsed.hrefs, parsed.tags) == ([moa, P0708], ParsedHtml(benign.html).tags)
    assert clean(agency) in parsed.text and clean(agency) in message.text
    assert [body.count("\n") for body in (message.text, message.markdown, message.html)] == [
        body.count("\n") for body in (benign.text, benign.markdown, benign.html)
    ]


@given(value=st.text(max_size=60) | st.from_regex(r"\Ahttps?://[ -~]{0,40}\Z"))
def test_only_http_urls_become_links_and_links_carry_no_markup(value):
    url = link_url(value)
    if url is not None:
        assert url.startswith(("http://", "https://")) and value.strip().lower().startswith(
            ("http://", "https://")
        )
        assert set(url) & set("<>|\"'`@! \\{}^*") == set() and url.isascii() and url.isprintable()


# --- digests -------------------------------------------------------------------------------------


def test_weekly_digest_groups_by_state_then_type_with_counts(week):
    digest = render_digest(week, "newsroom", "weekly", "2025-07-07", "2025-07-15")
    assert digest.title == (
        "Weekly 287(g) digest, 2025-07-07 to 2025-07-15: 38 new agreements, 20 new pending requests, "
        "10 renamed, 1 changed, 5 MOAs published"
    )
    assert digest.text.splitlines()[0] == (
        "Weekly digest of 287(g) changes, 2025-07-07 to 2025-07-15: 74 events: 38 new agreements, "
        "20 new pending requests, 10 renamed, 1 changed, 5 MOAs published."
    )
    assert lines_with(digest.text, "== ") == [
        "== Alabama: 1 new agreement, 3 MOAs published ==",
        "== Arkansas: 6 new agreements, 2 new pending requests, 1 MOA published ==",
        "== Florida: 6 new agreements, 3 new pending requests, 5 renamed, 1 changed, 1 MOA published ==",
        "== Georgia: 1 new agreement ==",
        "== Idaho: 1 new agreement, 1 renamed ==",
        "== Kansas: 1 new agreement, 1 renamed ==",
        "== Louisiana: 1 new agreement, 3 new pending requests, 1 renamed ==",
        "== Maryland: 1 new pending request ==",
        "== Michigan: 1 new pending request ==",
        "== Mississippi: 3 new agreements ==",
        "== Missouri: 1 new agreement ==",
        "== New Hampshire: 1 renamed ==",
        "== Pennsylvania: 2 new agreements, 5 new pending requests, 1 renamed ==",
        "== South Carolina: 2 new agreements, 1 new pending request ==",
        "== Tennessee: 3 new agreements, 1 new pending request ==",
        "== Texas: 8 new agreements, 2 new pending requests ==",
        "== Utah: 2 new agreements, 1 new pending request ==",
    ]
    florida = digest.text.split("== Florida")[1].split("== Georgia")[0]
    assert [line for line in florida.splitlines() if line.endswith("):")] == [
        "New agreements (6):",
        "New pending requests (3):",
        "Renamed agreements (5):",
        "Changed agreements (1):",
        "MOAs published (1):",
    ]
    assert len(lines_with(digest.text, "- ")) == digest.html.count('<tr class="w-item') == 74
    assert ParsedHtml(digest.html).text.count("(snapshot #") == 74
    # Slack folds a long digest: the first SLACK_ITEMS events (in the order they were seen), then "and N more"
    assert len(lines_with(digest.markdown, "• ")) == SLACK_ITEMS == 40
    assert lines_with(digest.markdown, "…and") == [
        "…and 34 more events not listed here (this message lists 40: 6 new agreements, 20 new pending requests, "
        f"8 renamed left out). They are in: <{FOLDER}participatingAgencies07142025am.xlsx|ICE's list of 14 July "
        f"2025>; <{FOLDER}participatingAgencies07152025am.xlsx|ICE's list of 15 July 2025>; <{FOLDER}"
        "pendingAgencies07152025pm.xlsx|ICE's pending list of 15 July 2025>. `watch287g events --since 2025-07-14` "
        "lists them; watch287g's feed and report list every event."
    ]
    assert lines_with(digest.markdown, "*Texas") == ["*Texas: 8 new agreements*"]  # counts of what it lists


def test_daily_and_empty_digests():
    assert render_digest([], "desk", "daily", "2025-07-16", "2025-07-16").title == (
        "Daily 287(g) digest, 2025-07-16: no changes"
    )
    empty = render_digest([], "desk", "weekly", "2025-07-07T00:00:00+00:00", "2025-07-14T00:00:00+00:00")
    assert empty.title == "Weekly 287(g) digest, 2025-07-07 to 2025-07-14: no changes"
    assert empty.text == (
        "Weekly digest of 287(g) changes, 2025-07-07 to 2025-07-14: no changes.\n\n"
        "Sent to desk by watch287g. Times are UTC.\n"
    )


def test_daily_digest_title_of_07_15(week):
    digest = render_digest(on(week, "2025-07-15"), "desk", "daily", "2025-07-15", "2025-07-15")
    assert (
        digest.title == "Daily 287(g) digest, 2025-07-15: 1 new agreement, 20 new pending requests, 8 renamed"
    )
