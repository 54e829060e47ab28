/**
 * The intermediate: a smaller copy of a large original (its long side INTERMEDIATE_LONG_SIDE px,
 * JPEG q95 4:4:4), stored beside the original's variants by the first miss that can use it and
 * decodes the original finely enough (missMakesIntermediate), so
 * the rest of a page's set of sizes is made from it instead of decoding the original again each
 * time (a progressive 18 MP JPEG cannot shrink on load: every variant decoded all of it). These
 * are its rules: its key, when a plan may be made from it, when it pays, its size and what it
 * records about the original. Pure: the render makes it, the handler reads and writes it.
 *
 * Thumbor's semantics keep the original's geometry: the plan's numbers (crop boxes, focal points,
 * fit-in sizes) are always computed on the original's size, recorded on the intermediate, and
 * the intermediate only stands in for the pixels of a resize of the whole image. Anything that
 * needs the original's own pixels (trim, meta, a manual crop in source pixels, sharp's attention
 * strategy) is made from the original.
 */
import { formatCan } from "./formats.js";
import type { TransformPlan } from "./plan.js";
import type { Size } from "./render-budget.js";
import type { Settings } from "./settings.js";
import { SOURCE_ETAG_METADATA, normalizeEtag } from "./variant-source.js";
import { variantPrefixOf } from "./variant-key.js";

/** The intermediate's long side. A variant larger than the intermediate is made from the original. */
export const INTERMEDIATE_LONG_SIDE = 2048;
/** JPEG quality of the intermediate: its loss stays well under the variants' own q80 loss. */
export const INTERMEDIATE_QUALITY = 95;
/** Full-resolution chroma: 4:2:0 here would halve the colour resolution of every variant again. */
export const INTERMEDIATE_CHROMA = "4:4:4";
/**
 * Baseline originals of at least this many pixels get an intermediate too (progressive ones
 * always do): below it libjpeg's shrink-on-load already decodes them cheaply (BENCHMARKS.md,
 * "a page's variant set: through an intermediate").
 */
export const INTERMEDIATE_MIN_BASELINE_PIXELS = 12_000_000;

/**
 * Its file name under the original's variant folder. Not a variant key (no size token), so no
 * URL names it (viewer-request refuses it as a variant key) and the purge of the original, which
 * deletes the whole folder, deletes it too.
 */
export const INTERMEDIATE_NAME = "intermediate.jpg";

export function intermediateKey(source: string, settings: Pick<Settings, "variantPrefix">): string {
  return `${variantPrefixOf(source, settings)}${INTERMEDIATE_NAME}`;
}

/**
 * True when the plan alone allows an intermediate (before anything is read): no trim, no meta,
 * no manual crop (its box is in the original's pixels), no attention-strategy smart crop (it
 * looks at the pixels it is given).
 */
export function planMayUseIntermediate(plan: TransformPlan, settings: Pick<Settings, "intermediate" | "thumbor">): boolean {
  if (settings.intermediate !== "auto") return false;
  if (plan.meta || plan.trim || plan.crop) return false;
  return !(plan.smart && settings.thumbor.smartCrop === "attention");
}

/** What the original's header says, as far as deciding on an intermediate goes. */
export interface OriginalFacts {
  format: string;
  /** Oriented size. */
  width: number;
  height: number;
  frames: number;
  progressive: boolean;
  /** CMYK originals are left alone: their conversion setting acts on the original's own pixels. */
  space?: string;
}

/**
 * True when storing an intermediate of this original pays: a still, non-CMYK original of a
 * DCT-scaled format (JPEG: the measured gain) larger than the intermediate, progressive
 * (libjpeg decodes all of it whatever the scale) or large.
 */
export function intermediatePays(original: OriginalFacts): boolean {
  if (!formatCan(original.format, "dct-scaling") || original.frames !== 1 || original.space === "cmyk") return false;
  if (Math.max(original.width, original.height) <= INTERMEDIATE_LONG_SIDE) return false;
  return original.progressive || original.width * original.height >= INTERMEDIATE_MIN_BASELINE_PIXELS;
}

/** libjpeg's decode scales, coarsest first. */
const DCT_SCALES = [8, 4, 2, 1] as const;

/** The coarsest scale libjpeg can decode `size` at and still cover `target` (what a draft decode reaches). */
export function coveringDctScale(size: Size, target: Size): number {
  const covers = (s: number) => Math.floor(size.width / s) >= target.width && Math.floor(size.height / s) >= target.height;
  return DCT_SCALES.find(covers) ?? 1;
}

/**
 * True when the miss of a variant resized (as a whole) to `target` should make the intermediate,
 * given that it pays for this original (intermediatePays) and serves this plan. A variant that
 * decodes coarser than the intermediate's own decode would otherwise pay a finer decode and an
 * encode for the misses after it, several times its own cost for a thumbnail: a baseline original
 * is decoded faster the coarser the scale (libjpeg's inverse DCT and all that follows shrink with
 * it), so it waits for a variant that decodes at least as finely; a progressive one is
 * entropy-decoded whole at every scale but 1/8, which its DC scans alone serve, so any miss but
 * one at 1/8 makes it.
 */
export function missMakesIntermediate(original: OriginalFacts, target: Size): boolean {
  const variantScale = coveringDctScale(original, target);
  if (original.progressive) return variantScale < 8;
  return variantScale <= coveringDctScale(original, intermediateSizeOf(original));
}

/** The intermediate's size for an original's oriented size: the long side INTERMEDIATE_LONG_SIDE, the other in proportion. */
export function intermediateSizeOf(original: Size): Size {
  const scale = INTERMEDIATE_LONG_SIDE / Math.max(original.width, original.height);
  return { width: Math.max(1, Math.round(original.width * scale)), height: Math.max(1, Math.round(original.height * scale)) };
}

/**
 * True when a resize of the whole image to `target` (the plan's geometry, in the original's
 * pixels; null when something is cut before the resize) can be made from the intermediate:
 * it only shrinks it.
 */
export function intermediateCovers(target: Size | null, intermediate: Size): boolean {
  return target !== null && target.width <= intermediate.width && target.height <= intermediate.height;
}

/** What the intermediate records about its original (as S3 object metadata). */
export interface IntermediateRecord {
  /** The original's ETag it was made from: it is used only while the original still has it. */
  sourceEtag: string;
  /** The original's oriented size: the plan's geometry is computed on it. */
  source: Size;
  /** The original carried an ICC profile: its variants are tagged sRGB as direct ones are. */
  sourceProfile: boolean;
}

const SOURCE_SIZE_METADATA = "source-size";
const SOURCE_PROFILE_METADATA = "source-profile";

export function intermediateMetadata(record: IntermediateRecord): Record<string, string> {
  return {
    [SOURCE_ETAG_METADATA]: normalizeEtag(record.sourceEtag)!,
    [SOURCE_SIZE_METADATA]: `${record.source.width}x${record.source.height}`,
    [SOURCE_PROFILE_METADATA]: record.sourceProfile ? "1" : "0",
  };
}

/** The record read back, or null when anything is missing or malformed (the intermediate is then ignored). */
export function readIntermediateMetadata(metadata: Readonly<Record<string, string>>): IntermediateRecord | null {
  const sourceEtag = normalizeEtag(metadata[SOURCE_ETAG_METADATA]);
  const size = /^([1-9]\d{0,5})x([1-9]\d{0,5})$/.exec(metadata[SOURCE_SIZE_METADATA] ?? "");
  const profile = metadata[SOURCE_PROFILE_METADATA];
  if (!sourceEtag || !size || (profile !== "0" && profile !== "1")) return null;
  return { sourceEtag, source: { width: Number(size[1]), height: Number(size[2]) }, sourceProfile: profile === "1" };
}
