/**
 * Step 2b of the render: a JPEG decoded at 1/2, 1/4 or 1/8 of its size when the whole image is
 * resized at least that much anyway, as Pillow's `draft` does for thumbor. sharp decodes at a
 * fraction of the size by itself (shrink-on-load) for most factors, but takes one step less
 * whenever the factor's integer part equals the fraction (from 2 to 3, 4 to 5 and 8 to 9: its
 * guard against libjpeg rounding, src/pipeline.cc), and offers no option to ask for it: in sharp
 * 0.35 a buffer is reloaded through `jpegload_buffer` with only that computed `shrink`, and the
 * constructor's options for JPEG set none (src/common.cc, GetOptionsForImageType). RainDrops
 * 1920 → 800 is such a factor (2.4): the whole 1920x1200 was decoded where Pillow decodes 960x600.
 * libvips takes load options in a file name (`photo.jpg[shrink=2]`) and sharp hands file names to
 * it as they are, so for these factors the original is written to a temporary file for the
 * render. libjpeg rounds a scaled size up, so the resize after it only ever shrinks.
 *
 * Whenever the decode is at 1/8, by sharp or by the file, a progressive original is first reduced
 * to its DC coefficients (jpeg/dc-only.ts): the same pixels at 1/8, without Huffman-decoding the
 * AC scans that libjpeg would read and then not use. Where sharp makes that decode itself, the
 * reduced bytes go to sharp in memory and no file is written.
 *
 * An original may come as its first bytes only (RenderInput.dcPrefix: origin-response stopped
 * reading where jpeg/prefix.ts found the DC-only decode complete). Those bytes give the right
 * picture only through that decode: any other choice here throws WholeOriginalNeeded, and the
 * handler reads the rest and renders again.
 */
import { randomUUID } from "node:crypto";
import { rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp, { type Sharp } from "sharp";
import { formatCan } from "../core/formats.js";
import type { Settings } from "../core/settings.js";
import type { RenderContext } from "./context.js";
import { convertsCmykNaively, decodeOptions, type Decoded } from "./decode.js";
import type { Operations, Size } from "./geometry.js";
import { dcOnlyJpeg } from "./jpeg/dc-only.js";
import { readJpegLayout } from "./jpeg/markers.js";
import { dcDecodeComplete } from "./jpeg/prefix.js";
import { wholeImageResize } from "./transform.js";

export interface Draft {
  image: Sharp;
  /** Removes the temporary file, if any: call it once the render has encoded. */
  release(): Promise<void>;
  /** Decoded at 1/8 from the DC-only bytes. */
  fromDcOnly: boolean;
}

/** The render was given the first bytes of an original (RenderInput.dcPrefix) and needs all of it. */
export class WholeOriginalNeeded extends Error {
  override name = "WholeOriginalNeeded";
  constructor(reason: string) {
    super(`the whole original is needed: ${reason}`);
  }
}

const nothingToRelease = async (): Promise<void> => {};

/** libjpeg's scales, largest first. */
const JPEG_SCALES = [8, 4, 2] as const;

/**
 * The smaller (or cheaper) decode for this render, or null when sharp's own decode of the original
 * is already the best: no shrink-on-load applies, sharp's is already the largest, and the
 * original is not a progressive JPEG decoded at 1/8. `dcPrefix`: `original` is a prefix (the
 * module's comment), which only the DC-only decode may read.
 */
export async function draftDecode(ctx: RenderContext, decoded: Decoded, ops: Operations): Promise<Draft | null> {
  const { original, dcPrefix } = ctx;
  const dcOnly = dcPrefix ? prefixDcOnly(original) : (jpeg: Buffer) => dcOnlyJpeg(jpeg);
  const draft = await chooseDraft(ctx, decoded, ops, dcOnly);
  if (dcPrefix && !draft?.fromDcOnly) {
    await draft?.release();
    throw new WholeOriginalNeeded("this render does not decode it at 1/8 from its DC scans");
  }
  return draft;
}

/**
 * The DC-only bytes of a prefix: read exactly here (the watch only replayed scan headers), and
 * the prefix itself, closed by an EOI, when rewriting would not make it smaller (its AC data
 * does not change the decode at 1/8 either).
 */
function prefixDcOnly(prefix: Buffer): (jpeg: Buffer) => Buffer {
  const layout = readJpegLayout(prefix, prefix.length);
  if (!layout || !dcDecodeComplete(layout)) throw new WholeOriginalNeeded("its first bytes do not hold every DC scan");
  return () => dcOnlyJpeg(prefix, layout) ?? Buffer.concat([prefix, Buffer.from([0xff, 0xd9])]);
}

async function chooseDraft(
  ctx: RenderContext,
  decoded: Decoded,
  ops: Operations,
  dcOnlyOf: (jpeg: Buffer) => Buffer | null,
): Promise<Draft | null> {
  const { original, plan, header, frames, settings } = ctx;
  if (!formatCan(header.format, "dct-scaling") || frames !== 1 || plan.trim) return null;
  if (convertsCmykNaively(header, settings)) return null;
  const target = wholeImageResize(ctx, ops, decoded.size);
  if (!target) return null;
  const scale = draftScale(decoded.size, target);
  if (!scale)
    return sharpJpegScale(decoded.size, target) === 8 ? dcOnlyInMemory(original, decoded.image, ops, settings, frames, dcOnlyOf) : null;
  if (/[[\]]/.test(tmpdir())) return null;
  const dcOnly = scale === 8 ? dcOnlyOf(original) : null;
  const file = join(tmpdir(), `edge-resizer-${process.pid}-${randomUUID()}.jpg`);
  try {
    await writeFile(file, dcOnly ?? original);
  } catch {
    await rm(file, { force: true });
    return null; // no room in /tmp: the full-size decode still works
  }
  return {
    image: sharp(`${file}[shrink=${scale}]`, decodeOptions(settings, frames)),
    release: () => rm(file, { force: true }),
    fromDcOnly: dcOnly !== null,
  };
}

/**
 * sharp's own decode at 1/8, from the DC-only bytes in memory. sharp gives up shrink-on-load when
 * it orients an image before the resize, which it does for an EXIF-oriented original cut after
 * the resize (an auto-crop here, the whole image being resized: the scale-first crop), and
 * decoded at full size the DC-only bytes would be a blurred picture: such an original keeps the
 * whole file.
 */
async function dcOnlyInMemory(
  original: Buffer,
  image: Sharp,
  ops: Operations,
  settings: Settings,
  frames: number,
  dcOnlyOf: (jpeg: Buffer) => Buffer | null,
): Promise<Draft | null> {
  if (ops.autoCrop && ((await image.metadata()).orientation ?? 1) !== 1) return null;
  const dcOnly = dcOnlyOf(original);
  return dcOnly ? { image: sharp(dcOnly, decodeOptions(settings, frames)), release: nothingToRelease, fromDcOnly: true } : null;
}

/**
 * The scale sharp's own shrink-on-load decodes a JPEG at for a resize from `size` to `target`
 * (with fastShrinkOnLoad, its default): the largest of 8, 4 and 2 the factor reaches, one step
 * less when the factor's integer part equals it, else 1.
 */
export function sharpJpegScale(size: Size, target: Size): number {
  const shrink = Math.min(size.width / target.width, size.height / target.height);
  const scale = JPEG_SCALES.find((s) => shrink >= s) ?? 1;
  return scale > 1 && Math.floor(shrink) === scale ? scale / 2 : scale;
}

/** The libjpeg scale worth asking for when the whole image is resized from `size` to `target`, or null. */
export function draftScale(size: Size, target: Size): number | null {
  const shrink = Math.min(size.width / target.width, size.height / target.height);
  const scale = JPEG_SCALES.find((s) => shrink >= s);
  // Any other factor gets the largest scale from sharp itself.
  if (!scale || Math.floor(shrink) !== scale) return null;
  // Even rounded down, the decode must still cover the target.
  if (Math.floor(size.width / scale) < target.width || Math.floor(size.height / scale) < target.height) return null;
  return scale;
}
