/**
 * Step 5 of the render: 8-bit sRGB pixels out, the format's encoder with thumbor's options, and
 * `max_bytes` (fit-bytes.ts) when the plan asks for it.
 */
import type { JpegOptions, Sharp, WebpOptions } from "sharp";
import { formatCan, type OutputFormat } from "../core/formats.js";
import { filterCalls, hasFilter } from "../core/plan-queries.js";
import type { RenderContext } from "./context.js";
import { checkDeadline, withDeadline } from "./deadline.js";
import { maxBytesOf } from "../core/max-bytes.js";
import { fitToMaxBytes } from "./fit-bytes.js";
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

/** What the encoder reads: the render's context, and the colour JPEG flattens alpha onto (the last fill/background colour; white when null). */
type EncodeContext = RenderContext & { background: string | null };

export interface Encoded {
  data: Buffer;
  width: number;
  height: number;
}

/** The filtered image encoded in the output format, with `max_bytes` (fit-bytes.ts) when the plan asks for it. */
export async function encodeVariant(render: RenderContext, filtered: { image: Sharp; background: string | null }): Promise<Encoded> {
  const ctx: EncodeContext = { ...render, background: filtered.background };
  const { plan } = ctx;
  const maxBytes = maxBytesOf(filterCalls(ctx.plan, "max_bytes").at(-1), ctx.outputFormat);
  if (maxBytes === null) {
    return encodeAt(ctx, prepareForEncoder(ctx, filtered.image), plan.quality);
  }
  // Retried encodes must not decode and resize the original again: run the pipeline once.
  // sharp's clone() copies its input, which otherwise is the whole original (16 MB more garbage
  // per miss on the Elephants JPEG), so each attempt clones the small materialised pixels.
  const source = fromRaw(await materialise(filtered.image, "keep", ctx.frames));
  const attempt = (q: number) => {
    checkDeadline(ctx.deadline);
    return encodeAt(ctx, withDeadline(prepareForEncoder(ctx, source.clone()), ctx.deadline), q);
  };
  return fitToMaxBytes(attempt, plan.quality, maxBytes);
}

/** 8-bit sRGB output whatever came in (CMYK, 16-bit, grey with a profile); a format without alpha is flattened. */
function prepareForEncoder(ctx: EncodeContext, image: Sharp): Sharp {
  let img = image.toColourspace("srgb");
  if (ctx.header.hasProfile && !hasFilter(ctx.plan, "strip_icc")) img = img.withIccProfile("srgb");
  if (!formatCan(ctx.outputFormat, "alpha")) img = img.flatten({ background: ctx.background ?? "#ffffff" });
  return img;
}

async function encodeAt(ctx: EncodeContext, image: Sharp, quality: number): Promise<Encoded> {
  const { data, info } = await withEncoder(ctx, image, quality).toBuffer({ resolveWithObject: true });
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

/**
 * The JPEG and still WebP encoder options at a quality (bench/ times the encoder with them too).
 * JPEG, baseline or progressive, has its Huffman tables optimised (sharp's default), as Pillow's
 * optimize=True in thumbor; thumbor's WebP quality 100 means lossless.
 */
const STILL_ENCODER_OPTIONS = {
  jpeg: (quality: number, progressiveJpeg: boolean): JpegOptions => ({ quality, progressive: progressiveJpeg, mozjpeg: false }),
  webp: (quality: number): WebpOptions => ({ quality, effort: WEBP_EFFORT, ...(quality >= 100 ? { lossless: true } : {}) }),
} satisfies Partial<Record<OutputFormat, (quality: number, progressiveJpeg: boolean) => JpegOptions | WebpOptions>>;

/** The formats bench/ and the tests encode stills in with the render's options. */
export type StillFormat = keyof typeof STILL_ENCODER_OPTIONS;

export function stillEncoderOptions(format: StillFormat, quality: number, progressiveJpeg = true): JpegOptions | WebpOptions {
  return STILL_ENCODER_OPTIONS[format](quality, progressiveJpeg);
}

/** Each output format's sharp encoder with thumbor's options, keyed by the format table's names (tsc asks for every OutputFormat). */
const ENCODERS: { readonly [F in OutputFormat]: (ctx: EncodeContext, img: Sharp, quality: number) => Sharp } = {
  jpeg: (ctx, img, quality) => img.jpeg(STILL_ENCODER_OPTIONS.jpeg(quality, ctx.settings.thumbor.progressiveJpeg)),
  // thumbor keeps palette sources paletted (PILLOW_PRESERVE_INDEXED_MODE), tRNS included.
  png: (ctx, img) => img.png({ palette: ctx.header.isPalette, compressionLevel: 6 }),
  webp: (ctx, img, quality) => img.webp({ ...STILL_ENCODER_OPTIONS.webp(quality), ...animation(ctx) }),
  avif: (_ctx, img, quality) => img.avif({ quality, effort: AVIF_EFFORT }),
  gif: (ctx, img) => img.gif(animation(ctx)),
};

function withEncoder(ctx: EncodeContext, img: Sharp, quality: number): Sharp {
  return ENCODERS[ctx.outputFormat](ctx, img, quality);
}
