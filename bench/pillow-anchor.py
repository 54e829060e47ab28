# The peer anchor of `npm run bench`: the engine work thumbor 7.8's PIL engine does for
# /unsafe/WxH/<photo> (lazy open, draft to the target size, thumbor's centred crop to the target's
# aspect ratio when it differs, LANCZOS resize, save with thumbor's defaults: JPEG q80 optimized
# progressive, or WebP q80), without thumbor's HTTP and Python around it, so a lower bound of a
# thumbor request's CPU. Needs Pillow 12.3 (thumbor 7.8's version).
# Usage: python pillow-anchor.py PHOTO FORMATS N [SIZES, default 800x500]
#   FORMATS: jpeg, webp or a comma list (jpeg,webp); SIZES: WxH or a comma list (160x90,320x180).
#   Every size in every format is one request, each from the original's bytes as thumbor's are.
#   ->  {"cpuMs": the median ms of 3 loops of N for all the requests once (one request's ms for
#        one size and format), "bytes": their total output size}. A median, as edge-resizer's own
#        figures are: the best of the loops would favour the anchor on a noisy machine.
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
    photo, formats, loops = sys.argv[1], sys.argv[2].split(","), int(sys.argv[3])
    sizes = [tuple(int(n) for n in size.split("x")) for size in (sys.argv[4] if len(sys.argv) > 4 else "800x500").split(",")]
    requests = [(fmt, width, height) for width, height in sizes for fmt in formats]
    with open(photo, "rb") as f:
        original = f.read()
    for _ in range(3):
        render(original, *requests[0])
    per_loop = []
    for _ in range(3):
        start = time.process_time()
        for _ in range(loops):
            outs = [render(original, *request) for request in requests]
        per_loop.append((time.process_time() - start) * 1000 / loops)
    print(json.dumps({"cpuMs": sorted(per_loop)[1], "bytes": sum(len(out) for out in outs)}))


main()
