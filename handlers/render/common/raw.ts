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
import { checkDeadline } from "../deadline.js";
import type { EffectContext, PostFilterEffect } from "../effects/index.js";

/**
 * The one decoded-pixel type of the render: 8-bit sRGB, interleaved, `frames` frames of
 * width×height stacked vertically. Grey images have 1 (L) or 2 (LA) channels, colour images 3
 * (RGB) or 4 (RGBA, straight alpha).
 */
export interface RawImage {
  data: Buffer;
  width: number;
  /** Height of one frame. */
  height: number;
  channels: 1 | 2 | 3 | 4;
  frames: number;
}

/**
 * What `materialise` does with a grey image. Most effects work on RGB(A), as thumbor's filters
 * convert L/LA to RGB/RGBA first ("expand"); the pipeline's own steps and grayscale() keep grey
 * so a grey image stays a one-channel image ("keep").
 */
export type GreyHandling = "expand" | "keep";

/**
 * Runs the pending pipeline and returns its pixels. `frames` is the number of stacked frames
 * when the caller knows it; otherwise it is read from sharp's page height.
 */
export async function materialise(image: Sharp, grey: GreyHandling = "expand", frames?: number): Promise<RawImage> {
  const { data, info } = await image.toColourspace("srgb").raw({ depth: "uchar" }).toBuffer({ resolveWithObject: true });
  const { width, channels } = info;
  const count =
    frames ?? (info.pageHeight && info.pages && info.pages > 1 && info.pageHeight * info.pages === info.height ? info.pages : 1);
  const raw: RawImage = { data, width, height: info.height / count, channels: channels as RawImage["channels"], frames: count };
  if (channels < 1 || channels > 4) throw new Error(`cannot apply a filter to an image with ${channels} channels`);
  return grey === "expand" ? greyToRgb(raw) : raw;
}

/** L → RGB and LA → RGBA (thumbor's conversion before its filters); colour images unchanged. */
export function greyToRgb(raw: RawImage): RawImage {
  if (raw.channels >= 3) return raw;
  const hasAlpha = raw.channels === 2;
  const { data } = raw;
  const out = Buffer.alloc((data.length / raw.channels) * (hasAlpha ? 4 : 3));
  for (let i = 0, o = 0; i < data.length; i += raw.channels) {
    out[o++] = data[i];
    out[o++] = data[i];
    out[o++] = data[i];
    if (hasAlpha) out[o++] = data[i + 1];
  }
  return { ...raw, data: out, channels: hasAlpha ? 4 : 3 };
}

/** True when the pixels carry an alpha channel (LA or RGBA). */
export function hasAlphaChannel(raw: Pick<RawImage, "channels">): boolean {
  return raw.channels === 2 || raw.channels === 4;
}

/** A fresh sharp pipeline over raw pixels (animated images keep their frames). */
export function fromRaw(raw: RawImage): Sharp {
  return sharp(raw.data, {
    raw: {
      width: raw.width,
      height: raw.height * raw.frames,
      channels: raw.channels,
      ...(raw.frames > 1 ? { pageHeight: raw.height } : {}),
    },
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
  return {
    data: Buffer.concat(frames.map((f) => f.data)),
    width: first.width,
    height: first.height,
    channels: first.channels,
    frames: frames.length,
  };
}

/** What an effect does to one frame. */
export type FrameEffect = (frame: RawImage, args: FilterArg[], ctx: EffectContext) => Promise<RawImage> | RawImage;

/** Turns a one-frame effect into a pipeline effect: materialise, apply to every frame, rejoin. */
export function perFrame(effect: FrameEffect): PostFilterEffect {
  return async (image, args, ctx) => {
    const frames = splitFrames(await materialise(image));
    const out: RawImage[] = [];
    for (const frame of frames) {
      checkDeadline(ctx.deadline);
      out.push(await effect(frame, args, ctx));
    }
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
