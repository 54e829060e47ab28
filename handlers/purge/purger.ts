/**
 * Carries out a purge plan through two small ports, so the deployed function, the command line
 * and the local edge run the very same steps: sweep the variants in S3, then invalidate the CDN.
 *
 * Two kinds of sweep:
 * - "all" (right after a change, or by hand): every variant under the prefix goes;
 * - "stale" (the delayed second pass): only variants whose recorded source differs from the
 *   original's current ETag go, i.e. renders that read the old original and stored their result
 *   after the first sweep. Only prefixes where such a variant was found are invalidated again.
 * Nothing outside the variant prefix is ever deleted: every key is checked before the delete.
 */
import type { Settings } from "../core/settings.js";
import { RequestError } from "../core/errors.js";
import { isUnderVariantPrefix, originalKeyOfVariant } from "../core/variant-key.js";
import { isStaleVariant } from "../core/variant-source.js";
import { invalidationPathOf, type PurgePlan } from "./plan.js";

/** The bucket as the purge needs it. */
export interface VariantBucket {
  /** Every key under `prefix` (all pages). */
  listKeys(prefix: string): Promise<string[]>;
  /** The object's current ETag, or undefined when it does not exist. */
  etagOf(key: string): Promise<string | undefined>;
  /** The source ETag recorded on a variant, or undefined when it has none (or is gone). */
  recordedSourceOf(variantKey: string): Promise<string | undefined>;
  deleteKeys(keys: readonly string[]): Promise<void>;
}

/** The CDN as the purge needs it. */
export interface Invalidator {
  /** `timeLeftMs`: how long the caller may still wait (retries stop before it runs out); absent = the invalidator's own limit. */
  invalidate(paths: readonly string[], timeLeftMs?: () => number): Promise<void>;
}

export type SweepMode = "all" | "stale";

export interface PurgeReport {
  /** Variant keys deleted (or, in a dry run, that would be). */
  deleted: string[];
  /** Paths sent to the CDN (or, in a dry run, that would be). */
  invalidated: string[];
}

export interface PurgeOptions {
  mode: SweepMode;
  dryRun?: boolean;
  /** Called after each swept prefix (a progress bar). */
  onPrefixDone?: (done: number, total: number) => void;
  /** Milliseconds the caller may still work (the purge function's remaining time, less a margin). */
  timeLeftMs?: () => number;
}

export class OutsideVariantPrefixError extends Error {
  override name = "OutsideVariantPrefixError";
}

export async function runPurge(
  plan: PurgePlan,
  ports: { bucket: VariantBucket; invalidator: Invalidator },
  settings: Pick<Settings, "variantPrefix">,
  options: PurgeOptions,
): Promise<PurgeReport> {
  const deleted: string[] = [];
  const prefixesWithStale: string[] = [];
  let done = 0;
  for (const prefix of plan.variantPrefixes) {
    const keys = await variantsToDelete(ports.bucket, prefix, settings, options.mode);
    for (const key of keys) {
      // Defence in depth: a listing or a prefix gone wrong must never reach an original.
      if (!isUnderVariantPrefix(key, settings) || !key.startsWith(prefix))
        throw new OutsideVariantPrefixError(`refusing to delete "${key}": not under "${prefix}"`);
    }
    if (keys.length > 0) {
      if (!options.dryRun) await ports.bucket.deleteKeys(keys);
      deleted.push(...keys);
      prefixesWithStale.push(prefix);
    }
    options.onPrefixDone?.(++done, plan.variantPrefixes.length);
  }
  const invalidated = options.mode === "all" ? plan.invalidationPaths : stalePaths(plan, prefixesWithStale);
  if (invalidated.length > 0 && !options.dryRun) await ports.invalidator.invalidate(invalidated, options.timeLeftMs);
  return { deleted, invalidated };
}

/** In a stale pass, only prefixes that held a stale variant need the CDN told again. */
function stalePaths(plan: PurgePlan, prefixes: string[]): string[] {
  if (prefixes.length === 0) return [];
  return plan.wholeVariantPrefix ? plan.invalidationPaths : prefixes.map(invalidationPathOf);
}

async function variantsToDelete(
  bucket: VariantBucket,
  prefix: string,
  settings: Pick<Settings, "variantPrefix">,
  mode: SweepMode,
): Promise<string[]> {
  const keys = await bucket.listKeys(prefix);
  if (mode === "all") return keys;
  const currentEtags = new Map<string, Promise<string | undefined>>();
  const stale: string[] = [];
  for (const key of keys) {
    const original = originalOf(key, settings);
    // A key that names no original is not a variant we wrote: the stale pass leaves it alone.
    if (original === undefined) continue;
    if (!currentEtags.has(original)) currentEtags.set(original, bucket.etagOf(original));
    const current = await currentEtags.get(original)!;
    if (isStaleVariant(await bucket.recordedSourceOf(key), current)) stale.push(key);
  }
  return stale;
}

/**
 * The original behind a variant key, read by the key module (options longer than one segment are
 * cut into "~" segments, so the last "/" is not where the original ends); undefined for a key
 * that names none.
 */
function originalOf(key: string, settings: Pick<Settings, "variantPrefix">): string | undefined {
  try {
    return originalKeyOfVariant(key, settings);
  } catch (err) {
    if (err instanceof RequestError) return undefined;
    throw err;
  }
}
