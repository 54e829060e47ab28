/**
 * The intermediate's pixels (its rules are core/intermediate.ts): made from an original, and a
 * variant rendered from it in place of the original. The plan's geometry is computed on the
 * original's size (recorded with the intermediate), as a draft decode's is (draft.ts): the
 * intermediate is only ever the source of a resize of the whole image, which sharp makes from
 * whatever size of pixels it is given.
 */
import sharp, { type Metadata } from "sharp";
import { IMAGE_FORMATS } from "../core/formats.js";
import type { TransformPlan } from "../core/plan.js";
import type { Settings } from "../core/settings.js";
import {
  INTERMEDIATE_CHROMA,
  INTERMEDIATE_QUALITY,
  intermediateCovers,
  intermediatePays,
  missMakesIntermediate,
  intermediateSizeOf,
  planMayUseIntermediate,
  type IntermediateRecord,
} from "../core/intermediate.js";
import type { Size } from "./geometry.js";
import { planOperations } from "./geometry.js";
import { decodeOptions } from "./decode.js";
import { checkedHeader, readMetadata, type Header } from "./load.js";
import { renderVariant, type RenderInput, type RenderedVariant } from "./pipeline.js";
import { run } from "./common/sharp-errors.js";
import { wholeImageResize } from "./transform.js";

export interface MadeIntermediate {
  body: Buffer;
  /** What it records of the original, but its ETag (the handler's to know). */
  source: Size;
  sourceProfile: boolean;
}

/**
 * The intermediate of `original` for a miss of `plan`, or null when it does not pay for this
 * original or this plan could not be made from it (a miss that can use it makes it). An
 * original the render would refuse (garbage, a pixel bomb) gets none: its own render refuses it.
 */
export async function makeIntermediate(original: Buffer, plan: TransformPlan, settings: Settings): Promise<MadeIntermediate | null> {
  if (!planMayUseIntermediate(plan, settings)) return null;
  let m: Metadata;
  let header: Header;
  try {
    m = await readMetadata(original);
    header = checkedHeader(m, settings);
  } catch {
    return null;
  }
  const source = { width: header.orientedWidth, height: header.orientedHeight };
  const facts = { format: header.format, ...source, frames: header.frames, progressive: m.isProgressive, space: header.space };
  if (!intermediatePays(facts)) return null;
  const target = resizeTarget(plan, header, settings);
  if (!target || !intermediateCovers(target, intermediateSizeOf(source)) || !missMakesIntermediate(facts, target)) return null;
  return { body: await encodeIntermediate(original, source, settings), source, sourceProfile: header.hasProfile };
}

/** The intermediate's bytes for an original of this oriented size, whether or not it pays (bench/ measures where it does). */
export function encodeIntermediate(original: Buffer, source: Size, settings: Settings): Promise<Buffer> {
  const size = intermediateSizeOf(source);
  // sharp converts to sRGB through the original's profile and writes no metadata: the pixels a direct render would start from.
  return run(
    sharp(original, decodeOptions(settings, 1))
      .resize(size.width, size.height, { fit: "fill" })
      .jpeg({ quality: INTERMEDIATE_QUALITY, chromaSubsampling: INTERMEDIATE_CHROMA, mozjpeg: false })
      .toBuffer(),
  );
}

/** True when this plan may be made from an intermediate with this record (the plan's rules, then its geometry). */
export function intermediateServes(plan: TransformPlan, record: IntermediateRecord, settings: Settings): boolean {
  if (!planMayUseIntermediate(plan, settings)) return false;
  let header: Header;
  try {
    header = originalHeader(record, settings);
  } catch {
    return false; // over today's maxInputPixels: the original's own render refuses it
  }
  return servesWithHeader(plan, header, settings);
}

/**
 * True when the stored bytes are the intermediate its record describes: a JPEG of exactly the
 * size made for that original. Anything else in its place (a truncated write, an object someone
 * else put there) is not decoded, and the miss makes it again from the original.
 */
export async function isIntermediateOf(body: Buffer, record: IntermediateRecord): Promise<boolean> {
  let m: Metadata;
  try {
    m = await readMetadata(body);
  } catch {
    return false;
  }
  const size = intermediateSizeOf(record.source);
  return m.format === INTERMEDIATE_SHARP_FORMAT && m.width === size.width && m.height === size.height && (m.orientation ?? 1) === 1;
}

/** The intermediate is a JPEG (core/intermediate.ts), by sharp's name for it. */
const INTERMEDIATE_SHARP_FORMAT = IMAGE_FORMATS.jpeg.sharpName;

/** The variant, rendered from `intermediate` in place of the original the record describes. */
export async function renderFromIntermediate(
  input: Omit<RenderInput, "original" | "originalHeader">,
  intermediate: Buffer,
  record: IntermediateRecord,
): Promise<RenderedVariant> {
  if (!intermediateServes(input.plan, record, input.settings)) throw new Error("this plan cannot be made from an intermediate");
  return renderVariant({ ...input, original: intermediate, originalHeader: originalHeader(record, input.settings) });
}

/** The size the whole original is resized to for this plan, or null when something is cut first (transform.ts). */
function resizeTarget(plan: TransformPlan, header: Header, settings: Settings): Size | null {
  const size = { width: header.orientedWidth, height: header.orientedHeight };
  return wholeImageResize({ plan, header, frames: 1, settings }, planOperations(plan, size.width, size.height), size);
}

function servesWithHeader(plan: TransformPlan, header: Header, settings: Settings): boolean {
  const size = { width: header.orientedWidth, height: header.orientedHeight };
  return intermediateCovers(resizeTarget(plan, header, settings), intermediateSizeOf(size));
}

/** The original's header as its record tells it, through the checks every original passes (load.ts). */
function originalHeader(record: IntermediateRecord, settings: Settings): Header {
  const { width, height } = record.source;
  const m = {
    format: INTERMEDIATE_SHARP_FORMAT,
    width,
    height,
    space: "srgb",
    channels: 3,
    hasAlpha: false,
    isPalette: false,
    hasProfile: record.sourceProfile,
  };
  return checkedHeader(m as Metadata, settings);
}
