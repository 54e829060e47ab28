/**
 * Freshness: when an original is created, overwritten or deleted, its variants are deleted and
 * CloudFront's copies invalidated (handlers/purge-handler.ts). The bucket sends its events to
 * EventBridge; a rule that cannot match keys under the variant prefix (so storing a variant never
 * triggers anything) feeds two SQS queues, one delivering at once and one after a delay longer
 * than any render (the second pass that removes variants rendered from the old original); a
 * regular Lambda drains both in batches. Every regional resource is created in the bucket's
 * region (the per-resource `region` input; an existing bucket may be in another region than the
 * stack): S3 sends its events to EventBridge in the bucket's region only, an EventBridge rule
 * targets queues of its own region, and a Lambda reads SQS queues of its own region.
 *
 * Invalidations stay bounded: each queue's mapping runs at most PURGE_CONCURRENCY_PER_QUEUE
 * batches at once, a batch asks for at most 15 wildcard paths (handlers/purge/plan.ts), CloudFront
 * refuses more than 15 in progress and the purge backs off until its time runs out, then reports
 * the batch's messages as failed so they return to the queue.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { PURGE_ENV } from "../handlers/purge-handler.js";
import { LAMBDA_NODE_RUNTIME } from "./bundle.js";

/** Longer than origin-response's 30 s limit plus S3's event delivery: a racing render has stored by then. */
export const RECHECK_DELAY_SECONDS = 120;
/** Events gathered into one invocation (one plan, so one coalesced invalidation). */
const BATCH_SIZE = 1000;
const BATCH_WINDOW_SECONDS = 30;
/** Lambda's longest timeout: a batch may wait out CloudFront's invalidations in progress (minutes). */
export const PURGE_TIMEOUT_SECONDS = 900;
/**
 * Batches of one queue in flight at once: the least SQS's maximum concurrency allows. With two
 * queues at most four batches compete for CloudFront's 15 wildcard paths in progress.
 */
export const PURGE_CONCURRENCY_PER_QUEUE = 2;
/**
 * AWS's rule for a queue a Lambda drains: a visibility timeout of at least six times the function's
 * timeout (room for Lambda's retries when the function is throttled), so a running batch is never
 * handed out twice.
 */
export const PURGE_VISIBILITY_TIMEOUT_SECONDS = 6 * PURGE_TIMEOUT_SECONDS;
/** Deliveries of one batch before it goes to the dead-letter queue. */
const MAX_RECEIVES = 5;

export interface FreshnessParts {
  /** `region`: an existing bucket's own region; undefined for one created here (the stack's). */
  bucket: { name: pulumi.Output<string>; arn: pulumi.Output<string>; region?: pulumi.Output<string> };
  variantPrefix: string;
  distribution: aws.cloudfront.Distribution;
  /** The built bundles; `purge` is the purge function's folder. */
  bundles: pulumi.Output<{ purge: string }>;
  /** The bucket existed before the stack: its event configuration is about to be replaced. */
  existingBucket: boolean;
}

/** The EventBridge pattern: object created/deleted in this bucket, never under the variant prefix. */
export function originChangePattern(bucketName: string, variantPrefix: string) {
  return {
    source: ["aws.s3"],
    "detail-type": ["Object Created", "Object Deleted"],
    detail: {
      bucket: { name: [bucketName] },
      object: { key: [{ "anything-but": { prefix: `${variantPrefix}/` } }] },
    },
  };
}

type PurgeQueues = { now: aws.sqs.Queue; later: aws.sqs.Queue };
/** Where the regional resources go: the bucket's region (undefined: the stack's, which is then the bucket's). */
type Regional = { region: pulumi.Output<string> | undefined };

/** Creates the event wiring and the purge function; returns the function. */
export function purgeOnChange(name: string, parts: FreshnessParts, parent: pulumi.Resource): aws.lambda.Function {
  const opts = { parent };
  const at: Regional = { region: parts.bucket.region };
  if (parts.existingBucket) warnEventConfigurationReplaced(parent);
  // S3 sends every object event of the bucket to EventBridge (the rule below picks originals).
  new aws.s3.BucketNotification(`${name}-events`, { ...at, bucket: parts.bucket.name, eventbridge: true }, opts);
  const queues = purgeQueues(name, at, opts);
  routeOriginChanges(name, parts, queues, at, opts);
  const purgeFunction = purgeLambda(name, parts, queues, at, opts);
  drainQueues(name, queues, purgeFunction, at, opts);
  return purgeFunction;
}

function warnEventConfigurationReplaced(parent: pulumi.Resource): void {
  pulumi.log.warn(
    "purgeOnChange replaces the existing bucket's event notification configuration (S3 keeps one per bucket); " +
      "move other notifications to EventBridge rules, or set purgeOnChange to false (docs/deploy.md)",
    parent,
  );
}

/** The two passes' queues and the dead-letter queue behind both. */
function purgeQueues(name: string, at: Regional, opts: pulumi.CustomResourceOptions): PurgeQueues {
  // Batches that failed MAX_RECEIVES times wait here (14 days) for a look and a redrive.
  const deadLetterQueue = new aws.sqs.Queue(`${name}-purge-dlq`, { ...at, messageRetentionSeconds: 14 * 86_400 }, opts);
  const redrivePolicy = deadLetterQueue.arn.apply((arn) => JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: MAX_RECEIVES }));
  const visibilityTimeoutSeconds = PURGE_VISIBILITY_TIMEOUT_SECONDS;
  // First pass: changes delivered at once.
  const now = new aws.sqs.Queue(`${name}-purge`, { ...at, visibilityTimeoutSeconds, redrivePolicy }, opts);
  // Second pass: the same changes delivered RECHECK_DELAY_SECONDS later, for renders that raced them.
  const later = new aws.sqs.Queue(
    `${name}-purge-recheck`,
    { ...at, visibilityTimeoutSeconds, redrivePolicy, delaySeconds: RECHECK_DELAY_SECONDS },
    opts,
  );
  return { now, later };
}

/** The EventBridge rule for changed originals, delivering to both queues. */
function routeOriginChanges(
  name: string,
  parts: FreshnessParts,
  queues: PurgeQueues,
  at: Regional,
  opts: pulumi.CustomResourceOptions,
): void {
  // Matches changes to originals only: a stored variant (under the prefix) never triggers a purge.
  const rule = new aws.cloudwatch.EventRule(
    `${name}-original-changed`,
    {
      ...at,
      description: `edge-resizer ${name}: an original was created, replaced or deleted`,
      eventPattern: parts.bucket.name.apply((bucket) => JSON.stringify(originChangePattern(bucket, parts.variantPrefix))),
    },
    opts,
  );
  for (const [suffix, queue] of [
    ["now", queues.now],
    ["later", queues.later],
  ] as const) {
    // Only this rule may send to the queue.
    new aws.sqs.QueuePolicy(
      `${name}-purge-${suffix}-policy`,
      {
        ...at,
        queueUrl: queue.url,
        policy: pulumi.all([queue.arn, rule.arn]).apply(([queueArn, ruleArn]) => JSON.stringify(queueSendPolicy(queueArn, ruleArn))),
      },
      opts,
    );
    // The rule delivers each matching event to the queue.
    new aws.cloudwatch.EventTarget(`${name}-purge-${suffix}-target`, { ...at, rule: rule.name, arn: queue.arn }, opts);
  }
}

/** The purge function's subscriptions to both queues. */
function drainQueues(
  name: string,
  queues: PurgeQueues,
  purgeFunction: aws.lambda.Function,
  at: Regional,
  opts: pulumi.CustomResourceOptions,
): void {
  for (const [suffix, queue] of [
    ["now", queues.now],
    ["later", queues.later],
  ] as const) {
    // The function drains the queue in batches gathered over BATCH_WINDOW_SECONDS (one plan each),
    // a few at a time, and hands back only the messages whose pass failed.
    new aws.lambda.EventSourceMapping(
      `${name}-purge-${suffix}-source`,
      {
        ...at,
        eventSourceArn: queue.arn,
        functionName: purgeFunction.arn,
        batchSize: BATCH_SIZE,
        maximumBatchingWindowInSeconds: BATCH_WINDOW_SECONDS,
        scalingConfig: { maximumConcurrency: PURGE_CONCURRENCY_PER_QUEUE },
        functionResponseTypes: ["ReportBatchItemFailures"],
      },
      opts,
    );
  }
}

/** The purge function, its role and its least-privilege policy. */
function purgeLambda(
  name: string,
  parts: FreshnessParts,
  queues: PurgeQueues,
  at: Regional,
  opts: pulumi.CustomResourceOptions,
): aws.lambda.Function {
  const role = purgeRole(name, opts);
  const policies = purgePolicies(name, parts, queues, role, opts);
  // The purge itself: a regular Lambda in the bucket's region, configured by environment variables.
  const purgeFunction = new aws.lambda.Function(
    `${name}-purge`,
    {
      ...at,
      description: `edge-resizer ${name}: deletes and invalidates the variants of changed originals`,
      runtime: LAMBDA_NODE_RUNTIME,
      handler: "index.handler",
      role: role.arn,
      code: parts.bundles.apply((dirs) => new pulumi.asset.FileArchive(dirs.purge)),
      memorySize: 256,
      timeout: PURGE_TIMEOUT_SECONDS,
      environment: {
        variables: {
          [PURGE_ENV.bucket]: parts.bucket.name,
          [PURGE_ENV.distributionId]: parts.distribution.id,
          [PURGE_ENV.variantPrefix]: parts.variantPrefix,
          [PURGE_ENV.recheckQueueArn]: queues.later.arn,
          ...(parts.bucket.region ? { [PURGE_ENV.bucketRegion]: parts.bucket.region } : {}),
        },
      },
    },
    { ...opts, dependsOn: policies },
  );
  purgeLogsPolicy(name, role, purgeFunction, opts);
  return purgeFunction;
}

/**
 * The function's own log group, in this account, and nothing else (AWS's managed
 * AWSLambdaBasicExecutionRole would allow every log group: `Resource: *`).
 */
export function purgeLogsStatement(accountId: string, functionName: string) {
  const group = `arn:aws:logs:*:${accountId}:log-group:/aws/lambda/${functionName}`;
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "WriteOwnLogs",
        Effect: "Allow",
        Action: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: [group, `${group}:*`],
      },
    ],
  };
}

function purgeLogsPolicy(name: string, role: aws.iam.Role, fn: aws.lambda.Function, opts: pulumi.CustomResourceOptions): void {
  const accountId = aws.getCallerIdentityOutput({}, { parent: opts.parent }).accountId;
  // Its logs only; named after the function, so created once the function's name is known.
  new aws.iam.RolePolicy(
    `${name}-purge-logs`,
    {
      role: role.id,
      policy: pulumi.all([accountId, fn.name]).apply(([account, fnName]) => JSON.stringify(purgeLogsStatement(account, fnName))),
    },
    opts,
  );
}

/** The purge function's identity (only Lambda may assume it); its log permissions come with the function (purgeLogsPolicy). */
function purgeRole(name: string, opts: pulumi.CustomResourceOptions): aws.iam.Role {
  const role = new aws.iam.Role(
    `${name}-purge-role`,
    {
      description: `edge-resizer ${name}: purge function`,
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
    },
    opts,
  );
  return role;
}

/** The role's inline policies: the bucket and distribution access, then the queues; the function waits for both. */
function purgePolicies(
  name: string,
  parts: FreshnessParts,
  queues: PurgeQueues,
  role: aws.iam.Role,
  opts: pulumi.CustomResourceOptions,
): aws.iam.RolePolicy[] {
  // List and delete only under the variant prefix, read originals' ETags, invalidate this distribution, drain the queues.
  const access = new aws.iam.RolePolicy(
    `${name}-purge-access`,
    {
      role: role.id,
      policy: pulumi
        .all([parts.bucket.arn, parts.distribution.arn])
        .apply(([bucketArn, distributionArn]) => JSON.stringify(purgeAccessPolicy(bucketArn, parts.variantPrefix, distributionArn))),
    },
    opts,
  );
  // Drains its two queues and no other.
  const drain = new aws.iam.RolePolicy(
    `${name}-purge-queues`,
    {
      role: role.id,
      policy: pulumi.all([queues.now.arn, queues.later.arn]).apply((arns) =>
        JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], Resource: arns }],
        }),
      ),
    },
    opts,
  );
  return [access, drain];
}

/** The queue accepts messages from EventBridge for this rule only. */
export function queueSendPolicy(queueArn: string, ruleArn: string) {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: "events.amazonaws.com" },
        Action: "sqs:SendMessage",
        Resource: queueArn,
        Condition: { ArnEquals: { "aws:SourceArn": ruleArn } },
      },
    ],
  };
}

/**
 * The purge's permissions: list only under the variant prefix, read and delete variants,
 * read originals (their ETag, by HEAD, which S3 authorises as GetObject), and create
 * invalidations on this distribution only.
 */
export function purgeAccessPolicy(bucketArn: string, variantPrefix: string, distributionArn: string) {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ListVariantsOnly",
        Effect: "Allow",
        Action: "s3:ListBucket",
        Resource: bucketArn,
        Condition: { StringLike: { "s3:prefix": [`${variantPrefix}/*`] } },
      },
      { Sid: "DeleteVariantsOnly", Effect: "Allow", Action: "s3:DeleteObject", Resource: `${bucketArn}/${variantPrefix}/*` },
      { Sid: "ReadEtags", Effect: "Allow", Action: "s3:GetObject", Resource: `${bucketArn}/*` },
      { Sid: "InvalidateThisDistribution", Effect: "Allow", Action: "cloudfront:CreateInvalidation", Resource: distributionArn },
    ],
  };
}
