/**
 * The render: a TransformPlan and the bytes of an original in, the bytes of one variant out.
 * It reads in thumbor's order (load, format, orientation, trim, crop, resize, flips, post filters, encode), one named step per line of `renderVariant`:
 *   header check (load.ts) → format (format.ts) → decode, auto-oriented, trim (decode.ts) →
 *   a smaller JPEG decode where sharp would not make one (draft.ts) →
 *   geometry: crop, resize, flips (transform.ts, numbers from geometry.ts) → post-transform
 *   filters in URL order (here and effects/) → encode, max_bytes (encode.ts, fit-bytes.ts).
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
import { checkRenderBudget, type RenderFacts } from "../core/render-budget.js";
import { type Operations, type Region, type Size } from "./geometry.js";
import { metaDocument } from "./meta.js";
import type { TransformPlan } from "../core/plan.js";
import type { Settings } from "../core/settings.js";
import { checkDeadline, withDeadline, type RenderDeadline } from "./deadline.js";
import { decodeOriginal } from "./decode.js";
import { draftDecode } from "./draft.js";
import { encodeVariant, type Encoded } from "./encode.js";
import { outputFormatFor } from "./format.js";
import { framesToRender, readHeader, type Header } from "./load.js";
import { run } from "./common/sharp-errors.js";
import { applyGeometry, planGeometry } from "./transform.js";

export { CONTENT_TYPES, outputFormatFor };

// Lambda handles one image at a time: sharp's operation cache would only hold memory.
sharp.cache(false);
// One libvips worker thread per image, whatever sharp detects (it already picks 1 under glibc,
// which Lambda runs). More threads bought nothing here: JPEG decode, WebP and AVIF encode at
// these sizes are sequential (BENCHMARKS.md), but they cost memory.
sharp.concurrency(1);

export interface RenderInput {
  plan: TransformPlan;
  original: Buffer;
  settings: Settings;
  /** Reads another object of the originals' bucket (watermark, frame). */
  loadObject?: (key: string) => Promise<Buffer | null>;
  /** Past it the render stops with a 422 "too costly to render" (deadline.ts); none: no limit. */
  deadline?: RenderDeadline;
}

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
  const { plan, original, settings, deadline } = input;
  refuseUnknownFilters(plan);
  const header = await readHeader(original, settings);
  const format = outputFormatFor(plan, header);
  const frames = framesToRender(plan, header, format, settings);
  checkRenderBudget(plan, settings, renderFacts(header, frames, format));
  const decoded = await decodeOriginal(original, header, plan, settings, frames);
  if (plan.meta) return metaVariant(plan, header, decoded.trimmed);
  checkDeadline(deadline);
  const ops = planGeometry(plan, decoded, frames, settings);
  const draft = await draftDecode(original, decoded, ops, plan, header, frames, settings);
  try {
    const transformed = await run(applyGeometry(draft ? { ...decoded, image: draft.image } : decoded, ops, plan, header, frames, settings));
    const filtered = await applyFilters(withDeadline(transformed, deadline), plan, ops, format, frames, input);
    const encoded = await run(
      encodeVariant(withDeadline(filtered.image, deadline), plan, format, {
        frames,
        header,
        background: filtered.background,
        progressiveJpeg: settings.thumbor.progressiveJpeg,
        deadline,
      }),
    );
    return imageVariant(encoded, plan, format);
  } finally {
    await draft?.release();
  }
}

/** What the header tells the render budget (the URL alone leaves the original's size, frames and format open). */
function renderFacts(header: Header, frames: number, format: OutputFormat): RenderFacts {
  return { source: { width: header.orientedWidth, height: header.orientedHeight, format: header.format }, frames, format };
}

/** Refuses an unknown filter before any pixel work. */
function refuseUnknownFilters(plan: TransformPlan): void {
  for (const call of plan.filters) {
    if (!PIPELINE_FILTERS.has(call.name) && !Object.hasOwn(POST_FILTER_EFFECTS, call.name))
      throw new RequestError(400, `filter not supported: ${call.name}`);
  }
}

/** `meta`: thumbor's JSON document of the operations instead of an image. */
function metaVariant(plan: TransformPlan, header: Header, trimmed: Region | null): RenderedVariant {
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
async function applyFilters(
  image: Sharp,
  plan: TransformPlan,
  ops: Operations,
  format: OutputFormat,
  frames: number,
  input: RenderInput,
): Promise<{ image: Sharp; background: string | null }> {
  const loadObject = input.loadObject ?? (async () => null);
  const chain: Omit<EffectContext, "width" | "height"> = {
    loadObject,
    settings: input.settings,
    request: ops.request,
    outputFormat: format,
    flatten: { colour: null },
    deadline: input.deadline,
    bucketImages: new Map(),
  };
  for (const call of plan.filters) {
    if (PIPELINE_FILTERS.has(call.name)) continue;
    checkDeadline(input.deadline);
    const px = await run(materialise(image, "keep", frames));
    const effect = POST_FILTER_EFFECTS[call.name]!;
    image = await effect(fromRaw(px), call.args, { ...chain, width: px.width, height: px.height });
  }
  return { image, background: chain.flatten.colour };
}

/** The encoded image as the handler stores it, with `max_age` when the plan asks. */
function imageVariant(encoded: Encoded, plan: TransformPlan, format: OutputFormat): RenderedVariant {
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
