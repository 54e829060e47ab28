#!/usr/bin/env python3
"""Regenerates the Pillow LANCZOS enlargement references of tests/render/lanczos-enlarge.test.ts.

thumbor's PIL engine resizes with Image.resize(size, Image.LANCZOS). These are the same calls on
committed fixtures, written as PNG (lossless) into tests/fixtures/images/:

  pillow-lanczos-watermark-90.png   thumbor-watermark.png (30x30 RGBA) enlarged to 90x90
  pillow-lanczos-watermark-90-ff00ff.png   the same, composited over opaque #ff00ff
                                    (what background_color(ff00ff) does to it)
  pillow-lanczos-raindrops-200.png  a 60x40 cut of raindrops-480.jpg (from 200,100) enlarged to
                                    200x133 (a scale that is not an integer on either axis)

Needs Pillow 12.3.0 (python3 -m venv /tmp/pillow-venv && /tmp/pillow-venv/bin/pip install
pillow==12.3.0); the tests themselves read only the PNGs.
"""
from pathlib import Path

import PIL
from PIL import Image

IMAGES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "images"

assert PIL.__version__ == "12.3.0", f"made with Pillow 12.3.0, this is {PIL.__version__}"

mark = Image.open(IMAGES / "thumbor-watermark.png").convert("RGBA")
big = mark.resize((90, 90), Image.LANCZOS)
big.save(IMAGES / "pillow-lanczos-watermark-90.png")
Image.alpha_composite(Image.new("RGBA", big.size, (255, 0, 255, 255)), big).convert("RGB").save(
    IMAGES / "pillow-lanczos-watermark-90-ff00ff.png"
)

photo = Image.open(IMAGES / "raindrops-480.jpg").convert("RGB").crop((200, 100, 260, 140))
photo.resize((200, 133), Image.LANCZOS).save(IMAGES / "pillow-lanczos-raindrops-200.png")
