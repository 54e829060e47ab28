/**
 * Freshness: when an original is created, overwritten or deleted, its variants are deleted and
 * CloudFront's copies invalidated (handlers/purge-handler.ts). The bucket sends its events to
 * EventBridge; a rule that cannot match keys under the variant prefix (so storing a variant never
 * triggers anything) feeds two SQS queues, one delivering at once and one after a delay longer
 * than any render (the second pass that removes variants rendered from the old original); a
 * regular Lambda in the bucket's region drains both in batches. Everything lives in the stack's
 * region, which must be the bucket's.
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
const PURGE_TIMEOUT_SECONDS = 300;
/** Deliveries of one batch before it goes to the dead-letter queue. */
const MAX_RECEIVES = 5;

export interface FreshnessParts {
  bucket: { name: pulumi.Output<string>; arn: pulumi.Output<string> };
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

/** Creates the event wiring and the purge function; returns the function. */
export function purgeOnChange(name: string, parts: FreshnessParts, parent: pulumi.Resource): aws.lambda.Function {
  const opts = { parent };
  if (parts.existingBucket) warnEventConfigurationReplaced(parent);
  // S3 sends every object event of the bucket to EventBridge (the rule below picks originals).
  new aws.s3.BucketNotification(`${name}-events`, { bucket: parts.bucket.name, eventbridge: true }, opts);
  const queues = purgeQueues(name, opts);
  routeOriginChanges(name, parts, queues, opts);
  const purgeFunction = purgeLambda(name, parts, queues, opts);
  drainQueues(name, queues, purgeFunction, opts);
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
function purgeQueues(name: string, opts: pulumi.CustomResourceOptions): PurgeQueues {
  // Batches that failed MAX_RECEIVES times wait here (14 days) for a look and a redrive.
  const deadLetterQueue = new aws.sqs.Queue(`${name}-purge-dlq`, { messageRetentionSeconds: 14 * 86_400 }, opts);
  const redrivePolicy = deadLetterQueue.arn.apply((arn) => JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: MAX_RECEIVES }));
  // Six times the function's timeout, as AWS advises, so a running batch is not handed out twice.
  const visibilityTimeoutSeconds = 6 * PURGE_TIMEOUT_SECONDS;
  // First pass: changes delivered at once.
  const now = new aws.sqs.Queue(`${name}-purge`, { visibilityTimeoutSeconds, redrivePolicy }, opts);
  // Second pass: the same changes delivered RECHECK_DELAY_SECONDS later, for renders that raced them.
  const later = new aws.sqs.Queue(
    `${name}-purge-recheck`,
    { visibilityTimeoutSeconds, redrivePolicy, delaySeconds: RECHECK_DELAY_SECONDS },
    opts,
  );
  return { now, later };
}

/** The EventBridge rule for changed originals, delivering to both queues. */
function routeOriginChanges(name: string, parts: FreshnessParts, queues: PurgeQueues, opts: pulumi.CustomResourceOptions): void {
  // Matches changes to originals only: a stored variant (under the prefix) never triggers a purge.
  const rule = new aws.cloudwatch.EventRule(
    `${name}-original-changed`,
    {
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
        queueUrl: queue.url,
        policy: pulumi.all([queue.arn, rule.arn]).apply(([queueArn, ruleArn]) => JSON.stringify(queueSendPolicy(queueArn, ruleArn))),
      },
      opts,
    );
    // The rule delivers each matching event to the queue.
    new aws.cloudwatch.EventTarget(`${name}-purge-${suffix}-target`, { rule: rule.name, arn: queue.arn }, opts);
  }
}

/** The purge function's subscriptions to both queues. */
function drainQueues(name: string, queues: PurgeQueues, purgeFunction: aws.lambda.Function, opts: pulumi.CustomResourceOptions): void {
  for (const [suffix, queue] of [
    ["now", queues.now],
    ["later", queues.later],
  ] as const) {
    // The function drains the queue in batches gathered over BATCH_WINDOW_SECONDS (one plan each).
    new aws.lambda.EventSourceMapping(
      `${name}-purge-${suffix}-source`,
      {
        eventSourceArn: queue.arn,
        functionName: purgeFunction.arn,
        batchSize: BATCH_SIZE,
        maximumBatchingWindowInSeconds: BATCH_WINDOW_SECONDS,
      },
      opts,
    );
  }
}

/** The purge function, its role and its least-privilege policy. */
function purgeLambda(name: string, parts: FreshnessParts, queues: PurgeQueues, opts: pulumi.CustomResourceOptions): aws.lambda.Function {
  const role = purgeRole(name, opts);
  const policies = purgePolicies(name, parts, queues, role, opts);
  // The purge itself: a regular Lambda in the bucket's region, configured by environment variables.
  const purgeFunction = new aws.lambda.Function(
    `${name}-purge`,
    {
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
