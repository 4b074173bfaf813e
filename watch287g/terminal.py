"""What the terminal shows: output made printable (no escape sequences or bidi overrides from fetched
data), and an agreement as one row of a table. Events in words are notifiers/headline.py's."""

from __future__ import annotations

import re
import sys
from typing import Any

from monitors.ice.names import FORMAT_CHARS

_TERMINAL_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")  # all but tab, newline
_FORMAT = re.compile(f"[{FORMAT_CHARS}]")


def printable(text: str) -> str:
    """Text as a terminal may show it: control characters (escape sequences, carriage returns; tab and
    newline kept) become U+FFFD, format characters (bidi overrides, zero-width) are removed."""
    return _TERMINAL_CONTROL.sub("\ufffd", _FORMAT.sub("", text))


class PrintableStream:
    """A text stream that passes every write through `printable`: what the CLI prints comes from fetched
    documents, and a cell holding an escape sequence must not drive the reader's terminal."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: Any) -> Any:
        return self._stream.write(printable(text) if isinstance(text, str) else text)

    def isatty(self) -> bool:
        """No: a library that colours its output for terminals (Prefect's log) would have its escape codes
        shown as U+FFFD; with this answer it writes plain text."""
        return False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def guard_terminal() -> None:
    """Make sys.stdout and sys.stderr printable-only for the rest of this command."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, PrintableStream):
            setattr(sys, name, PrintableStream(stream))


def agreement_line(row: dict[str, Any]) -> str:
    return f"{row['state']:<3}{row['agency']:<60} {row['model']:<24} {row.get('signed') or '':<11}{row['status']}"
