/**
 * Raw pixel access for effects: thumbor's filters work on the decoded RGB(A) bytes of the
 * current image (`engine.image_data_as_rgb()`), and so do the effects here.
 *
 * Every effect starts by materialising its input. sharp keeps one slot per operation kind in a
 * pipeline (a second `rotate`, `convolve`, `linear` or `composite` replaces the first) and runs
 * operations in its own fixed order, so an effect that simply chained onto the pipeline's image
 * could undo an earlier filter or run before a pending resize. Materialising runs everything
 * pending; each effect then works on the pixels or starts a fresh sharp pipeline on them.
 *
 * Animated images arrive as frames stacked vertically (sharp's `pageHeight`); effects apply to
 * each frame on its own, so a rotation or a watermark lands on every frame, not once on the strip.
 */
import sharp, { type Sharp } from "sharp";
import type { FilterArg } from "../../core/plan.js";
import type { EffectContext, PostFilterEffect } from "./index.js";

/** 8-bit sRGB pixels, interleaved, 3 (RGB) or 4 (RGBA, straight alpha) channels; `frames` frames of width×height stacked. */
export interface RawImage {
  data: Buffer;
  width: number;
  /** Height of one frame. */
  height: number;
  channels: 3 | 4;
  frames: number;
}

/** Runs the pending pipeline and returns its pixels as 8-bit RGB or RGBA (grey is expanded, as thumbor converts L/LA to RGB/RGBA). */
export async function materialise(image: Sharp): Promise<RawImage> {
  const { data, info } = await image.toColourspace("srgb").raw({ depth: "uchar" }).toBuffer({ resolveWithObject: true });
  const { width, channels } = info;
  const frames = info.pageHeight && info.pages && info.pages > 1 && info.pageHeight * info.pages === info.height ? info.pages : 1;
  const height = info.height / frames;
  if (channels === 3 || channels === 4) return { data, width, height, channels, frames };
  if (channels === 1 || channels === 2) {
    const hasAlpha = channels === 2;
    const out = Buffer.alloc(width * info.height * (hasAlpha ? 4 : 3));
    for (let i = 0, o = 0; i < data.length; i += channels) {
      out[o++] = data[i];
      out[o++] = data[i];
      out[o++] = data[i];
      if (hasAlpha) out[o++] = data[i + 1];
    }
    return { data: out, width, height, channels: hasAlpha ? 4 : 3, frames };
  }
  throw new Error(`cannot apply a filter to an image with ${channels} channels`);
}

/** A fresh sharp pipeline over raw pixels (animated images keep their frames). */
export function fromRaw(raw: RawImage): Sharp {
  return sharp(raw.data, {
    raw: { width: raw.width, height: raw.height * raw.frames, channels: raw.channels, ...(raw.frames > 1 ? { pageHeight: raw.height } : {}) },
  });
}

/** Same size and channel layout, new pixel buffer. */
export function withData(raw: RawImage, data: Buffer): RawImage {
  return { data, width: raw.width, height: raw.height, channels: raw.channels, frames: raw.frames };
}

export function splitFrames(raw: RawImage): RawImage[] {
  if (raw.frames === 1) return [raw];
  const bytes = raw.width * raw.height * raw.channels;
  return Array.from({ length: raw.frames }, (_, f) => ({
    data: raw.data.subarray(f * bytes, (f + 1) * bytes),
    width: raw.width,
    height: raw.height,
    channels: raw.channels,
    frames: 1,
  }));
}

export function joinFrames(frames: RawImage[]): RawImage {
  if (frames.length === 1) return frames[0];
  const [first] = frames;
  if (frames.some((f) => f.width !== first.width || f.height !== first.height || f.channels !== first.channels)) {
    throw new Error("frames of an animated image came out of an effect with different sizes");
  }
  return { data: Buffer.concat(frames.map((f) => f.data)), width: first.width, height: first.height, channels: first.channels, frames: frames.length };
}

/** What an effect does to one frame. */
export type FrameEffect = (frame: RawImage, args: FilterArg[], ctx: EffectContext) => Promise<RawImage> | RawImage;

/** Turns a one-frame effect into a pipeline effect: materialise, apply to every frame, rejoin. */
export function perFrame(effect: FrameEffect): PostFilterEffect {
  return async (image, args, ctx) => {
    const frames = splitFrames(await materialise(image));
    const out: RawImage[] = [];
    for (const frame of frames) out.push(await effect(frame, args, ctx));
    return fromRaw(joinFrames(out));
  };
}

/** Clamps to 0..255 after C's float-to-int conversion (truncation toward zero), as thumbor's ADJUST_COLOR does. */
export function clampTrunc(v: number): number {
  const t = Math.trunc(v);
  return t > 255 ? 255 : t < 0 ? 0 : t;
}

/** Applies one 256-entry table per colour channel (R, G, B); alpha is left as it is. */
export function applyChannelTables(raw: RawImage, r: Uint8Array, g: Uint8Array, b: Uint8Array): RawImage {
  const src = raw.data;
  const out = Buffer.from(src);
  const n = raw.channels;
  for (let i = 0; i < src.length; i += n) {
    out[i] = r[src[i]];
    out[i + 1] = g[src[i + 1]];
    out[i + 2] = b[src[i + 2]];
  }
  return withData(raw, out);
}
