"""What the command line says when a command fails unexpectedly: one line a person can act on, no traceback.

The CLI's entry point passes every exception that escapes a command through `describe`; WATCH287G_DEBUG=1
shows the traceback instead (for a bug report).
"""

from __future__ import annotations

import errno
import os
import sqlite3

from monitors.base import ConfigError

DEBUG_ENV = "WATCH287G_DEBUG"
_DISK_FULL = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}
# SQLite's primary result codes (the low byte of an extended code)
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_IOERR, _SQLITE_FULL, _SQLITE_NOTADB = 5, 6, 10, 13, 26


def debugging() -> bool:
    return os.environ.get(DEBUG_ENV, "") not in ("", "0")


def describe(exc: BaseException, command: str) -> tuple[str, int]:
    """(one-line message without the `error: ` prefix, exit code) for an exception that escaped `command`."""
    doing = f"running `{command}`"
    if isinstance(exc, ConfigError):
        return str(exc), 2
    if isinstance(exc, OSError) and exc.errno in _DISK_FULL:
        where = f" ({exc.filename}: {exc.strerror})" if exc.filename else f" ({exc.strerror})"
        return f"disk full while {doing}{where}; free some space and run it again", 1
    if isinstance(exc, sqlite3.Error):
        return _sqlite_reason(exc, doing), 1
    if isinstance(exc, OSError) and exc.strerror:
        where = f" {exc.filename}" if exc.filename else ""
        return f"{exc.strerror}{':' if where else ''}{where} while {doing}", 1
    hint = f"(run with {DEBUG_ENV}=1 for the traceback)"
    return f"unexpected {type(exc).__name__} while {doing}: {_first_line(exc)} {hint}", 1


def _sqlite_reason(exc: sqlite3.Error, doing: str) -> str:
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    text = str(exc)
    if code in (_SQLITE_BUSY, _SQLITE_LOCKED) or "locked" in text:
        return (
            f"database is locked by another process while {doing} (another watch287g command or a SQLite "
            "client is writing); nothing was changed: run it again when that one has finished"
        )
    if code == _SQLITE_FULL:
        return f"disk full while {doing} (the database could not grow); free some space and run it again"
    if code == _SQLITE_IOERR:
        return f"the database could not be written while {doing} ({text}: the disk is full or a file size limit was reached?); nothing half-written was kept"
    if code == _SQLITE_NOTADB:
        return f"the database file is not a SQLite database ({text})"
    return f"database error while {doing}: {_first_line(exc)}"


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
