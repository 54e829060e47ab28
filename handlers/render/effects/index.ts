/**
 * Post-transform pixel filters that the pipeline (pipeline.ts) does not handle itself (blur,
 * sharpen, brightness, watermark, ...), keyed by thumbor filter name. The pipeline applies the
 * plan's post-transform filters in URL order and looks here for every name it does not own.
 * Every key must be an "effect" of the filter registry (core/filter-registry.ts): checked when
 * this module loads.
 */
import { filterDefinition } from "../../core/filter-registry.js";
import type { FilterArg } from "../../core/plan.js";
import type { RenderContext } from "../context.js";
import type { Size } from "../geometry.js";
import { backgroundColor } from "./background-color.js";
import { blur } from "./blur.js";
import { brightness } from "./brightness.js";
import { colorize } from "./colorize.js";
import { contrast } from "./contrast.js";
import { convolution } from "./convolution.js";
import { curve } from "./curve.js";
import { equalize } from "./equalize.js";
import { fill } from "./fill.js";
import { frame } from "./frame.js";
import { grayscale } from "./grayscale.js";
import { noise } from "./noise.js";
import { proportion } from "./proportion.js";
import { rgb } from "./rgb.js";
import { rotate } from "./rotate.js";
import { roundCorner } from "./round-corner.js";
import { saturation } from "./saturation.js";
import { sharpen } from "./sharpen.js";
import { watermark } from "./watermark.js";

/**
 * What an effect reads: the render's context (context.ts: settings, output format, the reader of
 * other images and their cache, the deadline) and what the filter chain adds to it.
 */
export interface EffectContext
  extends Pick<RenderContext, "settings" | "loadObject" | "outputFormat" | "deadline">, Partial<Pick<RenderContext, "bucketImages">> {
  /** The image's current size at the point the effect runs. */
  width: number;
  height: number;
  /** The URL's requested size (a 0 side: none asked), as thumbor's `context.request` (fill's canvas). */
  request: Size;
  /** Shared along the filter chain: the colour a JPEG encode flattens alpha onto (the last fill or background_color; white when null). */
  flatten: { colour: string | null };
}

export type PostFilterEffect = (image: import("sharp").Sharp, args: FilterArg[], ctx: EffectContext) => Promise<import("sharp").Sharp>;

/** Each effect's file starts with what thumbor computes, what we compute, and the difference (if any). */
export const POST_FILTER_EFFECTS: Record<string, PostFilterEffect> = {
  background_color: backgroundColor,
  blur,
  brightness,
  colorize,
  contrast,
  convolution,
  curve,
  equalize,
  fill,
  frame,
  grayscale,
  noise,
  proportion,
  rgb,
  rotate,
  round_corner: roundCorner,
  saturation,
  sharpen,
  watermark,
};

for (const name of Object.keys(POST_FILTER_EFFECTS)) {
  if (filterDefinition(name)?.handledBy !== "effect") throw new Error(`effects/index.ts: ${name} is not an effect of the filter registry`);
}
