/**
 * thumbor's merging paste (`engine.paste(other, pos, merge=True)`, `_composite.c`): both images
 * become RGBA, and every pixel of the pasted image is composited over the canvas in doubles,
 *   alpha  = 255 - 255·t1·t2            (t = transparency, 1 - a/255, of canvas 1 and image 2)
 *   colour = (a2·c2 + (1 - a2)·a1·c1) / (1 - t1·t2)     (a = a/255; divisor 1 when it is ~0)
 * each truncated to an integer (C's double-to-int conversion), alpha included: the result keeps
 * its alpha channel (a PNG stays RGBA). sharp's flatten/composite round and premultiply instead.
 */
import type { RawImage } from "../common/raw.js";

/** Pastes `image` (RGBA, one frame) onto `canvas` (RGBA, one frame) at (left, top), thumbor's way; returns a new canvas. */
export function pasteMerged(canvas: RawImage, image: RawImage, left: number, top: number): RawImage {
  if (canvas.channels !== 4 || image.channels !== 4) throw new Error("pasteMerged works on RGBA pixels");
  const out = Buffer.from(canvas.data);
  for (let y = Math.max(0, -top); y < image.height && y + top < canvas.height; y++) {
    for (let x = Math.max(0, -left); x < image.width && x + left < canvas.width; x++) {
      const o = ((y + top) * canvas.width + x + left) * 4;
      mergePixel(out, o, image.data, (y * image.width + x) * 4);
    }
  }
  return { ...canvas, data: out };
}

function mergePixel(out: Buffer, o: number, src: Buffer, i: number): void {
  const t1 = (255 - out[o + 3]!) / 255;
  const t2 = (255 - src[i + 3]!) / 255;
  const both = t1 * t2;
  const scale = 1 - both <= 1e-12 ? 1 : 1 / (1 - both);
  for (let c = 0; c < 3; c++) {
    const v = scale * ((1 - t2) * src[i + c]! + (1 - t1) * out[o + c]! * t2);
    out[o + c] = clampTruncDouble(v);
  }
  out[o + 3] = clampTruncDouble(255 - 255 * both);
}

function clampTruncDouble(v: number): number {
  return v > 255 ? 255 : v < 0 ? 0 : Math.trunc(v);
}
