"""Issue 9, item 10, under Prefect (a real temporary Prefect server): the LegiScan key never appears in a task
run's name (printed on every retry, stored by Prefect), and apprise's debug log (a webhook's token, the
server's reply) reaches neither the console nor Prefect's stored logs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.httpserver import LoopbackHTTPServer

pytestmark = pytest.mark.prefect
API_KEY = "lsk-91c0d2-task-name-key"
HOOK_TOKEN = "hooktok-5e21aa90"
REPLY = "reply-c3d9 stack detail"


@pytest.fixture(scope="module", autouse=True)
def prefect_server() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60):
        yield


def test_task_names_and_console_carry_no_key_token_or_reply(
    http_server: LoopbackHTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:  # fmt: skip
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, LogFilter, LogFilterFlowRunId

    import flows.check

    monkeypatch.setattr(flows.check, "fetch_task", flows.check.fetch_task.with_options(retry_delay_seconds=0))
    monkeypatch.setenv("LEGISCAN_API_KEY", API_KEY)
    http_server.fault(
        "/legiscan/", "status", code=503
    )  # transient: retried, the task's name printed each time
    http_server.route(f"/ops/{HOOK_TOKEN}", REPLY, status=500)  # the operators' webhook refuses
    config = tmp_path / "watch287g.yaml"
    config.write_text(
        "database: w.db\nsources:\n  - name: ls\n    kind: legiscan\n    states: [MD]\n"
        f"    base_url: {http_server.url('/legiscan/')}\n    timeout: 2\n"
        f"operators:\n  notify: ['json://127.0.0.1:{http_server.port}/ops/{HOOK_TOKEN}']\n"
        "  failures_before_alert: 1\n"
    )
    state = flows.check.check_flow(str(config), return_state=True)
    console = capfd.readouterr()
    assert state.is_failed()
    assert len(http_server.requests_for("/legiscan/")) == 4  # 1 + 3 retries: the key was really used
    assert len(http_server.requests_for(f"/ops/{HOOK_TOKEN}")) == 1  # the webhook was really called
    run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])))
    names = [t.name for t in tasks]
    assert names and all(name.startswith("fetch ") and "key=***" in name for name in names), names
    seen = "\n".join([console.out, console.err, *names, *(log.message for log in logs), str(state.message)])
    assert "fetch " in seen and "key=***" in seen  # the names were printed, redacted
    for secret in (API_KEY, HOOK_TOKEN, "reply-c3d9"):
        assert secret not in seen, secret
