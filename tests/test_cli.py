"""The installed command line: exit codes, one-line errors, filters, backfill and demo."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

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
        f"error: {config}: unknown key 'databse'; valid keys: database, contact, rules, sources, subscribers, operators"
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
    assert "ice-287g: 826 new events" in out
    publish(http_server, "participatingAgencies07082025pm", "pendingAgencies07082025pm")
    assert _cli("--config", config, "run", "--no-prefect")[0] == 0
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


def test_installed_demo_shows_renames_not_terminations():
    script = Path(sys.executable).parent / "watch287g"
    result = subprocess.run([str(script), "demo"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Ft. Myers Police Department -> Fort Myers Police Department" in result.stdout
    assert "agreement.terminated" not in result.stdout
    assert "baseline recorded: 826 events" in result.stdout


def test_notify_test_reports_each_channel_and_fails_with_the_reason(tmp_path, smtp_server):
    config = _write_config(tmp_path, "https://www.ice.gov/identify-and-arrest/287g")
    config.write_text(
        config.read_text()
        + f'subscribers:\n  - name: desk\n    notify: ["{smtp_server.url_for_apprise()}"]\n'
    )
    code, out, _ = _cli("--config", str(config), "notify", "--test", "desk")
    assert code == 0 and out.strip() == "desk via mailto://127.0.0.1: sent"
    (message,) = smtp_server.wait_for(1, timeout=5)
    assert "test" in message["Subject"].lower()
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
    assert (table["MD"]["state_agencies"], table["MD"]["local_agencies"]) == ("ban", "ban")
    assert table["CA"]["local_agencies"] == "ban" and table["CA"]["active_agreements"] == 0
    assert all(e["source_url"] or e["evidence"] for e in table["MD"]["evidence"])
    code, out, _ = _cli("--config", config, "states", "--as-of", "2025-07-16")
    assert (
        code == 0
        and out.splitlines()[0].startswith("state")
        and any(line.startswith("Maryland") for line in out.splitlines())
    )
