# The peer anchor of `npm run bench`: the engine work thumbor 7.8's PIL engine does for
# /unsafe/800x500/<photo> (lazy open, draft to the target size, LANCZOS resize, save with thumbor's
# defaults: JPEG q80 optimized progressive, or WebP q80), without thumbor's HTTP and Python around
# it, so a lower bound of a thumbor request's CPU. Needs Pillow 12.3 (thumbor 7.8's version).
# Usage: python pillow-anchor.py PHOTO jpeg|webp N  ->  {"cpuMs": best ms per request of 3 loops of N, "bytes": output size}
import io
import json
import sys
import time

from PIL import Image


def render(original, fmt):
    image = Image.open(io.BytesIO(original))
    image.draft(None, (800, 500))
    image = image.resize((800, 500), Image.LANCZOS)
    out = io.BytesIO()
    if fmt == "jpeg":
        image.convert("RGB").save(out, "JPEG", quality=80, optimize=True, progressive=True)
    else:
        image.save(out, "WEBP", quality=80)
    return out.getvalue()


def main():
    photo, fmt, loops = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(photo, "rb") as f:
        original = f.read()
    for _ in range(3):
        render(original, fmt)
    best = []
    for _ in range(3):
        start = time.process_time()
        for _ in range(loops):
            out = render(original, fmt)
        best.append((time.process_time() - start) * 1000 / loops)
    print(json.dumps({"cpuMs": min(best), "bytes": len(out)}))


main()
