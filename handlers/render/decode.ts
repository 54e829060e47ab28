/**
 * Step 2 of the render: the original's pixels, auto-oriented (thumbor's RESPECT_ORIENTATION),
 * then trimmed when the plan asks. `failOn: "none"`: a truncated JPEG renders what is there, as
 * thumbor's LOAD_TRUNCATED_IMAGES does. Nothing is decoded yet unless trim needs the pixels.
 */
import sharp, { type Sharp, type SharpOptions } from "sharp";
import type { Settings } from "../core/settings.js";
import { trimBox, type Region, type Size } from "./geometry.js";
import type { RenderContext } from "./context.js";
import type { Header } from "./load.js";
import { naiveCmykToRgb } from "./cmyk.js";
import { fromRaw, materialise } from "./common/raw.js";
import { run } from "./common/sharp-errors.js";

export interface Decoded {
  /** The oriented (and trimmed) image, its pixels not decoded yet unless trim needed them. */
  image: Sharp;
  /** Its size after orientation and trim. */
  size: Size;
  /** The trimmed box in oriented pixels, or null without trim. */
  trimmed: Region | null;
}

/** cmykConversion "naive": thumbor's profile-blind CMYK conversion instead of libvips' colour-managed one. */
export function convertsCmykNaively(header: Header, settings: Settings): boolean {
  return header.space === "cmyk" && settings.cmykConversion === "naive";
}

/** How every original is opened (draft.ts opens its smaller decode the same way). */
export function decodeOptions(settings: Settings, frames: number): SharpOptions {
  return {
    autoOrient: true,
    failOn: "none",
    limitInputPixels: settings.maxInputPixels * frames,
    ...(frames > 1 ? { animated: true } : {}),
  };
}

export async function decodeOriginal(ctx: RenderContext): Promise<Decoded> {
  const { original, header, plan, settings, frames } = ctx;
  const decode = (): Sharp => sharp(original, decodeOptions(settings, frames));
  const naiveCmyk = convertsCmykNaively(header, settings);
  const decodeRgb = async (): Promise<Sharp> => (naiveCmyk ? run(naiveCmykToRgb(decode())) : decode());
  const size: Size = { width: header.orientedWidth, height: header.orientedHeight };
  // Animated originals are not trimmed (thumbor skips trim for GIFs too).
  if (!plan.trim || frames > 1) return { image: await decodeRgb(), size, trimmed: null };
  // Trim needs the pixels: decode once to raw and continue from there.
  const px = await run(materialise(await decodeRgb(), "keep", 1));
  const trimmed = trimBox(px.data, px.width, px.height, px.channels, plan.trim.corner, plan.trim.tolerance);
  if (!trimmed) return { image: fromRaw(px), size, trimmed: null };
  // The extract must be done before geometry's crop, which applies to the trimmed pixels.
  const image = fromRaw(await materialise(fromRaw(px).extract(trimmed), "keep", 1));
  return { image, size: { width: trimmed.width, height: trimmed.height }, trimmed };
}
