/**
 * The verify command's decoder: two answered images → format, dimensions and how far apart their
 * pixels are (PSNR over RGBA, SSIM over luma). The one CLI module that imports sharp: the audit
 * stays free of it (tests/import-boundaries.test.ts), and nothing here reaches handlers/render/,
 * so the comparison is sharp's plain decode, never the code under test.
 */
import sharp from "sharp";

export interface DecodedFacts {
  format: string;
  width: number;
  height: number;
}

export interface ImageComparison {
  old: DecodedFacts;
  new: DecodedFacts;
  /** Decibels; Infinity when every pixel is equal. Undefined when the sizes differ. */
  psnr: number | undefined;
  /** 0..1 (1 = the same structure). Undefined when the sizes differ. */
  ssim: number | undefined;
}

export class UndecodableImage extends Error {
  constructor(readonly side: "old" | "new") {
    super(`the ${side} answer is not a decodable image`);
  }
}

export async function compareImages(oldBody: Buffer, newBody: Buffer): Promise<ImageComparison> {
  const [a, b] = await Promise.all([decode(oldBody, "old"), decode(newBody, "new")]);
  const facts = { old: a.facts, new: b.facts };
  if (a.facts.width !== b.facts.width || a.facts.height !== b.facts.height) return { ...facts, psnr: undefined, ssim: undefined };
  return { ...facts, psnr: psnr(a.rgba, b.rgba), ssim: ssim(a.luma, b.luma, a.facts.width, a.facts.height) };
}

async function decode(body: Buffer, side: "old" | "new"): Promise<{ facts: DecodedFacts; rgba: Buffer; luma: Buffer }> {
  try {
    // The first frame of an animation; EXIF orientation as the browser shows it.
    const image = sharp(body, { pages: 1, failOn: "error" }).autoOrient();
    const meta = await image.metadata();
    const rgba = await image.clone().ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const luma = await image.clone().flatten({ background: "#ffffff" }).greyscale().raw().toBuffer();
    return { facts: { format: meta.format ?? "unknown", width: rgba.info.width, height: rgba.info.height }, rgba: rgba.data, luma };
  } catch {
    throw new UndecodableImage(side);
  }
}

/** Peak signal-to-noise ratio of two 8-bit buffers of the same length. */
export function psnr(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    sum += d * d;
  }
  if (sum === 0) return Infinity;
  return 10 * Math.log10((255 * 255) / (sum / a.length));
}

const WINDOW = 8;
const C1 = (0.01 * 255) ** 2;
const C2 = (0.03 * 255) ** 2;

/** Mean SSIM over non-overlapping 8x8 windows (the edge windows may be smaller) of two grey images. */
export function ssim(a: Uint8Array, b: Uint8Array, width: number, height: number): number {
  let total = 0;
  let windows = 0;
  for (let y0 = 0; y0 < height; y0 += WINDOW) {
    for (let x0 = 0; x0 < width; x0 += WINDOW) {
      total += windowSsim(a, b, width, x0, y0, Math.min(WINDOW, width - x0), Math.min(WINDOW, height - y0));
      windows++;
    }
  }
  return windows === 0 ? 1 : total / windows;
}

function windowSsim(a: Uint8Array, b: Uint8Array, width: number, x0: number, y0: number, w: number, h: number): number {
  let sa = 0;
  let sb = 0;
  let saa = 0;
  let sbb = 0;
  let sab = 0;
  for (let y = y0; y < y0 + h; y++) {
    for (let x = x0; x < x0 + w; x++) {
      const va = a[y * width + x]!;
      const vb = b[y * width + x]!;
      sa += va;
      sb += vb;
      saa += va * va;
      sbb += vb * vb;
      sab += va * vb;
    }
  }
  const n = w * h;
  const ma = sa / n;
  const mb = sb / n;
  const va = saa / n - ma * ma;
  const vb = sbb / n - mb * mb;
  const cov = sab / n - ma * mb;
  return ((2 * ma * mb + C1) * (2 * cov + C2)) / ((ma * ma + mb * mb + C1) * (va + vb + C2));
}
