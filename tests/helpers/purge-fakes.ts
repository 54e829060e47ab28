/**
 * What the purge tests drive the purge with: a bucket in memory, CloudFront clients that record
 * every CreateInvalidation (one failing on demand, one that keeps invalidations in progress and
 * refuses past 15 wildcard paths as CloudFront does), a simulated clock, and S3/SQS events.
 */
import type { SQSEvent } from "aws-lambda";
import type { CreateInvalidationCommand } from "@aws-sdk/client-cloudfront";
import { SOURCE_ETAG_METADATA } from "../../handlers/core/variant-source.js";
import type { VariantBucket } from "../../handlers/purge/purger.js";

export const RECHECK_ARN = "arn:aws:sqs:eu-west-1:123456789012:recheck";
export const FIRST_ARN = "arn:aws:sqs:eu-west-1:123456789012:first";

/** A bucket in memory: key → ETag, plus the source recorded on variants. */
export class MemoryBucket implements VariantBucket {
  readonly objects = new Map<string, { etag: string; metadata: Record<string, string> }>();
  readonly deleteCalls: string[][] = [];
  put(key: string, etag: string, metadata: Record<string, string> = {}): void {
    this.objects.set(key, { etag, metadata });
  }
  async listKeys(prefix: string) {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
  async etagOf(key: string) {
    return this.objects.get(key)?.etag;
  }
  async recordedSourceOf(key: string) {
    return this.objects.get(key)?.metadata[SOURCE_ETAG_METADATA];
  }
  async deleteKeys(keys: readonly string[]) {
    this.deleteCalls.push([...keys]);
    for (const k of keys) this.objects.delete(k);
  }
}

/** The paths of a CreateInvalidation, after CloudFront's own consistency check. */
function pathsOf(command: CreateInvalidationCommand): string[] {
  const paths = command.input.InvalidationBatch!.Paths!;
  if (paths.Quantity !== paths.Items!.length) throw new Error(`InconsistentQuantities: ${paths.Quantity} != ${paths.Items!.length}`);
  return [...paths.Items!];
}

function awsError(name: string): Error {
  return Object.assign(new Error(name), { name });
}

/** A CloudFront client that records every CreateInvalidation and fails the first `failures` calls. */
export function recordingCloudFront(failures: { name: string }[] = []) {
  const calls: { distributionId: string; paths: string[] }[] = [];
  let attempts = 0;
  return {
    calls,
    get attempts() {
      return attempts;
    },
    async send(command: CreateInvalidationCommand) {
      attempts++;
      const failure = failures.shift();
      if (failure) throw awsError(failure.name);
      calls.push({ distributionId: command.input.DistributionId!, paths: pathsOf(command) });
      return {};
    },
  };
}

/** Simulated time: `sleep` waits until `run` advances the clock to the earliest sleeper's wake-up. */
export class SimulatedClock {
  now = 0;
  private sleepers: { at: number; wake: () => void }[] = [];
  readonly sleep = (ms: number): Promise<void> => new Promise((wake) => this.sleepers.push({ at: this.now + ms, wake }));
  /** Settles `work`, moving time on whenever everything in flight is asleep. */
  async run<T>(work: Promise<T>): Promise<T> {
    let settled = false;
    work.then(
      () => (settled = true),
      () => (settled = true),
    );
    while (true) {
      await new Promise((r) => setImmediate(r));
      if (settled) return work;
      this.sleepers.sort((a, b) => a.at - b.at);
      const next = this.sleepers.shift();
      if (!next) throw new Error("nothing asleep and nothing settled: the work waits on something outside the clock");
      this.now = next.at;
      next.wake();
    }
  }
  /** A Lambda invocation's context: `timeoutMs` from now. */
  invocation(timeoutMs: number) {
    const end = this.now + timeoutMs;
    return { getRemainingTimeInMillis: () => end - this.now };
  }
}

/**
 * CloudFront as its quotas page describes it: an invalidation stays in progress for
 * `completesAfterMs`, and one that would bring the wildcard paths in progress past 15 on the
 * distribution is refused with TooManyInvalidationsInProgress. `peakWildcardPaths` is what was
 * ever in progress at once, `refusals` how often a caller was sent back.
 */
export function cloudFrontWithInvalidationsInProgress(clock: SimulatedClock, completesAfterMs: number, maxWildcardPaths = 15) {
  const inProgress: { wildcards: number; doneAt: number }[] = [];
  const accepted: string[] = [];
  let refusals = 0;
  let peakWildcardPaths = 0;
  const wildcardsInProgress = () => {
    for (let i = inProgress.length - 1; i >= 0; i--) if (inProgress[i]!.doneAt <= clock.now) inProgress.splice(i, 1);
    return inProgress.reduce((n, i) => n + i.wildcards, 0);
  };
  return {
    accepted,
    get refusals() {
      return refusals;
    },
    get peakWildcardPaths() {
      return peakWildcardPaths;
    },
    /** Someone else's invalidation (the command line, the console) holding `wildcards` paths for `forMs`. */
    occupy(wildcards: number, forMs: number) {
      inProgress.push({ wildcards, doneAt: clock.now + forMs });
    },
    async send(command: CreateInvalidationCommand) {
      const paths = pathsOf(command);
      const wildcards = paths.filter((p) => p.endsWith("*")).length;
      const current = wildcardsInProgress();
      if (current + wildcards > maxWildcardPaths) {
        refusals++;
        throw awsError("TooManyInvalidationsInProgress");
      }
      inProgress.push({ wildcards, doneAt: clock.now + completesAfterMs });
      peakWildcardPaths = Math.max(peakWildcardPaths, current + wildcards);
      accepted.push(...paths);
      return {};
    },
  };
}

export const noSleep = async () => {};

export function s3Event(key: string, type = "Object Created"): string {
  return JSON.stringify({ source: "aws.s3", "detail-type": type, detail: { bucket: { name: "b" }, object: { key, etag: "x" } } });
}

export function sqsEvent(bodies: string[], arn = FIRST_ARN, idPrefix = "m"): SQSEvent {
  return { Records: bodies.map((body, i) => ({ messageId: `${idPrefix}${i}`, body, eventSourceARN: arn })) } as unknown as SQSEvent;
}
