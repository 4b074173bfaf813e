"""Wait for a `watch287g serve` (Datasette) process to answer on 127.0.0.1, or fail with its own error output."""

from __future__ import annotations

import subprocess
import time
import urllib.request
from collections.abc import Callable


def wait_until_serving(
    port: int, process: subprocess.Popen[bytes], errors: Callable[[], str], seconds: float
) -> None:
    deadline = time.monotonic() + seconds
    while True:
        assert process.poll() is None, errors()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/versions.json", timeout=1):
                return
        except OSError:
            assert time.monotonic() < deadline, "Datasette did not start"
            time.sleep(0.1)
