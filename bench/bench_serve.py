"""Expensive SQL against `watch287g serve`'s Datasette: time per query and the server's peak memory.

    .venv/bin/python bench/bench_serve.py            # as `watch287g serve` runs it (limits set)
    .venv/bin/python bench/bench_serve.py --plain    # plain `python -m datasette serve`, for comparison

Each query runs against its own fresh server (an empty watch287g database, served immutable, 3 s time limit),
so each peak is that query's own. Loopback only.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from state.store import Store  # noqa: E402
from watch287g.datasette_metadata import SQL_TIME_LIMIT_MS, serve_command  # noqa: E402

ROWS = "(with recursive c(n) as (select 1 union all select n + 1 from c where n < 1000) select n from c)"
QUERIES = [
    "select length(randomblob(1000000000))",
    "select length(hex(randomblob(400000000)))",
    f"select zeroblob(400000) from {ROWS}",
    f"select printf('%.*c', 1000, 'x') from {ROWS}",
]


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _peak_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))) / 1024


def measure(query: str, plain: bool, folder: Path) -> tuple[int, float, float, str]:
    port = _port()
    command = serve_command(folder / "w.db", port=port)
    if plain:
        command[1:3] = ["-m", "datasette"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/-/versions.json", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        started = time.monotonic()
        url = f"http://127.0.0.1:{port}/w.json?" + urllib.parse.urlencode({"sql": query})
        try:
            with urllib.request.urlopen(url, timeout=600) as response:
                status, body = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, body = exc.code, exc.read()
        seconds = time.monotonic() - started
        error = json.loads(body).get("error") or ""
        return status, seconds, _peak_mb(server.pid), str(error)[:60]
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    plain = "--plain" in sys.argv
    with tempfile.TemporaryDirectory() as folder:
        Store(Path(folder) / "w.db").close()
        print(f"{'plain datasette' if plain else 'watch287g serve'}, sql_time_limit_ms={SQL_TIME_LIMIT_MS}")
        print("| query | status | seconds | peak MB | error |\n| --- | ---: | ---: | ---: | --- |")
        for query in QUERIES:
            status, seconds, peak, error = measure(query, plain, Path(folder))
            print(f"| `{query[:60]}` | {status} | {seconds:.2f} | {peak:.0f} | {error} |")


if __name__ == "__main__":
    main()
