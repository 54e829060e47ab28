/**
 * Runs an effect on a real photo and returns its pixels, so tests can compare them with a
 * reference rendering (tests/helpers/reference.ts).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import type { EffectContext, PostFilterEffect } from "../../handlers/render/effects/index.js";
import type { FilterArg } from "../../handlers/core/plan.js";
import { DEFAULT_SETTINGS } from "../../handlers/core/settings.js";

export const FIXTURES = join(__dirname, "..", "fixtures");

/** Interleaved 8-bit pixels. */
export interface Pixels {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

/** The 480×300 RainDrops photo (tests/fixtures/images/raindrops-480.jpg, shared with the pipeline tests) as RGB pixels. */
export async function photo(): Promise<Pixels> {
  return decode(readFileSync(join(FIXTURES, "images", "raindrops-480.jpg")));
}

export async function decode(bytes: Buffer): Promise<Pixels> {
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

export function context(over: Partial<EffectContext> = {}): EffectContext {
  return {
    width: 0,
    height: 0,
    loadObject: async () => null,
    settings: DEFAULT_SETTINGS,
    request: { width: 0, height: 0 },
    outputFormat: "png",
    flatten: { colour: null },
    ...over,
  };
}

/** Runs the effect on these pixels (as the pipeline hands them over: a raw sharp image) and reads the result back. */
export async function runEffect(
  effect: PostFilterEffect,
  input: Pixels,
  args: FilterArg[],
  ctx: EffectContext = context(),
): Promise<Pixels> {
  const image = sharp(Buffer.from(input.data), { raw: { width: input.width, height: input.height, channels: input.channels as 3 | 4 } });
  const out = await effect(image, args, { ...ctx, width: input.width, height: input.height });
  const { data, info } = await out.raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/** Only the R, G, B samples (for comparing an RGBA result with an RGB reference). */
export function rgbOnly(p: Pixels): Uint8Array {
  if (p.channels === 3) return p.data;
  const out = new Uint8Array(p.width * p.height * 3);
  for (let i = 0, o = 0; i < p.data.length; i += p.channels) {
    out[o++] = p.data[i];
    out[o++] = p.data[i + 1];
    out[o++] = p.data[i + 2];
  }
  return out;
}
