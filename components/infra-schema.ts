/**
 * Every infrastructure argument of the component (ImageResizerArgs but `settings`), declared
 * once as a schema entry (handlers/core/schema.ts): type, default, bounds, doc line and checks.
 * ImageResizerArgs, the resolved arguments, IMAGE_RESIZER_DEFAULTS, resolveImageResizerArgs, the
 * stack-config keys, Pulumi.yaml's config block and docs/deploy.md's table all derive from it.
 */
import { TRIGGER_LIMITS } from "../handlers/cloudfront/edge-rules.js";
import { defaultsOf, readBySchema, type ArgsOf, type ResolvedOf, type SchemaEntry } from "../handlers/core/schema.js";
import { valueChecks } from "../handlers/core/value-checks.js";

export const PRICE_CLASSES = ["PriceClass_100", "PriceClass_200", "PriceClass_All"] as const;
export type PriceClass = (typeof PRICE_CLASSES)[number];
export const ORIGIN_ACCESS_MODES = ["oai", "oac"] as const;
export type OriginAccess = (typeof ORIGIN_ACCESS_MODES)[number];
/** The retention periods CloudWatch Logs accepts (0: never expire). */
export const LOG_RETENTION_PERIODS: readonly number[] = [
  0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];
/** AWS WAF's range for a rate-based rule's limit (requests per 5 minutes). */
const WAF_RATE_LIMIT_MIN = 10;
const WAF_RATE_LIMIT_MAX = 2_000_000_000;
const WAF_RATE_LIMIT_WANT = `0 (off) or an integer from ${WAF_RATE_LIMIT_MIN} to ${WAF_RATE_LIMIT_MAX} (AWS WAF's range)`;
const LOG_RETENTION_WANT = `one of ${LOG_RETENTION_PERIODS.join(", ")} (CloudWatch's retention periods; 0 = forever)`;

const ORIGIN_RESPONSE_LIMITS = TRIGGER_LIMITS.value["origin-response"];
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const HOST_NAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const ACM_ARN_US_EAST_1 = /^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate\/[0-9a-f-]+$/;
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]+$/;

type Check = NonNullable<Extract<SchemaEntry, { type: "string" }>["check"]>;
const bucketName: Check = (name, { path, fail }) => {
  if (!BUCKET_NAME.test(name)) fail(path, "an S3 bucket name (3-63 of a-z, 0-9, '.', '-')", name);
};

/** Keeps each entry's literal types while checking it is a SchemaEntry. */
function defineInfra<const S extends Readonly<Record<string, SchemaEntry>>>(schema: S): S {
  return schema;
}

export const INFRA_SCHEMA = defineInfra({
  /** CloudFront edge locations: `PriceClass_100` (North America, Europe), `PriceClass_200`, `PriceClass_All` */
  priceClass: {
    type: "enum",
    values: PRICE_CLASSES,
    default: "PriceClass_100",
  },
  /** your own host names of the distribution, e.g. your old thumbor host (needs `certificateArn`) */
  aliases: {
    type: "string[]",
    default: [],
    want: "an array of host names",
    check(aliases, { fail, get, refuse }) {
      aliases.forEach((host, i) => {
        if (!HOST_NAME.test(host)) fail(`aliases[${i}]`, "a lower-case host name like images.example.com", host);
      });
      if (aliases.length > 0 && get("certificateArn") === undefined)
        refuse(`aliases ${JSON.stringify(aliases)} need certificateArn, an ACM certificate in us-east-1 covering them`);
    },
  },
  /** ACM certificate **in us-east-1** covering every alias */
  certificateArn: {
    type: "string",
    check(arn, { path, fail, get, refuse }) {
      if (!ACM_ARN_US_EAST_1.test(arn)) fail(path, "an ACM certificate ARN in us-east-1 (CloudFront only uses certificates there)", arn);
      if ((get("aliases") as string[]).length === 0)
        refuse("certificateArn is set but aliases is empty; CloudFront serves its own domain with its own certificate");
    },
  },
  /** serve an existing bucket (e.g. thumbor's) instead of creating one; its bucket policy is replaced (docs/deploy.md, "Moving thumbor URLs to the new distribution") */
  existingBucketName: {
    type: "string",
    check: bucketName,
  },
  /** bucket for CloudFront standard access logs (it must allow ACLs); `pulumi preview` fails with the reason if the bucket disables ACLs (object ownership `BucketOwnerEnforced`) or is in a region CloudFront delivers no standard logs to (af-south-1, ap-east-1, eu-south-1, me-south-1, the regions AWS names). Empty = no access logs */
  accessLogsBucket: {
    type: "string",
    check: bucketName,
  },
  /** key prefix of the access logs */
  accessLogsPrefix: { type: "string", default: "cloudfront/", allowEmpty: true },
  /** expire stored variants (objects under `<variantPrefix>/` only) this many days after creation; they are re-made on demand. `0` = never */
  variantExpirationDays: {
    type: "integer",
    default: 0,
    min: 0,
    max: 36_500,
  },
  /** memory (and so CPU) of the resizing function in MB, 128-10240 */
  originResponseMemoryMb: {
    type: "integer",
    default: 1536,
    min: 128,
    max: ORIGIN_RESPONSE_LIMITS.maxMemoryMb,
  },
  /** timeout of the resizing function in seconds, 1-30 (the Lambda@Edge maximum); also baked into origin-response's `settings.json`, where origin-response ends a render at half of it */
  originResponseTimeoutSeconds: {
    type: "integer",
    default: 30,
    min: 1,
    max: ORIGIN_RESPONSE_LIMITS.maxTimeoutSeconds,
  },
  /** seconds CloudFront keeps an error answer at least */
  errorCachingMinTtl: {
    type: "integer",
    default: 10,
    min: 0,
    max: 31_536_000,
  },
  /** deploy this `npm run build` output instead of building into dist/ during `pulumi up` */
  bundleDir: { type: "string" },
  /** keep the bucket (private and encrypted) on `pulumi destroy`, so originals are never deleted by a destroy (docs/deploy.md, "Destroying") */
  retainBucketOnDelete: {
    type: "boolean",
    default: true,
  },
  /** the stack is open on purpose: silences `pulumi up`'s warnings about unsigned URLs and a missing `sizes` allow-list (README, "Before you go live") */
  acknowledgeOpenStack: {
    type: "boolean",
    default: false,
  },
  /** an AWS WAF web ACL blocking a client IP above this many variant requests per 5 minutes (10-2,000,000,000; about $6/month plus $0.60 per million requests); it matches the URI percent-decoded and lower-cased, so `/%76ariants/` is counted too. `0` = no web ACL */
  wafRateLimit: {
    type: "integer",
    default: 0,
    min: 0,
    max: WAF_RATE_LIMIT_MAX,
    want: WAF_RATE_LIMIT_WANT,
    check(limit, { path, fail }) {
      if (limit !== 0 && limit < WAF_RATE_LIMIT_MIN) fail(path, WAF_RATE_LIMIT_WANT, limit);
    },
  },
  /** delete and invalidate an original's variants when it is created, replaced or deleted (S3 events to EventBridge, two SQS queues, a purge Lambda in the bucket's region; docs/deploy.md, "Freshness") */
  purgeOnChange: {
    type: "boolean",
    default: true,
  },
  /** add AWS's managed rule groups (core rule set, known bad inputs, IP reputation list) to the web ACL, creating one if `wafRateLimit` is 0 (docs/deploy.md, "AWS WAF managed rules") */
  wafManagedRules: {
    type: "boolean",
    default: false,
  },
  /** how CloudFront reads the bucket: `oai` (an Origin Access Identity) or `oac` (an Origin Access Control, needed for SSE-KMS buckets and regions launched after January 2023; docs/deploy.md, "Origin Access Control and SSE-KMS buckets") */
  originAccess: {
    type: "enum",
    values: ORIGIN_ACCESS_MODES,
    default: "oai",
  },
  /** the KMS key of an SSE-KMS bucket (needs `oac`): origin-response may decrypt and encrypt with it, a created bucket is encrypted with it; the key policy must let CloudFront decrypt (docs/deploy.md, "Origin Access Control and SSE-KMS buckets") */
  kmsKeyArn: {
    type: "string",
    check(arn, { path, fail, get, refuse }) {
      if (!KMS_KEY_ARN.test(arn)) fail(path, "a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)", arn);
      if (get("originAccess") !== "oac")
        refuse(`kmsKeyArn needs originAccess "oac": CloudFront's Origin Access Identity cannot read SSE-KMS objects`);
    },
  },
  /** days the log groups the stack owns keep their events: one of CloudWatch's periods, 1 to 3653, `0` = forever (docs/deploy.md, "Logs") */
  logRetentionDays: {
    type: "integer",
    default: 30,
    min: 0,
    max: 3653,
    want: LOG_RETENTION_WANT,
    check(days, { path, fail }) {
      if (!LOG_RETENTION_PERIODS.includes(days)) fail(path, LOG_RETENTION_WANT, days);
    },
  },
});

type Schema = typeof INFRA_SCHEMA;
/** The infrastructure arguments as given (every one optional). */
export type InfraArgs = ArgsOf<Schema>;
/** The infrastructure arguments after validation and defaults. */
export type ResolvedInfraArgs = ResolvedOf<Schema>;

/** The defaults of every infrastructure argument that has one. */
export const IMAGE_RESIZER_DEFAULTS = Object.freeze(defaultsOf(INFRA_SCHEMA)) as Readonly<
  Pick<
    ResolvedInfraArgs,
    keyof ResolvedInfraArgs & { [K in keyof Schema]: Schema[K] extends { default: unknown } ? K : never }[keyof Schema]
  >
>;

/**
 * Checks the infrastructure arguments and applies their defaults; errors name the key
 * (`ImageResizer "x": wafRateLimit must be ...`). An optional name given as "" is not set, as
 * Pulumi.yaml declares optional names with default "".
 */
export function resolveImageResizerArgs(label: string, args: Readonly<InfraArgs>): ResolvedInfraArgs {
  const checks = valueChecks(label);
  return readBySchema(INFRA_SCHEMA, {
    given: (name, entry) => {
      const v = (args as Record<string, unknown>)[name];
      return entry.default === undefined && v === "" ? undefined : v;
    },
    pathOf: (name) => name,
    checks,
    refuse: (message) => {
      throw new Error(`${label}: ${message}`);
    },
  }) as ResolvedInfraArgs;
}
