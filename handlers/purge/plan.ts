/**
 * The purge planner: from a batch of changed originals (or prefixes of originals) to the variant
 * prefixes to sweep in S3 and the CloudFront invalidation paths, coalesced and within
 * CloudFront's limits. Pure: no AWS, no HTTP, no sharp.
 *
 * CloudFront's rules it respects (Developer Guide, "Invalidating files" and its quotas page):
 * - at most 15 wildcard paths may be in progress at once per distribution;
 * - the first 1,000 paths a month are free, each further path costs (USD 0.005 at the time of
 *   writing); a wildcard path counts as one path however many files it covers.
 * So one window of changes asks for one wildcard path per changed original, and past the limit
 * falls back to one wildcard over the whole variant prefix: every cached variant is fetched
 * from S3 again (variants of unchanged originals are still stored there, so that costs S3 reads,
 * not renders).
 */
import type { Settings } from "../core/settings.js";
import { isUnderVariantPrefix, variantKeyToUri, variantPrefixOf } from "../core/variant-key.js";

export interface PurgeLimits {
  /** Most wildcard paths one window may ask CloudFront for before it falls back to one. */
  maxWildcardPaths: number;
}

/** CloudFront allows 15 wildcard invalidation paths in progress per distribution. */
export const CLOUDFRONT_PURGE_LIMITS: PurgeLimits = Object.freeze({ maxWildcardPaths: 15 });

/** What to purge: one original's variants, or those of every original under a key prefix ("" = all). */
export type PurgeTarget = { kind: "original"; key: string } | { kind: "prefix"; prefix: string };

export interface PurgePlan {
  /** S3 key prefixes to sweep, each ending in "/", none inside another, sorted. */
  variantPrefixes: string[];
  /** CloudFront paths to invalidate (URI-encoded as viewer-request writes them, ending in "*"). */
  invalidationPaths: string[];
  /** True when too many prefixes changed and the paths are one wildcard over the whole variant prefix. */
  wholeVariantPrefix: boolean;
  /** Changed keys that were themselves variants (storing a variant never purges anything). */
  ignoredVariantKeys: string[];
}

/** A key ending in "/" (or empty) names a prefix of originals; anything else one original. */
export function purgeTargetOf(keyOrPrefix: string): PurgeTarget {
  return keyOrPrefix === "" || keyOrPrefix.endsWith("/") ? { kind: "prefix", prefix: keyOrPrefix } : { kind: "original", key: keyOrPrefix };
}

/** Plans one window of changes. Order and duplicates in `targets` do not matter. */
export function planPurge(
  targets: readonly PurgeTarget[],
  settings: Pick<Settings, "variantPrefix">,
  limits: PurgeLimits = CLOUDFRONT_PURGE_LIMITS,
): PurgePlan {
  const ignoredVariantKeys: string[] = [];
  const prefixes = new Set<string>();
  for (const target of targets) {
    const key = target.kind === "original" ? target.key : target.prefix;
    if (key !== "" && isUnderVariantPrefix(key, settings)) {
      ignoredVariantKeys.push(key);
      continue;
    }
    prefixes.add(target.kind === "original" ? variantPrefixOf(target.key, settings) : `${settings.variantPrefix}/${target.prefix}`);
  }
  const variantPrefixes = outermost([...prefixes]);
  const wholeVariantPrefix = variantPrefixes.length > limits.maxWildcardPaths;
  const pathPrefixes = wholeVariantPrefix ? [`${settings.variantPrefix}/`] : variantPrefixes;
  return { variantPrefixes, invalidationPaths: pathPrefixes.map(invalidationPathOf), wholeVariantPrefix, ignoredVariantKeys };
}

/** The wildcard path covering every cached URI under a variant key prefix. */
export function invalidationPathOf(variantKeyPrefix: string): string {
  // variantKeyToUri escapes a "*" inside the key as %2A, so the last "*" is the only wildcard.
  return `${variantKeyToUri(variantKeyPrefix)}*`;
}

/** Drops every prefix that lies inside another one of the list (its variants are swept with it). */
function outermost(prefixes: string[]): string[] {
  const sorted = prefixes.sort();
  const kept: string[] = [];
  for (const p of sorted) {
    if (kept.length > 0 && p.startsWith(kept[kept.length - 1]!)) continue;
    kept.push(p);
  }
  return kept;
}
