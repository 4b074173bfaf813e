"""Issue 9, item 13: `watch287g serve` as a real process (Datasette on 127.0.0.1): one query cannot take
seconds and gigabytes past the time limit, errors carry no traceback, a stop signal leaves nothing running
and no copy behind, and serving beyond loopback is said out loud."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from state.store import Store
from tests.test_datasette import free_port

WATCH287G = str(Path(sys.executable).parent / "watch287g")
# 100,000 rows from nothing (no table needed)
BIDI = "Invoice\u202efdp.exe\x1b[31m"  # shows as "Invoiceexe.pdf", in red on a terminal
ROWS = "(with recursive c(n) as (select 1 union all select n + 1 from c where n < 100000) select n from c)"


@dataclass
class Serving:
    process: subprocess.Popen[bytes]
    base: str
    port: int
    tmp: Path  # TMPDIR of the serve process: where its copy of the database lives
    stderr: Path

    def datasette_pid(self) -> int:
        """The Datasette process serve started (its child)."""
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                fields = dict(
                    line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line
                )
            except OSError:
                continue
            if fields.get("PPid", "").strip() == str(self.process.pid):
                return int(status.parent.name)
        raise AssertionError("no Datasette child")

    def request(self, path: str, data: bytes | None = None) -> tuple[int, str, float]:
        started = time.monotonic()
        try:
            with urllib.request.urlopen(self.base + path, data=data, timeout=60) as response:
                return response.status, response.read().decode(), time.monotonic() - started
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(), time.monotonic() - started

    def sql(self, query: str) -> tuple[int, dict[str, object], float]:
        status, body, seconds = self.request("/w.json?" + urllib.parse.urlencode({"sql": query}))
        return status, json.loads(body), seconds


def _start(tmp_path: Path, host: str = "127.0.0.1") -> Serving:
    config = tmp_path / "watch287g.yaml"
    config.write_text(  # a secret that is not set: serve only reads, it must not need it (item 11)
        "database: w.db\nsources:\n  - name: ice\n    kind: ice_287g\n"
        "subscribers:\n  - name: desk\n    notify: ['mailtos://u:${UNSET_SERVE_SECRET}@smtp.example.org']\n"
    )
    store = Store(tmp_path / "w.db")
    store.add_events(
        [{"type": "source.failed", "source": BIDI, "detected_at": "2025-07-16T10:00:00+00:00"}], None
    )
    store.close()
    serve_tmp = tmp_path / "serve-tmp"
    serve_tmp.mkdir(exist_ok=True)
    port = free_port()
    stderr = tmp_path / "serve.err"
    with stderr.open("wb") as err:
        process = subprocess.Popen(
            [WATCH287G, "--config", str(config), "serve", "--host", host, "--port", str(port)],
            stdout=subprocess.DEVNULL, stderr=err,
            env={**{k: v for k, v in os.environ.items() if k != "UNSET_SERVE_SECRET"}, "TMPDIR": str(serve_tmp)},
        )  # fmt: skip
    return Serving(process, f"http://127.0.0.1:{port}", port, serve_tmp, stderr)


def _wait_ready(serving: Serving) -> None:
    deadline = time.monotonic() + 30
    while True:
        assert serving.process.poll() is None, serving.stderr.read_text()
        try:
            with urllib.request.urlopen(serving.base + "/-/versions.json", timeout=1):
                return
        except OSError:
            assert time.monotonic() < deadline, "Datasette did not start"
            time.sleep(0.1)


@pytest.fixture
def serving(tmp_path: Path) -> Iterator[Serving]:
    serving = _start(tmp_path)
    try:
        _wait_ready(serving)
        yield serving
    finally:
        if serving.process.poll() is None:
            serving.process.send_signal(signal.SIGINT)
            serving.process.wait(timeout=15)


def _peak_rss_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))


def test_one_huge_value_cannot_outrun_the_time_limit_or_fill_memory(serving: Serving) -> None:
    for query in ("select length(randomblob(1000000000))", "select hex(randomblob(400000000))",
                  "select length(zeroblob(1000000000))", "select replace(hex(zeroblob(300000)), '0', 'xxxxxxxx')"):  # fmt: skip
        status, answer, _ = serving.sql(query)
        assert status == 400 and "too big" in str(answer["error"]), (query, answer)
    # Many values, each allowed: the answer as a whole is capped before Datasette renders it
    status, answer, _ = serving.sql(f"select zeroblob(400000) from {ROWS}")
    assert status == 400 and "the answer is larger than" in str(answer["error"])
    status, answer, _ = serving.sql(f"select printf('%.*c', 1000, 'x') from {ROWS} limit 500")
    assert status == 200 and len(answer["rows"]) == 500  # an ordinary answer still comes through
    assert _peak_rss_kb(serving.datasette_pid()) < 400_000


def test_errors_are_answered_without_a_traceback(serving: Serving) -> None:
    status, body, _ = serving.request("/w/events", data=b"a=1")  # POST to a table, not a canned query
    assert status == 400 and "Traceback" not in body and "File " not in body
    status, _, _ = serving.request("/no/such/route", data=b"a=1")
    assert status in (404, 405)
    serving.process.send_signal(signal.SIGINT)
    serving.process.wait(timeout=15)
    console = serving.stderr.read_text()
    assert "error: POST /w/events: AssertionError" in console
    assert "Traceback" not in console and "locals" not in console and "╭" not in console


def test_cells_are_shown_without_bidi_or_control_characters(serving: Serving) -> None:
    status, page, _ = serving.request("/w/events")
    assert status == 200 and "Invoicefdp.exe" in page
    assert "\u202e" not in page and "\x1b" not in page


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_stop_signal_stops_datasette_and_removes_the_copy(serving: Serving, sig: signal.Signals) -> None:
    child = serving.datasette_pid()
    assert list(serving.tmp.glob("watch287g-serve-*/w.db"))  # the copy being served
    try:
        serving.process.send_signal(sig)
        assert serving.process.wait(timeout=15) == 0
        deadline = time.monotonic() + 10
        while Path(f"/proc/{child}").exists() and b"zombie" not in Path(f"/proc/{child}/status").read_bytes():
            assert time.monotonic() < deadline, "Datasette still running"
            time.sleep(0.05)
    finally:  # never leave a server behind, even when the test fails
        if Path(f"/proc/{child}").exists():
            os.kill(child, signal.SIGKILL)
    with pytest.raises(OSError):
        urllib.request.urlopen(serving.base + "/-/versions.json", timeout=1)
    assert list(serving.tmp.iterdir()) == []  # no copy of the database left behind


def test_datasette_does_not_outlive_a_killed_serve(serving: Serving) -> None:
    child = serving.datasette_pid()
    try:
        serving.process.kill()  # SIGKILL: no handler runs in serve
        serving.process.wait(timeout=15)
        deadline = time.monotonic() + 10
        while Path(f"/proc/{child}").exists() and b"zombie" not in Path(f"/proc/{child}/status").read_bytes():
            assert time.monotonic() < deadline, "Datasette still running"
            time.sleep(0.05)
    finally:
        if Path(f"/proc/{child}").exists():
            os.kill(child, signal.SIGKILL)


def test_serving_beyond_loopback_is_warned_about(tmp_path: Path) -> None:
    from watch287g.datasette_metadata import is_loopback

    assert (
        is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("[::1]") and is_loopback("localhost")
    )
    assert not is_loopback("0.0.0.0") and not is_loopback("::") and not is_loopback("192.0.2.1")
    serving = _start(tmp_path, host="192.0.2.1")  # a documentation address: binding it fails at once
    serving.process.wait(timeout=30)
    warning = serving.stderr.read_text().splitlines()[0]
    assert warning.startswith("warning: --host 192.0.2.1: the whole history") and "visible" in warning
