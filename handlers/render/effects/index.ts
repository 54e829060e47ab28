/**
 * Post-transform pixel filters that the pipeline (pipeline.ts) does not handle itself (blur,
 * sharpen, brightness, watermark, ...), keyed by thumbor filter name. The pipeline applies the
 * plan's post-transform filters in URL order and looks here for every name it does not own.
 * Every key must be an "effect" of the filter registry (core/filter-registry.ts): checked when
 * this module loads.
 */
import { filterDefinition } from "../../core/filter-registry.js";
import type { FilterArg, OutputFormat } from "../../core/plan.js";
import type { Settings } from "../../core/settings.js";
import type { RenderDeadline } from "../deadline.js";
import type { Size } from "../geometry.js";
import { backgroundColor } from "./background-color.js";
import { blur } from "./blur.js";
import type { BucketImage } from "./bucket-image.js";
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

export interface EffectContext {
  /** The image's current size at the point the effect runs. */
  width: number;
  height: number;
  /** Reads another object of the originals' bucket (watermark, frame); null when missing. */
  loadObject: (key: string) => Promise<Buffer | null>;
  settings: Settings;
  /** The URL's requested size (a 0 side: none asked), as thumbor's `context.request` (fill's canvas). */
  request: Size;
  /** The format the variant will be encoded in (an effect may need to know whether it keeps alpha). */
  outputFormat: OutputFormat;
  /** Shared along the filter chain: the colour a JPEG encode flattens alpha onto (the last fill or background_color; white when null). */
  flatten: { colour: string | null };
  /** The render's deadline (deadline.ts): effects that loop over frames or cells check it between them. */
  deadline?: RenderDeadline;
  /** The other images this render has read (bucket-image.ts), by bucket key: each is fetched and decoded once. */
  bucketImages?: Map<string, Promise<BucketImage>>;
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
