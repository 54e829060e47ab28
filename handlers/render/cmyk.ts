/**
 * thumbor's CMYK → RGB conversion (`cmykConversion: "naive"`). thumbor's Pillow engine converts a
 * CMYK original with `Image.convert("RGB")`, which ignores the embedded ICC profile:
 *   nk = 255 - K;  R = nk - (C · nk / 255),  G = nk - (M · nk / 255),  B = nk - (Y · nk / 255)
 * with Pillow's rounded fixed-point division (MULDIV255). A 40 % cyan, 18 % yellow pixel thus comes
 * out (153, 254, 210), where the colour-managed default gives (149, 213, 213) through the profile.
 */
import type { Sharp } from "sharp";
import { fromRaw, type RawImage } from "./common/raw.js";

/** Pillow's MULDIV255: a·b/255 rounded, in its fixed point. */
function mulDiv255(a: number, b: number): number {
  const tmp = a * b + 128;
  return ((tmp >> 8) + tmp) >> 8;
}

/** Pillow's `cmyk2rgb` on interleaved CMYK bytes (ink amounts, 0 = none). */
export function pillowCmykToRgb(cmyk: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe((cmyk.length / 4) * 3);
  for (let i = 0, o = 0; i < cmyk.length; i += 4) {
    const nk = 255 - cmyk[i + 3]!;
    for (let c = 0; c < 3; c++) out[o++] = Math.max(0, Math.min(255, nk - mulDiv255(cmyk[i + c]!, nk)));
  }
  return out;
}

/** The decoded CMYK image's ink values, converted as thumbor does; a fresh RGB pipeline over them. */
export async function naiveCmykToRgb(decoded: Sharp): Promise<Sharp> {
  const { data, info } = await decoded
    .pipelineColourspace("cmyk")
    .toColourspace("cmyk")
    .raw({ depth: "uchar" })
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 4) throw new Error(`expected CMYK pixels, got ${info.channels} channels`);
  const rgb: RawImage = { data: pillowCmykToRgb(data), width: info.width, height: info.height, channels: 3, frames: 1 };
  return fromRaw(rgb);
}
