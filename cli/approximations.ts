/**
 * The one list of features that edge-resizer serves *approximately*: the URL works, but the
 * picture (or answer) is not what thumbor would have served. The migration audit marks a URL
 * `approximate` with the names of the features below that it uses, and the compatibility table
 * (docs/thumbor-compatibility.md) gives each of them the same status and reason; a test keeps the
 * two in step.
 *
 * Each entry says when it applies, from what the real planner made of the URL (the canonical
 * plan) and what thumbor's grammar read from it, so the rule and its reason live side by side.
 * Differences that do not depend on the URL (EXIF orientation always applied, Accept-based WebP,
 * cache lifetime) are in the compatibility doc's "Differences for every URL" section instead.
 *
 * "identical" means: the same geometry (sizes, crops, flips) and the same pixel arithmetic, up
 * to one level of rounding per channel and the resampling and encoder differences between sharp
 * (libvips) and Pillow. Anything beyond that is listed here.
 */
import { argsWithDefaults, FILTERS_WITH_IMAGES, filterDefinition, type FilterName } from "../handlers/core/filter-registry.js";
import { filterCalls, isCall } from "../handlers/core/plan-queries.js";
import { MAX_AGE_STEPS } from "../handlers/core/filter-key-rules.js";
import { EXACT_BLUR_BUDGET, MAX_BLUR_RADIUS } from "../handlers/core/plan-limits.js";
import type { FilterCall, TransformPlan } from "../handlers/core/plan.js";
import type { Settings, ThumborSettings } from "../handlers/core/settings.js";
import type { ThumborUrl } from "../handlers/url/thumbor-url.js";

export interface FeatureContext {
  /** The canonical plan the planner made (what the variant key encodes). */
  plan: TransformPlan;
  /** What thumbor's grammar read from the URL. */
  url: ThumborUrl;
  /** Every filter of the URL as parsed, in URL order, including `format` and `quality`. */
  calls: readonly FilterCall[];
  settings: Pick<Settings, "maxWidth" | "maxHeight"> & { thumbor: Pick<ThumborSettings, "smartCrop"> };
}

export interface ApproximateFeature {
  /** What the compatibility doc and the audit's per-feature totals call it. */
  feature: string;
  /** How the result differs from thumbor's, in one sentence. */
  reason: string;
  applies(ctx: FeatureContext): boolean;
}

/** A filter module of thumbor's post-transform phase (not `cover`, which the transformer reads). */
const isPostTransformFilter = (c: FilterCall): boolean =>
  filterDefinition(c.name)?.phase === "post" && filterDefinition(c.name)?.appliedBy === "filter";

const hasCall = (ctx: FeatureContext, name: FilterName, test: (c: FilterCall) => boolean = () => true): boolean =>
  filterCalls(ctx.plan, name).some(test);

/**
 * The most pixels the variant can have, from the URL alone. A side given in pixels bounds that
 * side (crop mode gives exactly it, fit-in only shrinks); a proportional or `orig` side can be up
 * to the settings' maximum (the render refuses more), and so can both with full-fit-in, which
 * grows past the box. adaptive-fit-in may swap the box's sides, so only their product is known.
 */
function maxOutputPixels(ctx: FeatureContext): number {
  const { width, height, fit } = ctx.plan;
  const { maxWidth, maxHeight } = ctx.settings;
  if (fit === "full-fit-in" || fit === "adaptive-full-fit-in") return maxWidth * maxHeight;
  const given = (v: TransformPlan["width"]): v is number => typeof v === "number" && v > 0;
  if (fit === "adaptive-fit-in") return given(width) && given(height) ? width * height : maxWidth * maxHeight;
  return (given(width) ? Math.min(width, maxWidth) : maxWidth) * (given(height) ? Math.min(height, maxHeight) : maxHeight);
}

/** effects/blur.ts: past EXACT_BLUR_BUDGET (kernel taps × pixels) it switches to libvips' approximate Gaussian. */
const blurMayBeApproximated = (ctx: FeatureContext, c: FilterCall): boolean =>
  (2 * Math.min(Number(c.args[0]), MAX_BLUR_RADIUS) + 1) * maxOutputPixels(ctx) > EXACT_BLUR_BUDGET;

export const APPROXIMATE_FEATURES: readonly ApproximateFeature[] = [
  {
    feature: "smart",
    reason:
      'thumbor\'s face and feature detectors (OpenCV, when DETECTORS is configured) are approximated by sharp\'s attention strategy (`thumbor.smartCrop` "attention", the default): the crop window can sit elsewhere. A thumbor without detectors (its default, `DETECTORS = []`) kept the alignment crop; `thumbor.smartCrop` "alignment" does that, and `smart` is then not reported',
    // With "alignment" the render drops smart (variant-key.ts renderedPlan): thumbor's default.
    applies: (ctx) => ctx.plan.smart && ctx.settings.thumbor.smartCrop === "attention",
  },
  {
    feature: "debug",
    reason: "thumbor draws the focal points instead of resizing; edge-resizer accepts `debug/` and ignores it, serving the normal image",
    applies: (ctx) => ctx.url.debug,
  },
  {
    feature: "absolute-url",
    reason:
      "thumbor fetches an absolute image (or watermark, or frame) URL over HTTP; edge-resizer reads the bucket key it maps to through `thumbor.stripHosts`, which must hold the same picture",
    // The image itself, or a watermark or frame composited with it (read the same way).
    applies: (ctx) =>
      /^https?:\/\//i.test(ctx.url.image) ||
      ctx.plan.filters.some((c) => FILTERS_WITH_IMAGES.has(c.name) && /^https?(?::|%3A)/i.test(String(c.args[0]))),
  },
  {
    feature: "gif-source",
    reason:
      "thumbor (default USE_GIFSICLE_ENGINE) skips every post-transform filter, `format()` and `quality()` for GIF originals; edge-resizer applies them (judged from the `.gif` extension)",
    applies: (ctx) => /\.gif$/i.test(ctx.plan.source) && ctx.calls.some(isPostTransformFilter),
  },
  {
    feature: "format(heif)",
    reason:
      "edge-resizer cannot encode HEIF (no HEVC encoder in sharp's build): `format(heif)` / `format(heic)` fall back to the automatic format choice",
    applies: (ctx) => ctx.calls.some((c) => isCall(c, "format") && /^hei[cf]$/i.test(String(c.args[0] ?? ""))),
  },
  {
    feature: "blur(large)",
    reason:
      "past a work budget (kernel taps × output pixels over 60 million: `blur(150)` beyond about 446×446 px, `blur(10)` beyond about 1690×1690 px) libvips' approximate Gaussian with the same spread replaces thumbor's kernel, so the render fits Lambda@Edge's time limit: the same soft look, not bit-close (flagged unless the requested size keeps the output under the budget)",
    applies: (ctx) => hasCall(ctx, "blur", (c) => blurMayBeApproximated(ctx, c)),
  },
  {
    feature: "fill(blur)",
    reason:
      "the blurred backdrop uses sharp's Gaussian (sigma 25) for thumbor's radius-50 blur, and `fill(auto)`'s colour for animated images",
    applies: (ctx) => hasCall(ctx, "fill", (c) => String(c.args[0]).toLowerCase() === "blur"),
  },
  {
    feature: "noise",
    reason:
      "without a seed (or seed 0) thumbor continues its process-wide rand() stream, so its noise changes per request; edge-resizer always starts from glibc's initial state (with a seed > 0: identical to thumbor's C filters on glibc; builds with the Rust filters draw another pattern)",
    applies: (ctx) => hasCall(ctx, "noise", (c) => Number(argsWithDefaults("noise", c.args)[1]) === 0),
  },
  {
    feature: "extract_focal",
    reason:
      "thumbor 7.8 looks for the nested URL's manual crop in the re-quoted image URL, where `:` is `%3A`, so the crop never matches and the filter does nothing; edge-resizer does what thumbor's documentation describes: the nested original, with the crop box as a focal point",
    // Only when it found a nested crop (it then added a focal point): otherwise both ignore it.
    applies: (ctx) => filterCalls(ctx.plan, "focal").length > ctx.calls.filter((c) => isCall(c, "focal")).length,
  },
  {
    feature: "max_age(rounded)",
    reason:
      "so that max_age() cannot mint a stored copy of the picture per second, N is rounded down to a step of 0, 10, 30 s, 1, 5, 10, 15, 30 min, 1, 2, 6, 12 h, 1, 2, 7, 30 days or a year: the variant is cached that long, never longer than asked (identical when N is one of those steps)",
    applies: (ctx) => ctx.calls.some((c) => isCall(c, "max_age") && !MAX_AGE_STEPS.includes(Number(c.args[0]))),
  },
  {
    feature: "rgb",
    reason:
      "on images with an alpha channel thumbor shifts the wrong bytes (its loop steps 3 bytes per RGBA pixel); edge-resizer shifts the colour channels and leaves alpha alone (identical on opaque images)",
    // A JPEG original has no alpha channel, so there the result is thumbor's.
    applies: (ctx) => hasCall(ctx, "rgb") && !/\.jpe?g$/i.test(ctx.plan.source),
  },
];

/** The names of the approximate features a URL uses, in table order. */
export function approximateFeaturesOf(ctx: FeatureContext): string[] {
  return APPROXIMATE_FEATURES.filter((f) => f.applies(ctx)).map((f) => f.feature);
}
