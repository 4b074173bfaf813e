"""Issue 9, items 10 and 11: secrets substituted into apprise URLs stay whole, and commands that only read
the database do not need them. Real SMTP server with AUTH on loopback, the real CLI, a real SQLite file."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from state.store import Store
from tests.support.smtpserver import LoopbackSMTPServer
from watch287g.cli import main
from watch287g.config import load_config
from watch287g.deliver import send_test

# Every character that ends or splits a URL's userinfo, path or query.
HOSTILE_PASSWORD = "p@ss/w:rd#1?%41&x="


@pytest.fixture
def smtp_hostile_password() -> Iterator[LoopbackSMTPServer]:
    server = LoopbackSMTPServer(auth=("watch287g", HOSTILE_PASSWORD)).start()
    try:
        yield server
    finally:
        server.stop()


def _config(tmp_path: Path, notify: str, operators: str = "") -> Path:
    path = tmp_path / "watch287g.yaml"
    path.write_text(
        "database: w.db\nsources:\n  - name: ice\n    kind: ice_287g\n    url: http://127.0.0.1:9/287g\n"
        f"subscribers:\n  - name: desk\n    notify: ['{notify}']\n{operators}"
    )
    return path


def test_a_password_with_url_characters_authenticates(smtp_hostile_password, tmp_path):
    server = smtp_hostile_password
    url = server.url_for_apprise().replace("mailto://", "mailto://watch287g:${SMTP_PASSWORD}@")
    config = load_config(_config(tmp_path, url), environ={"SMTP_PASSWORD": HOSTILE_PASSWORD})
    assert send_test(config, "desk") == [("mailto://127.0.0.1", None)]
    (received,) = server.received
    assert received.auth_user == "watch287g" and server.auth_failures == 0


def test_a_refused_message_with_such_a_password_leaks_no_fragment(smtp_hostile_password, tmp_path):
    server = smtp_hostile_password
    server.mode = "refuse"
    url = server.url_for_apprise().replace("mailto://", "mailto://watch287g:${SMTP_PASSWORD}@")
    config = load_config(_config(tmp_path, url), environ={"SMTP_PASSWORD": HOSTILE_PASSWORD})
    ((label, reason),) = send_test(config, "desk")
    assert label == "mailto://127.0.0.1" and reason  # the host contacted is the server, not "ss" or "w"
    for fragment in ("p@ss", "ss/w", "w:rd", "rd#1", "1?%41", "%41&x"):
        assert fragment not in reason, reason
    assert server.data_attempts == 1  # it reached this server (and no other)


@pytest.mark.parametrize(
    ("template", "value", "expected"),
    [
        ("${WHOLE}", "https://hooks.slack.com/services/T0/B0/x?y=1", "https://hooks.slack.com/services/T0/B0/x?y=1"),
        ("https://hooks.slack.com/services/${TOKEN}", "T0/B0/a#b", "https://hooks.slack.com/services/T0/B0/a%23b"),
        ("json://${HOST}:8080/x?pw=${WHOLE}", "a&b=c", "json://a&b=c:8080/x?pw=a%26b%3Dc"),
        ("mailtos://${WHOLE}:${WHOLE}@smtp.example.org", "u@x", "mailtos://u%40x:u%40x@smtp.example.org"),
    ],
)  # fmt: skip
def test_substitution_encodes_by_the_part_of_the_url(tmp_path, template, value, expected):
    from watch287g.config import _substitute

    environ = {"WHOLE": value, "TOKEN": value, "HOST": value}
    assert _substitute({"operators": {"notify": [template]}}, environ, "")["operators"]["notify"] == [
        expected
    ]
    # outside an apprise URL a value is taken as it is
    assert _substitute({"contact": template}, environ, "")["contact"] == template.replace("${WHOLE}", value)\
        .replace("${TOKEN}", value).replace("${HOST}", value)  # fmt: skip


READ_ONLY = [
    ["events"],
    ["agreements"],
    ["report", "--html", "{tmp}/r.html"],
    ["feed"],
    ["export"],
    ["doctor"],
    ["states"],
    ["deliveries"],
]


def _unset_secrets_config(tmp_path: Path) -> Path:
    path = _config(
        tmp_path,
        "mailtos://u:${UNSET_SMTP_PASSWORD}@smtp.example.org",
        "operators:\n  notify: ['${UNSET_OPS_URL}', 'json://127.0.0.1/${secret:no-such-block}']\n",
    )
    Store(tmp_path / "w.db").close()  # an (empty) database, as after `watch287g run`
    return path


@pytest.mark.parametrize("args", READ_ONLY, ids=[a[0] for a in READ_ONLY])
def test_read_only_commands_run_without_the_secrets(tmp_path, args):
    path = _unset_secrets_config(tmp_path)
    argv = ["--config", str(path), *(a.format(tmp=tmp_path) for a in args)]
    result = CliRunner().invoke(main, argv, env={"UNSET_SMTP_PASSWORD": None, "UNSET_OPS_URL": None})
    assert result.exit_code == 0, (result.exit_code, result.stderr)
    assert "UNSET" not in result.stderr and "no-such-block" not in result.stderr


def test_history_runs_without_the_secrets(tmp_path):
    path = _unset_secrets_config(tmp_path)
    result = CliRunner().invoke(main, ["--config", str(path), "history", "Nowhere PD"],
                                env={"UNSET_SMTP_PASSWORD": None})  # fmt: skip
    assert result.exit_code == 1 and "no agreement" in result.stderr  # the search ran: nothing matches


@pytest.mark.parametrize("args", [["run", "--no-prefect"], ["notify"]], ids=["run", "notify"])
def test_commands_that_send_still_name_the_missing_secret(tmp_path, args):
    path = _unset_secrets_config(tmp_path)
    result = CliRunner().invoke(main, ["--config", str(path), *args], env={"UNSET_SMTP_PASSWORD": None})
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: subscribers[0].notify[0]: environment variable UNSET_SMTP_PASSWORD is not set"
    ]


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_apprise_debug_stays_out_of_the_root_loggers_handlers(http_server):
    """Prefect's console and API handlers hang on the root logger: apprise's debug lines (the webhook's
    token, the server's reply) must not reach them, while the failure's reason is still read from them."""
    from notifiers.outbox import apprise_send
    from notifiers.render import render_test

    http_server.route("/hook/tok-4f9a7c1e", "reply-b7e2 internal detail", status=500)
    root, collect = logging.getLogger(), _Collect()
    root.addHandler(collect)
    try:
        ok, reason = apprise_send(f"json://127.0.0.1:{http_server.port}/hook/tok-4f9a7c1e",
                                  render_test("desk", "2025-07-08T00:00:00+00:00"))  # fmt: skip
    finally:
        root.removeHandler(collect)
    assert not ok and reason and "500" in reason  # the reason still comes from apprise's log
    shown = [r.getMessage() for r in collect.records if r.name.startswith("apprise")]
    assert not shown, shown[:3]
    assert logging.getLogger("apprise").propagate  # restored afterwards
