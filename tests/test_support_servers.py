"""The loopback test servers, proven with the real clients: apprise (mailto://, json://, Slack) and requests."""

from __future__ import annotations

import smtplib
import subprocess
import sys
import threading

import apprise
import pytest
import requests
from apprise import NotifyFormat

from tests.support.fixtures import SLACK_WEBHOOK_PATH
from tests.support.httpserver import LoopbackHTTPServer
from tests.support.smtpserver import LoopbackSMTPServer, parts


def notify_once(url: str, title: str = "287(g) update", body: str = "<p>3 new <b>agreements</b></p>") -> bool:
    """One fresh Apprise instance per send, so apprise's per-instance throttle never sleeps."""
    notifier = apprise.Apprise()
    assert notifier.add(url), url
    return bool(notifier.notify(title=title, body=body, body_format=NotifyFormat.HTML))


# -- SMTP ----------------------------------------------------------------------------------------------------
def test_apprise_mail_arrives_with_text_and_html_parts(smtp_server: LoopbackSMTPServer) -> None:
    assert notify_once(smtp_server.url_for_apprise(), title="ICE list changed")

    (msg,) = smtp_server.wait_for(1, timeout=2)
    assert msg["Subject"] == "ICE list changed"
    assert msg["To"] == "desk@example.org"
    assert "watch287g@example.org" in msg["From"]
    bodies = parts(msg)
    assert bodies["text/html"].strip() == "<p>3 new <b>agreements</b></p>"
    assert "3 new agreements" in bodies["text/plain"]
    assert smtp_server.parts(msg) == bodies
    (received,) = smtp_server.received
    assert received.mail_from == "watch287g@example.org"
    assert received.rcpt_tos == ("desk@example.org",)
    assert received.auth_user is None


def test_refused_mail_fails_and_nothing_is_stored(smtp_server: LoopbackSMTPServer) -> None:
    smtp_server.mode = "refuse"
    assert not notify_once(smtp_server.url_for_apprise())
    assert smtp_server.messages == []
    assert smtp_server.data_attempts == 1  # the server did see the DATA it refused


def test_temp_fail_then_accept_with_one_apprise_instance(
    smtp_server: LoopbackSMTPServer, apprise_no_throttle: None
) -> None:
    notifier = apprise.Apprise()
    notifier.add(smtp_server.url_for_apprise())
    smtp_server.mode = "temp_fail"
    assert not notifier.notify(title="t", body="b")
    smtp_server.mode = "accept"
    assert notifier.notify(title="t", body="b")  # no 5.5 s throttle sleep, thanks to apprise_no_throttle
    assert len(smtp_server.messages) == 1
    smtp_server.clear()
    assert smtp_server.messages == [] and smtp_server.data_attempts == 0


def test_unknown_mode_is_rejected(smtp_server: LoopbackSMTPServer) -> None:
    with pytest.raises(ValueError, match="valid: accept"):
        smtp_server.mode = "bounce"


@pytest.mark.parametrize("accept", [False, True])
def test_hold_blocks_delivery_until_released(smtp_server: LoopbackSMTPServer, accept: bool) -> None:
    smtp_server.mode = "hold"
    outcome: list[bool] = []
    sender = threading.Thread(target=lambda: outcome.append(notify_once(smtp_server.url_for_apprise())))
    sender.start()
    assert smtp_server.wait_until_held(timeout=2)
    assert outcome == [] and smtp_server.messages == []  # the client is stuck waiting for the DATA reply
    smtp_server.release(accept=accept)
    sender.join(timeout=2)
    assert outcome == [accept]
    assert len(smtp_server.messages) == (1 if accept else 0)


def test_hold_times_out_with_451(smtp_server: LoopbackSMTPServer) -> None:
    smtp_server.hold_timeout = 0.1
    smtp_server.mode = "hold"
    with (
        smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=2) as client,
        pytest.raises(smtplib.SMTPDataError) as excinfo,
    ):
        client.sendmail("a@example.org", ["b@example.org"], b"Subject: x\r\n\r\nbody\r\n")
    assert excinfo.value.smtp_code == 451


SENDER_SCRIPT = """
import smtplib, sys
client = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10)
client.sendmail("a@example.org", ["b@example.org"], b"Subject: killed\\r\\n\\r\\nbody\\r\\n")
"""


def test_sender_killed_while_held_delivers_nothing_and_server_survives(
    smtp_server: LoopbackSMTPServer,
) -> None:
    smtp_server.mode = "hold"
    proc = subprocess.Popen([sys.executable, "-c", SENDER_SCRIPT, str(smtp_server.port)])
    try:
        assert smtp_server.wait_until_held(timeout=2)
    finally:
        proc.kill()
        proc.wait(timeout=2)
    smtp_server.release()
    smtp_server.mode = "accept"
    assert notify_once(smtp_server.url_for_apprise(), title="after the kill")
    assert [m["Subject"] for m in smtp_server.wait_for(1, timeout=2)] == ["after the kill"]


def test_auth_server_needs_the_right_password(smtp_server_auth: LoopbackSMTPServer) -> None:
    assert smtp_server_auth.auth is not None
    user, password = smtp_server_auth.auth
    assert not notify_once(smtp_server_auth.url_for_apprise())  # no AUTH: 530 at MAIL FROM
    assert not notify_once(smtp_server_auth.url_for_apprise(user=user, password="wrong"))
    assert smtp_server_auth.auth_failures >= 1
    assert notify_once(smtp_server_auth.url_for_apprise(user=user, password=password))
    (received,) = smtp_server_auth.received
    assert received.auth_user == user
    assert password not in received.message.as_string()


def test_wait_for_reports_a_timeout(smtp_server: LoopbackSMTPServer) -> None:
    with pytest.raises(AssertionError, match="expected 1 message"):
        smtp_server.wait_for(1, timeout=0.05)


# -- HTTP POST / webhooks ------------------------------------------------------------------------------------
def test_post_is_recorded_and_answered_like_get(http_server: LoopbackHTTPServer) -> None:
    url = http_server.route("/hook", b"accepted", content_type="text/plain", status=202)
    with requests.Session() as session:
        first = session.post(url, data=b"one", timeout=2)
        second = session.post(url, data=iter([b"chunk-", b"ed"]), timeout=2)  # Transfer-Encoding: chunked
        third = session.get(url, timeout=2)  # same kept-alive connection stays in sync after the bodies
    assert [r.status_code for r in (first, second, third)] == [202, 202, 202]
    assert first.text == "accepted"
    seen = http_server.requests_for("/hook")
    assert [(r.method, r.body) for r in seen] == [("POST", b"one"), ("POST", b"chunk-ed"), ("GET", b"")]
    assert len({r.client_port for r in seen}) == 1
    assert requests.post(http_server.url("/nowhere"), json={}, timeout=2).status_code == 404


def test_apprise_json_post_lands_in_posted_json(http_server: LoopbackHTTPServer) -> None:
    http_server.route("/notify", b"{}", content_type="application/json")
    url = f"json://127.0.0.1:{http_server.port}/notify"
    assert notify_once(url, title="ICE list changed", body="3 new agreements")
    (payload,) = http_server.posted_json("/notify")
    assert payload["title"] == "ICE list changed"
    assert payload["message"] == "3 new agreements"
    assert payload["type"] == "info"


def test_respond_sequence_fails_then_succeeds(http_server: LoopbackHTTPServer) -> None:
    http_server.respond_sequence("/flaky", [500, 200])
    notifier = apprise.Apprise()  # json:// has no throttle, so one instance is fine here
    notifier.add(f"json://127.0.0.1:{http_server.port}/flaky")
    assert not notifier.notify(title="t", body="b")
    assert notifier.notify(title="t", body="b")
    assert notifier.notify(title="t", body="b")  # the last status repeats
    assert len(http_server.posted_json("/flaky")) == 3


def test_respond_sequence_needs_a_status(http_server: LoopbackHTTPServer) -> None:
    with pytest.raises(ValueError):
        http_server.respond_sequence("/x", [])


# -- Slack webhook -------------------------------------------------------------------------------------------
def test_slack_webhook_posts_mrkdwn_json_to_the_loopback_server(
    slack_webhook: str, http_server: LoopbackHTTPServer
) -> None:
    html = '<p><b>3</b> new <i>agreements</i>: <a href="https://example.org/list">list</a></p>'
    assert notify_once(slack_webhook, title="ICE list changed", body=html)
    (payload,) = http_server.posted_json(SLACK_WEBHOOK_PATH)
    assert payload["mrkdwn"] is True
    (attachment,) = payload["attachments"]
    assert attachment["title"] == "ICE list changed"
    assert attachment["text"] == "*3* new _agreements_: <https://example.org/list|list>"  # HTML -> mrkdwn

    notifier = apprise.Apprise()
    notifier.add(slack_webhook)
    assert notifier.notify(title="t", body="*already* mrkdwn", body_format=NotifyFormat.MARKDOWN)
    assert http_server.posted_json(SLACK_WEBHOOK_PATH)[1]["attachments"][0]["text"] == "*already* mrkdwn"


def test_slack_failure_is_reported(slack_webhook: str, http_server: LoopbackHTTPServer) -> None:
    http_server.respond_sequence(SLACK_WEBHOOK_PATH, [500, 200])
    assert not notify_once(slack_webhook)
    assert notify_once("slack://T000/B000/XXXXXXXX")  # the slack:// form posts to the same place
    assert len(http_server.posted_json(SLACK_WEBHOOK_PATH)) == 2
