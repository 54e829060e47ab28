/**
 * The render: a TransformPlan and the bytes of an original in, the bytes of one variant out.
 * It reads as thumbor's order (README §5.1), one named step per line of `renderVariant`:
 *   header check (load.ts) → format (format.ts) → decode, auto-oriented, trim (decode.ts) →
 *   geometry: crop, resize, flips (transform.ts, numbers from geometry.ts) → post-transform
 *   filters in URL order (here and effects/) → encode, max_bytes (encode.ts, fit-bytes.ts).
 *
 * Safety (the original is untrusted input):
 *  - the header is read first (no pixel decode) and a pixel bomb is refused before decoding;
 *    sharp's own `limitInputPixels` is set as well;
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
 *    `fill(blur)` uses the median colour;
 *  - a pixel bomb answers 400 like thumbor's MAX_PIXELS check.
 *
 * Every post-transform filter starts from materialised pixels so URL order is honoured.
 */
import sharp, { type Sharp } from "sharp";
import { POST_FILTER_EFFECTS } from "./effects/index.js";
import { RequestError } from "../core/errors.js";
import { fillLayout, filterCalls, metaDocument, proportionSize, type Operations, type Region, type Size } from "./geometry.js";
import type { FilterArg, FilterCall, OutputFormat, TransformPlan } from "../core/plan.js";
import type { Settings } from "../core/settings.js";
import { decodeOriginal } from "./decode.js";
import { encodeVariant, type Encoded } from "./encode.js";
import { asBoolean, asNumber } from "./filter-values.js";
import { CONTENT_TYPES, outputFormatFor } from "./format.js";
import { framesToRender, readHeader, type Header } from "./load.js";
import { fromPixels, materialise, type Pixels } from "./pixels.js";
import { run } from "./sharp-errors.js";
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
 * Filters the pipeline handles itself. Geometry ones (`focal`, `stretch`, `no_upscale`,
 * `upscale`) act in geometry.ts; encoder ones (`strip_exif`, `strip_icc`, `autojpg`,
 * `max_bytes`, `max_age`) act at encoding; `cover` picks the first frame; the pixel ones run in
 * URL order among the effects.
 */
const PIPELINE_PIXEL_FILTERS = new Set(["fill", "grayscale", "proportion", "background_color"]);
export const PIPELINE_FILTERS: ReadonlySet<string> = new Set([
  ...PIPELINE_PIXEL_FILTERS,
  "focal",
  "stretch",
  "no_upscale",
  "upscale",
  "strip_exif",
  "strip_icc",
  "autojpg",
  "max_bytes",
  "max_age",
  "cover",
]);

export async function renderVariant(input: RenderInput): Promise<RenderedVariant> {
  const { plan, original, settings } = input;
  refuseUnknownFilters(plan);
  const header = await readHeader(original, settings);
  const format = outputFormatFor(plan, header);
  const frames = framesToRender(plan, header, format, settings);
  const decoded = await decodeOriginal(original, header, plan, settings, frames);
  if (plan.meta) return metaVariant(plan, header, decoded.trimmed);
  const ops = planGeometry(plan, decoded, frames, settings);
  const transformed = applyGeometry(decoded, ops, plan, header, frames);
  const filtered = await applyFilters(transformed, plan, ops, frames, input);
  const encoded = await run(encodeVariant(filtered.image, plan, format, { frames, header, background: filtered.background }));
  return imageVariant(encoded, plan, format);
}

/** Refuses an unknown filter before any pixel work. */
function refuseUnknownFilters(plan: TransformPlan): void {
  for (const call of plan.filters) {
    if (!PIPELINE_FILTERS.has(call.name) && !Object.hasOwn(POST_FILTER_EFFECTS, call.name)) throw new RequestError(400, `filter not supported: ${call.name}`);
  }
}

/** `meta`: thumbor's JSON document of the operations instead of an image. */
function metaVariant(plan: TransformPlan, header: Header, trimmed: Region | null): RenderedVariant {
  const doc = metaDocument(plan, { url: plan.source, width: header.orientedWidth, height: header.orientedHeight, frameCount: header.frames, trimmed });
  const body = Buffer.from(JSON.stringify(doc));
  const target = doc.thumbor.target as Size;
  return { body, contentType: CONTENT_TYPES.json, format: "json", width: target.width, height: target.height };
}

/** Post-transform filters in URL order, each on materialised pixels. */
async function applyFilters(image: Sharp, plan: TransformPlan, ops: Operations, frames: number, input: RenderInput): Promise<{ image: Sharp; background: string | null }> {
  const loadObject = input.loadObject ?? (async () => null);
  let background: string | null = null;
  for (const call of plan.filters) {
    if (PIPELINE_FILTERS.has(call.name) && !PIPELINE_PIXEL_FILTERS.has(call.name)) continue;
    const px = await run(materialise(image, frames));
    if (PIPELINE_PIXEL_FILTERS.has(call.name)) {
      const result = await applyPixelFilter(call, px, ops.request, input.settings);
      image = result.image;
      if (result.background) background = result.background;
      continue;
    }
    const effect = POST_FILTER_EFFECTS[call.name]!;
    image = await effect(fromPixels(px), call.args, { width: px.width, height: px.height, loadObject, settings: input.settings });
  }
  return { image, background };
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

/** A colour argument: a CSS name or hex without "#" (thumbor's spelling), as sharp takes it. */
function parseColour(arg: FilterArg | undefined): string {
  const text = String(arg ?? "").trim().toLowerCase();
  if (/^[0-9a-f]{3}$|^[0-9a-f]{6}$/.test(text)) return `#${text}`;
  if (/^[a-z]+$/.test(text)) return text;
  throw new RequestError(400, `not a colour: ${String(arg)}`);
}

/** `fill`, `grayscale`, `proportion`, `background_color` on materialised pixels. */
async function applyPixelFilter(call: FilterCall, px: Pixels, request: Size, limits: Pick<Settings, "maxWidth" | "maxHeight">): Promise<{ image: Sharp; background?: string }> {
  const image = fromPixels(px);
  switch (call.name) {
    case "grayscale":
      return { image: fromPixels(pillowLuma(px)) };
    case "proportion": {
      const p = asNumber(call.args[0]);
      const to = p === null ? null : proportionSize(px.width, px.height, p);
      return { image: to ? image.resize(to.width, to.height, { fit: "fill" }) : image };
    }
    case "background_color": {
      const colour = String(call.args[0] ?? "").toLowerCase();
      if (colour === "transparent" || colour === "") return { image };
      const bg = colour === "auto" ? medianColour(px) : parseColour(call.args[0]);
      return { image: hasAlphaChannel(px) ? image.flatten({ background: bg }) : image, background: bg };
    }
    case "fill":
      return fill(call, px, request, limits);
    default:
      throw new Error(`not a pipeline pixel filter: ${call.name}`);
  }
}

/**
 * thumbor's grayscale() is Pillow's `convert("L")` (or "LA" with alpha): ITU-R 601-2 luma in
 * Pillow's fixed point, L = (19595 R + 38470 G + 7471 B + 32768) >> 16. sharp's greyscale()
 * weighs the channels differently (pure red: 127 there, 76 here and in thumbor).
 */
function pillowLuma(px: Pixels): Pixels {
  if (px.channels <= 2) return px;
  const alpha = px.channels === 4;
  const count = px.data.length / px.channels;
  const out = Buffer.allocUnsafe(count * (alpha ? 2 : 1));
  for (let i = 0, o = 0; i < px.data.length; i += px.channels) {
    out[o++] = (px.data[i]! * 19595 + px.data[i + 1]! * 38470 + px.data[i + 2]! * 7471 + 0x8000) >>> 16;
    if (alpha) out[o++] = px.data[i + 3]!;
  }
  return { data: out, width: px.width, height: px.height, frames: px.frames, channels: alpha ? 2 : 1 };
}

function hasAlphaChannel(px: Pixels): boolean {
  return px.channels === 2 || px.channels === 4;
}

/** thumbor's `fill(auto)`: the median of each colour channel over all pixels (first frame). */
function medianColour(px: Pixels): string {
  const n = px.width * px.height;
  const grey = px.channels <= 2;
  const out: number[] = [];
  for (let c = 0; c < (grey ? 1 : 3); c++) {
    const hist = new Uint32Array(256);
    for (let i = 0; i < n; i++) hist[px.data[i * px.channels + c]!]!++;
    let seen = 0;
    let v = 0;
    for (; v < 256; v++) {
      seen += hist[v]!;
      if (seen * 2 >= n) break;
    }
    out.push(v);
  }
  const [r, g, b] = grey ? [out[0]!, out[0]!, out[0]!] : out;
  return `#${[r, g, b].map((v) => v!.toString(16).padStart(2, "0")).join("")}`;
}

/**
 * `fill(color[, fill_transparent])`: a canvas of the request size (a 0 side uses the image's),
 * the image centred on it. `transparent` keeps an alpha canvas, `auto` uses the median colour,
 * `blur` the image itself stretched and blurred (thumbor's radius-50 blur; the median colour for
 * animated images, which sharp cannot composite frame by frame). `fill_transparent` also paints
 * the image's own transparent pixels.
 */
async function fill(call: FilterCall, px: Pixels, request: Size, limits: Pick<Settings, "maxWidth" | "maxHeight">): Promise<{ image: Sharp; background?: string }> {
  const mode = String(call.args[0] ?? "").toLowerCase();
  const fillTransparent = asBoolean(call.args[1], false);
  const layout = fillLayout(request, { width: px.width, height: px.height });
  if (layout.canvas.width > limits.maxWidth || layout.canvas.height > limits.maxHeight) {
    throw new RequestError(400, `fill canvas ${layout.canvas.width}x${layout.canvas.height} exceeds the maximum ${limits.maxWidth}x${limits.maxHeight}`);
  }
  let image = fromPixels(px);
  let w = px.width;
  let h = px.height;
  // The image is larger than the canvas on an axis: keep its centre (Pillow's paste clips).
  if (layout.left < 0 || layout.top < 0) {
    const cut = { left: Math.max(0, -layout.left), top: Math.max(0, -layout.top), width: Math.min(w, layout.canvas.width), height: Math.min(h, layout.canvas.height) };
    image = fromPixels(await materialise(image.extract(cut), px.frames));
    w = cut.width;
    h = cut.height;
  }
  const left = Math.max(0, layout.left);
  const top = Math.max(0, layout.top);
  const pad = { left, top, right: layout.canvas.width - w - left, bottom: layout.canvas.height - h - top };

  if (mode === "blur" && px.frames === 1) {
    const sigma = 25; // thumbor blurs with radius 50
    const backdrop = await fromPixels(px).resize(layout.canvas.width, layout.canvas.height, { fit: "fill" }).blur(sigma).removeAlpha().png().toBuffer();
    let fg = image;
    if (fillTransparent && hasAlphaChannel(px)) fg = fg.flatten({ background: medianColour(px) });
    const fgBuffer = await fg.png().toBuffer();
    return { image: sharp(backdrop).composite([{ input: fgBuffer, left, top }]) };
  }
  let colour: string | { r: number; g: number; b: number; alpha: number };
  if (mode === "transparent") colour = { r: 0, g: 0, b: 0, alpha: 0 };
  else if (mode === "auto" || mode === "blur") colour = medianColour(px);
  else colour = parseColour(call.args[0]);
  if (fillTransparent && hasAlphaChannel(px) && typeof colour === "string") image = fromPixels(await materialise(image.flatten({ background: colour }), px.frames));
  if (typeof colour !== "string") image = image.ensureAlpha();
  image = image.extend({ ...pad, background: colour });
  return { image, ...(typeof colour === "string" ? { background: colour } : {}) };
}
