"""The web view in a real browser (issue 16): `housing-ledger serve` runs on a demo ledger in
a subprocess, headless Chromium (Debian's `chromium`) loads every page and saves a
screenshot, and each PNG must show a page, not a blank window.

Chromium is required in CI (CI=true: .ci/run installs it); elsewhere the test skips when
it is absent. The PNGs are read with the standard library (zlib, the PNG filters).
"""

from __future__ import annotations

import os
import shutil
import socket
import struct
import subprocess
import sys
import time
import urllib.request
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("flask")

from tests.web.test_pages import PAGES, make_demo  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
IN_CI = os.environ.get("CI", "").lower() == "true"
#: Pages rendered by the browser: their main views (the audit's checks run on the test
#: client's pages already).
SHOT = [p for p in PAGES if "run=" not in p]


def decode_png(data: bytes) -> tuple[int, int, int, bytes]:
    """(width, height, bytes per pixel, unfiltered pixel rows) of an 8-bit RGB/RGBA PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour in (2, 6), (depth, colour)
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows: list[bytearray] = []
    prior = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up = prior[i]
            corner = prior[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + pred) & 0xFF
        rows.append(line)
        prior = line
    return width, height, bpp, b"".join(rows)


def not_blank(png: Path) -> tuple[int, float]:
    """The number of distinct colours, and the share of pixels unlike the most common one
    (the background)."""
    width, height, bpp, pixels = decode_png(png.read_bytes())
    counts: dict[bytes, int] = {}
    for i in range(0, len(pixels), bpp * 3):  # every third pixel is plenty
        colour = pixels[i : i + 3]
        counts[colour] = counts.get(colour, 0) + 1
    total = sum(counts.values())
    return len(counts), 1 - max(counts.values()) / total


def test_the_decoder_tells_a_blank_page(tmp_path: Path) -> None:
    width, height = 40, 30
    blank = b"".join(b"\x00" + b"\xff\xff\xff" * width for _ in range(height))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(blank))
        + chunk(b"IEND", b"")
    )
    path = tmp_path / "blank.png"
    path.write_bytes(png)
    assert not_blank(path) == (1, 0.0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if CHROMIUM is None:
        if IN_CI:
            pytest.fail("chromium is required in CI (.ci/run installs it)")
        pytest.skip("no chromium here (apt-get install chromium)")
    url = f"sqlite:///{tmp_path_factory.mktemp('shots')}/demo.db"
    make_demo(url)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "cli", "--db", url, "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/", timeout=2).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("serve did not answer")
        yield base
    finally:
        server.terminate()
        server.wait(10)


def test_every_page_renders_in_chromium(served: str, tmp_path: Path) -> None:
    """HOUSING_LEDGER_SHOTS=DIR keeps the screenshots there, to look at them."""
    assert CHROMIUM is not None
    keep = os.environ.get("HOUSING_LEDGER_SHOTS")
    folder = Path(keep) if keep else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    for i, page in enumerate(SHOT):
        png = folder / f"page-{i:02d}.png"
        subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--screenshot={png}",
                "--window-size=1280,900",
                served + page,
            ],
            capture_output=True,
            timeout=120,
            check=True,
        )
        colours, ink = not_blank(png)
        assert colours > 8 and ink > 0.01, (page, colours, ink)
