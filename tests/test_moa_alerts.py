"""Issue 12, alerts: the MOA document events in words, in digests (text, HTML, Slack) with links to ICE's URL and
to the copy watch287g keeps, filtered like the other events, delivered over a real loopback SMTP server, and
the kept copy's link answered with the PDF's bytes by a real `watch287g serve`.

The agreements are real (ICE's lists of July 7 and 8, 2025, through the real pipeline); the kept documents are
real MOAs from tests/fixtures/moa, committed to a real SQLite file as the document follow-up commits them.
"""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from events.event import new_event
from monitors.base import Snapshot
from monitors.source import document_channel
from notifiers.headline import describe, headline
from notifiers.markdown import event_line
from notifiers.outbox import deliveries_for
from notifiers.render import render_alert, render_digest
from notifiers.subscribers import parse_routing
from notifiers.wording import digest_title, title_for
from rules.ice_rules import Rules
from state import queries
from state.store import DocumentCommit, Store
from tests.support.serving import wait_until_serving
from tests.support.smtpserver import parts
from tests.test_datasette import free_port
from watch287g.cli import main
from watch287g.config import load_config
from watch287g.deliver import deliver
from watch287g.exports import atom_feed, event_rows
from watch287g.kept_links import blob_url, kept_copies_adder
from watch287g.pipeline import process_list
from watch287g.report import _events_html

ROOT = Path(__file__).resolve().parents[1]
DEMO, MOAS = ROOT / "watch287g" / "demo", ROOT / "tests" / "fixtures" / "moa"
LISTS = "https://www.ice.gov/doclib/about/offices/ero/287g/"
ICE_MOA = "https://www.ice.gov/doclib/287gMOA/"
CALHOUN = (
    ICE_MOA + "287gJEM_CalhounCoTX_03-13-2020.pdf"
)  # its pages 1, 7 and 12: calhoun-2020-jem-addendum...
MARION = ICE_MOA + "MarionCoSheriffsOfficeAL_TFM_MOA_06122025.pdf"
LAUDERDALE = ICE_MOA + "LauderdaleCoSheriffsOfficeAL_WSO_MOA_06122025.pdf"
PUBLIC = "https://watch287g.example.org"
HOSTILE = "<script>alert(1)</script> & <!channel> <@U1> <http://evil.example|x> *bold*"
WATCH287G = str(Path(sys.executable).parent / "watch287g")
AT = {"kept": "2025-07-09T03:00:00+00:00", "changed": "2025-07-10T03:00:00+00:00",
      "restored": "2025-07-11T03:00:00+00:00"}  # fmt: skip
# apprise imports the deprecated imghdr when it loads its plugins; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:'imghdr' is deprecated:DeprecationWarning")

CALHOUN_PDF = (MOAS / "calhoun-2020-jem-addendum-p1-7-12.pdf").read_bytes()
# The same document as ICE would serve it after an incremental update: other bytes under the same link.
CALHOUN_REVISED = CALHOUN_PDF + b"\n% revised by the agency\n%%EOF\n"
MARION_PDF = (MOAS / "kennethcity-2025-tfm-scan-p1.pdf").read_bytes()  # a 2025 TFM scan stands in for it
LAUDERDALE_PDF = (MOAS / "manatee-2019-wso-p1-7-8.pdf").read_bytes()  # a WSO MOA stands in for it


def sha(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _agreement(store: Store, url: str) -> dict[str, Any]:
    """The agreement linking this document: record_id, state, agency, model as the event carries them."""
    (row,) = store.db.query(
        "select id, state, agency, model from records where json_extract(record, '$.moa_url') = ?", [url]
    )
    return {"record_id": row["id"], "state": row["state"], "agency": row["agency"], "model": row["model"]}


def _keep(store: Store, url: str, body: bytes, at: str, events: list[dict[str, Any]], routing: Any) -> None:
    store.commit_document(
        DocumentCommit(source="ice", channel=document_channel(url), url=url, sha256=sha(body), body=body,
                       fetched_at=at, origin="live", outcome="document", content_type="application/pdf",
                       events=events, deliveries_for=deliveries_for(routing))
    )  # fmt: skip


def _moa_event(store: Store, kind: str, url: str, at: str, **parts: Any) -> dict[str, Any]:
    return new_event(kind, "ice", at, **_agreement(store, url), **parts)


def build(path: Path, routing: Any) -> Store:
    """Real lists (07-07 baseline, 07-08: MOAs published), then the kept documents and their events:
    Calhoun's MOA changed, Marion's removed, Lauderdale's back, and Calhoun's disagreeing with the list."""
    store = Store(path)
    for day in ("2025-07-07", "2025-07-08"):
        for xlsx in sorted(DEMO.glob(f"{day}_*.xlsx")):
            stem = xlsx.stem.split("_", 1)[1]
            channel = "participating" if stem.startswith("participating") else "pending"
            snapshot = Snapshot(
                "ice", channel, LISTS + stem + ".xlsx", f"{day}T21:00:00+00:00", xlsx.read_bytes()
            )
            process_list(
                store, snapshot, origin="live", rules=Rules(), deliveries_for=deliveries_for(routing)
            )
    for url, body in ((CALHOUN, CALHOUN_PDF), (MARION, MARION_PDF), (LAUDERDALE, LAUDERDALE_PDF)):
        _keep(store, url, body, AT["kept"], [], routing)
    changed = _moa_event(
        store, "agreement.moa_changed", CALHOUN, AT["changed"],
        before={"sha256": sha(CALHOUN_PDF), "size": len(CALHOUN_PDF)},
        after={"sha256": sha(CALHOUN_REVISED), "size": len(CALHOUN_REVISED)},
        details={"url": CALHOUN, "document": "moa", "channel": document_channel(CALHOUN)},
    )  # fmt: skip
    _keep(store, CALHOUN, CALHOUN_REVISED, AT["changed"], [changed], routing)
    removed = _moa_event(store, "agreement.moa_removed", MARION, AT["changed"], details={
        "url": MARION, "document": "moa", "http_status": 404, "last_sha256": sha(MARION_PDF)})  # fmt: skip
    mismatch = _moa_event(store, "agreement.moa_mismatch", CALHOUN, AT["changed"], details={
        "url": CALHOUN, "sha256": sha(CALHOUN_REVISED), "reader_version": "test",
        "disagreements": [{"field": "model", "list": "Jail Enforcement Model", "document": "Task Force Model"}]})  # fmt: skip
    store.add_events([removed, mismatch], deliveries_for(routing))
    restored = _moa_event(store, "agreement.moa_restored", LAUDERDALE, AT["restored"], details={
        "url": LAUDERDALE, "document": "moa", "same_bytes": True, "sha256": sha(LAUDERDALE_PDF)})  # fmt: skip
    _keep(store, LAUDERDALE, LAUDERDALE_PDF, AT["restored"], [restored], routing)
    return store


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """Every MOA event of the store above (not the baseline), kept copies added as delivery adds them."""
    store = build(tmp_path_factory.mktemp("moa") / "watch287g.db", parse_routing([], None, "test"))
    try:
        found = [e for e in queries.events(store) if e["type"].startswith("agreement.moa_")]
        return kept_copies_adder(store, PUBLIC, "watch287g")(found)
    finally:
        store.close()


def one(events: list[dict[str, Any]], kind: str, agency: str = "") -> dict[str, Any]:
    (event,) = [e for e in events if e["type"] == kind and agency in str(e["agency"])]
    return event


# --- words -------------------------------------------------------------------------------------------------


def test_each_moa_event_in_words(events):
    calhoun = "Calhoun County Sheriff’s Office (Jail Enforcement Model)"  # ICE's own apostrophe
    assert headline(one(events, "agreement.moa_changed")) == (
        f"{calhoun}: MOA changed under the same link (223,438 -> 223,469 bytes)"
    )
    assert headline(one(events, "agreement.moa_removed")) == (
        "Marion County Sheriff's Office (Task Force Model): MOA link now answers 404 (removed)"
    )
    assert headline(one(events, "agreement.moa_restored")) == (
        "Lauderdale County Sheriff's Office (Warrant Service Officer): MOA is back (the same copy)"
    )
    assert headline(one(events, "agreement.moa_mismatch")) == (
        f"{calhoun}: MOA disagrees with ICE's list: model (list: Jail Enforcement Model, document: Task Force Model)"
    )
    assert describe(one(events, "agreement.moa_removed")).endswith(f"(removed): {MARION}")
    addendum = {
        **one(events, "agreement.moa_removed"),
        "details": {"document": "addendum", "http_status": 410},
    }
    assert headline(addendum).endswith(": Addendum link now answers 410 (removed)")


def test_titles_count_them_after_published_moas_and_a_removal_leads_like_a_termination(events):
    removed = one(events, "agreement.moa_removed")
    assert title_for([removed]) == "1 287(g) MOA link removed in Alabama"
    assert (
        title_for([one(events, "agreement.moa_changed")])
        == "1 287(g) MOA changed under the same link in Texas"
    )
    readers = [e for e in events if e["type"] != "agreement.moa_mismatch"]
    assert digest_title(readers, "daily", "2025-07-08", "2025-07-11") == (
        "Daily 287(g) digest, 2025-07-08 to 2025-07-11: 4 MOAs published, 1 MOA changed, 1 MOA removed, 1 MOA back"
    )


# --- digests -----------------------------------------------------------------------------------------------


def test_a_digest_links_ices_url_and_the_kept_copy_in_all_three_formats(events):
    readers = [e for e in events if e["type"] != "agreement.moa_mismatch"]
    message = render_digest(readers, "desk", "daily", "2025-07-08", "2025-07-11")
    revised, earlier = (
        blob_url(PUBLIC, "watch287g", sha(CALHOUN_REVISED)),
        blob_url(PUBLIC, "watch287g", sha(CALHOUN_PDF)),
    )
    lauderdale = blob_url(PUBLIC, "watch287g", sha(LAUDERDALE_PDF))
    assert (
        f"- Calhoun County Sheriff’s Office (Jail Enforcement Model): MOA changed under the same link (223,438 -> "
        f"223,469 bytes)\n  MOA (ICE): {CALHOUN} · kept copy: {revised} (223,469 bytes, kept 2025-07-10 03:00 UTC, "
        f"sha256 {sha(CALHOUN_REVISED)[:12]}) · earlier copy: {earlier} (223,438 bytes, sha256 {sha(CALHOUN_PDF)[:12]})\n"
    ) in message.text
    assert (
        f"  MOA (ICE): {LAUDERDALE} · kept copy: {lauderdale} (166,857 bytes, kept 2025-07-11 03:00 UTC"
        in message.text
    )
    marion = blob_url(PUBLIC, "watch287g", sha(MARION_PDF))
    assert (
        f"- Marion County Sheriff's Office (Task Force Model): MOA link now answers 404 (removed)\n  MOA (ICE): "
        f"{MARION} · last kept copy: {marion} (48,818 bytes, sha256 {sha(MARION_PDF)[:12]})\n"
    ) in message.text
    # A published MOA whose copy is kept: ICE's link and the kept copy on one line; one not (yet) kept: as before
    assert (
        f"  MOA (ICE): {MARION} · kept copy: {marion} (48,818 bytes, kept 2025-07-09 03:00 UTC"
        in message.text
    )
    assert f"  MOA: {ICE_MOA}HamptonPoliceDeptAR_TFM_MOA_06302025.pdf\n" in message.text
    html = message.html.replace("&amp;", "&")
    assert f'<a href="{revised}" style="color:#1d4ed8">kept copy</a> (223,469 bytes' in html
    assert f'<a href="{CALHOUN}" style="color:#1d4ed8">MOA (ICE)</a> · ' in html
    listed = html.split("Links in this message:", 1)[1].split("</p>", 1)[0]  # every URL in full, once
    assert f"kept copy: {revised}<br>" in listed and f"MOA (ICE): {CALHOUN}" in listed
    assert f"<{CALHOUN}|MOA (ICE)> · <{revised}|kept copy> (223,469 bytes" in message.markdown
    # a changed and a removed MOA stand out from the additions: a coloured border and a word
    assert html.count('<tr class="w-item w-standout">') == 2
    assert '<strong class="w-label" style="color:#b45309">MOA changed</strong>' in html
    assert '<strong class="w-label" style="color:#b91c1c">MOA removed</strong>' in html
    assert (
        "• *MOA removed:* Marion County Sheriff's Office (Task Force Model): MOA link now answers 404 (removed) · "
        in (message.markdown)
    )
    assert message.text.index("MOAs published (") < message.text.index("MOAs back (")


def test_without_public_url_the_digest_names_the_sha256_and_the_command_that_writes_it_out(tmp_path):
    store = build(tmp_path / "w.db", parse_routing([], None, "test"))
    try:
        found = [e for e in queries.events(store) if e["type"] == "agreement.moa_restored"]
        message = render_alert(kept_copies_adder(store, None, "w")(found), "desk")
    finally:
        store.close()
    digest = sha(LAUDERDALE_PDF)
    assert (
        f"  MOA (ICE): {LAUDERDALE} · kept copy: sha256 {digest}, 166,857 bytes, kept 2025-07-11 03:00 UTC; "
        f"write it out with: watch287g moa get {digest} -o FILE\n"
    ) in message.text
    assert ".blob" not in message.html + message.markdown


def test_hostile_agency_url_and_disagreement_stay_text(events):
    changed = one(events, "agreement.moa_changed")
    bad_url = 'https://www.ice.gov/x.pdf"><script>alert(1)</script>|<!channel>'
    hostile = {**changed, "agency": HOSTILE, "details": {**changed["details"], "url": bad_url},
               "kept_copies": [{**changed["kept_copies"][0], "sha256": HOSTILE, "url": "javascript:alert(1)"}]}  # fmt: skip
    mismatch = {**one(events, "agreement.moa_mismatch"), "agency": HOSTILE, "details": {
        "url": "javascript:alert(1)", "disagreements": [{"field": HOSTILE, "list": "<b>", "document": "<!here>"}]}}  # fmt: skip
    message = render_alert([hostile, mismatch], "desk")
    assert "<script>" not in message.html and "<b>" not in message.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in message.html
    assert 'href="javascript' not in message.html and "<javascript" not in message.markdown
    assert (
        "<!channel>" not in message.markdown
        and "<!here>" not in message.markdown
        and "<@U1>" not in message.markdown
    )
    assert "%22%3E%3Cscript%3E" in message.html  # the hostile URL is percent-encoded in its link
    line = event_line(hostile)
    assert "<script>" not in line and "\\<" not in line and "&lt;script&gt;" in line


# --- everywhere else an event is shown ---------------------------------------------------------------------


def test_exports_feed_markdown_and_report_link_the_document(events, tmp_path):
    store = build(tmp_path / "w.db", parse_routing([], None, "test"))
    try:
        rows = {r["type"]: r for r in event_rows(store) if r["type"].startswith("agreement.moa_")}
        feed = atom_feed(store, type_glob="agreement.moa_*").decode()
    finally:
        store.close()
    assert (
        rows["agreement.moa_changed"]["moa_url"] == CALHOUN
        and rows["agreement.moa_removed"]["moa_url"] == MARION
    )
    assert rows["agreement.moa_removed"]["summary"].endswith("MOA link now answers 404 (removed)")
    assert f'<link href="{LAUDERDALE}" rel="related" title="MOA" />' in feed
    assert f"[MOA]({MARION})" in event_line(one(events, "agreement.moa_removed"))
    report = _events_html([one(events, "agreement.moa_changed")])
    assert f'<a href="{CALHOUN}" title="{CALHOUN}" rel="noopener noreferrer">MOA</a>' in report
    assert "ICE list" not in report  # the event was read from the document, not from a list


# --- who gets them -----------------------------------------------------------------------------------------


def _who_gets(found: list[dict[str, Any]], **subscriber: Any) -> set[str]:
    routing = parse_routing([{"name": "s", "notify": ["json://localhost"], **subscriber}],
                            {"notify": ["json://localhost"]}, "test")  # fmt: skip
    (desk,) = routing.subscribers
    assert routing.operators.subscriber is not None
    return {f"{e['type']} {e['state']}" for e in found if desk.wants(e)}


def test_subscribers_filter_the_new_types_like_the_others(events):
    moa = {"agreement.moa_changed TX", "agreement.moa_removed AL", "agreement.moa_restored AL"}
    published = {"agreement.moa_published AL", "agreement.moa_published AR"}
    assert _who_gets(events, events=["agreement.moa_*"]) == moa | published  # never moa_mismatch
    assert _who_gets(events) == moa | published  # the default globs
    assert _who_gets(events, events=["agreement.moa_mismatch", "*"]) == moa | published
    assert _who_gets(events, states=["TX"]) == {"agreement.moa_changed TX"}
    assert _who_gets(events, models=["Task Force Model"], events=["agreement.moa_removed"]) == {
        "agreement.moa_removed AL"
    }
    assert _who_gets(events, models=["Warrant Service Officer"], states=["AL"]) == {
        "agreement.moa_restored AL", "agreement.moa_published AL"}  # fmt: skip
    operators = parse_routing([], {"notify": ["json://localhost"]}, "test").operators.subscriber
    assert operators is not None
    assert [e["type"] for e in events if operators.wants(e)] == ["agreement.moa_mismatch"]


# --- delivered, and the link answered ----------------------------------------------------------------------


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A config whose public_url is a real `watch287g serve` on loopback, serving the database it names
    (started after the test has written it: serve serves a copy taken at start)."""
    port = free_port()
    config = tmp_path / "watch287g.yaml"
    processes: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        err = (tmp_path / "serve.err").open("wb")
        processes.append(subprocess.Popen([WATCH287G, "--config", str(config), "serve", "--port", str(port)],
                                          stdout=subprocess.DEVNULL, stderr=err))  # fmt: skip
        wait_until_serving(port, processes[0], lambda: (tmp_path / "serve.err").read_text(), 30)

    config.write_text(
        f"database: w.db\npublic_url: http://127.0.0.1:{port}/\nsources:\n  - name: ice\n    kind: ice_287g\n"
    )
    try:
        yield config, start  # type: ignore[misc]
    finally:
        for process in processes:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=15)


def test_a_digest_delivered_by_email_links_a_kept_copy_that_serve_answers_with_the_pdf(served, smtp_server):
    config_path, start = served
    config_path.write_text(
        config_path.read_text()
        + f'subscribers:\n  - name: moa-desk\n    notify: ["{smtp_server.url_for_apprise()}"]\n'
        '    events: ["agreement.moa_*"]\n    frequency: daily\n'
    )
    config = load_config(config_path)
    store = build(config.database, config.routing)
    try:
        report = deliver(store, config, now="2025-07-11T13:00:00+00:00")
    finally:
        store.close()
    assert (report.messages, report.deliveries, report.failures) == (1, 7, [])
    (message,) = smtp_server.wait_for(1, timeout=5)
    text = parts(message)["text/plain"]
    link = blob_url(config.public_url or "", "w", sha(CALHOUN_REVISED))
    assert link.startswith("http://127.0.0.1:") and link.endswith(
        f"/w/bodies/{sha(CALHOUN_REVISED)}.blob?_blob_column=body"
    )
    assert f"MOA (ICE): {CALHOUN}" in text and link in text and "disagrees" not in text
    start()
    with urllib.request.urlopen(link, timeout=10) as answer:
        assert answer.read() == CALHOUN_REVISED
    with urllib.request.urlopen(
        blob_url(config.public_url or "", "w", sha(CALHOUN_PDF)), timeout=10
    ) as answer:
        assert answer.read() == CALHOUN_PDF  # the earlier copy, linked too


# --- moa get, public_url ------------------------------------------------------------------------------------


def test_moa_get_writes_the_kept_bytes_whole_and_refuses_unknown_or_ambiguous_prefixes(tmp_path):
    config = tmp_path / "watch287g.yaml"
    config.write_text("database: w.db\nsources:\n  - name: ice\n    kind: ice_287g\n")
    build(tmp_path / "w.db", parse_routing([], None, "test")).close()
    runner = CliRunner()
    out = tmp_path / "calhoun.pdf"
    result = runner.invoke(
        main, ["--config", str(config), "moa", "get", sha(CALHOUN_PDF)[:16], "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == CALHOUN_PDF
    result = runner.invoke(
        main, ["--config", str(config), "moa", "get", "0" * 64, "-o", str(tmp_path / "none.pdf")]
    )
    assert result.exit_code == 1 and "no kept document has a sha256 starting with" in result.output
    assert not (tmp_path / "none.pdf").exists()
    kept = [
        r["sha256"] for r in Store(tmp_path / "w.db").db.query("select sha256 from bodies order by sha256")
    ]
    shared = next(a[:1] for a, b in zip(kept, kept[1:], strict=False) if a[:1] == b[:1])
    result = runner.invoke(
        main, ["--config", str(config), "moa", "get", shared, "-o", str(tmp_path / "x.pdf")]
    )
    assert result.exit_code == 1 and "more than one kept document" in result.output
    result = runner.invoke(
        main, ["--config", str(config), "moa", "get", "zz; rm", "-o", str(tmp_path / "x.pdf")]
    )
    assert result.exit_code == 2 and "hex digits" in result.output
    assert not (tmp_path / "x.pdf").exists()


@pytest.mark.parametrize(
    "value", ["ftp://watch287g.example.org", "https://user:pw@watch287g.example.org", "javascript:alert(1)",
              "https://", "https://watch287g.example.org/?q=1", "https://h.example.org:port", "[1, 2]"],
)  # fmt: skip
def test_public_url_must_be_a_plain_http_url(tmp_path, value):
    from monitors.base import ConfigError

    config = tmp_path / "watch287g.yaml"
    config.write_text(f"public_url: {json.dumps(value) if not value.startswith('[') else value}\n"
                      "sources:\n  - name: ice\n    kind: ice_287g\n")  # fmt: skip
    with pytest.raises(ConfigError, match="public_url must be an http"):
        load_config(config)


def test_public_url_is_optional_and_kept_without_its_trailing_slash(tmp_path):
    config = tmp_path / "watch287g.yaml"
    config.write_text("sources:\n  - name: ice\n    kind: ice_287g\n")
    assert load_config(config).public_url is None
    config.write_text(
        "public_url: https://watch287g.example.org/alerts/\nsources:\n  - name: ice\n    kind: ice_287g\n"
    )
    assert load_config(config).public_url == "https://watch287g.example.org/alerts"
    assert blob_url("https://watch287g.example.org/alerts", "my db.v2", "ab") == (
        "https://watch287g.example.org/alerts/my~20db~2Ev2/bodies/ab.blob?_blob_column=body"
    )


def test_serve_answers_a_kept_copy_as_large_as_the_largest_real_moa(served):
    """Real MOAs are 0.3-1.3 MB (Noble County's, 1,304,274 bytes, is the largest of the shared sample): serve's
    cap on one value must let the largest through whole."""
    config_path, start = served
    large = CALHOUN_PDF + b"%" * (1_304_274 - len(CALHOUN_PDF))  # a PDF comment pads it to that size
    store = Store(load_config(config_path).database)
    try:
        _keep(store, CALHOUN, large, AT["kept"], [], parse_routing([], None, "test"))
    finally:
        store.close()
    start()
    link = blob_url(load_config(config_path).public_url or "", "w", sha(large))
    with urllib.request.urlopen(link, timeout=10) as answer:
        assert answer.read() == large
