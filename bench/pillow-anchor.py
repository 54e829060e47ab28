# The peer anchor of `npm run bench`: the engine work thumbor 7.8's PIL engine does for
# /unsafe/WxH/<photo> (lazy open, draft to the target size, thumbor's centred crop to the target's
# aspect ratio when it differs, LANCZOS resize, save with thumbor's defaults: JPEG q80 optimized
# progressive, or WebP q80), without thumbor's HTTP and Python around it, so a lower bound of a
# thumbor request's CPU. Needs Pillow 12.3 (thumbor 7.8's version).
# Usage: python pillow-anchor.py PHOTO jpeg|webp N [WxH, default 800x500]
#   ->  {"cpuMs": best ms per request of 3 loops of N, "bytes": output size}
import io
import json
import math
import sys
import time

from PIL import Image


def render(original, fmt, width, height):
    image = Image.open(io.BytesIO(original))
    src_w, src_h = image.size
    # The draft must leave the cropped part at least the target's size.
    scale = min(src_w / width, src_h / height)
    image.draft(None, (math.ceil(src_w / scale), math.ceil(src_h / scale)))
    w, h = image.size
    if abs(w / h - width / height) > 1e-3:
        crop_w, crop_h = (round(h * width / height), h) if w / h > width / height else (w, round(w * height / width))
        left, top = (w - crop_w) // 2, (h - crop_h) // 2
        image = image.crop((left, top, left + crop_w, top + crop_h))
    image = image.resize((width, height), Image.LANCZOS)
    out = io.BytesIO()
    if fmt == "jpeg":
        image.convert("RGB").save(out, "JPEG", quality=80, optimize=True, progressive=True)
    else:
        image.save(out, "WEBP", quality=80)
    return out.getvalue()


def main():
    photo, fmt, loops = sys.argv[1], sys.argv[2], int(sys.argv[3])
    width, height = (int(n) for n in (sys.argv[4] if len(sys.argv) > 4 else "800x500").split("x"))
    with open(photo, "rb") as f:
        original = f.read()
    for _ in range(3):
        render(original, fmt, width, height)
    best = []
    for _ in range(3):
        start = time.process_time()
        for _ in range(loops):
            out = render(original, fmt, width, height)
        best.append((time.process_time() - start) * 1000 / loops)
    print(json.dumps({"cpuMs": min(best), "bytes": len(out)}))


main()
