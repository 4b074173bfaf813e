"""One way to read the command line's dates, states and output files, for every command (click ParamTypes).

A bad value is a usage error (exit 2) with a one-line reason, before any database is opened. Output files
are written to a temporary name beside the target and renamed, so a failed write never leaves a partial file.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from monitors.ice.names import STATES

_STATE_BY_NAME = {name.casefold(): code for code, name in STATES.items()}


class DateParam(click.ParamType):
    """A date (YYYY-MM-DD) or an ISO timestamp; kept as written (queries compare ISO text)."""

    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value).strip()
        try:
            datetime.fromisoformat(text)
        except ValueError:
            self.fail(f"{value!r} is not a date (YYYY-MM-DD) or ISO timestamp", param, ctx)
        return text


class StateParam(click.ParamType):
    """A USPS code (TX, any case) or a state's full name ("Maryland", any case), read as its code."""

    name = "STATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = " ".join(str(value).split())
        code = text.upper() if text.upper() in STATES else _STATE_BY_NAME.get(text.casefold())
        if code is None:
            self.fail(f"{value!r} is not a USPS state code (e.g. TX) or a state's name", param, ctx)
        return code


class OutputPath(click.ParamType):
    """A file to write: its folder must exist (nothing is created silently) and it must not be a folder."""

    name = "FILE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        path = Path(value)
        if path.is_dir():
            self.fail(f"{str(path)!r} is a directory", param, ctx)
        folder = path.parent
        if not folder.is_dir():
            self.fail(f"folder {str(folder)!r} does not exist (create it first)", param, ctx)
        return path


DATE = DateParam()
STATE = StateParam()
OUTPUT = OutputPath()


def write_output(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, then rename it over `path`: all or nothing."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # as a plain open() would create it, not mkstemp's 0600
        os.replace(temporary, path)
    except OSError as exc:  # name the file the person asked for, not the temporary one
        Path(temporary).unlink(missing_ok=True)
        raise OSError(exc.errno, exc.strerror, str(path)) from exc
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
