/**
 * One bounded invalidation path: as many purge batches in parallel as the two mappings allow,
 * against a CloudFront that keeps invalidations in progress for minutes and refuses past 15
 * wildcard paths. Every batch gets its invalidation through (the backoff outlasts CloudFront's
 * refusals), never more than 15 wildcard paths are in progress, and a batch that cannot get
 * through before the function's time runs out hands back exactly its messages.
 */
import test from "ava";
import { DEFAULT_SETTINGS } from "../../handlers/core/settings.js";
import { SOURCE_ETAG_METADATA } from "../../handlers/core/variant-source.js";
import { createPurgeHandler } from "../../handlers/purge-handler.js";
import { cloudFrontInvalidator, MAX_DELAY_MS } from "../../handlers/purge/cloudfront-invalidator.js";
import { PURGE_CONCURRENCY_PER_QUEUE, PURGE_TIMEOUT_SECONDS } from "../../components/freshness.js";
import {
  FIRST_ARN,
  MemoryBucket,
  RECHECK_ARN,
  SimulatedClock,
  cloudFrontWithInvalidationsInProgress,
  s3Event,
  sqsEvent,
} from "../helpers/purge-fakes.js";

const settings = DEFAULT_SETTINGS;
const TIMEOUT_MS = PURGE_TIMEOUT_SECONDS * 1000;
const MINUTE = 60_000;

function purgeSetup(completesAfterMs: number) {
  const clock = new SimulatedClock();
  const cloudFront = cloudFrontWithInvalidationsInProgress(clock, completesAfterMs);
  const waits: number[] = [];
  const sleep = (ms: number) => {
    waits.push(ms);
    return clock.sleep(ms);
  };
  const bucket = new MemoryBucket();
  const invalidator = cloudFrontInvalidator(cloudFront, "E1", { sleep });
  const handler = createPurgeHandler({ settings, recheckQueueArn: RECHECK_ARN }, { bucket, invalidator }, () => {});
  return { clock, cloudFront, waits, bucket, handler };
}

test("parallel batches of 15 changed originals each: every one invalidated, never more than 15 wildcard paths in progress", async (t) => {
  const { clock, cloudFront, bucket, handler } = purgeSetup(3 * MINUTE);
  const batches = Array.from({ length: 2 * PURGE_CONCURRENCY_PER_QUEUE }, (_, b) => {
    const originals = Array.from({ length: 15 }, (_, i) => `b${b}/${i}.jpg`);
    const recheck = b % 2 === 1;
    for (const original of originals) {
      bucket.put(original, '"new"');
      // First-pass batches find variants to delete; recheck batches find renders of the old original.
      bucket.put(`variants/${original}/100x100,q80.jpg`, "v", { [SOURCE_ETAG_METADATA]: recheck ? "old" : "new" });
    }
    return sqsEvent(
      originals.map((o) => s3Event(o)),
      recheck ? RECHECK_ARN : FIRST_ARN,
      `b${b}-`,
    );
  });

  const responses = await clock.run(Promise.all(batches.map((event) => handler(event, clock.invocation(TIMEOUT_MS)))));
  t.deepEqual(
    responses.map((r) => r.batchItemFailures),
    batches.map(() => []),
    "no batch hands anything back",
  );
  t.is(cloudFront.accepted.length, 4 * 15, "every changed original's path was invalidated");
  t.is(new Set(cloudFront.accepted).size, 4 * 15);
  t.true(cloudFront.peakWildcardPaths <= 15, `peak ${cloudFront.peakWildcardPaths} wildcard paths in progress`);
  t.true(cloudFront.refusals > 0, "the batches really competed for CloudFront's 15 paths");
  t.deepEqual(
    [...bucket.objects.keys()].filter((k) => k.startsWith("variants/")),
    [],
  );
  t.true(clock.now < TIMEOUT_MS, "all done within one invocation's time");
});

test("CloudFront busy longer than the function may run: the batch hands back exactly its first-pass messages, in time", async (t) => {
  const { clock, cloudFront, waits, bucket, handler } = purgeSetup(MINUTE);
  cloudFront.occupy(15, 2 * TIMEOUT_MS);
  bucket.put("a.jpg", '"e"');
  bucket.put("variants/a.jpg/1x1,q80.jpg", "v", { [SOURCE_ETAG_METADATA]: "e" });
  bucket.put("b.jpg", '"e"');
  bucket.put("variants/b.jpg/1x1,q80.jpg", "v", { [SOURCE_ETAG_METADATA]: "e" });
  const event = sqsEvent([s3Event("a.jpg"), "not json", s3Event("b.jpg")]);
  // A recheck record in the same batch finds nothing stale, so it needs no invalidation and is done.
  event.Records.push({ ...event.Records[0]!, messageId: "recheck-1", eventSourceARN: RECHECK_ARN });

  const response = await clock.run(handler(event, clock.invocation(TIMEOUT_MS)));
  t.deepEqual(response.batchItemFailures, [{ itemIdentifier: "m0" }, { itemIdentifier: "m2" }]);
  t.true(clock.now < TIMEOUT_MS, `returned at ${clock.now} ms, before the ${TIMEOUT_MS} ms timeout`);
  t.true(
    waits.every((w) => w <= MAX_DELAY_MS),
    "no wait is longer than the cap",
  );
  t.deepEqual(cloudFront.accepted, []);

  // Redelivered once CloudFront is free again, the same messages go through.
  clock.now += 2 * TIMEOUT_MS;
  const again = await clock.run(handler(sqsEvent([s3Event("a.jpg"), s3Event("b.jpg")]), clock.invocation(TIMEOUT_MS)));
  t.deepEqual(again.batchItemFailures, []);
  t.deepEqual(cloudFront.accepted, ["/variants/a.jpg/*", "/variants/b.jpg/*"]);
});
