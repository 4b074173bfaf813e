"""Screenshot an HTML file with headless Chromium, and read the PNG back without any imaging library."""

from __future__ import annotations

import shutil
import struct
import subprocess
import tempfile
import zlib
from pathlib import Path

INSTALL_HINT = "headless Chromium is needed for this test: run `apt-get install -y chromium` (as root)"
NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def chromium_binary() -> str:
    """The browser's path, or AssertionError with how to install it (never a silent skip)."""
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise AssertionError(INSTALL_HINT)


def screenshot(html: Path, png: Path, *, width: int = 1280, height: int = 2000, timeout: float = 90) -> Path:
    """Render `html` (a local file) to `png` at width x height; no network, a throwaway profile."""
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        command = [
            chromium_binary(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--hide-scrollbars", f"--user-data-dir={profile}", f"--screenshot={png}",
            f"--window-size={width},{height}", html.resolve().as_uri(),
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0 or not png.is_file():
        raise AssertionError(f"chromium failed ({result.returncode}): {result.stderr[-2000:]}")
    return png


def read_png(path: Path) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of raw pixel bytes) of an 8-bit RGB or RGBA, non-interlaced PNG."""
    data = path.read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG")
    pos, header, idat = 8, b"", []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        header = body if kind == b"IHDR" else header
        if kind == b"IDAT":
            idat.append(body)
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG (depth {depth}, colour type {colour}, interlace {interlace})")
    step = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(b"".join(idat)), width * step
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - step] if i >= step else 0
            b, c = previous[i], previous[i - step] if i >= step else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, [row if step == 3 else _rgb(row) for row in rows]


def _rgb(row: bytes) -> bytes:
    return b"".join(row[i : i + 3] for i in range(0, len(row), 4))


def distinct_colours(rows: list[bytes], every: int = 4) -> int:
    """How many different RGB colours appear, sampling every `every`-th row and pixel (fast enough)."""
    seen = set()
    for row in rows[::every]:
        for i in range(0, len(row), 3 * every):
            seen.add(row[i : i + 3])
    return len(seen)


# Painted by the measuring script into the test's copy of a page (never into the page itself): two 20 px
# squares at the top left whose red and green hold a number (red * 256 + green) and whose blue is this mark.
_MARK = 77
_MEASURE = (
    """<script>(function () {
  var root = document.documentElement, numbers = [root.scrollWidth, window.innerWidth];
  numbers.forEach(function (n, i) {
    var box = document.createElement("div");
    box.style.cssText = "position:fixed;top:0;left:" + (i * 20) + "px;width:20px;height:20px;margin:0;" +
      "border:0;z-index:2147483647;background:rgb(" + (n >> 8) + "," + (n & 255) + ",MARK)";
    root.appendChild(box);
  });
})();</script>"""
).replace("MARK", str(_MARK))


def page_widths(html: Path, width: int, folder: Path) -> tuple[int, int]:
    """(document scroll width, viewport width) of the page `html` when shown `width` px wide.

    Headless Chromium's window is at least 500 px wide, so the page is shown in an iframe `width` px wide
    (its viewport, media queries included, is then exactly that), and a copy of it, with a measuring script
    added before `</body>`, paints the two numbers as colours that the screenshot gives back."""
    page = html.read_text(encoding="utf-8")
    end = page.lower().rfind("</body>")
    copy = folder / f"measured-{width}-{html.name}"
    copy.write_text(page[:end] + _MEASURE + page[end:] if end >= 0 else page + _MEASURE, encoding="utf-8")
    frame = folder / f"frame-{width}-{html.name}"
    frame.write_text(
        '<!DOCTYPE html><html><body style="margin:0">'
        f'<iframe src="{copy.name}" style="border:0;display:block;width:{width}px;height:1200px"></iframe>'
        "</body></html>",
        encoding="utf-8",
    )
    png = screenshot(frame, folder / f"measured-{width}.png", width=max(width, 500), height=1200)
    _, _, rows = read_png(png)
    numbers = []
    for x in (10, 30):
        red, green, blue = rows[10][3 * x : 3 * x + 3]
        if blue != _MARK:
            raise AssertionError(
                f"the measuring script did not run in {copy} (pixel {x},10: {red, green, blue})"
            )
        numbers.append(red * 256 + green)
    return numbers[0], numbers[1]


def dumped_dom(html: Path, *, width: int = 1280, timeout: float = 90) -> str:
    """The DOM of the page `html` after it loaded and ran whatever it runs, serialized by headless Chromium."""
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        command = [
            chromium_binary(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile}", f"--window-size={width},1200", "--dump-dom", html.resolve().as_uri(),
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0 or "<html" not in result.stdout:
        raise AssertionError(f"chromium failed ({result.returncode}): {result.stderr[-2000:]}")
    return result.stdout
