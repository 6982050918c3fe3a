#!/usr/bin/env python3
"""Draws 20 hand-made digits (two of each, 0-9) as PNG and PGM files, Python stdlib only.

Each digit is a few strokes (lines and elliptical arcs) in a unit box, drawn as a round pen
of radius R pixels on a white 200x200 canvas, anti-aliased by distance to the stroke.
Variant "a": upright, pen radius 9, box 60% of the canvas, centred, 8-bit grey PNG.
Variant "b": sheared (slant 0.25), pen radius 6, box 45% of the canvas, off-centre;
alternately RGB PNG (blue ink), RGBA PNG (black ink on transparent) and binary PGM, so all
three decoders are exercised. Nothing here was tuned to any model's answers.

Run: python3 tests/handmade/make_digits.py tests/handmade
"""
import math
import struct
import sys
import zlib

SIZE = 200


def arc(cx, cy, rx, ry, a0, a1, n=40):
    """Points on an ellipse from angle a0 to a1 (degrees, y down, 0 = right, 90 = down)."""
    return [(cx + rx * math.cos(math.radians(a0 + (a1 - a0) * i / n)),
             cy + ry * math.sin(math.radians(a0 + (a1 - a0) * i / n))) for i in range(n + 1)]


# Strokes per digit: lists of polylines in a unit box (x right, y down).
DIGITS = {
    0: [arc(0.5, 0.5, 0.32, 0.48, 0, 360)],
    1: [[(0.35, 0.18), (0.55, 0.0), (0.55, 1.0)]],
    2: [arc(0.5, 0.28, 0.32, 0.28, 180, 380) + [(0.15, 1.0), (0.9, 1.0)]],
    3: [arc(0.5, 0.26, 0.3, 0.26, 200, 450), arc(0.5, 0.74, 0.34, 0.26, 270, 520)],
    4: [[(0.6, 0.0), (0.1, 0.65), (0.9, 0.65)], [(0.65, 0.3), (0.65, 1.0)]],
    5: [[(0.85, 0.0), (0.25, 0.0), (0.2, 0.45)], arc(0.5, 0.7, 0.35, 0.3, 235, 505)],
    6: [arc(0.55, 0.5, 0.42, 0.5, 300, 110), arc(0.5, 0.72, 0.3, 0.28, 0, 360)],
    7: [[(0.1, 0.0), (0.9, 0.0), (0.4, 1.0)]],
    8: [arc(0.5, 0.25, 0.26, 0.25, 0, 360), arc(0.5, 0.74, 0.32, 0.26, 0, 360)],
    9: [arc(0.5, 0.28, 0.32, 0.28, 0, 360), [(0.82, 0.28), (0.75, 1.0)]],
}


def segments(digit, box, x0, y0, slant):
    """The digit's strokes as pixel-space line segments."""
    segs = []
    for line in DIGITS[digit]:
        pts = [(x0 + box * (x + slant * (0.5 - y)), y0 + box * y) for x, y in line]
        segs += list(zip(pts, pts[1:]))
    return segs


def render(segs, radius):
    """Ink coverage 0..1 per pixel: 1 within the pen radius, fading over one pixel."""
    ink = [0.0] * (SIZE * SIZE)
    for (ax, ay), (bx, by) in segs:
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy or 1e-9
        lo_x, hi_x = int(min(ax, bx) - radius - 2), int(max(ax, bx) + radius + 2)
        lo_y, hi_y = int(min(ay, by) - radius - 2), int(max(ay, by) + radius + 2)
        for y in range(max(lo_y, 0), min(hi_y, SIZE)):
            for x in range(max(lo_x, 0), min(hi_x, SIZE)):
                px, py = x + 0.5, y + 0.5
                t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / length2))
                d = math.hypot(px - ax - t * dx, py - ay - t * dy)
                v = max(0.0, min(1.0, radius + 0.5 - d))
                if v > ink[y * SIZE + x]:
                    ink[y * SIZE + x] = v
    return ink


def png(path, channels, rows):
    """Writes an 8-bit PNG with filter 0 on every row, compressed by Python's zlib."""
    colour = {1: 0, 3: 2, 4: 6}[channels]
    raw = b"".join(b"\x00" + bytes(r) for r in rows)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", SIZE, SIZE, 8, colour, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9))
                + chunk(b"IEND", b""))


def main(out):
    for digit in range(10):
        ink = render(segments(digit, 0.6 * SIZE, 0.2 * SIZE, 0.2 * SIZE, 0.0), 9)
        rows = [[round(255 * (1 - ink[y * SIZE + x])) for x in range(SIZE)] for y in range(SIZE)]
        png(f"{out}/{digit}a.png", 1, rows)

        ink = render(segments(digit, 0.45 * SIZE, 0.3 * SIZE, 0.12 * SIZE, 0.25), 6)
        kind = digit % 3
        if kind == 0:  # blue ink on white, RGB
            rows = [sum(([round(255 - 255 * v), round(255 - 200 * v), round(255 - 40 * v)]
                         for v in ink[y * SIZE:(y + 1) * SIZE]), []) for y in range(SIZE)]
            png(f"{out}/{digit}b.png", 3, rows)
        elif kind == 1:  # black ink on a transparent background, RGBA
            rows = [sum(([0, 0, 0, round(255 * v)] for v in ink[y * SIZE:(y + 1) * SIZE]), [])
                    for y in range(SIZE)]
            png(f"{out}/{digit}b.png", 4, rows)
        else:  # grey paper (230), binary PGM
            data = bytes(round(230 * (1 - v)) for v in ink)
            with open(f"{out}/{digit}b.pgm", "wb") as f:
                f.write(b"P5\n# hand-made digit\n%d %d\n255\n" % (SIZE, SIZE) + data)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
