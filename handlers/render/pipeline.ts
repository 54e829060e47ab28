/**
 * The render: a TransformPlan and the bytes of an original in, the bytes of one variant out.
 * It reads in thumbor's order (load, format, orientation, trim, crop, resize, flips, post filters, encode), one named step per line of `renderVariant`:
 *   header check (load.ts) → format (format.ts) → decode, auto-oriented, trim (decode.ts) →
 *   a smaller JPEG decode where sharp would not make one (draft.ts) →
 *   geometry: crop, resize, flips (transform.ts, numbers from geometry.ts) → post-transform
 *   filters in URL order (here and effects/) → encode, max_bytes (encode.ts, fit-bytes.ts).
 * The first three steps complete the one render context (context.ts: plan, original, settings,
 * header, output format, frames, budget facts, deadline, the reader of other images); every step
 * after them is a function of that context and of what the step before handed over. No step
 * names a format: what a format means (its output, its encoder's capabilities, JPEG's draft) is
 * a row of core/formats.ts.
 *
 * Safety (the original is untrusted input):
 *  - the header is read first (no pixel decode) and a pixel bomb is refused before decoding;
 *    sharp's own `limitInputPixels` is set as well; so is a plan too costly for this original
 *    (core/render-budget.ts, with the header's size, frames and the output format);
 *  - only known raster formats (and SVG when allowed) are decoded; anything else, garbage or a
 *    decoder failure answers 400, never a 500;
 *  - `failOn: "none"`: a truncated JPEG renders what is there, as thumbor's
 *    LOAD_TRUNCATED_IMAGES does;
 *  - SVG: librsvg never loads external resources (http or file references are not fetched; a
 *    test checks it with a local server).
 *
 * Known differences from thumbor (each a choice, documented where it is made):
 *  - orientation is always applied (thumbor's RESPECT_ORIENTATION=True), and the meta document's
 *    source size is the oriented size;
 *  - SVG is rasterised at sharp's 72 dpi: px-sized SVGs get their exact size (as in thumbor),
 *    physical units (in, cm) come out smaller than thumbor's SVG_DPI=150;
 *  - animated originals kept animated: no trim (thumbor skips it for GIFs too), `smart` uses the
 *    alignment/focal crop (sharp's attention strategy refuses multi-page images), and
 *    `fill(blur)` uses the automatic (mean) colour;
 *  - a pixel bomb answers 400 like thumbor's MAX_PIXELS check.
 *
 * Every post-transform filter starts from materialised pixels so URL order is honoured.
 */
import sharp, { type Sharp } from "sharp";
import { asNumber } from "./common/filter-args.js";
import { POST_FILTER_EFFECTS, type EffectContext } from "./effects/index.js";
import { fromRaw, materialise } from "./common/raw.js";
import { RequestError } from "../core/errors.js";
import { EFFECT_FILTERS, IMPLEMENTED_FILTERS } from "../core/filter-registry.js";
import { CONTENT_TYPES, type OutputFormat } from "../core/formats.js";
import { filterCalls } from "../core/plan-queries.js";
import { checkRenderBudget } from "../core/render-budget.js";
import { type Operations, type Region, type Size } from "./geometry.js";
import { metaDocument } from "./meta.js";
import type { TransformPlan } from "../core/plan.js";
import { openRenderContext, type RenderContext, type RenderInput } from "./context.js";
import { checkDeadline, withDeadline } from "./deadline.js";
import { decodeOriginal } from "./decode.js";
import { WholeOriginalNeeded, draftDecode } from "./draft.js";
import { encodeVariant, type Encoded } from "./encode.js";
import { outputFormatFor } from "./format.js";
import { run } from "./common/sharp-errors.js";
import { applyGeometry, planGeometry } from "./transform.js";

export { CONTENT_TYPES, WholeOriginalNeeded, outputFormatFor };
export type { RenderInput };

// Lambda handles one image at a time: sharp's operation cache would only hold memory.
sharp.cache(false);
// One libvips worker thread per image, whatever sharp detects (it already picks 1 under glibc,
// which Lambda runs). More threads bought nothing here: JPEG decode, WebP and AVIF encode at
// these sizes are sequential (BENCHMARKS.md), but they cost memory.
sharp.concurrency(1);

export interface RenderedVariant {
  body: Buffer;
  contentType: string;
  format: OutputFormat | "json";
  width: number;
  height: number;
  /** `max_age(seconds)`: the Cache-Control max-age the handler should send instead of the default. */
  maxAge?: number;
}

/**
 * Filters the pipeline handles itself: every implemented filter that is not an effect. Geometry
 * ones (`focal`, `stretch`, `no_upscale`, `upscale`) act in geometry.ts; encoder ones
 * (`strip_icc`, `autojpg`, `max_bytes`, `max_age`) act at encoding; `cover` picks the first
 * frame; `strip_exif` needs no code (the registry's "none": no variant carries EXIF). Every pixel
 * filter is an effect (effects/index.ts) and runs in URL order.
 */
export const PIPELINE_FILTERS: ReadonlySet<string> = new Set([...IMPLEMENTED_FILTERS].filter((name) => !EFFECT_FILTERS.has(name)));

export async function renderVariant(input: RenderInput): Promise<RenderedVariant> {
  refuseUnknownFilters(input.plan);
  const ctx = await openRenderContext(input);
  const { deadline } = ctx;
  checkRenderBudget(ctx.plan, ctx.settings, ctx.facts);
  if (ctx.dcPrefix && ctx.plan.trim) throw new WholeOriginalNeeded("trim reads the full-size pixels");
  const decoded = await decodeOriginal(ctx);
  if (ctx.plan.meta) return metaVariant(ctx, decoded.trimmed);
  checkDeadline(deadline);
  const ops = planGeometry(ctx, decoded);
  // An intermediate is already small: no draft decode of it.
  const draft = ctx.intermediate ? null : await draftDecode(ctx, decoded, ops);
  try {
    const transformed = await run(applyGeometry(ctx, draft ? { ...decoded, image: draft.image } : decoded, ops));
    const filtered = await applyFilters(ctx, withDeadline(transformed, deadline), ops);
    const encoded = await run(encodeVariant(ctx, { ...filtered, image: withDeadline(filtered.image, deadline) }));
    return imageVariant(ctx, encoded);
  } finally {
    await draft?.release();
  }
}

/** Refuses an unknown filter before any pixel work. */
function refuseUnknownFilters(plan: TransformPlan): void {
  for (const call of plan.filters) {
    if (!PIPELINE_FILTERS.has(call.name) && !Object.hasOwn(POST_FILTER_EFFECTS, call.name))
      throw new RequestError(400, `filter not supported: ${call.name}`);
  }
}

/** `meta`: thumbor's JSON document of the operations instead of an image. */
function metaVariant({ plan, header }: RenderContext, trimmed: Region | null): RenderedVariant {
  const doc = metaDocument(plan, {
    url: plan.source,
    width: header.orientedWidth,
    height: header.orientedHeight,
    frameCount: header.frames,
    trimmed,
  });
  const body = Buffer.from(JSON.stringify(doc));
  const target = doc.thumbor.target as Size;
  return { body, contentType: CONTENT_TYPES.json, format: "json", width: target.width, height: target.height };
}

/** Post-transform filters in URL order, each on materialised pixels; the last fill/background colour is what JPEG flattens onto. */
async function applyFilters(ctx: RenderContext, image: Sharp, ops: Operations): Promise<{ image: Sharp; background: string | null }> {
  const chain: Omit<EffectContext, "width" | "height"> = { ...ctx, request: ops.request, flatten: { colour: null } };
  for (const call of ctx.plan.filters) {
    if (PIPELINE_FILTERS.has(call.name)) continue;
    checkDeadline(ctx.deadline);
    const px = await run(materialise(image, "keep", ctx.frames));
    const effect = POST_FILTER_EFFECTS[call.name]!;
    image = await effect(fromRaw(px), call.args, { ...chain, width: px.width, height: px.height });
  }
  return { image, background: chain.flatten.colour };
}

/** The encoded image as the handler stores it, with `max_age` when the plan asks. */
function imageVariant({ plan, outputFormat: format }: RenderContext, encoded: Encoded): RenderedVariant {
  const maxAgeCall = filterCalls(plan, "max_age").at(-1);
  const maxAge = maxAgeCall ? asNumber(maxAgeCall.args[0]) : null;
  return {
    body: encoded.data,
    contentType: CONTENT_TYPES[format],
    format,
    width: encoded.width,
    height: encoded.height,
    ...(maxAge !== null && maxAge >= 0 ? { maxAge: Math.floor(maxAge) } : {}),
  };
}
