/**
 * Which original a stored variant was rendered from: origin-response writes the original's ETag
 * as object metadata on every variant it stores, and the purge compares it with the original's
 * current ETag, so a variant rendered from a replaced (or deleted) original is found and removed
 * even when its render finished after the purge swept (a slow render racing a replacement).
 */

/** S3 user metadata name (sent as `x-amz-meta-source-etag`); S3 stores metadata names lower-cased. */
export const SOURCE_ETAG_METADATA = "source-etag";

/** ETags compared without the quotes S3 puts around them (headers quote them, events do not). */
export function normalizeEtag(etag: string | undefined): string | undefined {
  if (etag === undefined) return undefined;
  return etag.replace(/^W\//, "").replace(/^"|"$/g, "");
}

/**
 * True when a variant recorded as rendered from `recorded` is stale for an original whose ETag
 * is now `current` (undefined = the original is gone). A variant with no record (stored before
 * records existed) cannot prove it is fresh, so it counts as stale.
 */
export function isStaleVariant(recorded: string | undefined, current: string | undefined): boolean {
  if (current === undefined || recorded === undefined) return true;
  return normalizeEtag(recorded) !== normalizeEtag(current);
}
