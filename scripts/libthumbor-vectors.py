#!/usr/bin/python3
"""Writes tests/fixtures/libthumbor-vectors.json: URLs made by thumbor's official Python client.

The tests read the committed JSON, so they need no Python. Regenerate only when adding cases:
    apt-get install python3-libthumbor   # Debian's package of libthumbor
    /usr/bin/python3 scripts/libthumbor-vectors.py
Each case holds the keyword arguments given to CryptoURL.generate, the signed URL and the unsafe
URL libthumbor returns for them, and the libthumbor version that made them.
"""
import json
import os
import sys

import libthumbor
from libthumbor import CryptoURL

KEYS = ["libthumbor-test-key", "cl\u00e9 \u00fc/+=-secr\u00e8te"]

CASES = [
    ("width and height", {"width": 300, "height": 200, "image_url": "my.server.com/some/path/to/image.jpg"}),
    ("width only, smart", {"width": 300, "smart": True, "image_url": "images/cat.jpg"}),
    ("fit-in, height only", {"fit_in": True, "height": 120, "image_url": "a/b.png"}),
    ("full-fit-in", {"full_fit_in": True, "width": 640, "height": 480, "image_url": "a/b.png"}),
    ("adaptive-fit-in", {"adaptive_fit_in": True, "width": 300, "height": 100, "image_url": "a/b.png"}),
    ("adaptive-full-fit-in", {"adaptive_full_fit_in": True, "width": 100, "height": 400, "image_url": "a.jpg"}),
    ("flip and flop without size", {"flip": True, "flop": True, "image_url": "a.jpg"}),
    ("flip with a width", {"flip": True, "width": 120, "height": 80, "image_url": "a.jpg"}),
    ("flop with a height only", {"flop": True, "height": 80, "image_url": "a.jpg"}),
    ("manual crop and alignment", {"crop": [[10, 20], [30, 40]], "width": 50, "height": 60, "halign": "left", "valign": "bottom", "image_url": "a.jpg"}),
    ("right and top", {"width": 50, "height": 60, "halign": "right", "valign": "top", "image_url": "a.jpg"}),
    ("zero crop is left out", {"crop": [[0, 0], [0, 0]], "width": 10, "image_url": "a.jpg"}),
    ("trim and meta", {"meta": True, "trim": ["bottom-right", 15], "image_url": "a.jpg"}),
    ("plain trim", {"trim": True, "width": 20, "height": 20, "image_url": "a.jpg"}),
    ("trim with a corner only", {"trim": ["top-left", None], "image_url": "a.jpg"}),
    ("orig sides", {"width": "orig", "height": 250, "image_url": "a.jpg"}),
    ("everything at once", {"meta": True, "trim": ["top-left", 5], "crop": [[1, 2], [300, 400]], "fit_in": True, "width": 200, "height": 100, "halign": "left", "valign": "top", "smart": True, "filters": ["brightness(10)", "quality(70)"], "image_url": "photos/2024/x.jpg"}),
    ("filters", {"width": 300, "height": 200, "filters": ["fill(ff00aa,true)", "round_corner(20|10,255,255,255)", "format(webp)", "quality(85)"], "image_url": "a.png"}),
    ("non-ASCII, space, '+', parentheses and '?' percent-encoded", {"width": 64, "image_url": "dossier/%C3%A9t%C3%A9%20%26%20co%2B%281%29.jpg%3Fv%3D2"}),
    ("Cyrillic path (thumbor's own vector)", {"image_url": "15967251_212831_19242645_%D0%90%D0%B3%D0%B0%D1%82%D0%B0%D0%B2%D0%97%D0%BE%D0%BE%D0%BF%D0%B0%D1%80%D0%BA%D0%B5.jpg"}),
    ("percent-encoded absolute URL", {"width": 10, "height": 10, "image_url": "http%3A//images.example.com/a%20b.jpg"}),
    ("smart with filters and encoded filter argument", {"smart": True, "filters": ["watermark(http%3A%2F%2Fa.com%2Fw.png,-10,center,50)"], "image_url": "x.jpg"}),
]


def as_tuples(options):
    out = dict(options)
    for k in ("crop", "trim"):
        if isinstance(out.get(k), list):
            out[k] = tuple(tuple(x) if isinstance(x, list) else x for x in out[k])
    return out


def main():
    vectors = []
    for key in KEYS:
        crypto = CryptoURL(key=key)
        for title, options in CASES:
            vectors.append({
                "title": title,
                "key": key,
                "options": options,
                "signed": crypto.generate(**as_tuples(options)),
                "unsafe": crypto.generate(unsafe=True, **as_tuples(options)),
            })
    doc = {"generator": "scripts/libthumbor-vectors.py", "libthumbor": libthumbor.__version__, "vectors": vectors}
    path = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "libthumbor-vectors.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")
    sys.stdout.write("%d vectors written to %s\n" % (len(vectors), os.path.normpath(path)))


if __name__ == "__main__":
    main()
