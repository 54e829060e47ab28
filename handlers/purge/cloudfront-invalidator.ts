/**
 * The purge's Invalidator on CloudFront's CreateInvalidation. CloudFront answers a burst of
 * invalidations with throttling or TooManyInvalidationsInProgress (15 wildcard paths in
 * progress at most); both are retried with a growing wait, then the failure is thrown so the
 * queue delivers the batch again later (and, after its retries, to the dead-letter queue).
 */
import { CreateInvalidationCommand, type CloudFrontClient } from "@aws-sdk/client-cloudfront";
import type { Invalidator } from "./purger.js";

/** CloudFront allows 3,000 paths per invalidation request. */
export const MAX_PATHS_PER_INVALIDATION = 3000;

const RETRYABLE = new Set(["Throttling", "ThrottlingException", "TooManyRequestsException", "TooManyInvalidationsInProgress"]);

export interface InvalidatorOptions {
  /** Attempts per request, the first included. */
  attempts?: number;
  /** Wait before the second attempt; doubled each time. */
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
  const attempts = options.attempts ?? 6;
  const firstDelayMs = options.firstDelayMs ?? 1_000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((done) => setTimeout(done, ms)));
  const reference = options.callerReference ?? (() => `edge-resizer-${Date.now()}-${Math.random().toString(36).slice(2, 10)}`);
  const createOne = async (paths: string[]) => {
    const command = new CreateInvalidationCommand({
      DistributionId: distributionId,
      InvalidationBatch: { CallerReference: reference(), Paths: { Quantity: paths.length, Items: paths } },
    });
    for (let attempt = 1; ; attempt++) {
      try {
        await client.send(command);
        return;
      } catch (err) {
        if (!RETRYABLE.has((err as Error).name) || attempt >= attempts) throw err;
        await sleep(firstDelayMs * 2 ** (attempt - 1));
      }
    }
  };
  return {
    async invalidate(paths) {
      for (let i = 0; i < paths.length; i += MAX_PATHS_PER_INVALIDATION) await createOne(paths.slice(i, i + MAX_PATHS_PER_INVALIDATION));
    },
  };
}
