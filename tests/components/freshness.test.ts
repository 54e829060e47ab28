/**
 * ImageResizer's freshness wiring under Pulumi mocks: created by default (bucket events to
 * EventBridge, a rule that cannot match variant keys, two queues and a dead-letter queue, the
 * purge function in the bucket's region with least-privilege IAM), absent when switched off.
 */
import test from "ava";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { componentHarness, deployResizer } from "../helpers/component-harness.js";
import type { RecordedResource } from "../../components/pulumi-mocks.js";
import type { ImageResizer as ImageResizerClass, ImageResizerArgs } from "../../components/image-resizer.js";
import { PURGE_ENV } from "../../handlers/purge-handler.js";
import {
  PURGE_CONCURRENCY_PER_QUEUE,
  PURGE_TIMEOUT_SECONDS,
  PURGE_VISIBILITY_TIMEOUT_SECONDS,
  RECHECK_DELAY_SECONDS,
} from "../../components/freshness.js";

const T = {
  notification: "aws:s3/bucketNotification:BucketNotification",
  rule: "aws:cloudwatch/eventRule:EventRule",
  target: "aws:cloudwatch/eventTarget:EventTarget",
  queue: "aws:sqs/queue:Queue",
  queuePolicy: "aws:sqs/queuePolicy:QueuePolicy",
  mapping: "aws:lambda/eventSourceMapping:EventSourceMapping",
  fn: "aws:lambda/function:Function",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
} as const;
/** Freshness resources that live in a region (IAM is global). */
const REGIONAL = [T.notification, T.rule, T.target, T.queue, T.queuePolicy, T.mapping, T.fn];

const h = componentHarness(test, "freshness-bundles-");

async function deploy(name: string, args: ImageResizerArgs = {}): Promise<ImageResizerClass> {
  return deployResizer(
    h,
    name,
    args,
    () =>
      h.mocks.resources.some((r) => r.name === `${name}-origin-response-access`) &&
      (args.purgeOnChange === false || h.mocks.resources.filter((r) => r.name.startsWith(`${name}-purge`)).length >= 11),
  );
}

function mine(name: string, type: string): RecordedResource[] {
  return h.mocks.resources.filter((r) => r.type === type && r.name.startsWith(`${name}-`));
}

/** EventBridge matching for the operators our pattern uses (exact values, anything-but prefix). */
function matches(pattern: any, event: any): boolean {
  return Object.entries(pattern).every(([field, want]) => {
    const got = event?.[field];
    if (!Array.isArray(want)) return matches(want, got);
    return want.some((w) =>
      typeof w === "object" && w !== null && "anything-but" in w
        ? typeof got === "string" && !got.startsWith(w["anything-but"].prefix)
        : got === w,
    );
  });
}

function s3Event(bucket: string, key: string, type = "Object Created") {
  return { source: "aws.s3", "detail-type": type, detail: { bucket: { name: bucket }, object: { key } } };
}

test.serial("by default: bucket events to EventBridge, a rule for originals only, two queues with a DLQ, the purge function", async (t) => {
  await deploy("fresh");
  t.true(mine("fresh", T.notification)[0]!.inputs.eventbridge);
  const [rule] = mine("fresh", T.rule);
  const pattern = JSON.parse(rule!.inputs.eventPattern);
  t.true(matches(pattern, s3Event("fresh-images", "images/cat.jpg")));
  t.true(matches(pattern, s3Event("fresh-images", "images/cat.jpg", "Object Deleted")));
  t.true(matches(pattern, s3Event("fresh-images", "variants.jpg")));
  t.false(matches(pattern, s3Event("fresh-images", "variants/images/cat.jpg/300x200,q80.webp")), "storing a variant triggers nothing");
  t.false(matches(pattern, s3Event("fresh-images", "variants/x")));
  t.false(matches(pattern, s3Event("other-bucket", "images/cat.jpg")));
  t.false(matches(pattern, s3Event("fresh-images", "images/cat.jpg", "Object Restore Completed")));

  const queues = mine("fresh", T.queue);
  t.is(queues.length, 3);
  const dlq = queues.find((q) => q.name === "fresh-purge-dlq")!;
  const delayed = queues.find((q) => q.name === "fresh-purge-recheck")!;
  t.is(delayed.inputs.delaySeconds, RECHECK_DELAY_SECONDS);
  for (const q of queues.filter((q) => q !== dlq)) t.regex(JSON.parse(q.inputs.redrivePolicy).deadLetterTargetArn, /fresh-purge-dlq$/);
  t.is(mine("fresh", T.target).length, 2);
  for (const p of mine("fresh", T.queuePolicy)) {
    const statement = JSON.parse(p.inputs.policy).Statement[0];
    t.deepEqual(statement.Principal, { Service: "events.amazonaws.com" });
    t.regex(statement.Condition.ArnEquals["aws:SourceArn"], /rule\/fresh-original-changed$/);
  }
  t.is(mine("fresh", T.mapping).length, 2);

  const fn = mine("fresh", T.fn).find((f) => f.name === "fresh-purge")!;
  t.is(fn.provider ?? "", "", "the purge function uses the stack's (bucket's) region, not the us-east-1 provider");
  const env = fn.inputs.environment.variables;
  t.is(env[PURGE_ENV.bucket], "fresh-images");
  t.is(env[PURGE_ENV.variantPrefix], "variants");
  t.is(env[PURGE_ENV.distributionId], "fresh-cdn-id");
  t.regex(env[PURGE_ENV.recheckQueueArn], /fresh-purge-recheck$/);
});

test.serial("least privilege: list and delete under the variant prefix only, invalidate this distribution only", async (t) => {
  await deploy("iam", { settings: { variantPrefix: "v/r" } });
  const policy = JSON.parse(mine("iam", T.rolePolicy).find((p) => p.name === "iam-purge-access")!.inputs.policy);
  const grants = (action: string) => policy.Statement.filter((s: any) => s.Action === action);
  t.deepEqual(
    grants("s3:DeleteObject").map((s: any) => s.Resource),
    ["arn:aws:s3:::iam-images/v/r/*"],
  );
  t.deepEqual(
    grants("s3:ListBucket").map((s: any) => s.Condition),
    [{ StringLike: { "s3:prefix": ["v/r/*"] } }],
  );
  t.deepEqual(
    grants("cloudfront:CreateInvalidation").map((s: any) => s.Resource),
    ["arn:aws:cloudfront::123456789012:distribution/iam-cdn-id"],
  );
  t.false(
    policy.Statement.some((s: any) => String(s.Action).includes("PutObject")),
    "the purge never writes",
  );
  const drain = JSON.parse(mine("iam", T.rolePolicy).find((p) => p.name === "iam-purge-queues")!.inputs.policy);
  t.deepEqual(drain.Statement[0].Resource.map((arn: string) => arn.split(":").pop()).sort(), ["iam-purge", "iam-purge-recheck"]);
});

test.serial("an existing bucket in another region gets every freshness resource in its own region", async (t) => {
  h.mocks.existingBuckets.set("sydney-originals", { region: "ap-southeast-2" });
  await deploy("far", { existingBucketName: "sydney-originals" });
  const regional = REGIONAL.flatMap((type) => mine("far", type)).filter((r) => !(r.type === T.fn && !r.name.startsWith("far-purge")));
  t.is(regional.length, 12, regional.map((r) => r.name).join(", "));
  for (const r of regional) t.is(r.inputs.region, "ap-southeast-2", `${r.type} ${r.name}`);
  // What AWS checks: the rule targets queues of its own region, a mapping joins a queue and a function of one region.
  const arnRegion = (arn: string) => arn.split(":")[3];
  for (const target of mine("far", T.target)) t.is(arnRegion(target.inputs.arn), "ap-southeast-2");
  for (const m of mine("far", T.mapping)) {
    t.is(arnRegion(m.inputs.eventSourceArn), "ap-southeast-2");
    t.is(arnRegion(m.inputs.functionName), "ap-southeast-2");
  }
  const fn = mine("far", T.fn).find((f) => f.name === "far-purge")!;
  t.is(fn.inputs.environment.variables[PURGE_ENV.bucketRegion], "ap-southeast-2", "the purge's S3 client asks the bucket's region");
  t.is(fn.inputs.environment.variables[PURGE_ENV.bucket], "sydney-originals");
});

test.serial(
  "one bounded invalidation path: capped mappings reporting partial failures, AWS's visibility rule for the timeout",
  async (t) => {
    await deploy("bounded");
    const fn = mine("bounded", T.fn).find((f) => f.name === "bounded-purge")!;
    t.is(fn.inputs.timeout, PURGE_TIMEOUT_SECONDS);
    for (const q of mine("bounded", T.queue).filter((q) => q.name !== "bounded-purge-dlq")) {
      t.true(q.inputs.visibilityTimeoutSeconds >= 6 * fn.inputs.timeout, `${q.name}: at least six times the function's timeout`);
      t.is(q.inputs.visibilityTimeoutSeconds, PURGE_VISIBILITY_TIMEOUT_SECONDS);
      t.true(q.inputs.visibilityTimeoutSeconds <= 43_200, "SQS's longest visibility timeout is 12 hours");
    }
    const mappings = mine("bounded", T.mapping);
    t.is(mappings.length, 2);
    for (const m of mappings) {
      t.deepEqual(m.inputs.functionResponseTypes, ["ReportBatchItemFailures"]);
      t.is(m.inputs.scalingConfig.maximumConcurrency, PURGE_CONCURRENCY_PER_QUEUE);
      t.true(m.inputs.scalingConfig.maximumConcurrency >= 2, "SQS's maximum concurrency is at least 2");
    }
    t.is(fn.inputs.environment.variables[PURGE_ENV.bucketRegion], undefined, "a created bucket is in the function's own region");
  },
);

test.serial("purgeOnChange: false creates none of it", async (t) => {
  const resizer = await deploy("off", { purgeOnChange: false });
  t.is(resizer.purgeFunction, undefined);
  for (const type of Object.values(T).filter((type) => type !== T.rolePolicy && type !== T.fn)) t.is(mine("off", type).length, 0, type);
  t.false(h.mocks.resources.some((r) => r.name.startsWith("off-purge")));
  t.throws(() => new h.ImageResizer("bad", { bundleDir: h.bundleDir, purgeOnChange: "yes" as unknown as boolean }), {
    message: /purgeOnChange must be true or false/,
  });
});

test("the purge bundle is built beside the edge bundles: one index.js exporting handler, without sharp or settings.json", (t) => {
  const dir = join(h.bundleDir, "purge");
  t.deepEqual(readdirSync(dir), ["index.js"]);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const loaded = require(join(dir, "index.js")) as { handler?: unknown };
  t.is(typeof loaded.handler, "function");
  t.false(/require\(["']sharp["']\)/.test(readFileSync(join(dir, "index.js"), "utf8")));
  t.true(existsSync(join(h.bundleDir, "purge.zip")));
});

test.serial("the purge role writes only its own function's logs in this account: no managed policy with Resource *", async (t) => {
  await deploy("plogs");
  t.deepEqual(mine("plogs", "aws:iam/rolePolicyAttachment:RolePolicyAttachment"), [], "no managed policy attached");
  const logs = h.mocks.resources.find((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.name === "plogs-purge-logs");
  if (!logs) return t.fail("no plogs-purge-logs policy");
  t.is(logs.inputs.role, "plogs-purge-role-id");
  const resources = JSON.parse(logs.inputs.policy).Statement.flatMap((s: { Resource: string[] }) => s.Resource);
  t.deepEqual(resources, [
    "arn:aws:logs:*:123456789012:log-group:/aws/lambda/plogs-purge",
    "arn:aws:logs:*:123456789012:log-group:/aws/lambda/plogs-purge:*",
  ]);
  t.false(resources.some((r: string) => r === "*" || r.includes(":*:*:")));
});
