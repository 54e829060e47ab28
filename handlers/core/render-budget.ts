/**
 * The render budget: a pure estimate of the CPU time one render of a plan costs, refused past
 * RENDER_BUDGET_MS before any pixel work. Each repeat of a hostile URL would otherwise render
 * again (a refusal is cached, a render that dies at the timeout is not), so the estimate must
 * bound the whole plan: the original's decode (after shrink-on-load), every effect on the pixels
 * it runs on (the output, then a fill canvas), every frame, every other image a filter reads,
 * and every encode (max_bytes' quality search encodes up to eight times, core/max-bytes.ts).
 *
 * viewer-request knows only the URL: the original is assumed as large as `maxInputPixels`, one
 * frame, and the effects run on the output as large as the URL asks, a side it leaves open (0,
 * `orig`: the original's) as large as the settings allow. The encode of such an output is left to
 * the header: a format's cost differs fifty-fold (GIF, lossless WebP, max_bytes' search), and
 * thumbor URLs convert formats without a size on originals that are mostly small. origin-response
 * checks again with the header (real size, frames kept, output format) before decoding, so what
 * the URL leaves open is counted before any pixel work too. Costs are CPU ms per megapixel on
 * the machine bench/filter-costs.ts ran on; the effects' own are their registry entries'
 * `renderCost`. Pure: no sharp, no AWS.
 */
import { refusal } from "./errors.js";
import { FILTERS_WITH_IMAGES, filterDefinition } from "./filter-registry.js";
import { formatCan, type OutputFormat } from "./formats.js";
import { maxBytesOf, maxBytesPaths } from "./max-bytes.js";
import type { Dimension, FilterCall, TransformPlan } from "./plan.js";
import { filterCalls, isCall } from "./plan-queries.js";
import type { Settings } from "./settings.js";

/**
 * Estimated CPU ms one render may cost. The costliest render it admits on the largest allowed
 * original (bench/render-budget.ts) ends well before the render deadline (origin-response.ts).
 */
export const RENDER_BUDGET_MS = 8_000;

/** Decoding and resizing the original, per megapixel decoded (JPEG's; other formats cost about the same or less). */
export const DECODE_MS_PER_MEGAPIXEL = 15;

/** Encoding one frame, per megapixel, at the format's usual quality (WebP at quality 100 is lossless: far costlier). */
export const ENCODE_MS_PER_MEGAPIXEL: Readonly<Record<OutputFormat, number>> = Object.freeze({
  jpeg: 20,
  png: 60,
  webp: 40,
  avif: 90,
  gif: 1_100,
});
export const LOSSLESS_WEBP_MS_PER_MEGAPIXEL = 950;
/**
 * Formats whose encode grows with quality past a point, and their cost from it: JPEG at quality
 * 95 and above codes far more coefficients (quality 100 encodes about 1.7 times as long as 80:
 * docs/encoder-tuning.md).
 */
export const HIGH_QUALITY_ENCODE: Readonly<Partial<Record<OutputFormat, { fromQuality: number; msPerMegapixel: number }>>> = Object.freeze({
  jpeg: { fromQuality: 95, msPerMegapixel: 35 },
});
/** The cost counted when the output format is not known yet (the cheapest format's would under-count). */
const UNKNOWN_FORMAT_ENCODE_MS_PER_MEGAPIXEL = ENCODE_MS_PER_MEGAPIXEL.png;

/**
 * Enlarging a still image, per megapixel of output: Pillow's LANCZOS in JavaScript
 * (render/lanczos.ts), several times sharp's own resize. Counted once the header shows the
 * original is smaller than the output; viewer-request cannot tell.
 */
export const ENLARGE_MS_PER_MEGAPIXEL = 120;

/** The settings the estimate reads. */
export type BudgetSettings = Pick<Settings, "maxWidth" | "maxHeight" | "maxInputPixels">;

/** What origin-response knows from the header; viewer-request knows none of it. */
export interface RenderFacts {
  /** The original's size (one frame) and format. */
  source: { width: number; height: number; format: string };
  /** Frames decoded, filtered and encoded. */
  frames: number;
  /** The output format (the original's own when the plan leaves it open). */
  format: OutputFormat;
}

export interface Size {
  width: number;
  height: number;
}

/** One item of the estimate: what costs, and how much (ms). */
export interface CostItem {
  what: string;
  ms: number;
}

/** Throws a 400 "too costly to render" (cached with budgetErrorCacheControl) when the estimate is over budget. */
export function checkRenderBudget(plan: TransformPlan, settings: BudgetSettings, facts?: RenderFacts): void {
  const items = estimateRenderCost(plan, settings, facts);
  const total = Math.round(items.reduce((sum, item) => sum + item.ms, 0));
  if (total <= RENDER_BUDGET_MS) return;
  const worst = items.reduce((a, b) => (b.ms > a.ms ? b : a));
  throw refusal(
    400,
    `too costly to render: about ${total} ms of work (${worst.what}: ${Math.round(worst.ms)} ms), the budget is ${RENDER_BUDGET_MS} ms`,
    "long",
  );
}

/** The estimate, item by item (same filter calls summed into one item). */
export function estimateRenderCost(plan: TransformPlan, settings: BudgetSettings, facts?: RenderFacts): CostItem[] {
  const frames = facts?.frames ?? 1;
  const items: CostItem[] = [{ what: "decode", ms: decodeMegapixels(plan, settings, facts) * DECODE_MS_PER_MEGAPIXEL }];
  if (plan.meta) return items;
  let size = facts ? outputBound(plan, settings, facts.source) : largestOutput(plan, settings);
  const sizeKnown = facts !== undefined || (given(plan.width) !== undefined && given(plan.height) !== undefined);
  if (facts && facts.frames === 1 && (size.width > facts.source.width || size.height > facts.source.height)) {
    items.push({ what: "enlargement", ms: megapixels(size) * ENLARGE_MS_PER_MEGAPIXEL });
  }
  const effects = new Map<string, { calls: number; ms: number }>();
  for (const call of plan.filters) {
    const perMegapixel = filterDefinition(call.name)?.renderCost ?? 0;
    if (perMegapixel === 0) continue;
    const item = effects.get(call.name) ?? { calls: 0, ms: 0 };
    item.calls += 1;
    item.ms += perMegapixel * megapixels(size) * frames;
    effects.set(call.name, item);
    size = sizeAfter(call, size, plan, settings);
  }
  for (const [name, { calls, ms }] of effects) items.push({ what: `${calls} × ${name}`, ms });
  const others = otherImageKeys(plan).size;
  // Each other image is fetched and decoded once per render, checked against maxInputPixels from its header.
  if (others > 0) items.push({ what: `${others} other images`, ms: (others * settings.maxInputPixels * DECODE_MS_PER_MEGAPIXEL) / 1e6 });
  if (sizeKnown) items.push(encodeCost(plan, facts?.format ?? plan.format, megapixels(size) * frames));
  return items;
}

/** Megapixels decoded: the whole original (every kept frame), less what JPEG's shrink-on-load skips. */
function decodeMegapixels(plan: TransformPlan, settings: BudgetSettings, facts?: RenderFacts): number {
  if (!facts) return settings.maxInputPixels / 1e6;
  const { source } = facts;
  const shrink =
    formatCan(source.format, "dct-scaling") && !plan.crop && !plan.trim ? jpegShrinkOnLoad(source, outputBound(plan, settings, source)) : 1;
  return (source.width * source.height * facts.frames) / shrink ** 2 / 1e6;
}

function megapixels(size: Size): number {
  return (size.width * size.height) / 1e6;
}

/** libjpeg decodes at 1/2, 1/4 or 1/8 scale when the output is that much smaller (libvips' shrink-on-load). */
export function jpegShrinkOnLoad(source: Size, output: Size): number {
  const factor = Math.min(source.width / output.width, source.height / output.height);
  for (const shrink of [8, 4, 2]) if (factor >= shrink) return shrink;
  return 1;
}

/** A side the URL gives (0 and `orig` leave it to the original). */
const given = (side: Dimension): number | undefined => (typeof side === "number" && side > 0 ? side : undefined);

/**
 * The largest output one frame can have: the requested sides, capped by maxWidth/maxHeight (the
 * render refuses larger). A side the URL leaves open (0, `orig`) is what the original gives it.
 */
export function outputBound(plan: TransformPlan, settings: Pick<Settings, "maxWidth" | "maxHeight">, source: Size): Size {
  const side = (own: Dimension, other: Dimension, ownSource: number, otherSource: number): number => {
    const ownSide = given(own);
    const otherSide = given(other);
    if (ownSide !== undefined) return ownSide;
    if (own === 0 && otherSide !== undefined) return Math.round((otherSide * ownSource) / otherSource);
    return ownSource;
  };
  return {
    width: Math.min(settings.maxWidth, side(plan.width, plan.height, source.width, source.height)),
    height: Math.min(settings.maxHeight, side(plan.height, plan.width, source.height, source.width)),
  };
}

/**
 * The largest output the URL allows before the header is known: a side it leaves open as large as
 * the settings allow (a proportional side can be enlarged up to its maximum); with both open the
 * output is the original, at most maxInputPixels.
 */
export function largestOutput(plan: TransformPlan, settings: BudgetSettings): Size {
  const [w, h] = [given(plan.width), given(plan.height)];
  const width = Math.min(w ?? settings.maxWidth, settings.maxWidth);
  const height = Math.min(h ?? settings.maxHeight, settings.maxHeight);
  if (w !== undefined || h !== undefined || width * height <= settings.maxInputPixels) return { width, height };
  return { width, height: Math.max(1, Math.floor(settings.maxInputPixels / width)) };
}

/** The image's size after an effect: fill makes its canvas (the request's sides, the image's where 0); rotate(±90) swaps. */
function sizeAfter(call: FilterCall, size: Size, plan: TransformPlan, settings: BudgetSettings): Size {
  if (isCall(call, "fill")) {
    const side = (requested: Dimension, current: number, max: number) =>
      typeof requested === "number" && requested > 0 ? Math.min(requested, max) : current;
    return { width: side(plan.width, size.width, settings.maxWidth), height: side(plan.height, size.height, settings.maxHeight) };
  }
  if (isCall(call, "rotate") && Math.abs(Number(call.args[0])) % 180 === 90) return { width: size.height, height: size.width };
  return size;
}

/** The other images the plan's filters read, by the URL they name (one fetch and one decode each). */
function otherImageKeys(plan: TransformPlan): Set<string> {
  return new Set(plan.filters.filter((f) => FILTERS_WITH_IMAGES.has(f.name)).map((f) => String(f.args[0])));
}

/**
 * Encoding: once, or max_bytes' whole quality search (render/fit-bytes.ts) for JPEG and WebP. An
 * open format (the original's, unknown before the header) counts as PNG, the costliest still one
 * that is not GIF; origin-response counts the real one.
 */
function encodeCost(plan: TransformPlan, format: OutputFormat | null, outputMegapixels: number): CostItem {
  const searches = maxBytesOf(filterCalls(plan, "max_bytes").at(-1), format) !== null;
  const qualities = searches ? maxBytesQualities(plan.quality, format) : [plan.quality];
  const ms = qualities.reduce((sum, q) => sum + outputMegapixels * encodeMsPerMegapixel(format, q), 0);
  return { what: searches ? `${qualities.length} encodes (max_bytes)` : "encode", ms };
}

/** One encode's cost per megapixel at a quality: WebP at 100 is lossless; JPEG from 95 on codes far more coefficients. */
export function encodeMsPerMegapixel(format: OutputFormat | null, quality: number): number {
  if (format === null) return UNKNOWN_FORMAT_ENCODE_MS_PER_MEGAPIXEL;
  if (quality >= 100 && formatCan(format, "lossless-at-100")) return LOSSLESS_WEBP_MS_PER_MEGAPIXEL;
  const high = HIGH_QUALITY_ENCODE[format];
  if (high && quality >= high.fromQuality) return high.msPerMegapixel;
  return ENCODE_MS_PER_MEGAPIXEL[format];
}

/**
 * The qualities max_bytes' search encodes at on its costliest path (core/max-bytes.ts replays
 * every outcome).
 */
export function maxBytesQualities(quality: number, format: OutputFormat | null): number[] {
  const cost = (path: number[]) => path.reduce((sum, q) => sum + encodeMsPerMegapixel(format, q), 0);
  return maxBytesPaths(quality).reduce((worst, path) =>
    cost(path) > cost(worst) || (cost(path) === cost(worst) && path.length > worst.length) ? path : worst,
  );
}
