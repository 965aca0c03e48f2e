#!/usr/bin/env python3
"""Decodes the QR codes in a PNG with zxing-cpp and prints them as one JSON object.

    zxing_decode.py IMAGE.png

Output: {"results": [{"text": ..., "bytesHex": ..., "version": ..., "ecLevel": ...}, ...]}

Inverted (light-on-dark) symbols are *not* accepted (try_invert=False), so a rendering with the wrong
polarity fails here as it does in zbarimg. "version" and "ecLevel" are what the decoder read from the
symbol's format and version information, an independent check of the encoder's choices.
"""
import json
import sys

import zxingcpp
from PIL import Image


def main():
    if len(sys.argv) != 2:
        print("usage: zxing_decode.py IMAGE.png", file=sys.stderr)
        sys.exit(2)
    image = Image.open(sys.argv[1]).convert("L")
    results = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode, try_invert=False)
    print(json.dumps({"results": [
        {
            "text": result.text,
            "bytesHex": result.bytes.hex(),
            "version": result.extra.get("Version"),
            "ecLevel": result.extra.get("ECLevel"),
        }
        for result in results
    ]}))


if __name__ == "__main__":
    main()
