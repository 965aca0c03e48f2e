#!/usr/bin/env python3
"""Turns a terminal QR rendering back into a PNG that a camera-free decoder can read.

Used by CableTerminalQRTests to prove that what `QRTextRenderer` prints is a QR code real decoders
(zbarimg, zxing-cpp) read, not just text that looks right. It is deliberately strict: any glyph it
does not know, an escape sequence it was not told to strip, or lines of different widths are errors,
so a renderer bug cannot be papered over here.

    render2png.py INPUT.txt OUTPUT.png --format halfblock|ascii --ink light|dark [--strip-ansi] [--scale N]

--format halfblock: each cell is two module rows ('█' both ink, '▀' upper, '▄' lower, ' ' neither).
--format ascii:     each module is two characters, '##' (ink) or '  '.
--ink light|dark:   which modules the glyph ink stands for (light: qrencode -t UTF8; dark: -t UTF8i).
--strip-ansi:       remove SGR sequences (ESC [ ... m) first; without it any ESC is an error.

The PNG has no margin beyond what the rendering itself contains, so the quiet zone under test is
exactly the renderer's. Prints {"width": modules, "height": modules} on success.
"""
import argparse
import json
import re
import sys

from PIL import Image

HALF_BLOCKS = {"█": (True, True), "▀": (True, False), "▄": (False, True), " ": (False, False)}
SGR = re.compile("\x1b\\[[0-9;]*m")


def fail(message):
    print(f"render2png: {message}", file=sys.stderr)
    sys.exit(2)


def ink_rows(lines, fmt):
    """Rows of booleans: True where the glyph ink is."""
    rows = []
    for number, line in enumerate(lines, 1):
        if fmt == "halfblock":
            upper, lower = [], []
            for char in line:
                if char not in HALF_BLOCKS:
                    fail(f"line {number}: unexpected character U+{ord(char):04X}")
                up, low = HALF_BLOCKS[char]
                upper.append(up)
                lower.append(low)
            rows += [upper, lower]
        else:
            if len(line) % 2:
                fail(f"line {number}: odd number of characters")
            row = []
            for i in range(0, len(line), 2):
                pair = line[i:i + 2]
                if pair not in ("##", "  "):
                    fail(f"line {number}: unexpected pair {pair!r}")
                row.append(pair == "##")
            rows.append(row)
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--format", choices=["halfblock", "ascii"], required=True)
    parser.add_argument("--ink", choices=["light", "dark"], required=True)
    parser.add_argument("--strip-ansi", action="store_true")
    parser.add_argument("--scale", type=int, default=8)
    args = parser.parse_args()

    with open(args.input, encoding="utf-8") as f:
        text = f.read()
    if args.strip_ansi:
        text = SGR.sub("", text)
    if "\x1b" in text:
        fail("escape sequence in input (use --strip-ansi for ansi renderings)")
    if not text.endswith("\n"):
        fail("the rendering must end with a newline")
    lines = text[:-1].split("\n")
    widths = {len(line) for line in lines}
    if len(widths) != 1:
        fail(f"lines have different widths: {sorted(widths)}")

    rows = ink_rows(lines, args.format)
    height, width = len(rows), len(rows[0])
    ink_value, paper_value = (255, 0) if args.ink == "light" else (0, 255)
    image = Image.new("L", (width, height))
    image.putdata([ink_value if ink else paper_value for row in rows for ink in row])
    image = image.resize((width * args.scale, height * args.scale), Image.NEAREST)
    image.save(args.output)
    print(json.dumps({"width": width, "height": height}))


if __name__ == "__main__":
    main()
