"""Re-make docs/email-example.png: the e-mail alert a subscriber (all states, immediate) gets for ICE's real
2025-05-28 pm -> 2025-05-29 am change (tests/support/message_scenarios.py: the real lists through the real
pipeline), as notifiers/render.py lays it out now, screenshotted by headless Chromium at desktop width and cut
below its last line. Run it again after a change of the layout:

    .venv/bin/python docs/make_email_example.py [--width 1280] [--out docs/email-example.png] [--html FILE]
"""

from __future__ import annotations

import argparse
import struct
import sys
import tempfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from notifiers.outbox import render_batch  # noqa: E402
from notifiers.preview import html_document  # noqa: E402
from notifiers.render import Audience  # noqa: E402
from notifiers.subscribers import Subscriber  # noqa: E402
from tests.support.chromium import read_png, screenshot  # noqa: E402
from tests.support.message_scenarios import may_29  # noqa: E402

MARGIN = 24  # px kept below the last painted row


def png_bytes(width: int, rows: list[bytes]) -> bytes:
    """An 8-bit RGB PNG of these rows (no filter), the inverse of read_png."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, len(rows), 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + row for row in rows), 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def painted_height(rows: list[bytes]) -> int:
    """Rows down to the last one that differs from the page's background (the bottom row), plus MARGIN."""
    background = rows[-1]
    last = max((y for y, row in enumerate(rows) if row != background), default=len(rows) - 1)
    return min(len(rows), last + 1 + MARGIN)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "email-example.png")
    parser.add_argument("--html", type=Path, help="also keep the rendered HTML page here")
    args = parser.parse_args()
    site = Audience(public_url="https://watch287g.example.org", database="watch287g")  # footer links shown
    message = render_batch(Subscriber("newsroom", ()), may_29(), "2025-05-29T15:20:00+00:00", site)
    with tempfile.TemporaryDirectory() as folder:
        page = Path(folder) / "email.html"
        page.write_text(html_document(message), encoding="utf-8")
        if args.html:
            args.html.write_text(page.read_text(encoding="utf-8"), encoding="utf-8")
        width, _, rows = read_png(screenshot(page, Path(folder) / "email.png", width=args.width, height=4000))
    args.out.write_bytes(png_bytes(width, rows[: painted_height(rows)]))
    print(f"{args.out}: {message.title} ({width} px wide)")


if __name__ == "__main__":
    main()
