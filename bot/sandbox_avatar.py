"""Abstract avatars for the sandbox's fictional youth, drawn locally as PNG bytes.

No real person, no network, no image library: a gradient, a faceless silhouette (a
circle over rounded shoulders) and a few soft rings, encoded with ``zlib`` and
``struct``. Each seed gives a different, stable picture.
"""

from __future__ import annotations

import struct
import zlib

Colour = tuple[int, int, int]

PALETTES: tuple[tuple[Colour, Colour, Colour], ...] = (
    ((38, 70, 120), (120, 180, 200), (240, 226, 196)),  # dusk blue to teal, sand figure
    ((110, 40, 80), (236, 150, 110), (250, 236, 214)),  # plum to apricot, cream figure
    ((30, 90, 60), (180, 210, 120), (246, 240, 220)),  # pine to lime, ivory figure
    ((70, 50, 120), (170, 150, 230), (236, 232, 250)),  # violet to lavender, pale figure
)


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def encode_png(width: int, height: int, rows: list[bytes]) -> bytes:
    """An 8-bit RGB PNG from ``height`` rows of ``width * 3`` bytes."""
    if len(rows) != height or any(len(r) != width * 3 for r in rows):
        raise ValueError("rows must be height rows of width * 3 bytes")
    raw = b"".join(b"\x00" + row for row in rows)  # filter type 0 (none) per row
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw, 9))
        + _chunk(b"IEND", b"")
    )


def _mix(a: Colour, b: Colour, t: float) -> Colour:
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def avatar_png(seed: int, size: int = 160) -> bytes:
    """A faceless, abstract portrait: gradient, silhouette and rings chosen by ``seed``."""
    top, bottom, figure = PALETTES[seed % len(PALETTES)]
    ring_shift = (seed * 37) % 100 / 100.0
    head_x, head_y, head_r = size * 0.5, size * 0.40, size * 0.17
    body_y, body_rx, body_ry = size * 1.02, size * 0.36, size * 0.40
    ring_x, ring_y = size * (0.15 + 0.7 * ring_shift), size * 0.2
    rows: list[bytes] = []
    for y in range(size):
        background = _mix(top, bottom, y / (size - 1))
        row = bytearray()
        for x in range(size):
            colour = background
            dx, dy = x - ring_x, y - ring_y
            ring = (dx * dx + dy * dy) ** 0.5 / size
            if int(ring * 14) % 2 == 0:
                colour = _mix(colour, bottom, 0.35)
            hx, hy = x - head_x, y - head_y
            bx, by = (x - head_x) / body_rx, (y - body_y) / body_ry
            if hx * hx + hy * hy <= head_r * head_r or bx * bx + by * by <= 1.0:
                colour = _mix(figure, background, 0.12)
            row += bytes(colour)
        rows.append(bytes(row))
    return encode_png(size, size, rows)
