/**
 * Originals change, variants follow: the purge planner (coalescing, CloudFront's limits, URI
 * encoding) and the purge function driven by SQS events, with an in-memory bucket and a
 * recording CloudFront client (throttling retried, nothing deleted outside the variant prefix).
 */
import test from "ava";
import { DEFAULT_SETTINGS } from "../../handlers/core/settings.js";
import { uriToKey, variantKey, variantKeyToUri } from "../../handlers/core/variant-key.js";
import { basePlan } from "../../handlers/core/plan.js";
import { SOURCE_ETAG_METADATA } from "../../handlers/core/variant-source.js";
import { createPurgeHandler, purgeConfigFromEnvironment, PURGE_ENV } from "../../handlers/purge-handler.js";
import { cloudFrontInvalidator } from "../../handlers/purge/cloudfront-invalidator.js";
import { changedKeyOf } from "../../handlers/purge/messages.js";
import { CLOUDFRONT_PURGE_LIMITS, planPurge, purgeTargetOf } from "../../handlers/purge/plan.js";
import { OutsideVariantPrefixError, runPurge, type VariantBucket } from "../../handlers/purge/purger.js";
import { MemoryBucket, RECHECK_ARN, noSleep, recordingCloudFront, s3Event, sqsEvent } from "../helpers/purge-fakes.js";

const settings = DEFAULT_SETTINGS;

test("one changed original: its variant prefix swept, one wildcard path in viewer-request's encoding", (t) => {
  const plan = planPurge([purgeTargetOf("images/cat.jpg")], settings);
  t.deepEqual(plan.variantPrefixes, ["variants/images/cat.jpg/"]);
  t.deepEqual(plan.invalidationPaths, ["/variants/images/cat.jpg/*"]);
  t.false(plan.wholeVariantPrefix);
});

test("a batch is coalesced: duplicates once, originals inside a changed prefix swept with it, variant keys ignored", (t) => {
  const plan = planPurge(["a/1.jpg", "a/1.jpg", "b/2.jpg", "a/", "variants/b/2.jpg/300x200,q80.webp"].map(purgeTargetOf), settings);
  t.deepEqual(plan.variantPrefixes, ["variants/a/", "variants/b/2.jpg/"]);
  t.deepEqual(plan.invalidationPaths, ["/variants/a/*", "/variants/b/2.jpg/*"]);
  t.deepEqual(plan.ignoredVariantKeys, ["variants/b/2.jpg/300x200,q80.webp"]);
});

test("past 15 wildcard paths one window falls back to one invalidation of the whole variant prefix", (t) => {
  const limit = CLOUDFRONT_PURGE_LIMITS.maxWildcardPaths;
  t.is(limit, 15);
  const atLimit = planPurge(
    Array.from({ length: limit }, (_, i) => purgeTargetOf(`p/${i}.jpg`)),
    settings,
  );
  t.is(atLimit.invalidationPaths.length, limit);
  t.false(atLimit.wholeVariantPrefix);
  const keys = Array.from({ length: 10_000 }, (_, i) => purgeTargetOf(`bulk/${i}.jpg`));
  const over = planPurge(keys, settings);
  t.true(over.wholeVariantPrefix);
  t.deepEqual(over.invalidationPaths, ["/variants/*"]);
  // Every original is still swept in S3: only the CDN side is widened.
  t.is(over.variantPrefixes.length, 10_000);
});

test("unusual keys: paths are exactly the URI viewer-request writes for their variants, the only * is the wildcard", (t) => {
  for (const original of ["photos/my cat.jpg", "100%/done.png", "café/żółw 🐢.webp", "a*b/(x)'!.jpg", "q?#&+=.jpg"]) {
    const [path] = planPurge([purgeTargetOf(original)], settings).invalidationPaths;
    const variantUri = variantKeyToUri(`variants/${original}/300x200,q80.webp`);
    t.true(path!.endsWith("*"), path);
    const stem = path!.slice(0, -1);
    t.true(variantUri.startsWith(stem), `${variantUri} must start with ${stem}`);
    t.false(stem.includes("*"), path);
    t.false(/[^\x21-\x7e]/.test(path!), `${path} holds a raw space or non-ASCII character`);
    t.is(uriToKey(stem), `variants/${original}/`);
  }
});

test("messages: EventBridge S3 created/deleted events give their key; anything else is skipped with a reason", (t) => {
  t.deepEqual(changedKeyOf(s3Event("a b/ü.jpg")), { key: "a b/ü.jpg" });
  t.deepEqual(changedKeyOf(s3Event("x.jpg", "Object Deleted")), { key: "x.jpg" });
  t.true("skipped" in changedKeyOf("{"));
  t.true(
    "skipped" in
      changedKeyOf(JSON.stringify({ source: "aws.s3", "detail-type": "Object Restore Completed", detail: { object: { key: "x" } } })),
  );
  t.true("skipped" in changedKeyOf(JSON.stringify({ source: "aws.s3", "detail-type": "Object Created", detail: {} })));
});

test("the purge function deletes every variant of the changed originals and nothing else, then invalidates once", async (t) => {
  const bucket = new MemoryBucket();
  bucket.put("images/cat.jpg", "e2");
  bucket.put("images/cat.jpg.bak", "e9");
  bucket.put("variants/images/cat.jpg/300x200,q80.webp", "v1", { [SOURCE_ETAG_METADATA]: "e1" });
  bucket.put("variants/images/cat.jpg/orig,q80.orig", "v2", { [SOURCE_ETAG_METADATA]: "e2" });
  bucket.put("variants/images/cat.jpg.bak/300x200,q80.webp", "v3", { [SOURCE_ETAG_METADATA]: "e9" });
  bucket.put("variants/images/dog.jpg/300x200,q80.webp", "v4", { [SOURCE_ETAG_METADATA]: "e5" });
  const cloudFront = recordingCloudFront();
  const invalidator = cloudFrontInvalidator(cloudFront, "E123", { sleep: noSleep });
  const handler = createPurgeHandler({ settings, recheckQueueArn: RECHECK_ARN }, { bucket, invalidator }, () => {});

  await handler(
    sqsEvent([s3Event("images/cat.jpg"), s3Event("images/cat.jpg"), "not json", s3Event("variants/images/dog.jpg/300x200,q80.webp")]),
  );
  t.deepEqual([...bucket.objects.keys()].sort(), [
    "images/cat.jpg",
    "images/cat.jpg.bak",
    "variants/images/cat.jpg.bak/300x200,q80.webp",
    "variants/images/dog.jpg/300x200,q80.webp",
  ]);
  t.deepEqual(cloudFront.calls, [{ distributionId: "E123", paths: ["/variants/images/cat.jpg/*"] }]);
});

test("the delayed pass deletes only variants whose recorded source is not the current original, and invalidates only then", async (t) => {
  const bucket = new MemoryBucket();
  bucket.put("a.jpg", '"new"');
  bucket.put("variants/a.jpg/100x100,q80.jpg", "v", { [SOURCE_ETAG_METADATA]: "new" });
  bucket.put("variants/a.jpg/200x200,q80.jpg", "v", { [SOURCE_ETAG_METADATA]: "old" });
  bucket.put("variants/a.jpg/300x300,q80.jpg", "v"); // stored before sources were recorded
  bucket.put("variants/gone.jpg/100x100,q80.jpg", "v", { [SOURCE_ETAG_METADATA]: "old" });
  bucket.put("b.jpg", "b1");
  bucket.put("variants/b.jpg/100x100,q80.jpg", "v", { [SOURCE_ETAG_METADATA]: "b1" });
  const cloudFront = recordingCloudFront();
  const handler = createPurgeHandler(
    { settings, recheckQueueArn: RECHECK_ARN },
    { bucket, invalidator: cloudFrontInvalidator(cloudFront, "E1", { sleep: noSleep }) },
    () => {},
  );

  await handler(sqsEvent([s3Event("a.jpg"), s3Event("gone.jpg", "Object Deleted"), s3Event("b.jpg")], RECHECK_ARN));
  t.deepEqual([...bucket.objects.keys()].filter((k) => k.startsWith("variants/")).sort(), [
    "variants/a.jpg/100x100,q80.jpg",
    "variants/b.jpg/100x100,q80.jpg",
  ]);
  t.deepEqual(
    cloudFront.calls.map((c) => c.paths),
    [["/variants/a.jpg/*", "/variants/gone.jpg/*"]],
  );

  await handler(sqsEvent([s3Event("b.jpg")], RECHECK_ARN));
  t.is(cloudFront.calls.length, 1, "a delayed pass that finds nothing stale costs no invalidation path");
});

test("the delayed pass reads the original of long-option variants (cut into ~ segments) and deletes nothing fresh", async (t) => {
  const plan = (quality: number) => ({
    ...basePlan("images/cat.jpg", quality),
    format: "webp" as const,
    filters: [
      { name: "watermark", args: ["w".repeat(150), 10, 10, 50] },
      { name: "curve", args: ["c".repeat(120)] },
    ],
  });
  const fresh = variantKey(plan(80), settings);
  const stale = variantKey(plan(70), settings);
  t.true(fresh.split("/").length > 4, `${fresh} is cut into several segments`);
  const bucket = new MemoryBucket();
  bucket.put("images/cat.jpg", '"e2"');
  bucket.put(fresh, "v1", { [SOURCE_ETAG_METADATA]: "e2" });
  bucket.put(stale, "v2", { [SOURCE_ETAG_METADATA]: "e1" });
  const cloudFront = recordingCloudFront();
  const handler = createPurgeHandler(
    { settings, recheckQueueArn: RECHECK_ARN },
    { bucket, invalidator: cloudFrontInvalidator(cloudFront, "E1", { sleep: noSleep }) },
    () => {},
  );
  await handler(sqsEvent([s3Event("images/cat.jpg")], RECHECK_ARN));
  t.true(bucket.objects.has(fresh), "the fresh long-key variant is kept");
  t.false(bucket.objects.has(stale), "the stale one goes");
  t.deepEqual(
    cloudFront.calls.map((c) => c.paths),
    [["/variants/images/cat.jpg/*"]],
  );

  cloudFront.calls.length = 0;
  await handler(sqsEvent([s3Event("images/cat.jpg")], RECHECK_ARN));
  t.deepEqual(cloudFront.calls, [], "a second recheck finds nothing stale and invalidates nothing");
});

test("a throttled CreateInvalidation is retried with growing waits; past the attempts the batch fails for SQS to redeliver", async (t) => {
  const waits: number[] = [];
  const sleep = async (ms: number) => {
    waits.push(ms);
  };
  const cloudFront = recordingCloudFront([{ name: "Throttling" }, { name: "TooManyInvalidationsInProgress" }]);
  await cloudFrontInvalidator(cloudFront, "E1", { sleep, firstDelayMs: 100 }).invalidate(["/variants/a/*"]);
  t.is(cloudFront.attempts, 3);
  t.deepEqual(waits, [100, 200]);
  t.deepEqual(
    cloudFront.calls.map((c) => c.paths),
    [["/variants/a/*"]],
  );

  const hopeless = recordingCloudFront(Array.from({ length: 10 }, () => ({ name: "Throttling" })));
  await t.throwsAsync(cloudFrontInvalidator(hopeless, "E1", { sleep, attempts: 4 }).invalidate(["/x*"]), { name: "Throttling" });
  t.is(hopeless.attempts, 4);

  const denied = recordingCloudFront([{ name: "AccessDenied" }]);
  await t.throwsAsync(cloudFrontInvalidator(denied, "E1", { sleep }).invalidate(["/x*"]), { name: "AccessDenied" });
  t.is(denied.attempts, 1, "a non-throttling error is not retried");
});

test("a listing that strays outside the variant prefix deletes nothing", async (t) => {
  const bucket = new MemoryBucket();
  bucket.put("images/cat.jpg", "e");
  const lying: VariantBucket = {
    ...bucket,
    listKeys: async () => ["variants/images/cat.jpg/1x1,q80.jpg", "images/cat.jpg"],
    deleteKeys: (k) => bucket.deleteKeys(k),
    etagOf: (k) => bucket.etagOf(k),
    recordedSourceOf: (k) => bucket.recordedSourceOf(k),
  };
  const plan = planPurge([purgeTargetOf("images/cat.jpg")], settings);
  await t.throwsAsync(runPurge(plan, { bucket: lying, invalidator: { invalidate: async () => {} } }, settings, { mode: "all" }), {
    instanceOf: OutsideVariantPrefixError,
  });
  t.deepEqual(bucket.deleteCalls, []);
  t.true(bucket.objects.has("images/cat.jpg"));
});

test("a dry run reports what it would delete and invalidate, and does neither", async (t) => {
  const bucket = new MemoryBucket();
  bucket.put("variants/a.jpg/1x1,q80.jpg", "v");
  let invalidations = 0;
  const report = await runPurge(
    planPurge([purgeTargetOf("a.jpg")], settings),
    {
      bucket,
      invalidator: {
        invalidate: async () => {
          invalidations++;
        },
      },
    },
    settings,
    { mode: "all", dryRun: true },
  );
  t.deepEqual(report, { deleted: ["variants/a.jpg/1x1,q80.jpg"], invalidated: ["/variants/a.jpg/*"] });
  t.is(invalidations, 0);
  t.true(bucket.objects.has("variants/a.jpg/1x1,q80.jpg"));
});

test("the function's environment: every variable required, the variant prefix validated like the settings", (t) => {
  const env = {
    [PURGE_ENV.bucket]: "b",
    [PURGE_ENV.distributionId]: "E1",
    [PURGE_ENV.variantPrefix]: "v/x",
    [PURGE_ENV.recheckQueueArn]: RECHECK_ARN,
  };
  t.is(purgeConfigFromEnvironment(env).settings.variantPrefix, "v/x");
  t.throws(() => purgeConfigFromEnvironment({ ...env, [PURGE_ENV.distributionId]: "" }), { message: /PURGE_DISTRIBUTION_ID/ });
  t.throws(() => purgeConfigFromEnvironment({ ...env, [PURGE_ENV.variantPrefix]: "../x" }));
});
