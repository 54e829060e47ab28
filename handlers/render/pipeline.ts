/**
 * The sharp pipeline: the only module that touches sharp (apart from the effects it calls).
 * It turns a TransformPlan and the bytes of an original into the bytes of one variant.
 *
 * Order, as thumbor's (README §5.1), with thumbor's RESPECT_ORIENTATION always on:
 *   header check → decode (auto-oriented) → trim → geometry (manual crop, auto-crop or fit-in,
 *   resize, flips; numbers from geometry.ts) → post-transform filters in URL order → encode.
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
 *    `fill(blur)` uses `fill(auto)`'s colour;
 *  - a pixel bomb answers 400 like thumbor's MAX_PIXELS check.
 *
 * sharp applies its operations in a fixed order, not in call order, and keeps one slot per kind
 * of operation. The transform stage (extract → resize → flip/flop) matches that order; every
 * post-transform filter starts from materialised pixels so URL order is honoured.
 */
import sharp, { type Metadata, type Sharp } from "sharp";
import { asBoolean, asNumber } from "./effects/args.js";
import { POST_FILTER_EFFECTS, type EffectContext } from "./effects/index.js";
import { fromRaw, materialise } from "./effects/raw.js";
import { naiveCmykToRgb } from "./cmyk.js";
import { RequestError } from "../core/errors.js";
import { EFFECT_FILTERS, IMPLEMENTED_FILTERS } from "../core/filter-registry.js";
import { filterCalls, hasFilter, metaDocument, planOperations, trimBox, type Region, type Size } from "./geometry.js";
import { CONTENT_TYPES, READABLE_SHARP_FORMATS, type OutputFormat } from "../core/formats.js";
import type { TransformPlan } from "../core/plan.js";
import type { Settings } from "../core/settings.js";

// Lambda handles one image at a time: sharp's operation cache would only hold memory.
sharp.cache(false);
// One libvips worker thread per image, whatever sharp detects: more threads bought no speed at
// these sizes but cost memory (measurements: docs/encoder-tuning.md).
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
 * `max_bytes`, `max_age`) act at encoding; `cover` picks the first frame. Every pixel filter is
 * an effect (effects/index.ts) and runs in URL order.
 */
export const PIPELINE_FILTERS: ReadonlySet<string> = new Set([
  ...[...IMPLEMENTED_FILTERS].filter((name) => !EFFECT_FILTERS.has(name)),
]);

/**
 * Encoder effort, tuned for a Lambda@Edge budget: WebP at libwebp's default balance; AVIF at
 * effort 0, because higher efforts are several times slower on detailed photos for files a few
 * percent smaller, which a viewer-facing cache miss cannot afford. The measurements:
 * docs/encoder-tuning.md and BENCHMARKS.md ("AVIF effort").
 */
const WEBP_EFFORT = 4;
const AVIF_EFFORT = 0;

interface Header {
  format: string;
  width: number;
  /** One frame's height (the whole image for still images). */
  frameHeight: number;
  frames: number;
  orientedWidth: number;
  orientedHeight: number;
  hasAlpha: boolean;
  isPalette: boolean;
  hasProfile: boolean;
  /** The original's colour space as libvips reads it ("cmyk" for CMYK JPEGs). */
  space?: string;
  compression?: string;
  /** Animation timing, re-applied on output (materialised pixels lose it). */
  loop?: number;
  delay?: number[];
}

/** First line of a sharp/libvips error: enough to say why, nothing about our internals. */
function shortReason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return (text.split("\n")[0] ?? "").replace(/^[^:]*\/[^:]*: /, "").slice(0, 120);
}

/** Reads the header only (no pixel decode). Garbage, HTML, empty input → 400. */
async function readHeader(original: Buffer, settings: Settings): Promise<Header> {
  if (original.length === 0) throw new RequestError(400, "not a supported image: empty file");
  let m: Metadata;
  try {
    // No pixel limit here: the header of a bomb must be readable so we can refuse it ourselves.
    m = await sharp(original, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new RequestError(400, `not a supported image: ${shortReason(err)}`);
  }
  if (!READABLE_SHARP_FORMATS.has(m.format)) throw new RequestError(400, `not a supported image: ${m.format} input is not accepted`);
  if (m.format === "heif" && m.compression === "hevc") throw new RequestError(400, "not a supported image: HEIC (HEVC) originals cannot be decoded here");
  if (m.format === "svg" && !settings.allowSvg) throw new RequestError(415, "SVG originals are not enabled (allowSvg)");
  const frames = m.pages && m.pages > 1 && (m.format === "gif" || m.format === "webp") ? m.pages : 1;
  const frameHeight = m.pageHeight ?? m.height;
  if (m.width * frameHeight > settings.maxInputPixels) {
    throw new RequestError(400, `image too large: ${m.width}x${frameHeight} px exceeds maxInputPixels ${settings.maxInputPixels}`);
  }
  return {
    format: m.format,
    width: m.width,
    frameHeight,
    frames,
    orientedWidth: m.autoOrient?.width ?? m.width,
    orientedHeight: frames > 1 ? frameHeight : (m.autoOrient?.height ?? m.height),
    hasAlpha: m.hasAlpha,
    isPalette: m.isPalette,
    hasProfile: m.hasProfile,
    space: m.space,
    compression: m.compression,
    loop: m.loop,
    delay: m.delay,
  };
}

/**
 * The format of the answer. `plan.format` wins; otherwise the original's own format as thumbor
 * serves it (§5.8): TIFF → PNG (thumbor's FORMATS table), SVG → PNG (rasterised, as
 * cairosvg does), AVIF → AVIF, HEIC → JPEG (no HEVC encoder in sharp's build). `autojpg()` turns
 * an opaque PNG into JPEG (thumbor's AUTO_PNG_TO_JPG, per request).
 */
export function outputFormatFor(plan: TransformPlan, header: Pick<Header, "format" | "hasAlpha" | "compression">): OutputFormat {
  if (plan.format) return plan.format;
  let format: OutputFormat;
  switch (header.format) {
    case "jpeg":
    case "png":
    case "webp":
    case "gif":
      format = header.format;
      break;
    case "heif":
      format = header.compression === "av1" ? "avif" : "jpeg";
      break;
    default:
      format = "png";
  }
  const autojpg = filterCalls(plan, "autojpg").at(-1);
  if (autojpg && asBoolean(autojpg.args[0], true) && format === "png" && !header.hasAlpha) format = "jpeg";
  return format;
}

/**
 * Runs sharp, turning its failures into a 400. The header was readable and of an accepted
 * format, so a libvips error from here on is the original's pixel data that cannot be decoded
 * (a corrupt body, an HEVC-coded HEIC without a decoder: libvips then says "Unknown error").
 * Programming errors (TypeError and friends) are not sharp's and stay 500s.
 */
async function run<T>(what: Promise<T>): Promise<T> {
  try {
    return await what;
  } catch (err) {
    if (err instanceof RequestError) throw err;
    if (err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError || !(err instanceof Error)) throw err;
    throw new RequestError(400, `not a supported image: ${shortReason(err)}`);
  }
}

export async function renderVariant(input: RenderInput): Promise<RenderedVariant> {
  const { plan, original, settings } = input;
  const loadObject = input.loadObject ?? (async () => null);
  // Refuse an unknown filter before any pixel work.
  for (const call of plan.filters) {
    if (!PIPELINE_FILTERS.has(call.name) && !Object.hasOwn(POST_FILTER_EFFECTS, call.name)) throw new RequestError(400, `filter not supported: ${call.name}`);
  }
  const header = await readHeader(original, settings);
  const format = outputFormatFor(plan, header);
  const keepFrames = header.frames > 1 && !plan.meta && !hasFilter(plan, "cover") && (format === "gif" || format === "webp");
  if (keepFrames && header.frames > settings.maxFrames) {
    throw new RequestError(400, `animated image has ${header.frames} frames, limit is ${settings.maxFrames}`);
  }
  const frames = keepFrames ? header.frames : 1;
  // Every kept frame is decoded: the pixel budget covers them all, not just one.
  if (keepFrames && header.width * header.frameHeight * frames > settings.maxInputPixels) {
    throw new RequestError(400, `animated image too large: ${frames} frames of ${header.width}x${header.frameHeight} px exceed maxInputPixels ${settings.maxInputPixels}`);
  }
  const decode = (): Sharp =>
    sharp(original, {
      autoOrient: true,
      failOn: "none",
      limitInputPixels: settings.maxInputPixels * frames,
      ...(keepFrames ? { animated: true } : {}),
    });
  // cmykConversion "naive": thumbor's profile-blind CMYK conversion instead of libvips' colour-managed one.
  const naiveCmyk = header.space === "cmyk" && settings.cmykConversion === "naive";
  const decodeRgb = async (): Promise<Sharp> => (naiveCmyk ? run(naiveCmykToRgb(decode())) : decode());

  // Trim needs the pixels: decode once to raw and continue from there. Animated originals are not
  // trimmed (thumbor skips trim for GIFs too).
  let image: Sharp;
  let size: Size = { width: header.orientedWidth, height: header.orientedHeight };
  let trimmed: Region | null = null;
  if (plan.trim && frames === 1) {
    const px = await run(materialise(await decodeRgb(), "keep", 1));
    trimmed = trimBox(px.data, px.width, px.height, px.channels, plan.trim.corner, plan.trim.tolerance);
    image = fromRaw(px);
    if (trimmed) {
      image = image.extract(trimmed);
      size = { width: trimmed.width, height: trimmed.height };
      // The extract is pending on `image`; geometry's crop must apply to the trimmed pixels.
      image = fromRaw(await materialise(image, "keep", 1));
    }
  } else {
    image = await decodeRgb();
  }

  if (plan.meta) {
    const doc = metaDocument(plan, { url: plan.source, width: header.orientedWidth, height: header.orientedHeight, frameCount: header.frames, trimmed });
    const body = Buffer.from(JSON.stringify(doc));
    const target = doc.thumbor.target as Size;
    return { body, contentType: CONTENT_TYPES.json, format: "json", width: target.width, height: target.height };
  }

  const ops = planOperations(plan, size.width, size.height, trimmed ? { left: trimmed.left, top: trimmed.top } : undefined);
  if (ops.target.width > settings.maxWidth || ops.target.height > settings.maxHeight) {
    throw new RequestError(400, `output ${ops.target.width}x${ops.target.height} exceeds the maximum ${settings.maxWidth}x${settings.maxHeight}`);
  }
  // Every kept frame is also rendered and encoded at the target size: the pixel budget covers
  // the output too (measured: 100 frames of 16x16 asked at 2000x2000 took 153 s, 145 MB of GIF).
  if (frames > 1 && ops.target.width * ops.target.height * frames > settings.maxInputPixels) {
    throw new RequestError(400, `animated output too large: ${frames} frames of ${ops.target.width}x${ops.target.height} px exceed maxInputPixels ${settings.maxInputPixels}`);
  }

  // Transform stage, in sharp's own order: one extract, one resize, then flips.
  let region: Region | null = ops.manualCrop;
  // sharp's attention strategy refuses multi-page images; "alignment" is thumbor without detectors.
  const smart = ops.smartCrop && frames === 1 && settings.thumbor.smartCrop === "attention";
  if (ops.autoCrop && !smart) {
    const base = region ?? { left: 0, top: 0, width: size.width, height: size.height };
    region = { left: base.left + ops.autoCrop.left, top: base.top + ops.autoCrop.top, width: ops.autoCrop.width, height: ops.autoCrop.height };
  }
  const shrinkOnLoad = !plan.trim && frames === 1 && (header.format === "jpeg" || header.format === "webp");
  const auto = ops.autoCrop;
  const down = ops.resize;
  if (!smart && shrinkOnLoad && auto && !ops.manualCrop && down && down.width < auto.width && down.height < auto.height) {
    // Same picture, faster: thumbor crops then downscales the box; scaling the whole image first
    // and cutting the scaled box lets libjpeg/libwebp decode at a fraction of the size
    // (measured on a 5640x3172 JPEG → 300x300: 285 ms crop-first, 82 ms scale-first). The two
    // differ only by sub-pixel resampling at the box's edges (a test bounds the difference).
    const sx = down.width / auto.width;
    const sy = down.height / auto.height;
    const scaled = { width: Math.max(down.width, Math.round(size.width * sx)), height: Math.max(down.height, Math.round(size.height * sy)) };
    let left = Math.min(Math.round(auto.left * sx), scaled.width - down.width);
    let top = Math.min(Math.round(auto.top * sy), scaled.height - down.height);
    // sharp flips before a post-resize extract: cut the mirrored box so that the result is
    // flip(crop(image)), thumbor's order.
    if (ops.flipHorizontal) left = scaled.width - down.width - left;
    if (ops.flipVertical) top = scaled.height - down.height - top;
    image = image.resize(scaled.width, scaled.height, { fit: "fill" }).extract({ left, top, width: down.width, height: down.height });
  } else {
    if (region) image = image.extract(region);
    if (smart) {
      const box = down ?? { width: auto!.width, height: auto!.height };
      image = image.resize(box.width, box.height, { fit: "cover", position: sharp.strategy.attention });
    } else if (down) {
      image = image.resize(down.width, down.height, { fit: "fill" });
    }
  }
  if (ops.flipHorizontal) image = image.flop();
  if (ops.flipVertical) image = image.flip();

  // Post-transform filters in URL order.
  const chain: Omit<EffectContext, "width" | "height"> = { loadObject, settings, request: ops.request, outputFormat: format, flatten: { colour: null } };
  for (const call of plan.filters) {
    if (PIPELINE_FILTERS.has(call.name)) continue;
    const px = await run(materialise(image, "keep", frames));
    const effect = POST_FILTER_EFFECTS[call.name]!;
    image = await effect(fromRaw(px), call.args, { ...chain, width: px.width, height: px.height });
  }

  const encoded = await run(encode(image, plan, format, { frames, header, background: chain.flatten.colour }));
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

interface EncodeContext {
  frames: number;
  header: Header;
  /** Last fill/background colour: JPEG flattens alpha onto it (white otherwise). */
  background: string | null;
}

async function encode(image: Sharp, plan: TransformPlan, format: OutputFormat, ctx: EncodeContext): Promise<{ data: Buffer; width: number; height: number }> {
  const quality = plan.quality;
  const maxBytesCall = filterCalls(plan, "max_bytes").at(-1);
  const maxBytes = maxBytesCall ? asNumber(maxBytesCall.args[0]) : null;
  const mayRetry = maxBytes !== null && maxBytes > 0 && (format === "jpeg" || format === "webp");
  // Retried encodes must not decode and resize the original again: run the pipeline once.
  const source = mayRetry ? fromRaw(await materialise(image, "keep", ctx.frames)) : image;
  const prepared = (): Sharp => {
    // 8-bit sRGB output whatever came in (CMYK, 16-bit, grey with a profile). Only max_bytes
    // encodes more than once, and then from the small materialised pixels: sharp's clone()
    // copies its input, which otherwise is the whole original (16 MB more garbage per miss on
    // the Elephants JPEG).
    let img = (mayRetry ? source.clone() : source).toColourspace("srgb");
    if (ctx.header.hasProfile && !hasFilter(plan, "strip_icc")) img = img.withIccProfile("srgb");
    if (format === "jpeg") img = img.flatten({ background: ctx.background ?? "#ffffff" });
    return img;
  };

  const encodeAt = async (q: number) => {
    const out = withEncoder(prepared(), format, q, ctx);
    const { data, info } = await out.toBuffer({ resolveWithObject: true });
    const height = ctx.frames > 1 ? (info.pageHeight ?? info.height / ctx.frames) : info.height;
    return { data, width: info.width, height };
  };
  let result = await encodeAt(quality);
  if (mayRetry && result.data.length > maxBytes!) {
    // thumbor's max_bytes: lower the quality by x0.75 steps (not below 10) until it fits, then
    // climb back by x1.1 steps while it still fits.
    let q = quality;
    let tooBig = quality;
    while (result.data.length > maxBytes! && q > 10) {
      tooBig = q;
      q = Math.max(10, Math.floor(q * 0.75));
      result = await encodeAt(q);
    }
    if (result.data.length <= maxBytes!) {
      for (let up = Math.floor(q * 1.1); up > q && up < tooBig; up = Math.floor(up * 1.1)) {
        const attempt = await encodeAt(up);
        if (attempt.data.length > maxBytes!) break;
        result = attempt;
        q = up;
      }
    }
  }
  return result;
}

function animation(ctx: EncodeContext): { loop?: number; delay?: number[] } {
  if (ctx.frames <= 1) return {};
  return {
    ...(ctx.header.loop !== undefined ? { loop: ctx.header.loop } : {}),
    ...(ctx.header.delay && ctx.header.delay.length === ctx.frames ? { delay: ctx.header.delay } : {}),
  };
}

function withEncoder(img: Sharp, format: OutputFormat, quality: number, ctx: EncodeContext): Sharp {
  switch (format) {
    case "jpeg":
      return img.jpeg({ quality, progressive: true, mozjpeg: false });
    case "png":
      // thumbor keeps palette sources paletted (PILLOW_PRESERVE_INDEXED_MODE), tRNS included.
      return img.png({ palette: ctx.header.isPalette, compressionLevel: 6 });
    case "webp":
      // thumbor: WebP quality 100 means lossless.
      return img.webp({ quality, effort: WEBP_EFFORT, ...(quality >= 100 ? { lossless: true } : {}), ...animation(ctx) });
    case "avif":
      return img.avif({ quality, effort: AVIF_EFFORT });
    case "gif":
      return img.gif(animation(ctx));
  }
}
