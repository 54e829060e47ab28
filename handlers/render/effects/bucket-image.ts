/**
 * Images that filters name by URL (watermark, frame): thumbor fetches them through its loader;
 * here they are read from the originals' bucket with the same key mapping as the image itself
 * (image-path.ts `filterImageKey`: one more percent-decoding, then thumbor.stripHosts and
 * thumbor.pathPrefix). They are untrusted input like the original: the same header checks
 * (load.ts `checkedHeader`: accepted formats, allowSvg, maxInputPixels) before any decode, and
 * one fetch and one decode per key per render (the render budget counts each key once).
 */
import sharp from "sharp";
import { RequestError, isRequestError } from "../../core/errors.js";
import { filterImageKey } from "../../core/image-path.js";
import { checkDeadline } from "../deadline.js";
import type { EffectContext } from "./index.js";
import type { RawImage } from "../common/raw.js";
import { materialise } from "../common/raw.js";
import { checkedHeader, readMetadata } from "../load.js";

export type BucketImage = RawImage & { key: string };

/**
 * Reads and decodes the image a filter names, as 8-bit RGBA (first frame). A URL that maps to no
 * acceptable key is a 400 "<filter>: <why>"; a missing or undecodable object is a 400
 * "<what> not found: <key>"; one the header checks refuse keeps their status, "<what> <key>: <why>".
 */
export function loadBucketImage(filter: string, what: string, url: string, ctx: EffectContext): Promise<BucketImage> {
  const key = filterImageKey(filter, url, ctx.settings.thumbor);
  let image = ctx.bucketImages?.get(key);
  if (!image) {
    image = readBucketImage(what, key, ctx);
    ctx.bucketImages?.set(key, image);
  }
  return image;
}

async function readBucketImage(what: string, key: string, ctx: EffectContext): Promise<BucketImage> {
  const bytes = await ctx.loadObject(key);
  if (!bytes) throw new RequestError(400, `${what} not found: ${key}`);
  const metadata = await readMetadata(bytes).catch(() => null);
  if (!metadata) throw new RequestError(400, `${what} not found: ${key}`);
  try {
    checkedHeader(metadata, ctx.settings);
  } catch (err) {
    if (isRequestError(err)) throw new RequestError(err.status, `${what} ${key}: ${err.reason}`);
    throw err;
  }
  checkDeadline(ctx.deadline);
  let raw: RawImage;
  try {
    raw = await materialise(sharp(bytes, { limitInputPixels: ctx.settings.maxInputPixels, autoOrient: true }).ensureAlpha());
  } catch {
    throw new RequestError(400, `${what} not found: ${key}`);
  }
  const first = raw.data.subarray(0, raw.width * raw.height * raw.channels);
  return { key, data: first, width: raw.width, height: raw.height, channels: raw.channels, frames: 1 };
}
