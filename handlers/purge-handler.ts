/**
 * The purge function: a regular regional Lambda (in the bucket's region) fed by two SQS queues
 * that both receive the bucket's "Object Created/Deleted" events for originals. The first queue
 * delivers at once: every variant of the changed originals is deleted and CloudFront invalidated.
 * The second delays each event (longer than any render can last): variants whose recorded source
 * is not the original's current ETag (renders that raced the change) are deleted, and only then
 * is CloudFront told again. Configured by environment variables (this is not Lambda@Edge).
 */
import type { SQSEvent } from "aws-lambda";
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
} as const;

export interface PurgeHandlerConfig {
  settings: Pick<Settings, "variantPrefix">;
  /** Records from this queue get the "stale" sweep; all others the "all" sweep. */
  recheckQueueArn: string;
}

export type PurgeHandler = (event: SQSEvent) => Promise<void>;

export function createPurgeHandler(
  config: PurgeHandlerConfig,
  ports: { bucket: VariantBucket; invalidator: Invalidator },
  log: (line: string) => void = (line) => console.log(line),
): PurgeHandler {
  return async (event) => {
    const keysByMode: Record<SweepMode, string[]> = { all: [], stale: [] };
    for (const record of event.Records) {
      const parsed = changedKeyOf(record.body);
      if ("skipped" in parsed) log(`purge: message ${record.messageId} skipped: ${parsed.skipped}`);
      else keysByMode[record.eventSourceARN === config.recheckQueueArn ? "stale" : "all"].push(parsed.key);
    }
    for (const mode of ["all", "stale"] as const) {
      if (keysByMode[mode].length === 0) continue;
      const plan = planPurge(keysByMode[mode].map(purgeTargetOf), config.settings);
      const report = await runPurge(plan, ports, config.settings, { mode });
      log(
        `purge (${mode}): ${plan.variantPrefixes.length} original(s), ${report.deleted.length} variant(s) deleted, ` +
          `${report.invalidated.length} path(s) invalidated${plan.wholeVariantPrefix ? " (whole variant prefix: too many changes in one batch)" : ""}`,
      );
    }
  };
}

/** Reads the function's configuration from its environment; a missing variable fails loudly. */
export function purgeConfigFromEnvironment(env: NodeJS.ProcessEnv): PurgeHandlerConfig & { bucket: string; distributionId: string } {
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
  };
}

let deployed: PurgeHandler | undefined;

export const handler: PurgeHandler = (event) => {
  if (!deployed) {
    const config = purgeConfigFromEnvironment(process.env);
    // A regular Lambda runs in the bucket's region; CloudFront's API is global.
    const bucket = s3VariantBucket(new S3Client({}), config.bucket);
    const invalidator = cloudFrontInvalidator(new CloudFrontClient({ region: "us-east-1" }), config.distributionId);
    deployed = createPurgeHandler(config, { bucket, invalidator });
  }
  return deployed(event);
};
