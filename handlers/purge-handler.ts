/**
 * The purge function: a regular regional Lambda (in the bucket's region) fed by two SQS queues
 * that both receive the bucket's "Object Created/Deleted" events for originals. The first queue
 * delivers at once: every variant of the changed originals is deleted and CloudFront invalidated.
 * The second delays each event (longer than any render can last): variants whose recorded source
 * is not the original's current ETag (renders that raced the change) are deleted, and only then
 * is CloudFront told again. Configured by environment variables (this is not Lambda@Edge).
 *
 * The function reports partial batch failures: the messages whose pass failed (S3 refused, or
 * CloudFront still refused the invalidation when the function's time ran out) go back to their
 * queue, the others are done; a message that is not an S3 event is dropped with a log line.
 */
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { CloudFrontClient } from "@aws-sdk/client-cloudfront";
import { S3Client } from "@aws-sdk/client-s3";
import { validateSettings, type Settings } from "./core/settings.js";
import { changedKeyOf } from "./purge/messages.js";
import { planPurge, purgeTargetOf } from "./purge/plan.js";
import { runPurge, type Invalidator, type SweepMode, type VariantBucket } from "./purge/purger.js";
import { cloudFrontInvalidator } from "./purge/cloudfront-invalidator.js";
import { s3VariantBucket } from "./purge/s3-variant-bucket.js";

/** The environment variables the component sets (one place names them). */
export const PURGE_ENV = {
  bucket: "PURGE_BUCKET",
  distributionId: "PURGE_DISTRIBUTION_ID",
  variantPrefix: "PURGE_VARIANT_PREFIX",
  recheckQueueArn: "PURGE_RECHECK_QUEUE_ARN",
  /** The bucket's region (optional: without it the function's own region, where the component puts it). */
  bucketRegion: "PURGE_BUCKET_REGION",
} as const;

/** Time kept back from the function's timeout to log and return the batch's failures. */
export const RETURN_MARGIN_MS = 10_000;

export interface PurgeHandlerConfig {
  settings: Pick<Settings, "variantPrefix">;
  /** Records from this queue get the "stale" sweep; all others the "all" sweep. */
  recheckQueueArn: string;
}

/** The invocation's clock, as Lambda passes it (absent: no time budget, e.g. in a test). */
export type InvocationContext = Pick<Context, "getRemainingTimeInMillis">;

export type PurgeHandler = (event: SQSEvent, context?: InvocationContext) => Promise<SQSBatchResponse>;

export function createPurgeHandler(
  config: PurgeHandlerConfig,
  ports: { bucket: VariantBucket; invalidator: Invalidator },
  log: (line: string) => void = (line) => console.log(line),
): PurgeHandler {
  return async (event, context) => {
    const timeLeftMs = context ? () => context.getRemainingTimeInMillis() - RETURN_MARGIN_MS : undefined;
    const failed: string[] = [];
    for (const [mode, changes] of changesByMode(event, config, log)) {
      if (changes.length === 0) continue;
      try {
        const plan = planPurge(
          changes.map((c) => purgeTargetOf(c.key)),
          config.settings,
        );
        const report = await runPurge(plan, ports, config.settings, { mode, timeLeftMs });
        log(
          `purge (${mode}): ${plan.variantPrefixes.length} original(s), ${report.deleted.length} variant(s) deleted, ` +
            `${report.invalidated.length} path(s) invalidated${plan.wholeVariantPrefix ? " (whole variant prefix: too many changes in one batch)" : ""}`,
        );
      } catch (err) {
        log(`purge (${mode}) failed, ${changes.length} message(s) back to the queue: ${(err as Error).name}: ${(err as Error).message}`);
        failed.push(...changes.map((c) => c.messageId));
      }
    }
    return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
  };
}

type Change = { key: string; messageId: string };

/** The batch's changed keys by sweep: the recheck queue's get the "stale" pass, every other the "all" pass. */
function changesByMode(event: SQSEvent, config: PurgeHandlerConfig, log: (line: string) => void): [SweepMode, Change[]][] {
  const byMode: Record<SweepMode, Change[]> = { all: [], stale: [] };
  for (const record of event.Records) {
    const parsed = changedKeyOf(record.body);
    if ("skipped" in parsed) log(`purge: message ${record.messageId} skipped: ${parsed.skipped}`);
    else byMode[record.eventSourceARN === config.recheckQueueArn ? "stale" : "all"].push({ key: parsed.key, messageId: record.messageId });
  }
  return [
    ["all", byMode.all],
    ["stale", byMode.stale],
  ];
}

/** Reads the function's configuration from its environment; a missing variable fails loudly. */
export function purgeConfigFromEnvironment(
  env: NodeJS.ProcessEnv,
): PurgeHandlerConfig & { bucket: string; distributionId: string; bucketRegion: string | undefined } {
  const need = (name: string): string => {
    const value = env[name];
    if (!value) throw new Error(`purge function: environment variable ${name} is not set`);
    return value;
  };
  const settings = validateSettings({ variantPrefix: need(PURGE_ENV.variantPrefix) }, "purge function environment");
  return {
    settings,
    recheckQueueArn: need(PURGE_ENV.recheckQueueArn),
    bucket: need(PURGE_ENV.bucket),
    distributionId: need(PURGE_ENV.distributionId),
    bucketRegion: env[PURGE_ENV.bucketRegion] || undefined,
  };
}

let deployed: PurgeHandler | undefined;

export const handler: PurgeHandler = (event, context) => {
  if (!deployed) {
    const config = purgeConfigFromEnvironment(process.env);
    // S3 answers in the bucket's region (the function is put there too); CloudFront's API is global.
    const bucket = s3VariantBucket(new S3Client(config.bucketRegion ? { region: config.bucketRegion } : {}), config.bucket);
    const invalidator = cloudFrontInvalidator(new CloudFrontClient({ region: "us-east-1" }), config.distributionId);
    deployed = createPurgeHandler(config, { bucket, invalidator });
  }
  return deployed(event, context);
};
