/**
 * The purge's Invalidator on CloudFront's CreateInvalidation. CloudFront answers a burst of
 * invalidations with throttling, or with TooManyInvalidationsInProgress once 15 wildcard paths
 * are in progress on the distribution (its own invalidations or anyone else's). Both are retried
 * with a wait that doubles up to MAX_DELAY_MS: an invalidation takes minutes to complete, so a
 * caller that says how long it may work (the purge function: its remaining time) keeps retrying
 * until then; without it a fixed number of attempts is made. The last failure is thrown, so the
 * purge reports its messages back to the queue for a later delivery (and, after its receives,
 * the dead-letter queue).
 */
import { CreateInvalidationCommand, type CloudFrontClient } from "@aws-sdk/client-cloudfront";
import type { Invalidator } from "./purger.js";

/** CloudFront allows 3,000 paths per invalidation request. */
export const MAX_PATHS_PER_INVALIDATION = 3000;
/** Longest wait between two attempts: long enough not to add to the throttling, short enough to catch a free slot. */
export const MAX_DELAY_MS = 60_000;
/** Attempts per request when the caller gives no time budget (the command line). */
const DEFAULT_ATTEMPTS = 6;

const RETRYABLE = new Set(["Throttling", "ThrottlingException", "TooManyRequestsException", "TooManyInvalidationsInProgress"]);

export interface InvalidatorOptions {
  /** Attempts per request, the first included (default: until the time budget runs out, or 6 without one). */
  attempts?: number;
  /** Wait before the second attempt; doubled each time, up to MAX_DELAY_MS. */
  firstDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Unique per request (CloudFront refuses a reused reference with other paths). */
  callerReference?: () => string;
}

export function cloudFrontInvalidator(
  client: Pick<CloudFrontClient, "send">,
  distributionId: string,
  options: InvalidatorOptions = {},
): Invalidator {
  const firstDelayMs = options.firstDelayMs ?? 1_000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((done) => setTimeout(done, ms)));
  const reference = options.callerReference ?? (() => `edge-resizer-${Date.now()}-${Math.random().toString(36).slice(2, 10)}`);
  const createOne = async (paths: string[], timeLeftMs: (() => number) | undefined) => {
    const attempts = options.attempts ?? (timeLeftMs ? Infinity : DEFAULT_ATTEMPTS);
    const command = new CreateInvalidationCommand({
      DistributionId: distributionId,
      InvalidationBatch: { CallerReference: reference(), Paths: { Quantity: paths.length, Items: paths } },
    });
    for (let attempt = 1; ; attempt++) {
      try {
        await client.send(command);
        return;
      } catch (err) {
        const delay = Math.min(MAX_DELAY_MS, firstDelayMs * 2 ** (attempt - 1));
        const outOfTime = timeLeftMs !== undefined && timeLeftMs() < delay;
        if (!RETRYABLE.has((err as Error).name) || attempt >= attempts || outOfTime) throw err;
        await sleep(delay);
      }
    }
  };
  return {
    async invalidate(paths, timeLeftMs) {
      for (let i = 0; i < paths.length; i += MAX_PATHS_PER_INVALIDATION)
        await createOne(paths.slice(i, i + MAX_PATHS_PER_INVALIDATION), timeLeftMs);
    },
  };
}
