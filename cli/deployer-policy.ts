/**
 * `edge-resizer deployer-policy [--stack Pulumi.<stack>.yaml] [--existing-bucket <name>]
 * [--waf] [--access-logs-bucket <name>] [--no-purge]`: prints the IAM policy the credentials
 * running `pulumi up`, `pulumi refresh` and `pulumi destroy` need for one configuration.
 *
 * It is derived, not written by hand: DEPLOYER_PERMISSIONS has one row per resource type (and
 * per data-source call) the ImageResizer component registers, with the actions Pulumi's AWS
 * provider makes to create, read, update and delete it and where that list comes from; a row
 * says in which configurations the component registers its type. tests/cli/deployer-policy.test.ts
 * runs the component under Pulumi mocks in several configurations and fails when it registers a
 * type this table has no row for in that configuration (or the table lists a type it does not).
 *
 * Exit status: 0 printed, 2 usage error (unknown option, unreadable stack file).
 */
import { parseCommandArgs } from "./args.js";
import { readStackFile, type StackValues } from "./stack-file.js";

/** What decides which resource types the component registers. */
export interface DeployerConfig {
  /** `existingBucketName`: the bucket is read (getBucket, Cloud Control), not created. */
  existingBucketName: string | undefined;
  /** `purgeOnChange`: the freshness resources (components/freshness.ts). */
  purgeOnChange: boolean;
  /** `wafRateLimit` above 0 or `wafManagedRules`: a WAF web ACL on the distribution. */
  waf: boolean;
  /** `accessLogsBucket`: CloudFront standard logs into that bucket. */
  accessLogsBucket: string | undefined;
  /** `variantExpirationDays` above 0: a lifecycle rule on the bucket. */
  variantExpiration: boolean;
  /** `originAccess` "oac": an origin access control instead of an origin access identity. */
  oac: boolean;
}

export interface PermissionRow {
  /** The Pulumi type token of a resource, or the token of a data-source call. */
  type: string;
  actions: readonly string[];
  /** Where the list of actions comes from. */
  source: string;
  /** In which configurations the component registers this type (absent: always). */
  when?: (config: DeployerConfig) => boolean;
  /** Resources the actions may be limited to (absent: "*"). */
  resources?: (config: DeployerConfig) => string[];
}

const TF = "the Pulumi AWS provider's calls for this resource (its Terraform resource's create, read, update and delete)";
const created = (c: DeployerConfig) => c.existingBucketName === undefined;
const existing = (c: DeployerConfig) => c.existingBucketName !== undefined;
const purging = (c: DeployerConfig) => c.purgeOnChange;

export const DEPLOYER_PERMISSIONS: readonly PermissionRow[] = Object.freeze([
  {
    type: "edge-resizer:index:ImageResizer",
    actions: [],
    source: "a ComponentResource: Pulumi's own bookkeeping, no AWS call",
  },
  {
    type: "aws:s3/bucket:Bucket",
    when: created,
    actions: [
      "s3:CreateBucket",
      "s3:DeleteBucket",
      "s3:ListBucket",
      "s3:GetBucketLocation",
      "s3:GetBucketPolicy",
      "s3:GetBucketAcl",
      "s3:GetBucketCORS",
      "s3:GetBucketWebsite",
      "s3:GetBucketVersioning",
      "s3:GetAccelerateConfiguration",
      "s3:GetBucketRequestPayment",
      "s3:GetBucketLogging",
      "s3:GetLifecycleConfiguration",
      "s3:GetReplicationConfiguration",
      "s3:GetEncryptionConfiguration",
      "s3:GetBucketObjectLockConfiguration",
      "s3:GetBucketTagging",
      "s3:PutBucketTagging",
    ],
    source: `${TF}: its read asks for every bucket sub-resource (HeadBucket is authorised as s3:ListBucket)`,
  },
  {
    type: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    when: created,
    actions: ["s3:PutBucketPublicAccessBlock", "s3:GetBucketPublicAccessBlock"],
    source: `${TF}; S3 API reference: DeletePublicAccessBlock is authorised as s3:PutBucketPublicAccessBlock`,
  },
  {
    type: "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    when: created,
    actions: ["s3:PutBucketOwnershipControls", "s3:GetBucketOwnershipControls"],
    source: `${TF}; S3 API reference: DeleteBucketOwnershipControls is authorised as s3:PutBucketOwnershipControls`,
  },
  {
    type: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    when: created,
    actions: ["s3:PutEncryptionConfiguration", "s3:GetEncryptionConfiguration"],
    source: `${TF}; S3 API reference: DeleteBucketEncryption is authorised as s3:PutEncryptionConfiguration`,
  },
  {
    type: "aws:s3/getBucket:getBucket",
    // An existing originals bucket, and the access-logs bucket checked at preview, are read this way.
    when: (c) => existing(c) || c.accessLogsBucket !== undefined,
    actions: ["s3:ListBucket", "s3:GetBucketLocation"],
    source: "the Pulumi AWS provider's s3.getBucket data source: HeadBucket (s3:ListBucket) and the bucket's region",
  },
  {
    type: "aws:cloudcontrol/getResource:getResource",
    // An existing originals bucket, and the access-logs bucket checked at preview, are read this way.
    when: (c) => existing(c) || c.accessLogsBucket !== undefined,
    actions: [
      "cloudformation:GetResource",
      "s3:ListBucket",
      "s3:GetAccelerateConfiguration",
      "s3:GetAnalyticsConfiguration",
      "s3:GetBucketAbac",
      "s3:GetBucketCORS",
      "s3:GetBucketLogging",
      "s3:GetBucketMetadataTableConfiguration",
      "s3:GetBucketNotification",
      "s3:GetBucketObjectLockConfiguration",
      "s3:GetBucketOwnershipControls",
      "s3:GetBucketPublicAccessBlock",
      "s3:GetBucketTagging",
      "s3:GetBucketVersioning",
      "s3:GetBucketWebsite",
      "s3:GetEncryptionConfiguration",
      "s3:GetIntelligentTieringConfiguration",
      "s3:GetInventoryConfiguration",
      "s3:GetLifecycleConfiguration",
      "s3:GetMetricsConfiguration",
      "s3:GetReplicationConfiguration",
    ],
    source: "Cloud Control API GetResource, and the read handler's permissions in the AWS::S3::Bucket resource schema",
  },
  {
    type: "aws:s3/bucketPolicy:BucketPolicy",
    actions: ["s3:PutBucketPolicy", "s3:GetBucketPolicy", "s3:DeleteBucketPolicy"],
    source: TF,
  },
  {
    type: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    when: (c) => c.variantExpiration,
    actions: ["s3:PutLifecycleConfiguration", "s3:GetLifecycleConfiguration"],
    source: `${TF}; S3 API reference: DeleteBucketLifecycle is authorised as s3:PutLifecycleConfiguration`,
  },
  {
    type: "aws:cloudfront/originAccessControl:OriginAccessControl",
    when: (c) => c.oac,
    actions: [
      "cloudfront:CreateOriginAccessControl",
      "cloudfront:GetOriginAccessControl",
      "cloudfront:UpdateOriginAccessControl",
      "cloudfront:DeleteOriginAccessControl",
    ],
    source: TF,
  },
  {
    type: "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy",
    actions: [
      "cloudfront:CreateResponseHeadersPolicy",
      "cloudfront:GetResponseHeadersPolicy",
      "cloudfront:UpdateResponseHeadersPolicy",
      "cloudfront:DeleteResponseHeadersPolicy",
    ],
    source: TF,
  },
  {
    type: "aws:cloudwatch/logGroup:LogGroup",
    actions: [
      "logs:CreateLogGroup",
      "logs:DescribeLogGroups",
      "logs:PutRetentionPolicy",
      "logs:DeleteRetentionPolicy",
      "logs:DeleteLogGroup",
      "logs:ListTagsForResource",
      "logs:TagResource",
      "logs:UntagResource",
    ],
    source: TF,
  },
  {
    type: "aws:index/getCallerIdentity:getCallerIdentity",
    actions: [],
    source: "STS API reference, GetCallerIdentity: no permission is required to call it",
  },
  {
    type: "aws:cloudfront/originAccessIdentity:OriginAccessIdentity",
    when: (c) => !c.oac,
    actions: [
      "cloudfront:CreateCloudFrontOriginAccessIdentity",
      "cloudfront:GetCloudFrontOriginAccessIdentity",
      "cloudfront:UpdateCloudFrontOriginAccessIdentity",
      "cloudfront:DeleteCloudFrontOriginAccessIdentity",
    ],
    source: TF,
  },
  {
    type: "aws:cloudfront/cachePolicy:CachePolicy",
    actions: ["cloudfront:CreateCachePolicy", "cloudfront:GetCachePolicy", "cloudfront:UpdateCachePolicy", "cloudfront:DeleteCachePolicy"],
    source: TF,
  },
  {
    type: "aws:cloudfront/originRequestPolicy:OriginRequestPolicy",
    actions: [
      "cloudfront:CreateOriginRequestPolicy",
      "cloudfront:GetOriginRequestPolicy",
      "cloudfront:UpdateOriginRequestPolicy",
      "cloudfront:DeleteOriginRequestPolicy",
    ],
    source: TF,
  },
  {
    type: "aws:cloudfront/distribution:Distribution",
    actions: [
      "cloudfront:CreateDistribution",
      "cloudfront:GetDistribution",
      "cloudfront:UpdateDistribution",
      "cloudfront:DeleteDistribution",
      "cloudfront:TagResource",
      "cloudfront:UntagResource",
      "cloudfront:ListTagsForResource",
      "lambda:GetFunction",
      "lambda:EnableReplication*",
      "lambda:DisableReplication*",
      "iam:CreateServiceLinkedRole",
    ],
    source:
      `${TF}; CloudFront Developer Guide, "Set up IAM permissions and roles for Lambda@Edge" (the trailing * of ` +
      "EnableReplication*/DisableReplication* is required)",
  },
  {
    type: "aws:cloudfront/distribution:Distribution",
    when: (c) => c.accessLogsBucket !== undefined,
    actions: ["s3:GetBucketAcl", "s3:PutBucketAcl"],
    resources: (c) => [`arn:aws:s3:::${c.accessLogsBucket}`],
    source:
      "CloudFront Developer Guide, standard logging: the deployer must read and change the log bucket's ACL, or CloudFront refuses the distribution",
  },
  {
    type: "aws:cloudfront/distribution:Distribution",
    when: (c) => c.waf,
    actions: ["wafv2:GetWebACL"],
    source: "CloudFront API reference: associating a web ACL (WebACLId) checks the caller may read it",
  },
  {
    type: "aws:wafv2/webAcl:WebAcl",
    when: (c) => c.waf,
    actions: [
      "wafv2:CreateWebACL",
      "wafv2:GetWebACL",
      "wafv2:UpdateWebACL",
      "wafv2:DeleteWebACL",
      "wafv2:ListTagsForResource",
      "wafv2:TagResource",
      "wafv2:UntagResource",
    ],
    source: TF,
  },
  {
    type: "aws:iam/role:Role",
    actions: [
      "iam:CreateRole",
      "iam:GetRole",
      "iam:UpdateRole",
      "iam:UpdateAssumeRolePolicy",
      "iam:DeleteRole",
      "iam:ListRolePolicies",
      "iam:ListAttachedRolePolicies",
      "iam:ListInstanceProfilesForRole",
      "iam:TagRole",
      "iam:UntagRole",
    ],
    source: `${TF} (a delete lists the role's policies and instance profiles first)`,
  },
  {
    type: "aws:iam/rolePolicy:RolePolicy",
    actions: ["iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy"],
    source: TF,
  },
  {
    type: "aws:lambda/function:Function",
    actions: [
      "lambda:CreateFunction",
      "lambda:GetFunction",
      "lambda:GetFunctionConfiguration",
      "lambda:GetFunctionCodeSigningConfig",
      "lambda:ListVersionsByFunction",
      "lambda:PublishVersion",
      "lambda:UpdateFunctionCode",
      "lambda:UpdateFunctionConfiguration",
      "lambda:DeleteFunction",
      "lambda:ListTags",
      "lambda:TagResource",
      "lambda:UntagResource",
      "iam:PassRole",
    ],
    source: `${TF}; Lambda Developer Guide: creating a function with an execution role needs iam:PassRole on that role`,
  },
  {
    type: "aws:s3/bucketNotification:BucketNotification",
    when: purging,
    actions: ["s3:PutBucketNotification", "s3:GetBucketNotification"],
    source: `${TF} (a delete writes an empty configuration)`,
  },
  {
    type: "aws:sqs/queue:Queue",
    when: purging,
    actions: [
      "sqs:CreateQueue",
      "sqs:GetQueueUrl",
      "sqs:GetQueueAttributes",
      "sqs:SetQueueAttributes",
      "sqs:DeleteQueue",
      "sqs:ListQueueTags",
      "sqs:TagQueue",
      "sqs:UntagQueue",
    ],
    source: TF,
  },
  {
    type: "aws:sqs/queuePolicy:QueuePolicy",
    when: purging,
    actions: ["sqs:SetQueueAttributes", "sqs:GetQueueAttributes"],
    source: `${TF} (the policy is the queue's Policy attribute)`,
  },
  {
    type: "aws:cloudwatch/eventRule:EventRule",
    when: purging,
    actions: [
      "events:PutRule",
      "events:DescribeRule",
      "events:DeleteRule",
      "events:ListTagsForResource",
      "events:TagResource",
      "events:UntagResource",
    ],
    source: TF,
  },
  {
    type: "aws:cloudwatch/eventTarget:EventTarget",
    when: purging,
    actions: ["events:PutTargets", "events:ListTargetsByRule", "events:RemoveTargets"],
    source: TF,
  },
  {
    type: "aws:lambda/eventSourceMapping:EventSourceMapping",
    when: purging,
    actions: [
      "lambda:CreateEventSourceMapping",
      "lambda:GetEventSourceMapping",
      "lambda:UpdateEventSourceMapping",
      "lambda:DeleteEventSourceMapping",
    ],
    source: `${TF}; Lambda checks the queue with the function's role, not the deployer's`,
  },
]);

/** The rows that apply to a configuration. */
export function permissionRowsFor(config: DeployerConfig): PermissionRow[] {
  return DEPLOYER_PERMISSIONS.filter((row) => row.when?.(config) ?? true);
}

/** The registered types (resource types and call tokens) that no row of this configuration grants anything for. */
export function typesWithoutPermissions(registered: Iterable<string>, config: DeployerConfig): string[] {
  const covered = new Set(permissionRowsFor(config).map((row) => row.type));
  return [...new Set(registered)].filter((type) => !covered.has(type)).sort();
}

/** The deployer's policy: every unscoped action in one statement, each scoped row in its own. */
export function deployerPolicy(config: DeployerConfig) {
  const rows = permissionRowsFor(config);
  const unscoped = new Set(rows.filter((r) => !r.resources).flatMap((r) => r.actions));
  const scoped = rows
    .filter((r) => r.resources)
    .map((r) => ({ Effect: "Allow", Action: [...r.actions].sort(), Resource: r.resources!(config) }));
  return {
    Version: "2012-10-17",
    Statement: [{ Sid: "EdgeResizerDeployer", Effect: "Allow", Action: [...unscoped].sort(), Resource: "*" }, ...scoped],
  };
}

/** The configuration a stack's values (`edge-resizer:<key>`, as in Pulumi.<stack>.yaml) give. */
export function deployerConfigOf(values: StackValues, namespace = "edge-resizer"): DeployerConfig {
  const get = (key: string) => values[`${namespace}:${key}`];
  const text = (key: string) => {
    const v = get(key);
    return typeof v === "string" && v !== "" ? v : undefined;
  };
  const positive = (key: string) => Number(get(key) ?? 0) > 0;
  return {
    existingBucketName: text("existingBucketName"),
    purgeOnChange: String(get("purgeOnChange") ?? true) !== "false",
    waf: positive("wafRateLimit") || String(get("wafManagedRules") ?? false) === "true",
    accessLogsBucket: text("accessLogsBucket"),
    variantExpiration: positive("variantExpirationDays"),
    oac: text("originAccess") === "oac",
  };
}

export const DEPLOYER_POLICY_USAGE =
  "usage: edge-resizer deployer-policy [--stack Pulumi.<stack>.yaml] [--existing-bucket <name>] [--waf] [--access-logs-bucket <name>] [--variant-expiration] [--oac] [--no-purge]";

class DeployerPolicyUsageError extends Error {}

/** Flags overlay the stack file's configuration (or the project defaults without one). */
export function parseDeployerPolicyArgs(argv: string[]): DeployerConfig {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      stack: { type: "string" },
      "existing-bucket": { type: "string" },
      waf: { type: "boolean" },
      "access-logs-bucket": { type: "string" },
      "variant-expiration": { type: "boolean" },
      oac: { type: "boolean" },
      "no-purge": { type: "boolean" },
    },
    (message) => new DeployerPolicyUsageError(message),
  );
  if (positionals.length > 0) throw new DeployerPolicyUsageError(`unexpected argument "${positionals[0]}"`);
  let base: DeployerConfig = {
    existingBucketName: undefined,
    purgeOnChange: true,
    waf: false,
    accessLogsBucket: undefined,
    variantExpiration: false,
    oac: false,
  };
  if (values.stack !== undefined) {
    try {
      base = deployerConfigOf(readStackFile(values.stack, "omit"));
    } catch (err) {
      // The reader's messages name the file (the stack file or Pulumi.yaml beside it).
      throw new DeployerPolicyUsageError((err as Error).message.split("\n")[0]!);
    }
  }
  return {
    existingBucketName: values["existing-bucket"] ?? base.existingBucketName,
    purgeOnChange: values["no-purge"] ? false : base.purgeOnChange,
    waf: values.waf ?? base.waf,
    accessLogsBucket: values["access-logs-bucket"] ?? base.accessLogsBucket,
    variantExpiration: values["variant-expiration"] ?? base.variantExpiration,
    oac: values.oac ?? base.oac,
  };
}

/** Runs the command; returns the exit status. */
const DEPLOYER_POLICY_HELP = `${DEPLOYER_POLICY_USAGE}

Prints, as JSON, the IAM policy the credentials that run \`pulumi up\` for this stack need: the
actions of every resource type the component creates in that configuration, and nothing else.
  --stack <file>               a stack file (Pulumi.<stack>.yaml; Pulumi.yaml beside it gives the defaults)
  --existing-bucket <name>     the originals live in an existing bucket (read, not created)
  --waf                        a WAF web ACL on the distribution (wafRateLimit or wafManagedRules)
  --access-logs-bucket <name>  CloudFront standard logs into that bucket
  --variant-expiration         a lifecycle rule for variants (variantExpirationDays)
  --oac                        an origin access control instead of an origin access identity
  --no-purge                   without the purge on change (purgeOnChange false)
`;

export function runDeployerPolicy(argv: string[], io: { stdout: (text: string) => void; stderr: (text: string) => void }): number {
  if (argv.includes("--help") || argv.includes("-h")) {
    io.stdout(DEPLOYER_POLICY_HELP);
    return 0;
  }
  let config: DeployerConfig;
  try {
    config = parseDeployerPolicyArgs(argv);
  } catch (err) {
    if (!(err instanceof DeployerPolicyUsageError)) throw err;
    io.stderr(`edge-resizer: ${err.message} (${DEPLOYER_POLICY_USAGE})\n`);
    return 2;
  }
  io.stdout(`${JSON.stringify(deployerPolicy(config), null, 2)}\n`);
  return 0;
}
