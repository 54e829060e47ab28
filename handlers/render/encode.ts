/**
 * Step 5 of the render: 8-bit sRGB pixels out, the format's encoder with thumbor's options, and
 * `max_bytes` (fit-bytes.ts) when the plan asks for it.
 */
import type { JpegOptions, Sharp, WebpOptions } from "sharp";
import type { OutputFormat, TransformPlan } from "../core/plan.js";
import { formatCan } from "../core/formats.js";
import { filterCalls, hasFilter } from "../core/plan-queries.js";
import { asNumber } from "./common/filter-args.js";
import { checkDeadline, withDeadline, type RenderDeadline } from "./deadline.js";
import { fitToMaxBytes } from "./fit-bytes.js";
import type { Header } from "./load.js";
import { fromRaw, materialise } from "./common/raw.js";

/**
 * Encoder effort, tuned for a Lambda@Edge budget (BENCHMARKS.md, "AVIF effort" and "CPU per
 * miss"). WebP effort 2: half the encode CPU of libwebp's default 4 on the 800x500 photo
 * workloads, for files 3-4 % larger and PSNR 0.1-0.3 dB lower, still within 5 % of the size
 * Pillow (thumbor's engine) writes at the same quality. AVIF effort 0: effort 1 stays within 2x
 * WebP on small photos but not on detailed ones; effort 0 costs files 1-7 % larger and PSNR
 * 0.0-0.5 dB lower than effort 1, and effort 4 is 15-25x slower for files about 10% smaller,
 * which a viewer-facing cache miss cannot afford.
 */
const WEBP_EFFORT = 2;
const AVIF_EFFORT = 0;

export interface EncodeContext {
  frames: number;
  /** thumbor's PROGRESSIVE_JPEG (settings.thumbor.progressiveJpeg). */
  progressiveJpeg: boolean;
  header: Header;
  /** Last fill/background colour: JPEG flattens alpha onto it (white otherwise). */
  background: string | null;
  /** The render's deadline: max_bytes checks it before each attempt. */
  deadline?: RenderDeadline;
}

export interface Encoded {
  data: Buffer;
  width: number;
  height: number;
}

export async function encodeVariant(image: Sharp, plan: TransformPlan, format: OutputFormat, ctx: EncodeContext): Promise<Encoded> {
  const maxBytesCall = filterCalls(plan, "max_bytes").at(-1);
  const maxBytes = maxBytesCall ? asNumber(maxBytesCall.args[0]) : null;
  if (maxBytes === null || maxBytes <= 0 || !formatCan(format, "max-bytes")) {
    return encodeAt(prepareForEncoder(image, plan, format, ctx), format, plan.quality, ctx);
  }
  // Retried encodes must not decode and resize the original again: run the pipeline once.
  // sharp's clone() copies its input, which otherwise is the whole original (16 MB more garbage
  // per miss on the Elephants JPEG), so each attempt clones the small materialised pixels.
  const source = fromRaw(await materialise(image, "keep", ctx.frames));
  const attempt = (q: number) => {
    checkDeadline(ctx.deadline);
    return encodeAt(withDeadline(prepareForEncoder(source.clone(), plan, format, ctx), ctx.deadline), format, q, ctx);
  };
  return fitToMaxBytes(attempt, plan.quality, maxBytes);
}

/** 8-bit sRGB output whatever came in (CMYK, 16-bit, grey with a profile); a format without alpha is flattened. */
function prepareForEncoder(image: Sharp, plan: TransformPlan, format: OutputFormat, ctx: EncodeContext): Sharp {
  let img = image.toColourspace("srgb");
  if (ctx.header.hasProfile && !hasFilter(plan, "strip_icc")) img = img.withIccProfile("srgb");
  if (!formatCan(format, "alpha")) img = img.flatten({ background: ctx.background ?? "#ffffff" });
  return img;
}

async function encodeAt(image: Sharp, format: OutputFormat, quality: number, ctx: EncodeContext): Promise<Encoded> {
  const { data, info } = await withEncoder(image, format, quality, ctx).toBuffer({ resolveWithObject: true });
  const height = ctx.frames > 1 ? (info.pageHeight ?? info.height / ctx.frames) : info.height;
  return { data, width: info.width, height };
}

function animation(ctx: EncodeContext): { loop?: number; delay?: number[] } {
  if (ctx.frames <= 1) return {};
  return {
    ...(ctx.header.loop !== undefined ? { loop: ctx.header.loop } : {}),
    ...(ctx.header.delay && ctx.header.delay.length === ctx.frames ? { delay: ctx.header.delay } : {}),
  };
}

/** The JPEG and still WebP encoder options at a quality (bench/ times the encoder with them too). */
export function stillEncoderOptions(format: "jpeg" | "webp", quality: number, progressiveJpeg = true): JpegOptions | WebpOptions {
  // Baseline or progressive, Huffman tables are optimised (sharp's default), as Pillow's optimize=True in thumbor.
  if (format === "jpeg") return { quality, progressive: progressiveJpeg, mozjpeg: false };
  // thumbor: WebP quality 100 means lossless.
  return { quality, effort: WEBP_EFFORT, ...(quality >= 100 ? { lossless: true } : {}) };
}

function withEncoder(img: Sharp, format: OutputFormat, quality: number, ctx: EncodeContext): Sharp {
  switch (format) {
    case "jpeg":
      return img.jpeg(stillEncoderOptions("jpeg", quality, ctx.progressiveJpeg));
    case "png":
      // thumbor keeps palette sources paletted (PILLOW_PRESERVE_INDEXED_MODE), tRNS included.
      return img.png({ palette: ctx.header.isPalette, compressionLevel: 6 });
    case "webp":
      return img.webp({ ...stillEncoderOptions("webp", quality), ...animation(ctx) });
    case "avif":
      return img.avif({ quality, effort: AVIF_EFFORT });
    case "gif":
      return img.gif(animation(ctx));
  }
}
