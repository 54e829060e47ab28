/**
 * The local edge's freshness: what the deployed purge function does, in process. The embedded
 * s3rver emits an S3-style event for every PUT, POST, COPY and DELETE of an object; a change to
 * an original runs the shared purge (handlers/purge/) against the same bucket with the local
 * cache as the CDN, and a second, "stale" pass after `recheckDelayMs` (the deployed delayed queue).
 * Requests wait for running purges, so the very next request after a replacement sees it.
 */
import type { Settings } from "../handlers/core/settings.js";
import { isUnderVariantPrefix } from "../handlers/core/variant-key.js";
import { planPurge, purgeTargetOf, type PurgeTarget } from "../handlers/purge/plan.js";
import { runPurge, type PurgeReport, type SweepMode } from "../handlers/purge/purger.js";
import { s3VariantBucket } from "../handlers/purge/s3-variant-bucket.js";
import type { EdgeCache } from "./cloudfront-cache.js";
import type { S3Target } from "./s3.js";

/** The deployed delayed queue waits 2 minutes; locally a few seconds outlast any render. */
export const LOCAL_RECHECK_DELAY_MS = 5_000;

/** The part of an s3rver event the purge reads (s3rver keys are not URL-encoded). */
export interface S3rverEvent {
  Records: { eventName: string; s3: { object: { key: string } } }[];
}

export class LocalPurger {
  private readonly running = new Set<Promise<unknown>>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly s3: S3Target,
    private readonly cache: EdgeCache,
    private readonly settings: Pick<Settings, "variantPrefix">,
    private readonly log: (line: string) => void,
    /** Delay of the second pass, or a function that schedules it (tests run it when they choose). */
    private readonly recheck: number | ((run: () => void) => void) = LOCAL_RECHECK_DELAY_MS,
  ) {}

  /** s3rver's event listener: a created or removed original is purged now and re-checked later. */
  onS3Event(event: S3rverEvent): void {
    for (const record of event.Records) {
      const key = record.s3.object.key;
      if (!/^Object(Created|Removed):/.test(record.eventName) || isUnderVariantPrefix(key, this.settings)) continue;
      this.track(this.purge([purgeTargetOf(key)], "all"), `purge of ${key}`);
      this.scheduleRecheck(() => this.track(this.purge([purgeTargetOf(key)], "stale"), `re-check of ${key}`));
    }
  }

  private scheduleRecheck(run: () => void): void {
    if (typeof this.recheck === "function") return this.recheck(run);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, this.recheck);
    timer.unref();
    this.timers.add(timer);
  }

  /** The shared purge with the local bucket and cache. */
  async purge(targets: readonly PurgeTarget[], mode: SweepMode, dryRun = false): Promise<PurgeReport> {
    const plan = planPurge(targets, this.settings);
    const bucket = s3VariantBucket(this.s3.client, this.s3.bucket);
    const invalidator = { invalidate: async (paths: readonly string[]) => void this.cache.invalidate(paths) };
    const report = await runPurge(plan, { bucket, invalidator }, this.settings, { mode, dryRun });
    if (report.deleted.length > 0 || dryRun) {
      this.log(
        `purge${dryRun ? " (dry run)" : ""} (${mode}): ${report.deleted.length} variant(s) deleted, cache invalidated for ${report.invalidated.join(" ") || "nothing"}`,
      );
    }
    return report;
  }

  /** Resolves once no purge is running (requests wait for it). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  /** Stops the pending re-checks (the edge is closing). */
  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private track(work: Promise<unknown>, what: string): void {
    const tracked = work.catch((err: unknown) => this.log(`${what} failed: ${(err as Error).message ?? String(err)}`));
    this.running.add(tracked);
    void tracked.finally(() => this.running.delete(tracked));
  }
}

/** Largest body of a by-hand purge request (a list of keys). */
const MAX_PURGE_REQUEST_BYTES = 1024 * 1024;

/**
 * `POST /_edge/purge` with `{"targets": ["images/cat.jpg", "images/"], "dryRun": false}`: what
 * `edge-resizer purge --local` sends. Answers the report as JSON, or 400 with a reason.
 */
export async function purgeByHand(purger: LocalPurger, body: AsyncIterable<Buffer | string>): Promise<{ status: number; body: string }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > MAX_PURGE_REQUEST_BYTES) return { status: 413, body: JSON.stringify({ error: "purge request too large" }) };
    chunks.push(Buffer.from(chunk));
  }
  let request: { targets?: unknown; dryRun?: unknown };
  try {
    request = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    return { status: 400, body: JSON.stringify({ error: "the body must be JSON" }) };
  }
  const targets = request?.targets;
  if (!Array.isArray(targets) || !targets.every((t) => typeof t === "string")) {
    return { status: 400, body: JSON.stringify({ error: 'give "targets": a list of original keys or prefixes' }) };
  }
  const report = await purger.purge(targets.map(purgeTargetOf), "all", request.dryRun === true);
  return { status: 200, body: JSON.stringify(report) };
}

/**
 * Why a by-hand purge must be refused, or undefined when it may run. The purge deletes objects,
 * and a web page the developer visits could POST to the edge on loopback (a cross-site
 * `text/plain` POST needs no preflight): a browser names the page's origin in `Origin` and says
 * `Sec-Fetch-Site`, so a request from another origin is refused. The CLI sends neither. The
 * Host must be `localhost` or an IP address, so a DNS name rebound to loopback (whose page would
 * be "same-origin") is refused too.
 */
export function purgeRefusal(headers: { host?: string; origin?: string; "sec-fetch-site"?: string }): string | undefined {
  const host = headers.host ?? "";
  if (!/^(?:localhost|\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:.]+\])(?::\d{1,5})?$/i.test(host))
    return "purges are accepted for localhost or an IP address only";
  const site = headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin" && site !== "none") return "cross-origin purges are refused";
  if (headers.origin !== undefined && headers.origin !== `http://${host}`) return "cross-origin purges are refused";
  return undefined;
}
