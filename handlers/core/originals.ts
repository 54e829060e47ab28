/**
 * Which objects of the bucket are originals the distribution may serve or resize: keys under
 * `originalsPrefix`, and, to be served as they are, only the content types of
 * `originalContentTypes`. The bucket may hold anything else the team ever stored (thumbor's old
 * bucket with `existingBucketName`): configuration, exports, HTML. Pure: no AWS, no HTTP.
 */
import type { Settings } from "./settings.js";

export type OriginalsSettings = Pick<Settings, "originalsPrefix" | "originalContentTypes">;

/** True when `key` lies under `originalsPrefix` (every key when it is empty). */
export function isUnderOriginalsPrefix(key: string, settings: Pick<Settings, "originalsPrefix">): boolean {
  return settings.originalsPrefix === "" || key.startsWith(`${settings.originalsPrefix}/`);
}

/** The media type of a Content-Type value: `Image/JPEG; charset=x` is `image/jpeg`. */
export function mediaTypeOf(contentType: string): string {
  return contentType.split(";", 1)[0]!.trim().toLowerCase();
}

/** True when an object stored with `contentType` may be served as it is. No type is no image. */
export function isServableContentType(contentType: string | undefined, settings: Pick<Settings, "originalContentTypes">): boolean {
  return contentType !== undefined && settings.originalContentTypes.includes(mediaTypeOf(contentType));
}
