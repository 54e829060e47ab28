/**
 * grayscale(): thumbor's is Pillow's `convert("L")` (or "LA" with alpha): ITU-R 601-2 luma in
 * Pillow's fixed point, L = (19595 R + 38470 G + 7471 B + 32768) >> 16. sharp's greyscale()
 * weighs the channels differently (pure red: 127 there, 76 here and in thumbor).
 * Here: the same formula on the pixels; the image stays grey (1 or 2 channels) afterwards.
 * Parity: exact.
 */
import type { PostFilterEffect } from "./index.js";
import { fromRaw, materialise, type RawImage } from "../common/raw.js";

export function pillowLuma(raw: RawImage): RawImage {
  if (raw.channels <= 2) return raw;
  const alpha = raw.channels === 4;
  const out = Buffer.allocUnsafe((raw.data.length / raw.channels) * (alpha ? 2 : 1));
  for (let i = 0, o = 0; i < raw.data.length; i += raw.channels) {
    out[o++] = (raw.data[i]! * 19595 + raw.data[i + 1]! * 38470 + raw.data[i + 2]! * 7471 + 0x8000) >>> 16;
    if (alpha) out[o++] = raw.data[i + 3]!;
  }
  return { ...raw, data: out, channels: alpha ? 2 : 1 };
}

export const grayscale: PostFilterEffect = async (image) => fromRaw(pillowLuma(await materialise(image, "keep")));
