"""`watch287g demo`: real ICE lists from July 2025, published step by step on a loopback web server,
checked by the same code as a live run (fetch -> snapshot -> parse -> rules -> SQLite), on a throwaway DB;
it ends by writing the e-mail a weekly subscriber would get for the week (an HTML file) and saying where."""

from __future__ import annotations

import hashlib
import tempfile
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from monitors.ice.kind import Ice287gMonitor
from notifiers.headline import event_line
from notifiers.outbox import due_at, render_batch
from notifiers.preview import html_document
from notifiers.subscribers import Subscriber
from rules.ice_rules import Rules
from state import queries
from state.store import Store
from watch287g.check_loop import Check, DocumentReport, plain_fetch, run_check
from watch287g.cli_params import write_output

DATA = Path(__file__).parent / "demo"
EMAIL = Path("watch287g-demo-email.html")  # where the demo's e-mail goes by default (the current directory)
PAGE = """<!DOCTYPE html><html><head><title>287(g)</title></head><body><main>
<h1>Delegation of Immigration Authority Section 287(g) Immigration and Nationality Act</h1>
<h2>ICE's 287(g) Program</h2><p>{intro}</p>
<h2>Participating and pending agencies</h2>
<p><a href="/doclib/about/offices/ero/287g/{participating}">Participating Agencies</a></p>
<p><a href="/doclib/about/offices/ero/287g/{pending}">Pending Agencies</a></p>
</main></body></html>"""
INTRO = "The 287(g) program enhances the safety of communities by allowing local law enforcement to partner with ICE."
# (the time ICE published, participating file, pending file, a page paragraph); files are ICE's own.
STEPS = [
    ("2025-07-07T21:00:00+00:00", "participatingAgencies07072025pm", "pendingAgencies07072025pm", INTRO),
    ("2025-07-08T21:00:00+00:00", "participatingAgencies07082025pm", "pendingAgencies07082025pm", INTRO),
    ("2025-07-14T13:00:00+00:00", "participatingAgencies07142025am", "pendingAgencies07082025pm", INTRO),
    ("2025-07-15T13:00:00+00:00", "participatingAgencies07152025am", "pendingAgencies07152025pm",
     INTRO + " Agencies may request to join any of the three models."),
]  # fmt: skip


class _Site:
    """A tiny web server on 127.0.0.1 that serves whatever the current step publishes, with ETags."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                body = site.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_port}"

    def publish(self, participating: str, pending: str, intro: str) -> None:
        folder = "/doclib/about/offices/ero/287g/"
        files = {f"{participating}.xlsx": participating, f"{pending}.xlsx": pending}
        self.files = {folder + name: _bundled(stem) for name, stem in files.items()}
        page = PAGE.format(intro=intro, participating=f"{participating}.xlsx", pending=f"{pending}.xlsx")
        self.files["/identify-and-arrest/287g"] = page.encode()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _bundled(stem: str) -> bytes:
    return next(DATA.glob(f"*_{stem}.xlsx")).read_bytes()


def run_demo(echo: Callable[[str], None], email: Path = EMAIL) -> None:
    site = _Site()
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "demo.db")
        monitor = Ice287gMonitor(
            {"name": "ice-287g-demo", "kind": "ice_287g", "url": site.base + "/identify-and-arrest/287g"}
        )
        client = monitor.client("watch287g demo")
        fetch = plain_fetch(client)
        try:
            for when, participating, pending, intro in STEPS:
                site.publish(participating, pending, intro)

                def clock(when: str = when) -> str:  # the demo replays ICE's own publication times
                    return when

                report = run_check(Check(store, monitor, fetch, Rules(), origin="demo", now=clock))
                _show_step(echo, store, when, report.documents)
            _write_email(echo, store, email)
        finally:
            client.close()
            store.close()
            site.close()


def _show_step(echo: Callable[[str], None], store: Store, when: str, documents: list[DocumentReport]) -> None:
    echo(f"\n=== ICE publishes, {when[:16].replace('T', ' ')} UTC ===")
    for doc in documents:
        echo(f"  fetched {doc.channel:<13} -> {doc.outcome}{f' ({doc.detail})' if doc.detail else ''}")
    rows = [e for e in queries.events(store, since=when) if e["detected_at"] == when]
    baseline = [e for e in rows if e["baseline"]]
    if baseline:
        echo(f"  baseline recorded: {len(baseline)} events marked baseline (never alerted)")
    for event in rows:
        if not event["baseline"]:
            echo("  " + event_line(event))


def _write_email(echo: Callable[[str], None], store: Store, email: Path) -> None:
    """The week's events as the weekly digest a subscriber with the default filters would get (rendered as
    `watch287g notify` sends it, on the Monday after), written as an HTML file to open in a browser."""
    reader = Subscriber("demo-reader", (), frequency="weekly")
    stored: list[dict[str, Any]] = [dict(e) for e in queries.events(store, include_baseline=False)]
    events = [e for e in stored if reader.wants(e)]
    message = render_batch(reader, events, due_at(reader.frequency, events[-1]["detected_at"]))
    write_output(email, html_document(message).encode())
    echo(
        f"\nThe weekly e-mail of these {len(events)} events ({message.title}) is in {email.resolve()}: open it in a browser."
    )
