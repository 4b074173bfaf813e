"""The installed command line: exit codes, one-line errors, filters, backfill and demo."""

from __future__ import annotations

import json
import os
import resource
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from state.store import Store
from tests.support.ice_site import REAL_LISTS, publish
from watch287g.cli import main


def _write_config(tmp_path: Path, url: str, extra: str = "") -> Path:
    path = tmp_path / "watch287g.yaml"
    path.write_text(
        f"database: w.db\ncontact: tests@example.org\n{extra}sources:\n"
        f"  - name: ice-287g\n    kind: ice_287g\n    url: {url}\n    timeout: 2\n"
    )
    return path


def _cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_unknown_config_key_is_named_before_anything_runs(tmp_path):
    config = _write_config(tmp_path, "http://127.0.0.1:9/", extra="databse: typo.db\n")
    code, out, err = _cli("--config", str(config), "run", "--no-prefect")
    assert code == 2
    assert err.strip().splitlines() == [
        f"error: {config}: unknown key 'databse'; valid keys: database, contact, rules, sources, subscribers, operators, moa_read_per_run, public_url"
    ]
    assert not (tmp_path / "w.db").exists()


def test_unknown_source_key_and_missing_env_var_are_named(tmp_path, monkeypatch):
    config = _write_config(tmp_path, "http://127.0.0.1:9/")
    config.write_text(config.read_text() + "    intervall: 5\n")
    code, _, err = _cli("--config", str(config), "run", "--no-prefect")
    assert code == 2 and "unknown key 'intervall'" in err and "valid keys:" in err
    monkeypatch.delenv("WATCH287G_TEST_URL", raising=False)
    config = _write_config(tmp_path, "${WATCH287G_TEST_URL}")
    code, _, err = _cli("--config", str(config), "run", "--no-prefect")
    assert code == 2 and "environment variable WATCH287G_TEST_URL is not set" in err


def test_unreachable_site_is_one_line_and_exit_1(tmp_path):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = _write_config(tmp_path, f"http://127.0.0.1:{port}/287g")
    code, out, err = _cli("--config", str(config), "run", "--no-prefect")
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and f"127.0.0.1:{port}" in lines[0]


def test_run_then_query_events_and_agreements(http_server, tmp_path):
    config = str(
        _write_config(
            tmp_path, publish(http_server, "participatingAgencies07072025pm", "pendingAgencies07072025pm")
        )
    )
    code, out, _ = _cli("--config", config, "run", "--no-prefect")
    assert code == 0
    assert "ice-287g: baseline recorded: 826 events (never alerted)" in out  # not "826 new events"
    publish(http_server, "participatingAgencies07082025pm", "pendingAgencies07082025pm")
    code, out, _ = _cli("--config", config, "run", "--no-prefect")
    assert code == 0 and out.startswith("ice-287g: 35 new events\n")
    code, out, _ = _cli(
        "--config", config, "events", "--no-baseline", "--type", "agreement.*", "--state", "TX", "--json"
    )
    rows = [json.loads(line) for line in out.splitlines()]
    assert rows and {r["state"] for r in rows} == {"TX"} and {r["type"] for r in rows} == {"agreement.added"}
    assert not any(r["baseline"] for r in rows)
    code, out, _ = _cli("--config", config, "agreements", "--state", "MS", "--json")
    agreements = [json.loads(line) for line in out.splitlines()]
    assert {(a["agency"], a["model"]) for a in agreements} >= {
        ("Stone County Sheriff's Office", "Task Force Model")
    }
    assert {a["status"] for a in agreements} == {"active"}


def test_backfill_replays_archived_lists_without_alerts(tmp_path):
    manifest = tmp_path / "manifest.csv"
    files = sorted(REAL_LISTS.glob("*.xlsx"))
    lines = ["fetched_at,list,path"]
    for file in files:
        date, name = file.name.split("_", 1)
        kind = "participating" if name.startswith("participating") else "pending"
        lines.append(f"{date}T{'09' if 'am' in name else '21'}:00:00+00:00,{kind},{file}")
    manifest.write_text("\n".join(lines) + "\n")
    config = str(_write_config(tmp_path, "https://www.ice.gov/identify-and-arrest/287g"))
    code, out, _ = _cli("--config", config, "backfill", str(manifest))
    assert code == 0 and out.startswith("7 files: 7 processed;")
    code, out, _ = _cli(
        "--config", config, "events", "--since", "2025-07-15", "--type", "agreement.renamed", "--json"
    )
    renamed = {json.loads(line)["after"]["agency"] for line in out.splitlines()}
    assert {"Fort Myers Police Department", "Indialantic Police Department"} <= renamed
    events = [json.loads(line) for line in _cli("--config", config, "events", "--json")[1].splitlines()]
    assert {e["origin"] for e in events} == {"backfill"}
    assert all(e["detected_at"] < "2025-07-16" for e in events)


def test_backfill_rejects_a_bad_manifest_with_the_line(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text("fetched_at,list,path\n2025-07-01,participatin,x.xlsx\n")
    config = str(_write_config(tmp_path, "https://www.ice.gov/identify-and-arrest/287g"))
    code, _, err = _cli("--config", config, "backfill", str(manifest))
    assert code == 2 and f"{manifest}:2: list must be one of participating, pending" in err


def test_installed_demo_shows_renames_not_terminations(tmp_path):
    script = Path(sys.executable).parent / "watch287g"
    result = subprocess.run([str(script), "demo"], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Ft. Myers Police Department -> Fort Myers Police Department" in result.stdout
    assert "agreement.terminated" not in result.stdout
    assert "baseline recorded: 826 events" in result.stdout
    # It ends with the week's e-mail, written to the current directory, and says where.
    email = tmp_path / "watch287g-demo-email.html"
    last = result.stdout.rstrip().splitlines()[-1]
    assert last.startswith(
        "The weekly e-mail of these 75 events (Weekly 287(g) digest, 2025-07-08 to 2025-07-21"
    )
    assert last.endswith(f") is in {email}: open it in a browser.")
    page = email.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "Fort Myers Police Department" in page
    assert "<script" not in page.lower()


def _text_of(message: Any) -> str:
    parts = message.walk() if message.is_multipart() else [message]
    return "".join(p.get_payload(decode=True).decode() for p in parts if p.get_content_type() == "text/plain")


def test_notify_test_reports_each_channel_and_fails_with_the_reason(tmp_path, smtp_server):
    config = _write_config(tmp_path, "https://www.ice.gov/identify-and-arrest/287g")
    config.write_text(
        config.read_text().replace("identify-and-arrest/287g", "identify-and-arrest/287g?mirror=1")
        + f'subscribers:\n  - name: desk\n    notify: ["{smtp_server.url_for_apprise()}"]\n'
    )
    code, out, _ = _cli("--config", str(config), "notify", "--test", "desk")
    assert code == 0 and out.strip() == "desk via mailto://127.0.0.1: sent"
    (message,) = smtp_server.wait_for(1, timeout=5)
    assert "test" in message["Subject"].lower()
    body = _text_of(message)  # names the configured source, not a hard-coded page
    assert "Watching ice-287g: https://www.ice.gov/identify-and-arrest/287g?mirror=1" in body
    smtp_server.mode = "refuse"
    code, out, err = _cli("--config", str(config), "notify", "--test", "desk")
    assert code == 1
    assert out.startswith("desk via mailto://127.0.0.1: FAILED: ") and "550" in out
    assert err.strip() == "error: test message to desk failed on mailto://127.0.0.1"
    code, _, err = _cli("--config", str(config), "notify", "--test", "nobody")
    assert code == 2 and "no subscriber named 'nobody'; subscribers: desk" in err


def test_deliveries_lists_the_outbox_by_status(http_server, smtp_server, tmp_path):
    page = publish(http_server, "participatingAgencies07072025pm", "pendingAgencies07072025pm")
    config = _write_config(tmp_path, page)
    config.write_text(
        config.read_text()
        + f'subscribers:\n  - name: ms-desk\n    notify: ["{smtp_server.url_for_apprise()}"]\n    states: [MS]\n'
    )
    assert _cli("--config", str(config), "run", "--no-prefect")[0] == 0
    publish(http_server, "participatingAgencies07082025pm", "pendingAgencies07082025pm")
    smtp_server.mode = "refuse"
    code, _, err = _cli("--config", str(config), "run", "--no-prefect")
    assert code == 1 and "delivery failed: ms-desk via mailto://127.0.0.1" in err
    code, out, _ = _cli("--config", str(config), "deliveries", "--status", "failed", "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert {(r["agency"], r["state"], r["attempts"]) for r in rows} == {
        ("Stone County Sheriff's Office", "MS", 1)
    } and len(rows) == 3  # Stone County's three models
    assert _cli("--config", str(config), "deliveries", "--status", "sent")[1] == ""


def test_classify_reads_a_file_or_stdin(tmp_path):
    text = (
        "Requires the sheriff of each county to enter into an agreement under an available federal 287(g) "
        "program with United States Immigration and Customs Enforcement."
    )
    result = CliRunner().invoke(main, ["classify", "-"], input=text)
    label, phrase = result.stdout.rstrip("\n").split("\t")
    assert (result.exit_code, label) == (0, "mandate") and phrase in text
    bill = tmp_path / "bill.txt"
    bill.write_text("An act relating to E-Verify for public contractors and immigration status checks.")
    result = CliRunner().invoke(main, ["classify", str(bill), "--json"])
    decided = json.loads(result.stdout)
    assert decided["label"] == "not_287g" and set(decided) == {"label", "scope", "phrase", "about", "version"}


def test_states_shows_policy_beside_active_agreements(tmp_path):
    manifest = tmp_path / "manifest.csv"
    rows = ["fetched_at,list,path"]
    for file in sorted(REAL_LISTS.glob("*.xlsx")):
        date, name = file.name.split("_", 1)
        kind = "participating" if name.startswith("participating") else "pending"
        rows.append(f"{date}T{'09' if 'am' in name else '21'}:00:00+00:00,{kind},{file}")
    manifest.write_text("\n".join(rows) + "\n")
    config = str(_write_config(tmp_path, "https://www.ice.gov/identify-and-arrest/287g"))
    assert _cli("--config", config, "backfill", str(manifest))[0] == 0
    code, out, _ = _cli("--config", config, "states", "--json", "--as-of", "2025-07-16")
    table = {row["state"]: row for row in map(json.loads, out.splitlines())}
    fl_active = [
        json.loads(line)
        for line in _cli(
            "--config", config, "agreements", "--state", "FL", "--as-of", "2025-07-16", "--json"
        )[1].splitlines()
    ]
    assert table["FL"]["local_agencies"] == "mandate"
    assert table["FL"]["active_agreements"] == sum(a["status"] == "active" for a in fl_active) > 100
    assert (table["MD"]["state_agencies"], table["MD"]["local_agencies"]) == ("none", "none")  # ban: 2026
    assert table["CA"]["local_agencies"] == "ban" and table["CA"]["active_agreements"] == 0
    later = {row["state"]: row for row in map(json.loads, _cli("--config", config, "states", "--json",
                                                                "--as-of", "2026-03-01")[1].splitlines())}  # fmt: skip
    assert (later["MD"]["state_agencies"], later["MD"]["local_agencies"]) == ("ban", "ban")
    assert all(e["source_url"] or e["evidence"] for e in later["MD"]["evidence"])
    code, out, _ = _cli("--config", config, "states", "--as-of", "2025-07-16")
    assert (
        code == 0
        and out.splitlines()[0].startswith("state")
        and any(line.startswith("Maryland") for line in out.splitlines())
    )


# -- issue 9: errors a person can act on; one way to read dates, states and output paths -------------------
def _manifest(tmp_path: Path, pattern: str = "*.xlsx") -> Path:
    manifest = tmp_path / "manifest.csv"
    lines = ["fetched_at,list,path"]
    for file in sorted(REAL_LISTS.glob(pattern)):
        date, name = file.name.split("_", 1)
        kind = "participating" if name.startswith("participating") else "pending"
        lines.append(f"{date}T{'09' if 'am' in name else '21'}:00:00+00:00,{kind},{file}")
    manifest.write_text("\n".join(lines) + "\n")
    return manifest


BAD_INPUT = [
    (["events", "--since", "2025-13-45"], "'2025-13-45' is not a date"),
    (["events", "--since", "yesterday"], "'yesterday' is not a date"),
    (["events", "--state", "ZZ"], "'ZZ' is not a USPS state code"),
    (["agreements", "--state", "Atlantis"], "'Atlantis' is not a USPS state code"),
    (["agreements", "--as-of", "2025-02-30"], "'2025-02-30' is not a date"),
    (["export", "--since", "garbage"], "'garbage' is not a date"),
    (["export", "--as-of", "soon"], "'soon' is not a date"),
    (["export", "--state", "XX"], "'XX' is not a USPS state code"),
    (["export", "-o", "missing/out.csv"], "folder 'missing' does not exist"),
    (["feed", "--since", "2025-99-01"], "'2025-99-01' is not a date"),
    (["feed", "--state", "Q"], "'Q' is not a USPS state code"),
    (["feed", "-o", "missing/feed.xml"], "folder 'missing' does not exist"),
    (["states", "--as-of", "notadate"], "'notadate' is not a date"),
    (["states", "--as-of", "2025-13-01"], "'2025-13-01' is not a date"),
    (["report", "--html", "missing/r.html"], "folder 'missing' does not exist"),
    (["report", "--html", "r.html", "--as-of", "13/01/2025"], "'13/01/2025' is not a date"),
    (["backup", "missing/copy.db"], "folder 'missing' does not exist"),
    (["backup", "."], "'.' is a directory"),
]


@pytest.mark.parametrize(("args", "reason"), BAD_INPUT, ids=[" ".join(a) for a, _ in BAD_INPUT])
def test_bad_input_is_one_line_exit_2_and_touches_nothing(tmp_path, monkeypatch, args, reason):
    monkeypatch.chdir(tmp_path)
    config = _write_config(tmp_path, "https://www.ice.gov/identify-and-arrest/287g")
    code, out, err = _cli("--config", str(config), *args)
    assert code == 2 and out == ""
    [line] = err.splitlines()
    assert line.startswith(f"error: {args[0]}: ") and reason in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["watch287g.yaml"]  # no database, no folder, no file


def test_state_names_dates_and_config_after_the_command(http_server, tmp_path):
    config = str(
        _write_config(
            tmp_path, publish(http_server, "participatingAgencies07072025pm", "pendingAgencies07072025pm")
        )
    )
    code, out, _ = _cli("run", "--no-prefect", "--config", config)  # --config after the command, too
    assert code == 0 and out.startswith("ice-287g: baseline recorded: 826 events (never alerted)\n")
    assert "new event" not in out  # a baseline is not news
    by_code = _cli("events", "--state", "MD", "--json", "--config", config)[1]
    assert by_code and _cli("events", "--state", " maryland ", "--json", "--config", config)[1] == by_code
    assert _cli("--config", config, "agreements", "--state", "New York")[1].endswith("active, 0 missing\n")
    code, out, err = _cli("events", "--since", "2999-01-01", "--config", config)
    assert (code, out, err) == (0, "", "no events match\n")
    code, out, err = _cli("--config", config, "deliveries", "--json")
    assert (code, out, err) == (0, "", "no deliveries match\n")
    code, out, err = _cli("--config", config, "export", "--state", "Guam")
    assert (code, out.count("\n"), err) == (0, 1, "no events match\n")  # the CSV header, and a word why
    code, out, err = _cli("--config", config, "feed", "--state", "Guam")
    assert code == 0 and "<feed" in out and err == "no events match\n"


def test_doctor_on_a_missing_or_foreign_file_says_so_and_creates_nothing(tmp_path):
    config = _write_config(tmp_path, "https://www.ice.gov/identify-and-arrest/287g")
    code, out, err = _cli("--config", str(config), "doctor")
    assert code == 1 and out == ""
    assert (
        err
        == f"error: database {tmp_path / 'w.db'} does not exist (run `watch287g run` or `backfill` first)\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["watch287g.yaml"]
    (tmp_path / "w.db").write_text("not a database, just text\n" * 100)
    code, out, err = _cli("--config", str(config), "doctor")
    assert code == 1 and len(err.splitlines()) == 1 and "is not a readable SQLite database" in err
    assert (tmp_path / "w.db").read_text() == "not a database, just text\n" * 100  # left as it was


def _limited(max_bytes: int) -> Any:
    """preexec_fn: files this process writes cannot grow past max_bytes (writes fail with EFBIG, as on a
    full disk; Python ignores SIGXFSZ, so the write returns the error instead of killing the process)."""
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))


def _watch287g(
    *args: str, max_bytes: int | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    script = Path(sys.executable).parent / "watch287g"
    return subprocess.run([str(script), *args], capture_output=True, text=True, timeout=120, cwd=cwd,
                          preexec_fn=_limited(max_bytes) if max_bytes else None)  # fmt: skip


def test_disk_full_is_one_line_in_backfill_run_and_export(http_server, tmp_path):
    config = str(_write_config(tmp_path, "https://www.ice.gov/identify-and-arrest/287g"))
    done = _watch287g("--config", config, "backfill", str(_manifest(tmp_path)), max_bytes=1_000_000)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("error: the database could not be written while running `backfill`")
    assert len(done.stderr.splitlines()) == 1 and "Traceback" not in done.stderr
    assert _watch287g("--config", config, "doctor").returncode == 0  # nothing half-written was kept
    assert _watch287g("--config", config, "backfill", str(_manifest(tmp_path))).returncode == 0  # space again
    out = tmp_path / "events.csv"
    done = _watch287g("--config", config, "export", "--baseline", "-o", str(out), max_bytes=64_000)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == f"error: disk full while running `export` ({out}: File too large); free some space and run it again\n"  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir() if "events" in p.name) == []  # no empty or partial file
    assert _watch287g("--config", config, "export", "--baseline", "-o", str(out)).returncode == 0
    assert len(out.read_text().splitlines()) > 800
    (tmp_path / "live").mkdir()
    page = publish(http_server, "participatingAgencies07072025pm", "pendingAgencies07072025pm")
    live = str(_write_config(tmp_path / "live", page))
    done = _watch287g("--config", live, "run", "--no-prefect", max_bytes=1_000_000)
    assert done.returncode == 1 and len(done.stderr.splitlines()) == 1
    assert done.stderr.startswith("error: the database could not be written while running `run`")


def test_a_locked_database_is_one_line(tmp_path):
    config = str(_write_config(tmp_path, "https://www.ice.gov/identify-and-arrest/287g"))
    Store(tmp_path / "w.db").close()
    holder = sqlite3.connect(tmp_path / "w.db", isolation_level=None)
    try:  # another process (here: a SQLite client) holds the database exclusively
        holder.execute("pragma locking_mode = exclusive")
        holder.execute("begin exclusive")
        done = _watch287g("--config", config, "backfill", str(_manifest(tmp_path, "*07072025*")))
    finally:
        holder.close()
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("error: database is locked by another process while running `backfill`")
    assert len(done.stderr.splitlines()) == 1


def test_an_unknown_host_is_not_retried_and_says_what_was_tried():
    """requests wraps the resolver's socket.gaierror (urllib3's NameResolutionError) in a ConnectionError:
    built here exactly as requests raises it, without asking any DNS server."""
    from urllib3.connection import HTTPConnection
    from urllib3.exceptions import MaxRetryError, NameResolutionError

    from monitors.http import _translate, is_transient

    lookup = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    connection = HTTPConnection("www.ice.gov.invalid")
    reason = NameResolutionError("www.ice.gov.invalid", connection, lookup)
    reason.__cause__ = lookup
    wrapped = requests.ConnectionError(MaxRetryError(None, "/287g", reason))  # type: ignore[arg-type]
    error = _translate(wrapped, "https://www.ice.gov.invalid/287g", 30)
    assert not is_transient(error)
    assert str(error) == ("DNS lookup of www.ice.gov.invalid failed (no network, or no such host) fetching "
                          "https://www.ice.gov.invalid/287g; not retried")  # fmt: skip
    refused = requests.ConnectionError(MaxRetryError(None, "/", ConnectionRefusedError(111, "refused")))  # type: ignore[arg-type]
    assert is_transient(_translate(refused, "http://127.0.0.1:9/", 30))  # still worth retrying


def test_backfilled_events_do_not_link_the_live_page(tmp_path):
    """A backfilled list came from an archive file, never from ICE's page: its evidence names the file."""
    config = str(_write_config(tmp_path, "https://www.ice.gov/identify-and-arrest/287g"))
    assert _cli("--config", config, "backfill", str(_manifest(tmp_path)))[0] == 0
    code, feed, _ = _cli("--config", config, "feed", "--type", "agreement.*")
    assert code == 0 and "<entry>" in feed
    assert "identify-and-arrest/287g#" not in feed and 'rel="alternate"' not in feed
    assert "Source document: backfill file 2025-07-15_participatingAgencies07152025am.xlsx" in feed
    assert _cli("--config", config, "report", "--html", str(tmp_path / "r.html"))[0] == 0
    html = (tmp_path / "r.html").read_text()
    assert "identify-and-arrest/287g#" not in html and "backfill file 2025-07-1" in html


def test_an_unusable_database_is_one_line_and_debug_shows_the_traceback(tmp_path):
    config = str(_write_config(tmp_path, "https://www.ice.gov/identify-and-arrest/287g"))
    (tmp_path / "w.db").mkdir()  # a folder where the database file should be
    done = _watch287g("--config", config, "events")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith(
        "error: database error while running `events`: unable to open database file"
    )
    assert len(done.stderr.splitlines()) == 1
    script = Path(sys.executable).parent / "watch287g"
    debug = subprocess.run([str(script), "--config", config, "events"], capture_output=True, text=True,
                           timeout=60, env={**os.environ, "WATCH287G_DEBUG": "1"})  # fmt: skip
    assert debug.returncode == 1 and "Traceback (most recent call last)" in debug.stderr
