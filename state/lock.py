"""One run at a time per database: an exclusive lock on `<database>.lock` (fcntl.flock, released by the OS
if the process dies, so a killed run never leaves a stale lock). Senders of alerts (`run`, `notify`, the
notify flow) also take `<database>.send.lock` while they send, so no delivery goes out twice."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


class Busy(RuntimeError):
    """Another run holds the database's lock."""


@contextmanager
def run_lock(
    database: Path, wait_seconds: float = 0.0, on_wait: Callable[[], None] | None = None
) -> Iterator[None]:
    """Hold the run lock; wait up to `wait_seconds` for it (calling `on_wait` once if it is taken), else Busy."""
    busy = f"another watch287g run is using {database}; this one did nothing"
    with _flock(Path(f"{database}.lock"), wait_seconds, on_wait, busy):
        yield


@contextmanager
def send_lock(database: Path, wait_seconds: float) -> Iterator[None]:
    """Held while deliveries are selected, sent and receipted. A sender killed while holding it leaves its
    deliveries pending, and the lock free, for the next one."""
    busy = f"another watch287g process has been sending alerts from {database} for {wait_seconds:.0f} s"
    with _flock(Path(f"{database}.send.lock"), wait_seconds, None, busy):
        yield


@contextmanager
def _flock(path: Path, wait_seconds: float, on_wait: Callable[[], None] | None, busy: str) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait_seconds
    try:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise Busy(busy) from None
                if on_wait is not None:
                    on_wait()
                    on_wait = None
                time.sleep(0.2)
        yield
    finally:
        os.close(handle)  # closing the descriptor releases the lock
