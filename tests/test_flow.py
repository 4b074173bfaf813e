"""The Prefect flow on a real (temporary) Prefect server: final states tell the truth; only transient
network errors are retried. Slow (a server start), so the logic itself is tested without Prefect elsewhere."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.httpserver import LoopbackHTTPServer
from tests.support.ice_site import FOLDER, PAGE_PATH, publish

pytestmark = pytest.mark.prefect
P07, Q07 = "participatingAgencies07072025pm", "pendingAgencies07072025pm"


@pytest.fixture(scope="module", autouse=True)
def prefect_server() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness  # costs ~2.6 s: import only here

    with prefect_test_harness(server_startup_timeout=60):
        yield


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    import flows.check

    monkeypatch.setattr(flows.check, "fetch_task", flows.check.fetch_task.with_options(retry_delay_seconds=0))


def _config(tmp_path: Path, url: str) -> str:
    path = tmp_path / "watch287g.yaml"
    path.write_text(
        f"database: w.db\nsources:\n  - name: ice\n    kind: ice_287g\n    url: {url}\n    timeout: 2\n"
    )
    return str(path)


def test_flow_run_completes_with_a_summary(http_server: LoopbackHTTPServer, tmp_path: Path) -> None:
    from flows.check import check_flow

    state = check_flow(_config(tmp_path, publish(http_server, P07, Q07)), return_state=True)
    assert state.is_completed()
    result = state.result()
    [source] = result["sources"]
    assert source["source"] == "ice" and source["ok"] and source["events"] == 826
    assert result["sent"] == {"messages": 0, "deliveries": 0, "failures": []}  # a baseline alerts nobody


def test_forbidden_is_not_retried_and_the_run_fails(http_server, tmp_path, fast_retries) -> None:
    from flows.check import check_flow

    http_server.fault(PAGE_PATH, "status", code=403)
    state = check_flow(_config(tmp_path, http_server.url(PAGE_PATH)), return_state=True)
    assert state.is_failed()
    assert len(http_server.requests_for(PAGE_PATH)) == 1
    assert "403" in str(state.message) or "403" in repr(state.result(raise_on_failure=False))


def test_server_errors_are_retried_three_times_then_the_run_fails(
    http_server, tmp_path, fast_retries
) -> None:
    from flows.check import check_flow

    url = publish(http_server, P07, Q07)
    http_server.fault(FOLDER + Q07 + ".xlsx", "status", code=503)
    state = check_flow(_config(tmp_path, url), return_state=True)
    assert state.is_failed()
    assert len(http_server.requests_for(FOLDER + Q07 + ".xlsx")) == 4  # 1 + 3 retries
    assert len(http_server.requests_for(FOLDER + P07 + ".xlsx")) == 1


def test_the_flow_itself_delivers_alerts(http_server: LoopbackHTTPServer, tmp_path: Path) -> None:
    from flows.check import check_flow

    http_server.route("/hook", "ok", content_type="text/plain")
    config = _config(tmp_path, publish(http_server, P07, Q07))
    with open(config, "a") as handle:
        handle.write(
            f'subscribers:\n  - name: desk\n    notify: ["json://127.0.0.1:{http_server.port}/hook"]\n'
            "    states: [TX]\n"
        )
    assert check_flow(config, return_state=True).is_completed()  # the baseline: nothing to send
    assert http_server.posted_json("/hook") == []
    publish(http_server, "participatingAgencies07082025pm", "pendingAgencies07082025pm")
    state = check_flow(config, return_state=True)
    assert state.is_completed()
    assert state.result()["sent"] == {"messages": 1, "deliveries": 8, "failures": []}
    [posted] = http_server.posted_json("/hook")
    assert posted["title"] == "8 new 287(g) agreements in Texas"


def test_a_prefect_secret_block_supplies_the_channel_and_stays_secret(
    http_server: LoopbackHTTPServer, tmp_path: Path
) -> None:
    from prefect.blocks.system import Secret

    from flows.check import check_flow
    from watch287g.config import load_config

    http_server.route("/secret-hook-7f3a", "ok", content_type="text/plain")
    Secret(value=f"json://127.0.0.1:{http_server.port}/secret-hook-7f3a").save("desk-webhook", overwrite=True)
    config = _config(tmp_path, publish(http_server, P07, Q07))
    with open(config, "a") as handle:
        handle.write(
            'subscribers:\n  - name: desk\n    notify: ["${secret:desk-webhook}"]\n    states: [MS]\n'
        )
    assert load_config(config).routing.subscriber("desk").targets[0].label == "json://127.0.0.1"
    assert check_flow(config, return_state=True).is_completed()
    publish(http_server, "participatingAgencies07082025pm", "pendingAgencies07082025pm")
    assert check_flow(config, return_state=True).is_completed()
    [posted] = http_server.posted_json("/secret-hook-7f3a")
    assert posted["title"] == "3 new 287(g) agreements in Mississippi"
    files = [p for p in tmp_path.iterdir() if p.name.startswith("w.db")]  # the database and its WAL, if any
    assert files and not any(b"secret-hook-7f3a" in p.read_bytes() for p in files)
    # A block that does not exist is a config error naming it.
    missing = tmp_path / "missing.yaml"
    missing.write_text(Path(config).read_text().replace("desk-webhook", "no-such-block"))
    with pytest.raises(Exception, match="Prefect Secret block 'no-such-block' could not be read"):
        load_config(missing)


# -- issue 5: artifacts, Prefect events, the kinds parameter, the notify flow ---------------------------
def _artifacts(state: Any) -> dict[str, Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    run_filter = FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id]))
    with get_client(sync_client=True) as client:
        return {a.key: a for a in client.read_artifacts(flow_run_filter=run_filter)}


@pytest.fixture
def emitted(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Prefect events the flows emit, captured (the real server path is tests/test_deployments.py)."""
    import prefect.events

    captured: list[dict[str, Any]] = []
    monkeypatch.setattr(prefect.events, "emit_event", lambda **kwargs: captured.append(kwargs))
    return captured


def test_a_run_summarises_itself_and_emits_its_alertable_events(
    http_server: LoopbackHTTPServer, tmp_path: Path, emitted: list[dict[str, Any]]
) -> None:
    from flows.check import check_flow

    config = _config(tmp_path, publish(http_server, P07, Q07))
    first = check_flow(config, return_state=True)
    assert first.is_completed() and emitted == []  # the baseline is never emitted
    summary = _artifacts(first)["watch287g-check-summary"].data
    # 826 agreements and requests, and 3 bans already in force with agreements listed (MD, NM, VA): how
    # things stood on the first day, stored as baseline policy.compliance events.
    assert "# watch287g check: 0 new events" in summary and "829 baseline events stored" in summary
    publish(http_server, "participatingAgencies07082025pm", "pendingAgencies07082025pm")
    second = check_flow(config, return_state=True)
    assert second.is_completed()
    assert len(emitted) == 35
    assert {e["event"] for e in emitted} == {"watch287g.agreement.added", "watch287g.agreement.moa_published"}
    assert all(
        e["resource"]["prefect.resource.id"].startswith("watch287g.agreement.ice:agreement:") for e in emitted
    )
    artifacts = _artifacts(second)
    assert "| agreement.added | TX | 8 |" in artifacts["watch287g-check-summary"].data
    table = artifacts["watch287g-check-sources"].data
    rows = json.loads(table) if isinstance(table, str) else table
    assert [(r["channel"], r["outcome"], r["http_status"], r["events"]) for r in rows] == [
        ("page", "page", 200, 0), ("participating", "processed", 200, 35), ("pending", "processed", 200, 0)
    ]  # fmt: skip
    assert all(r["source"] == "ice" and r["bytes"] > 0 and r["ms"] >= 0 for r in rows)


def test_a_failed_source_still_leaves_its_artifacts(
    http_server: LoopbackHTTPServer, tmp_path: Path, fast_retries: None
) -> None:
    from flows.check import check_flow

    http_server.fault(PAGE_PATH, "status", code=403)
    state = check_flow(_config(tmp_path, http_server.url(PAGE_PATH)), return_state=True)
    assert state.is_failed()
    artifacts = _artifacts(state)
    assert "1 of 1 sources failed" in artifacts["watch287g-check-summary"].data
    table = artifacts["watch287g-check-sources"].data
    rows = json.loads(table) if isinstance(table, str) else table
    # the failed request is a row of its own, with its HTTP status
    assert (rows[0]["channel"], rows[0]["outcome"], rows[0]["http_status"]) == ("page", "error", 403)
    assert "HTTP 403" in rows[0]["detail"]


def test_kinds_selects_the_sources_a_run_checks(http_server: LoopbackHTTPServer, tmp_path: Path) -> None:
    from flows.check import check_flow

    config = _config(tmp_path, publish(http_server, P07, Q07))
    state = check_flow(config, kinds=["openstates", "webpage"], return_state=True)  # the config has none
    assert state.is_completed() and state.result()["sources"] == []
    assert http_server.requests == []
    assert "No source was checked" in _artifacts(state)["watch287g-check-summary"].data
    assert check_flow(config, kinds=["ice_287g"], return_state=True).result()["sources"][0]["events"] == 826
    bad = check_flow(config, kinds=["nope"], return_state=True)
    assert bad.is_failed() and "unknown source kind 'nope'" in str(bad.message)


def test_family_selects_the_sources_a_run_checks(http_server: LoopbackHTTPServer, tmp_path: Path) -> None:
    """prefect.yaml's check deployments select by family (monitors.base.Monitor.family), not by kinds."""
    from flows.check import check_flow

    config = _config(tmp_path, publish(http_server, P07, Q07))
    state = check_flow(config, family="legislation", return_state=True)  # the config has none
    assert state.is_completed() and state.result()["sources"] == []
    assert http_server.requests == []
    assert check_flow(config, family="ice", return_state=True).result()["sources"][0]["events"] == 826
    bad = check_flow(config, family="nope", return_state=True)
    assert bad.is_failed() and "unknown source family 'nope'; valid families: ice, legislation" in str(
        bad.message
    )


def test_the_notify_flow_sends_what_is_due_once(http_server: LoopbackHTTPServer, tmp_path: Path) -> None:
    from flows.check import check_flow
    from flows.notify import notify_flow
    from state.lock import run_lock
    from state.store import Store
    from watch287g.check_loop import plain_fetch
    from watch287g.config import load_config
    from watch287g.run import check_one

    http_server.route("/hook", "ok", content_type="text/plain")
    config = _config(tmp_path, publish(http_server, P07, Q07))
    with open(config, "a") as handle:
        handle.write(
            f'subscribers:\n  - name: desk\n    notify: ["json://127.0.0.1:{http_server.port}/hook"]\n'
            "    states: [TX]\n"
        )
    assert check_flow(config, return_state=True).is_completed()
    publish(http_server, "participatingAgencies07082025pm", "pendingAgencies07082025pm")
    loaded = load_config(config)
    store = Store(loaded.database)
    try:  # a check that stored its events and deliveries but sent nothing (as if killed before sending)
        check_one(store, loaded, loaded.monitors[0], plain_fetch)
    finally:
        store.close()
    with run_lock(loaded.database):  # a check at work: the notify run does nothing, cleanly
        busy = notify_flow(config, return_state=True)
    assert busy.is_completed() and "did nothing" in str(busy.message)
    assert http_server.posted_json("/hook") == []
    state = notify_flow(config, return_state=True)
    assert state.is_completed()
    assert state.result() == {"messages": 1, "deliveries": 8, "failures": []}
    [posted] = http_server.posted_json("/hook")
    assert posted["title"] == "8 new 287(g) agreements in Texas"
    artifacts = _artifacts(state)
    assert "Sent 1 message (8 deliveries)." in artifacts["watch287g-notify-summary"].data
    assert notify_flow(config, return_state=True).result()["messages"] == 0  # never sent twice


def test_secrets_stay_out_of_prefect_logs_artifacts_and_states(
    http_server: LoopbackHTTPServer, smtp_server_auth: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A subscriber's SMTP password from the environment, a refusing server, failed runs: the password is in
    no flow-run log, artifact, state message or result stored by Prefect."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, LogFilter, LogFilterFlowRunId

    from flows.check import check_flow
    from tests.support.fixtures import SMTP_AUTH

    user, password = SMTP_AUTH
    monkeypatch.setenv("SMTP_PASSWORD", password)
    mail = smtp_server_auth.url_for_apprise().replace("mailto://", f"mailto://{user}:${{SMTP_PASSWORD}}@")
    config = _config(tmp_path, publish(http_server, P07, Q07))
    with open(config, "a") as handle:
        handle.write(f'subscribers:\n  - name: desk\n    notify: ["{mail}"]\n    states: [TX]\n')
    smtp_server_auth.mode = "refuse"
    states = [check_flow(config, return_state=True)]
    publish(http_server, "participatingAgencies07082025pm", "pendingAgencies07082025pm")
    states.append(check_flow(config, return_state=True))
    assert states[1].is_failed() and "delivery failed" in str(states[1].message)  # the password was used
    assert smtp_server_auth.data_attempts >= 1
    seen = []
    with get_client(sync_client=True) as client:
        for state in states:
            run_id = state.state_details.flow_run_id
            run = client.read_flow_run(run_id)
            seen.append(repr(run.state) + repr(run.parameters))
            logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])))
            seen += [log.message for log in logs]
            artifacts = client.read_artifacts(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id]))
            )
            seen += [repr(a.data) + repr(a.description) for a in artifacts]
            seen.append(repr(state.result(raise_on_failure=False)))
    assert len(seen) > 6 and any("delivery failed" in text for text in seen)
    assert not [text for text in seen if password in text]


# -- issue 9: what operators see when a run fails or is skipped ----------------------------------------------
def _run_logs(state: Any) -> list[Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=10)  # logs travel to the server in batches: send what is queued
    run_filter = LogFilter(flow_run_id=LogFilterFlowRunId(any_=[state.state_details.flow_run_id]))
    with get_client(sync_client=True) as client:
        return list(client.read_logs(log_filter=run_filter))


def test_a_failed_check_carries_its_reason_and_prefect_does_not_choke_on_it(
    http_server: LoopbackHTTPServer, tmp_path: Path, fast_retries: None
) -> None:
    import logging

    from flows.check import check_flow

    http_server.fault(PAGE_PATH, "status", code=403)
    config = _config(tmp_path, http_server.url(PAGE_PATH))
    state = check_flow(config, return_state=True)
    reason = f"blocked by the server (HTTP 403 Forbidden) for {http_server.url(PAGE_PATH)}"
    assert state.is_failed() and reason in str(state.message)
    with pytest.raises(Exception, match="HTTP 403") as raised:  # where a deployment's engine resolves it
        state.result()  # (on main: TypeError "Unexpected result for failed state: {...}")
    assert type(raised.value).__name__ == "CheckFailed"
    assert raised.value.summary["sources"][0]["error"] == state.message  # type: ignore[attr-defined]
    logs = _run_logs(state)
    assert [log.message for log in logs if log.level >= logging.ERROR and reason in log.message]
    assert not [
        log.message for log in logs if "Unexpected result" in log.message or "TypeError" in log.message
    ]
    with pytest.raises(Exception, match="HTTP 403") as raised:  # a plain call (return_type "result") too
        check_flow(config)
    assert type(raised.value).__name__ == "CheckFailed"


def test_a_transient_failure_is_one_line_in_the_log_without_a_traceback(
    http_server: LoopbackHTTPServer, tmp_path: Path, fast_retries: None
) -> None:
    """The offline first run: retries exhausted, Prefect logs the failure, not the fetch task's traceback."""
    from flows.check import check_flow

    http_server.fault(PAGE_PATH, "status", code=503)
    state = check_flow(_config(tmp_path, http_server.url(PAGE_PATH)), return_state=True)
    assert state.is_failed() and len(http_server.requests_for(PAGE_PATH)) == 4
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        LogFilter,
        LogFilterTaskRunId,
        TaskRunFilter,
        TaskRunFilterFlowRunId,
    )
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=10)

    with get_client(sync_client=True) as client:
        tasks = client.read_task_runs(
            task_run_filter=TaskRunFilter(
                flow_run_id=TaskRunFilterFlowRunId(any_=[state.state_details.flow_run_id])
            )
        )
        logs = client.read_logs(
            log_filter=LogFilter(task_run_id=LogFilterTaskRunId(any_=[t.id for t in tasks]))
        )
    exhausted = [log.message for log in logs if "Retries are exhausted" in log.message]
    assert len(exhausted) == 1 and "HTTP 503" in exhausted[0]
    assert not [log.message for log in logs if "Traceback" in log.message]


def test_a_run_that_finds_the_lock_held_is_skipped_not_failed(
    http_server: LoopbackHTTPServer, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from flows.check import check_flow
    from state.lock import run_lock
    from watch287g.cli import main
    from watch287g.config import load_config

    config = _config(tmp_path, publish(http_server, P07, Q07))
    with run_lock(load_config(config).database):  # another run at work on the same database
        state = check_flow(config, return_state=True)
        result = CliRunner().invoke(main, ["--config", config, "run"], catch_exceptions=False)
    assert state.is_completed() and state.name == "Skipped" and "did nothing" in str(state.message)
    assert result.exit_code == 0 and result.stderr.startswith("skipped: another watch287g run is using ")
    assert "error" not in result.stderr and http_server.requests == []


def test_a_locked_database_is_one_line_in_the_flow_and_the_cli(
    http_server: LoopbackHTTPServer, tmp_path: Path
) -> None:
    import sqlite3

    from click.testing import CliRunner

    from flows.check import check_flow
    from state.store import Store
    from watch287g.cli import main

    config = _config(tmp_path, publish(http_server, P07, Q07))
    Store(tmp_path / "w.db").close()
    holder = sqlite3.connect(tmp_path / "w.db", isolation_level=None)
    try:  # another process (a SQLite client) holds the database exclusively
        holder.execute("pragma locking_mode = exclusive")
        holder.execute("begin exclusive")
        state = check_flow(config, return_state=True)
        result = CliRunner().invoke(main, ["--config", config, "run"], catch_exceptions=False)
    finally:
        holder.close()
    reason = "database is locked by another process while running `run`"
    assert state.is_failed() and str(state.message).startswith(reason)
    assert not [log.message for log in _run_logs(state) if "Traceback" in log.message]
    assert result.exit_code == 1 and result.stderr.splitlines()[-1].startswith(f"error: {reason}")


def test_moa_documents_are_fetched_as_tasks_and_their_failure_is_not_the_runs(
    http_server: LoopbackHTTPServer, tmp_path: Path, fast_retries: None
) -> None:
    from flows.check import check_flow
    from tests.test_moa_documents import LINKS, site

    url = site(http_server)
    http_server.fault(LINKS["cowley"], "status", code=503)
    path = tmp_path / "watch287g.yaml"
    path.write_text(
        f"database: w.db\nsources:\n  - name: ice\n    kind: ice_287g\n    url: {url}\n    timeout: 2\n"
        "    moa_pace: 0.01\n"
    )
    state = check_flow(str(path), return_state=True)
    assert state.is_completed()
    [source] = state.result()["sources"]
    outcomes = sorted(d["outcome"] for d in source["documents"] if d["channel"].startswith("moa:"))
    assert outcomes == ["error", "kept", "kept"] and source["ok"]
    assert len(http_server.requests_for(LINKS["cowley"])) == 4  # a transient failure: retried like the lists
