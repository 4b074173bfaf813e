"""Issue 6, part 4: bad configs and secrets, through the real CLI.

A bad config must fail with one clear `error:` line naming the key, exit 2, before anything runs (no database
file is created). Secrets (an SMTP password and a LegiScan API key, both from the environment) must never
appear in output, tracebacks, the database (WAL included) or the messages sent, across a sequence with
failures on the way. Hostile spreadsheets and HTML are covered elsewhere (see docs/reliability.md:
tests/test_xlsx.py, tests/test_render.py, tests/reliability/test_faults.py).
"""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.reliability.conftest import P07, P08, P15, Q07, Q08, Q15, Site, cli
from tests.support.fixtures import SMTP_AUTH
from tests.support.httpserver import LoopbackHTTPServer
from watch287g.cli import main

ICE = "  - name: ice\n    kind: ice_287g\n    url: http://127.0.0.1:9/identify-and-arrest/287g\n"
HOOK = "  - name: desk\n    notify: ['json://127.0.0.1:9/hook']\n"


def config_with(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "watch287g.yaml"
    path.write_text(text if text.startswith("database:") else "database: w.db\n" + text)
    return path


BAD_CONFIGS = [
    ("unknown_top_level_key", f"sources:\n{ICE}bogus: 1\n", "unknown key 'bogus'"),
    ("unknown_source_key", f"sources:\n{ICE}    tmeout: 3\n", "unknown key 'tmeout'"),
    ("unknown_kind", "sources:\n  - name: x\n    kind: ice_287\n", "ice_287"),
    ("unknown_rules_key", f"sources:\n{ICE}rules:\n  absent_list: 3\n", "unknown key 'absent_list'"),
    (
        "unknown_subscriber_key",
        f"sources:\n{ICE}subscribers:\n{HOOK}    colour: red\n",
        "unknown key 'colour'",
    ),
    (
        "unknown_operators_key",
        f"sources:\n{ICE}operators:\n  notify: ['json://h/x']\n  pager: 1\n",
        "'pager'",
    ),
    ("missing_secret", f"sources:\n{ICE}subscribers:\n  - name: d\n    notify: ['${{NOPE}}']\n", "NOPE"),
    (
        "missing_secret_in_url",
        "sources:\n  - name: ice\n    kind: ice_287g\n    url: '${NOPE_URL}'\n",
        "NOPE_URL",
    ),
    ("bad_apprise_url", f"sources:\n{ICE}subscribers:\n  - name: d\n    notify: ['nope://x']\n", "notify[0]"),
    ("bad_value_type", f"sources:\n{ICE}    timeout: soon\n", "key 'timeout' must be float"),
    ("bad_state", f"sources:\n{ICE}subscribers:\n{HOOK}    states: [XX]\n", "states: 'XX'"),
    ("not_yaml", "sources: [\n", "not valid YAML"),
]
BAD_URL = (
    "BUG: a source `url` that is not http(s) is accepted by config validation (monitors/base.py "
    "validate_config only checks the type): `run` creates the database, fails the check with 'invalid URL' "
    "and exits 1, instead of exit 2 naming sources[0].url before anything runs."
)
BAD_NUMBER = (
    "BUG: `timeout: -1` (or 0, .nan) passes validation; `run` then dies with a Python traceback from urllib3 "
    "(ValueError: Attempted to set connect timeout to -1.0) after creating the database, instead of exit 2 "
    "naming the key."
)
BAD_DATABASE = (
    "BUG: `database: [1]` is accepted (str() of the list): `run` creates a file named '[1]' and runs, "
    "instead of exit 2 naming the key 'database'."
)
KNOWN_BAD = [
    (
        "bad_url_scheme",
        "sources:\n  - name: ice\n    kind: ice_287g\n    url: ftp://example.org/287g\n",
        "url",
        BAD_URL,
    ),
    ("not_a_url", "sources:\n  - name: ice\n    kind: ice_287g\n    url: not a url\n", "url", BAD_URL),
    ("negative_timeout", f"sources:\n{ICE}    timeout: -1\n", "timeout", BAD_NUMBER),
    ("database_not_a_string", f"database: [1]\nsources:\n{ICE}", "database", BAD_DATABASE),
]
CASES = [pytest.param(name, named, id=name) for name, _text, named in BAD_CONFIGS] + [
    pytest.param(name, named, id=name)
    for name, _text, named, _why in KNOWN_BAD  # fixed: they pass now
]


def invoke(path: Path, env: dict[str, str] | None = None) -> Result:
    """`watch287g --config PATH run --no-prefect` in this process: config handling happens before anything
    else in the CLI's process (the subprocess runs below and in the other modules cover the rest)."""
    return CliRunner().invoke(main, ["--config", str(path), "run", "--no-prefect"], env=env)


@pytest.mark.parametrize(("name", "named"), CASES)
def test_a_bad_config_is_refused_before_anything_runs(name: str, named: str, tmp_path: Path) -> None:
    text = next(case[1] for case in [*BAD_CONFIGS, *KNOWN_BAD] if case[0] == name)
    result = invoke(config_with(tmp_path, text))
    crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
    assert not crashed, f"a traceback: {result.exception!r}"
    assert result.exit_code == 2, (result.exit_code, result.stderr[-500:])
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert named in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["watch287g.yaml"]  # no database, no lock file


def test_a_config_error_never_echoes_a_secret(tmp_path: Path) -> None:
    _user, password = SMTP_AUTH
    path = config_with(
        tmp_path,
        f"sources:\n{ICE}subscribers:\n  - name: d\n"
        "    notify: 'mailtos://u:${SMTP_PASSWORD}@smtp.example.org'\n",
    )
    result = invoke(path, env={"SMTP_PASSWORD": password})
    assert result.exit_code == 2 and "notify" in result.stderr
    assert password not in result.stderr


# -- secrets across a whole sequence with failures -----------------------------------------------------------
API_KEY = "lsk-7d1e0c55aa93-do-not-leak"


def test_secrets_never_reach_output_tracebacks_database_or_messages(
    loopback: LoopbackHTTPServer, smtp_server_auth, tmp_path: Path
) -> None:
    user, password = SMTP_AUTH
    env = {"SMTP_PASSWORD": password, "LEGISCAN_API_KEY": API_KEY}
    site = Site(loopback, prefix="/secrets")
    loopback.fault("/legiscan/", "status", code=500)  # every LegiScan call fails: its URL is in the errors
    loopback.route("/ops-secrets", "ok", content_type="text/plain")
    mail = smtp_server_auth.url_for_apprise().replace("mailto://", f"mailto://{user}:${{SMTP_PASSWORD}}@")
    sources = (
        f"sources:\n  - name: ice\n    kind: ice_287g\n    url: {site.page_url}\n    timeout: 5\n"
        f"  - name: ls\n    kind: legiscan\n    states: [MD]\n    base_url: {loopback.url('/legiscan/')}\n"
        "    timeout: 2\n"
    )
    alerts = (
        f'subscribers:\n  - name: desk\n    notify: ["{mail}"]\n'
        f'operators:\n  notify: ["json://127.0.0.1:{loopback.port}/ops-secrets"]\n'
        "  failures_before_alert: 2\n"
        "  channel_failures_before_alert: 1\n"
    )
    config = config_with(tmp_path, sources + alerts)
    captured: list[subprocess.CompletedProcess[str]] = []

    def run(*args: str, path: Path = config) -> subprocess.CompletedProcess[str]:
        result = cli(path, *args, env=env)
        captured.append(result)
        return result

    site.show(P07, Q07)
    assert run("run", "--no-prefect").returncode == 1  # LegiScan fails (HTTP 500)
    site.show(P08, Q08)
    smtp_server_auth.mode = "refuse"
    second = run("run", "--no-prefect")  # LegiScan fails again (source.failed), the mail is refused
    assert second.returncode == 1 and "delivery failed" in second.stderr
    smtp_server_auth.mode = "accept"
    site.show(P15, Q15)
    assert run("run", "--no-prefect").returncode == 1  # mail accepted (LegiScan still down)
    smtp_server_auth.mode = "refuse"
    refused = run("notify", "--test", "desk")  # prints the server's reason for the failure
    assert refused.returncode == 1 and "FAILED" in refused.stdout + refused.stderr
    for command in (("events", "--json"), ("deliveries", "--json")):
        assert run(*command).stdout
    # A bad value in the same config (this once passed validation and died with a traceback; it is now
    # refused before anything runs): its output is grepped for the secrets like the others.
    broken = tmp_path / "broken.yaml"
    broken.write_text(config.read_text().replace("    timeout: 5\n", "    timeout: -1\n", 1))
    crash = run("run", "--no-prefect", path=broken)
    assert crash.returncode == 2 and "key 'timeout' must be a positive number" in crash.stderr

    # The secrets were really used: SMTP AUTH with the password, the API key in LegiScan's query.
    assert smtp_server_auth.received and {m.auth_user for m in smtp_server_auth.received} == {user}
    assert any(API_KEY in r.path for r in loopback.requests_for("/legiscan/"))
    assert any("key=***" in r.stderr for r in captured)  # shown masked in the errors

    # ...and appear nowhere else.
    secrets = [password, API_KEY]
    outputs = "\n".join(r.stdout + r.stderr for r in captured)
    assert not [s for s in secrets if s in outputs]
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "w.db" for p in files)
    for path in files:
        data = path.read_bytes()
        assert not [s for s in secrets if s.encode() in data], path
    con = sqlite3.connect(tmp_path / "w.db")
    dump = "\n".join(con.iterdump())
    con.close()
    assert "delivery.failing" in dump and "source.failed" in dump  # the failures are recorded...
    assert not [s for s in secrets if s in dump]  # ...without the secrets
    sent = [m.message.as_string() for m in smtp_server_auth.received]
    sent += [r.body.decode() for r in loopback.requests_for("/ops-secrets")]
    assert len(sent) >= 3 and not [s for s in secrets if any(s in m for m in sent)]
