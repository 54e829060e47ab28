/**
 * A decoded image between pipeline steps: 8-bit sRGB pixels, possibly several frames stacked
 * vertically. Materialising runs every pending sharp operation, so the next step starts from
 * fixed pixels whatever order sharp would have applied its operations in.
 */
import sharp, { type Sharp } from "sharp";

export interface Pixels {
  data: Buffer;
  width: number;
  /** One frame's height. */
  height: number;
  frames: number;
  channels: 1 | 2 | 3 | 4;
}

export async function materialise(image: Sharp, frames: number): Promise<Pixels> {
  const { data, info } = await image.toColourspace("srgb").raw({ depth: "uchar" }).toBuffer({ resolveWithObject: true });
  const height = frames > 1 ? info.height / frames : info.height;
  return { data, width: info.width, height, frames, channels: info.channels as Pixels["channels"] };
}

export function fromPixels(p: Pixels): Sharp {
  return sharp(p.data, {
    raw: { width: p.width, height: p.height * p.frames, channels: p.channels, ...(p.frames > 1 ? { pageHeight: p.height } : {}) },
  });
}
