/**
 * Images that filters name by URL (watermark, frame): thumbor fetches them through its loader;
 * here they are read from the originals' bucket with the same key mapping as the image itself
 * (image-path.ts `filterImageKey`: one more percent-decoding, then thumbor.stripHosts and
 * thumbor.pathPrefix).
 */
import sharp from "sharp";
import { RequestError } from "../../core/errors.js";
import { filterImageKey } from "../../core/image-path.js";
import type { EffectContext } from "./index.js";
import type { RawImage } from "../common/raw.js";
import { materialise } from "../common/raw.js";

/**
 * Reads and decodes the image a filter names, as 8-bit RGBA (first frame). A URL that maps to no
 * acceptable key is a 400 "<filter>: <why>"; a missing or undecodable object is a 400
 * "<what> not found: <key>".
 */
export async function loadBucketImage(filter: string, what: string, url: string, ctx: EffectContext): Promise<RawImage & { key: string }> {
  const key = filterImageKey(filter, url, ctx.settings.thumbor);
  const bytes = await ctx.loadObject(key);
  if (!bytes) throw new RequestError(400, `${what} not found: ${key}`);
  let raw: RawImage;
  try {
    raw = await materialise(sharp(bytes, { limitInputPixels: ctx.settings.maxInputPixels, autoOrient: true }).ensureAlpha());
  } catch {
    throw new RequestError(400, `${what} not found: ${key}`);
  }
  const first = raw.data.subarray(0, raw.width * raw.height * raw.channels);
  return { key, data: first, width: raw.width, height: raw.height, channels: raw.channels, frames: 1 };
}
