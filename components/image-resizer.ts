/**
 * ImageResizer: a private S3 bucket, a CloudFront distribution reading it through an Origin
 * Access Identity, and the two Lambda@Edge functions (viewer-request rewrites URLs to canonical
 * variant keys; origin-response makes a missing variant with sharp and stores it).
 *
 * Lambda@Edge constraints shape most choices here: functions in us-east-1 only, x86_64 only,
 * published numbered versions, no environment variables (settings ride in `settings.json`
 * inside the code archive), and replicas that cannot be deleted for hours after use.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { VIEWER_URL_HEADER } from "../handlers/cloudfront/plumbing.js";
import { HSTS, SECURITY_HEADERS } from "../handlers/cloudfront/security-headers.js";
import {
  DEFAULT_SETTINGS,
  SETTINGS_SCHEMA,
  settingsFileText,
  settingsFor,
  validateSettings,
  type Settings,
  type ThumborSettings,
} from "../handlers/core/settings.js";
import {
  CUSTOM_ERROR_CODES,
  EDGE_FUNCTION_REGION,
  TRIGGER_LIMITS,
  disallowedEdgeHeader,
  standardLogBucketRefusal,
} from "../handlers/cloudfront/edge-rules.js";
import { LAMBDA_NODE_RUNTIME, defaultBundleDir } from "./bundle.js";
import { purgeOnChange } from "./freshness.js";
import { resolveImageResizerArgs, type InfraArgs, type OriginAccess, type ResolvedInfraArgs } from "./infra-schema.js";

export {
  IMAGE_RESIZER_DEFAULTS,
  LOG_RETENTION_PERIODS,
  ORIGIN_ACCESS_MODES,
  PRICE_CLASSES,
  resolveImageResizerArgs,
  type OriginAccess,
  type PriceClass,
} from "./infra-schema.js";

/**
 * Settings baked into both functions; the security keys may be Pulumi secrets. Absent keys take
 * DEFAULT_SETTINGS. The settings the component bakes from its own arguments (INFRA_BAKED_SETTINGS)
 * are not given here: each is given once, as an infrastructure argument.
 */
export type ImageResizerSettings = Partial<Omit<Settings, "thumbor" | InfraBakedSetting>> & {
  thumbor?: Partial<Omit<ThumborSettings, "securityKey" | "retiredSecurityKeys">> & {
    securityKey?: pulumi.Input<string>;
    retiredSecurityKeys?: pulumi.Input<string[]>;
  };
};

/** Handler settings whose value is an infrastructure argument of the same name (SETTINGS_SCHEMA's `bakedFromInfra`), baked into settings.json by the component. */
export type InfraBakedSetting = {
  [K in keyof typeof SETTINGS_SCHEMA]: (typeof SETTINGS_SCHEMA)[K] extends { bakedFromInfra: true } ? K : never;
}[keyof typeof SETTINGS_SCHEMA];
export const INFRA_BAKED_SETTINGS = Object.keys(SETTINGS_SCHEMA).filter(
  (name) => "bakedFromInfra" in SETTINGS_SCHEMA[name as keyof typeof SETTINGS_SCHEMA],
) as InfraBakedSetting[];

/** The component's arguments: the handler settings, and the infrastructure arguments of INFRA_SCHEMA (each one's doc line is there). */
export interface ImageResizerArgs extends InfraArgs {
  /** Handler settings (sizes, limits, thumbor keys, variant prefix, ...). Default: DEFAULT_SETTINGS. */
  settings?: ImageResizerSettings;
}

/** viewer-request runs on every request: kept to the old viewer-trigger limits (128 MB, 5 s). */
const VIEWER_REQUEST_MEMORY_MB = TRIGGER_LIMITS.value["viewer-request"].maxMemoryMb;
const VIEWER_REQUEST_TIMEOUT_SECONDS = TRIGGER_LIMITS.value["viewer-request"].maxTimeoutSeconds;
/**
 * Lambda@Edge accepts only current Node runtimes. Node 24 drops callback-style handlers only;
 * both handlers here are async functions returning their result, so they run unchanged.
 */
const EDGE_RUNTIME = LAMBDA_NODE_RUNTIME;
/**
 * Error codes whose caching we shorten: every code CloudFront accepts a custom error response for,
 * but 416, which it never caches. Other codes (413, 415, ...) carry the handlers' short Cache-Control.
 */
const SHORT_CACHED_ERRORS = CUSTOM_ERROR_CODES.value.filter((code) => code !== 416);
/** The key "/" maps to; with ListBucket granted to the OAI, "/" would otherwise list the bucket. */
const DEFAULT_ROOT_OBJECT = "index.html";

export class ImageResizer extends pulumi.ComponentResource {
  /** The bucket holding originals and, under `variantPrefix/`, the variants. */
  public readonly bucketName: pulumi.Output<string>;
  public readonly bucketArn: pulumi.Output<string>;
  public readonly distributionId: pulumi.Output<string>;
  public readonly distributionArn: pulumi.Output<string>;
  /** e.g. d111111abcdef8.cloudfront.net: point DNS (CNAME/alias) for your aliases here. */
  public readonly distributionDomainName: pulumi.Output<string>;
  /** Published versions (qualified ARNs) associated with the distribution. */
  public readonly viewerRequestFunctionArn: pulumi.Output<string>;
  public readonly originResponseFunctionArn: pulumi.Output<string>;
  /** The execution roles: viewer-request's may only write its logs; origin-response's reads originals and writes variants. */
  public readonly viewerRequestRoleArn: pulumi.Output<string>;
  public readonly originResponseRoleArn: pulumi.Output<string>;
  /** The OAI's IAM ARN; "" under originAccess "oac". */
  public readonly originAccessIdentityIamArn: pulumi.Output<string>;
  /** The settings baked into both functions (secret when a security key is a secret). */
  public readonly settingsJson: pulumi.Output<string>;

  public readonly viewerRequestFunction: aws.lambda.Function;
  public readonly originResponseFunction: aws.lambda.Function;
  public readonly distribution: aws.cloudfront.Distribution;
  /** The function that purges the variants of changed originals; undefined when `purgeOnChange` is false. */
  public readonly purgeFunction?: aws.lambda.Function;

  constructor(name: string, args: ImageResizerArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super("edge-resizer:index:ImageResizer", name, {}, opts);
    const label = `ImageResizer "${name}"`;
    const infra = resolveImageResizerArgs(label, args);
    warnOnOpenStack(args.settings, infra.acknowledgeOpenStack, this);
    // origin-response ends its renders in time for the function's own timeout (origin-response.ts).
    const settings = checkSettings(label, { ...args.settings, originResponseTimeoutSeconds: infra.originResponseTimeoutSeconds });
    const variantPrefix = settings.plain.variantPrefix;
    const bundles = locateBundles(label, args.bundleDir);
    warnOnForbiddenViewerHeader(this);

    const bucket = imagesBucket(name, infra, this);
    if (infra.variantExpirationDays > 0) variantExpiry(name, bucket, variantPrefix, infra.variantExpirationDays, this);
    const access = cloudFrontIdentity(name, infra.originAccess, this);
    const baked = bakedSettings(label, settings);
    const roles = { "viewer-request": edgeRole(name, "viewer-request", this), "origin-response": edgeRole(name, "origin-response", this) };
    [this.viewerRequestFunction, this.originResponseFunction] = edgeFunctions(name, infra, {
      roles,
      bundles,
      settings: baked,
      parent: this,
    });
    const webAcl = infra.wafRateLimit > 0 || infra.wafManagedRules ? firewall(name, infra, variantPrefix, this) : undefined;
    const accountId = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
    const functionNames = { "viewer-request": this.viewerRequestFunction.name, "origin-response": this.originResponseFunction.name };
    const logGroups = edgeLogGroups(name, functionNames, infra.logRetentionDays, this);
    const rolePolicies = edgeAccess(
      name,
      { roles, functionNames, bucketArn: bucket.arn, variantPrefix, accountId, kmsKeyArn: infra.kmsKeyArn },
      this,
    );
    this.distribution = imagesDistribution(
      name,
      {
        infra,
        bucket,
        access,
        viewerRequest: this.viewerRequestFunction,
        originResponse: this.originResponseFunction,
        webAclArn: webAcl?.arn,
      },
      // The log groups exist before CloudFront first runs the functions (else Lambda makes them, without retention).
      { parent: this, dependsOn: [...rolePolicies, ...logGroups] },
    );
    edgeValidationLogGroup(name, this.distribution.id, infra.logRetentionDays, this);
    cloudFrontReadPolicy(name, bucket, access, this.distribution.arn, this);

    if (infra.purgeOnChange)
      this.purgeFunction = purgeOnChange(
        name,
        { bucket, variantPrefix, distribution: this.distribution, bundles, existingBucket: !!infra.existingBucketName },
        this,
      );
    if (this.purgeFunction) purgeLogGroup(name, this.purgeFunction, infra.logRetentionDays, this);

    this.bucketName = bucket.name;
    this.bucketArn = bucket.arn;
    this.distributionId = this.distribution.id;
    this.distributionArn = this.distribution.arn;
    this.distributionDomainName = this.distribution.domainName;
    this.viewerRequestFunctionArn = this.viewerRequestFunction.qualifiedArn;
    this.originResponseFunctionArn = this.originResponseFunction.qualifiedArn;
    this.viewerRequestRoleArn = roles["viewer-request"].arn;
    this.originResponseRoleArn = roles["origin-response"].arn;
    this.originAccessIdentityIamArn = access.oai?.iamArn ?? pulumi.output("");
    this.settingsJson = baked.apply(settingsFileText);
    this.registerPublicOutputs();
  }

  /** Registers the public outputs (settingsJson stays out: it may hold a secret key). */
  private registerPublicOutputs(): void {
    this.registerOutputs({
      bucketName: this.bucketName,
      bucketArn: this.bucketArn,
      distributionId: this.distributionId,
      distributionArn: this.distributionArn,
      distributionDomainName: this.distributionDomainName,
      viewerRequestFunctionArn: this.viewerRequestFunctionArn,
      originResponseFunctionArn: this.originResponseFunctionArn,
      viewerRequestRoleArn: this.viewerRequestRoleArn,
      originResponseRoleArn: this.originResponseRoleArn,
      originAccessIdentityIamArn: this.originAccessIdentityIamArn,
    });
  }
}

/** The two edge functions, viewer-request then origin-response, each with its own role, sharing the bundle folder and settings. */
function edgeFunctions(
  name: string,
  infra: ResolvedInfraArgs,
  edge: EdgeFunctionContext,
): [viewerRequest: aws.lambda.Function, originResponse: aws.lambda.Function] {
  return [
    edgeFunction(name, "viewer-request", VIEWER_REQUEST_MEMORY_MB, VIEWER_REQUEST_TIMEOUT_SECONDS, edge),
    edgeFunction(name, "origin-response", infra.originResponseMemoryMb, infra.originResponseTimeoutSeconds, edge),
  ];
}

/** The images bucket as the other resource groups see it, whether created here or existing. */
export interface ImagesBucket {
  name: pulumi.Output<string>;
  arn: pulumi.Output<string>;
  regionalDomainName: pulumi.Output<string>;
  /** The region of an existing bucket, which may differ from the stack's; undefined for a created one (the stack's). */
  region?: pulumi.Output<string>;
  /** Resources the bucket policy must wait for (the privacy settings of a created bucket). */
  guards: pulumi.Resource[];
}

/** A flagged header name would make CloudFront answer 502 to every variant request: say so at preview. */
function warnOnForbiddenViewerHeader(parent: pulumi.Resource): void {
  const forbiddenBy = disallowedEdgeHeader(VIEWER_URL_HEADER);
  if (!forbiddenBy) return;
  pulumi.log.warn(
    `the viewer-request handler adds header ${VIEWER_URL_HEADER}, which Lambda@Edge forbids (${forbiddenBy}): ` +
      "CloudFront will answer 502 to every variant request until handlers/cloudfront/plumbing.ts renames it",
    parent,
  );
}

/** The bucket of originals and variants: a new private one, or an existing one that is read, not managed. */
function imagesBucket(name: string, infra: ResolvedInfraArgs, parent: pulumi.Resource): ImagesBucket {
  if (infra.existingBucketName) {
    return existingImagesBucket(infra.existingBucketName, infra, parent);
  }
  // Retained resources survive `pulumi destroy`: originals are the team's data, and the bucket
  // must stay private and encrypted for as long as it exists.
  const keep = { parent, retainOnDelete: infra.retainBucketOnDelete };
  // Originals and variants; never force-destroyed, so a destroy cannot delete originals.
  const bucket = new aws.s3.Bucket(`${name}-images`, { forceDestroy: false }, keep);
  // Nothing in the bucket may ever be public: CloudFront reads it through the OAI only.
  const publicAccessBlock = new aws.s3.BucketPublicAccessBlock(
    `${name}-images-private`,
    {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    },
    keep,
  );
  // ACLs off: the bucket owner owns every object, so access is decided by policies alone.
  const ownership = new aws.s3.BucketOwnershipControls(
    `${name}-images-ownership`,
    {
      bucket: bucket.id,
      rule: { objectOwnership: "BucketOwnerEnforced" },
    },
    keep,
  );
  // Encryption at rest: S3-managed keys, or the given KMS key (OAC only: an OAI cannot read SSE-KMS).
  const encryption = new aws.s3.BucketServerSideEncryptionConfiguration(
    `${name}-images-encryption`,
    {
      bucket: bucket.id,
      rules: [
        {
          applyServerSideEncryptionByDefault: infra.kmsKeyArn
            ? { sseAlgorithm: "aws:kms", kmsMasterKeyId: infra.kmsKeyArn }
            : { sseAlgorithm: "AES256" },
          bucketKeyEnabled: true,
        },
      ],
    },
    keep,
  );
  return {
    name: bucket.bucket,
    arn: bucket.arn,
    regionalDomainName: bucket.bucketRegionalDomainName,
    guards: [publicAccessBlock, ownership, encryption],
  };
}

/**
 * An existing bucket (e.g. thumbor's) is read, not managed: its settings stay the owner's. It
 * may be in another region than the stack (the policy and lifecycle calls go to its region);
 * an SSE-KMS bucket is refused at preview under an OAI (which cannot read SSE-KMS objects, so
 * every original would answer 403), and under OAC without the key's ARN (origin-response could not read).
 */
function existingImagesBucket(bucketName: string, infra: ResolvedInfraArgs, parent: pulumi.Resource): ImagesBucket {
  const existing = aws.s3.getBucketOutput({ bucket: bucketName }, { parent });
  const described = aws.cloudcontrol.getResourceOutput(
    { typeName: "AWS::S3::Bucket", identifier: existing.bucket, region: existing.region },
    { parent },
  );
  const checkedName = pulumi.all([existing.bucket, described.properties]).apply(([bucket, properties]) => {
    const refusal = existingBucketRefusal(bucket, properties, infra);
    if (refusal) throw new Error(refusal);
    return bucket;
  });
  return {
    name: checkedName,
    arn: existing.arn,
    regionalDomainName: existing.bucketRegionalDomainName,
    region: existing.region,
    guards: [],
  };
}

/** Why an existing bucket cannot serve as the images bucket (from its Cloud Control description), or undefined. */
export function existingBucketRefusal(
  bucket: string,
  propertiesJson: string,
  access: { originAccess: OriginAccess; kmsKeyArn?: string } = { originAccess: "oai" },
): string | undefined {
  const algorithm = kmsEncryptionOf(propertiesJson);
  if (!algorithm) return undefined;
  if (access.originAccess === "oai")
    return (
      `existingBucketName ${bucket} encrypts objects with ${algorithm} (SSE-KMS): CloudFront's Origin Access Identity ` +
      'cannot read SSE-KMS objects, so every image would answer 403. Set originAccess "oac" and kmsKeyArn, use a bucket ' +
      "encrypted with SSE-S3 (AES256), or let ImageResizer create one."
    );
  if (!access.kmsKeyArn)
    return (
      `existingBucketName ${bucket} encrypts objects with ${algorithm} (SSE-KMS): set kmsKeyArn to its key, ` +
      "or origin-response cannot read the originals nor write variants."
    );
  return undefined;
}

/** The SSE-KMS algorithm a bucket's CloudFormation description sets by default, if any. */
function kmsEncryptionOf(propertiesJson: string): string | undefined {
  const properties = JSON.parse(propertiesJson || "{}") as {
    BucketEncryption?: { ServerSideEncryptionConfiguration?: { ServerSideEncryptionByDefault?: { SSEAlgorithm?: string } }[] };
  };
  const rules = properties.BucketEncryption?.ServerSideEncryptionConfiguration ?? [];
  return rules.map((r) => r.ServerSideEncryptionByDefault?.SSEAlgorithm).find((a) => a !== undefined && a.startsWith("aws:kms"));
}

/** Expires stored variants after `days`; only the variant prefix is touched, originals never expire. */
function variantExpiry(name: string, bucket: ImagesBucket, variantPrefix: string, days: number, parent: pulumi.Resource): void {
  // Variants are a cache: expiring them bounds storage, and any expired one is re-made on demand.
  new aws.s3.BucketLifecycleConfiguration(
    `${name}-variant-expiry`,
    {
      bucket: bucket.name,
      region: bucket.region,
      rules: [
        {
          id: "expire-variants",
          status: "Enabled",
          filter: { prefix: `${variantPrefix}/` },
          expiration: { days },
        },
      ],
    },
    { parent },
  );
}

/** How CloudFront signs its requests to the bucket: an Origin Access Identity or an Origin Access Control. */
interface CloudFrontIdentity {
  oai?: aws.cloudfront.OriginAccessIdentity;
  oac?: aws.cloudfront.OriginAccessControl;
}

function cloudFrontIdentity(name: string, mode: OriginAccess, parent: pulumi.Resource): CloudFrontIdentity {
  if (mode === "oac") {
    // CloudFront signs every request to the bucket with SigV4 as itself (reads SSE-KMS objects too).
    const oac = new aws.cloudfront.OriginAccessControl(
      `${name}-oac`,
      {
        description: `edge-resizer ${name}: reads the images bucket`,
        originAccessControlOriginType: "s3",
        signingBehavior: "always",
        signingProtocol: "sigv4",
      },
      { parent },
    );
    return { oac };
  }
  // The identity CloudFront uses to read the private bucket.
  const oai = new aws.cloudfront.OriginAccessIdentity(
    `${name}-oai`,
    { comment: `edge-resizer ${name}: reads the images bucket` },
    { parent },
  );
  return { oai };
}

/** The bucket policy: only CloudFront (the OAI, or this distribution through OAC) may read, and only over TLS. */
function cloudFrontReadPolicy(
  name: string,
  bucket: ImagesBucket,
  access: CloudFrontIdentity,
  distributionArn: pulumi.Output<string>,
  parent: pulumi.Resource,
): aws.s3.BucketPolicy {
  const policy = access.oai
    ? pulumi.all([bucket.arn, access.oai.iamArn]).apply(([arn, oaiArn]) => JSON.stringify(oaiReadPolicy(arn, oaiArn)))
    : pulumi.all([bucket.arn, distributionArn]).apply(([arn, cdn]) => JSON.stringify(oacReadPolicy(arn, cdn)));
  // Only CloudFront may read through the bucket policy: GetObject for objects, ListBucket so a
  // missing key is a 404 (not a 403) that origin-response and the error caching can tell apart.
  return new aws.s3.BucketPolicy(
    `${name}-images-policy`,
    { bucket: bucket.name, region: bucket.region, policy },
    { parent, dependsOn: bucket.guards },
  );
}

/**
 * The whole settings document, validated again once the (secret) keys are known. Each archive
 * bakes in its own function's share of it (settingsFor: no signing key in origin-response).
 */
function bakedSettings(label: string, checked: CheckedSettings): pulumi.Output<Settings> {
  const { plain, securityKey, retiredSecurityKeys } = checked;
  return pulumi
    .all([pulumi.output(securityKey), pulumi.output(retiredSecurityKeys)])
    .apply(([key, retired]) =>
      validateSettings({ ...plain, thumbor: { ...plain.thumbor, securityKey: key, retiredSecurityKeys: retired } }, `${label} settings`),
    );
}

/** The execution role of one edge function: one each, so viewer-request (every request) holds no S3 access. */
function edgeRole(name: string, fn: EdgeFunctionName, parent: pulumi.Resource): aws.iam.Role {
  // Lambda@Edge assumes the role through both services; nothing else may.
  return new aws.iam.Role(
    `${name}-${fn}-role`,
    {
      description: `edge-resizer ${name}: Lambda@Edge execution role of ${fn}`,
      assumeRolePolicy: JSON.stringify(edgeTrustPolicy()),
    },
    { parent },
  );
}

type EdgeFunctionName = Exclude<keyof BundleDirs, "purge">;

/** What both edge functions share: their roles (one each), code, baked settings and placement. */
interface EdgeFunctionContext {
  roles: Record<EdgeFunctionName, aws.iam.Role>;
  bundles: pulumi.Output<BundleDirs>;
  settings: pulumi.Output<Settings>;
  parent: pulumi.Resource;
}

const EDGE_FUNCTION_DESCRIPTIONS: Record<EdgeFunctionName, string> = {
  // viewer-request: matches and rewrites every request, so small and fast (no sharp).
  "viewer-request": "rewrites ?d= and thumbor URLs to canonical variant keys",
  // origin-response: makes a missing variant with sharp; memory buys CPU time.
  "origin-response": "renders and stores missing variants",
};

/**
 * One Lambda@Edge function: a published version in us-east-1, retained on delete because
 * CloudFront's replicas keep it undeletable for hours after the distribution lets go (see docs/deploy.md).
 * The per-resource `region` (not a second provider) keeps every other setting of the stack's
 * provider: credentials, `aws:assumeRoles`, `allowedAccountIds`, `defaultTags`.
 */
function edgeFunction(
  name: string,
  fn: EdgeFunctionName,
  memorySize: number,
  timeout: number,
  ctx: EdgeFunctionContext,
): aws.lambda.Function {
  return new aws.lambda.Function(
    `${name}-${fn}`,
    {
      description: `edge-resizer ${name}: ${EDGE_FUNCTION_DESCRIPTIONS[fn]}`,
      runtime: EDGE_RUNTIME,
      architectures: ["x86_64"],
      handler: "index.handler",
      role: ctx.roles[fn].arn,
      code: pulumi
        .all([ctx.bundles, ctx.settings])
        .apply(([dirs, settings]) => edgeCodeArchive(dirs[fn], settingsFileText(settingsFor(fn, settings)))),
      publish: true,
      memorySize,
      timeout,
      region: EDGE_FUNCTION_REGION.value,
    },
    { parent: ctx.parent, retainOnDelete: true },
  );
}

/**
 * The edge functions' log groups in us-east-1, with retention. Lambda@Edge writes
 * `/aws/lambda/us-east-1.<name>` in the region nearest to where each request ran: the stack owns
 * the us-east-1 one; the others are created by Lambda@Edge itself, without retention (docs/deploy.md).
 */
function edgeLogGroups(
  name: string,
  functionNames: Record<EdgeFunctionName, pulumi.Output<string>>,
  retentionInDays: number,
  parent: pulumi.Resource,
): aws.cloudwatch.LogGroup[] {
  return (["viewer-request", "origin-response"] as const).map(
    (fn) =>
      // The function's logs where it runs for viewers near us-east-1, kept retentionInDays.
      new aws.cloudwatch.LogGroup(
        `${name}-${fn}-logs`,
        { name: pulumi.interpolate`/aws/lambda/us-east-1.${functionNames[fn]}`, retentionInDays, region: EDGE_FUNCTION_REGION.value },
        { parent },
      ),
  );
}

/** CloudFront's log of function results that failed validation (the 502s), in us-east-1, with retention. */
function edgeValidationLogGroup(
  name: string,
  distributionId: pulumi.Output<string>,
  retentionInDays: number,
  parent: pulumi.Resource,
): void {
  // Where CloudFront writes why a function's result was refused; named after the distribution.
  new aws.cloudwatch.LogGroup(
    `${name}-edge-validation-logs`,
    { name: pulumi.interpolate`/aws/cloudfront/LambdaEdge/${distributionId}`, retentionInDays, region: EDGE_FUNCTION_REGION.value },
    { parent },
  );
}

/** The purge function's log group, in the stack's region, with retention. */
function purgeLogGroup(name: string, purgeFunction: aws.lambda.Function, retentionInDays: number, parent: pulumi.Resource): void {
  // A regular Lambda logs to /aws/lambda/<name> in its own region.
  new aws.cloudwatch.LogGroup(
    `${name}-purge-log-group`,
    { name: pulumi.interpolate`/aws/lambda/${purgeFunction.name}`, retentionInDays },
    { parent },
  );
}

/** What the edge roles' policies are scoped by. */
interface EdgeAccessScope {
  roles: Record<EdgeFunctionName, aws.iam.Role>;
  /** The functions' names as Lambda knows them (their log groups are named after them). */
  functionNames: Record<EdgeFunctionName, pulumi.Output<string>>;
  bucketArn: pulumi.Output<string>;
  variantPrefix: string;
  /** The deploying account: log permissions name it, never `*`. */
  accountId: pulumi.Output<string>;
  /** The bucket's KMS key, if SSE-KMS. */
  kmsKeyArn?: string;
}

/** Each role's least-privilege policy: viewer-request its own logs only; origin-response also reads originals and writes variants. */
function edgeAccess(name: string, scope: EdgeAccessScope, parent: pulumi.Resource): aws.iam.RolePolicy[] {
  const { roles, functionNames, bucketArn, variantPrefix, accountId, kmsKeyArn } = scope;
  // viewer-request runs on every request and only rewrites it: no S3 access at all.
  const viewer = new aws.iam.RolePolicy(
    `${name}-viewer-request-access`,
    {
      role: roles["viewer-request"].id,
      policy: pulumi
        .all([accountId, functionNames["viewer-request"]])
        .apply(([account, fn]) => JSON.stringify(viewerRequestAccessPolicy(account, fn))),
    },
    { parent },
  );
  // origin-response renders missing variants: reads originals, writes under the variant prefix only.
  const origin = new aws.iam.RolePolicy(
    `${name}-origin-response-access`,
    {
      role: roles["origin-response"].id,
      policy: pulumi
        .all([bucketArn, accountId, functionNames["origin-response"]])
        .apply(([arn, account, fn]) => JSON.stringify(originResponseAccessPolicy(arn, variantPrefix, account, fn, kmsKeyArn))),
    },
    { parent },
  );
  return [viewer, origin];
}

/** What the distribution is made of. */
interface DistributionParts {
  infra: ResolvedInfraArgs;
  bucket: ImagesBucket;
  access: CloudFrontIdentity;
  viewerRequest: aws.lambda.Function;
  originResponse: aws.lambda.Function;
  /** The WAF web ACL guarding the distribution (WAFv2 takes the ACL's ARN), if any. */
  webAclArn?: pulumi.Output<string>;
}

/** The CDN: the S3 origin through the OAI, both edge functions on the default behaviour, its policies. */
function imagesDistribution(name: string, parts: DistributionParts, opts: pulumi.CustomResourceOptions): aws.cloudfront.Distribution {
  const { infra, bucket, access, viewerRequest, originResponse } = parts;
  const policies = distributionPolicies(name, infra, opts.parent!);
  const originId = "images-bucket";
  // The CDN itself: S3 origin through the OAI, both edge functions on the default behaviour.
  return new aws.cloudfront.Distribution(
    `${name}-cdn`,
    {
      enabled: true,
      comment: `edge-resizer ${name}`,
      httpVersion: "http2and3",
      isIpv6Enabled: true,
      priceClass: infra.priceClass,
      aliases: infra.aliases.length > 0 ? infra.aliases : undefined,
      defaultRootObject: DEFAULT_ROOT_OBJECT,
      origins: [
        {
          originId,
          domainName: bucket.regionalDomainName,
          // Under OAC the origin names the OAC and an empty OAI, as CloudFront requires.
          originAccessControlId: access.oac?.id,
          s3OriginConfig: { originAccessIdentity: access.oai?.cloudfrontAccessIdentityPath ?? "" },
        },
      ],
      defaultCacheBehavior: {
        targetOriginId: originId,
        viewerProtocolPolicy: "redirect-to-https",
        allowedMethods: ["GET", "HEAD"],
        cachedMethods: ["GET", "HEAD"],
        compress: false,
        cachePolicyId: policies.cache.id,
        originRequestPolicyId: policies.originRequest.id,
        responseHeadersPolicyId: policies.securityHeaders.id,
        lambdaFunctionAssociations: [
          { eventType: "viewer-request", lambdaArn: viewerRequest.qualifiedArn, includeBody: false },
          { eventType: "origin-response", lambdaArn: originResponse.qualifiedArn, includeBody: false },
        ],
      },
      // Errors are cached briefly so a fixed or newly uploaded original shows up soon.
      customErrorResponses: SHORT_CACHED_ERRORS.map((errorCode) => ({ errorCode, errorCachingMinTtl: infra.errorCachingMinTtl })),
      restrictions: { geoRestriction: { restrictionType: "none" } },
      webAclId: parts.webAclArn,
      viewerCertificate: infra.certificateArn
        ? { acmCertificateArn: infra.certificateArn, sslSupportMethod: "sni-only", minimumProtocolVersion: "TLSv1.2_2021" }
        : { cloudfrontDefaultCertificate: true },
      loggingConfig: infra.accessLogsBucket
        ? { bucket: checkedLogBucket(infra.accessLogsBucket, opts.parent!), prefix: infra.accessLogsPrefix, includeCookies: false }
        : undefined,
    },
    opts,
  );
}

/**
 * The access logs bucket's domain for CloudFront, once the bucket is known to take them: in a
 * region CloudFront delivers standard logs to, with ACLs enabled. Otherwise preview fails saying why.
 */
function checkedLogBucket(bucketName: string, parent: pulumi.Resource): pulumi.Output<string> {
  const existing = aws.s3.getBucketOutput({ bucket: bucketName }, { parent });
  const described = aws.cloudcontrol.getResourceOutput(
    { typeName: "AWS::S3::Bucket", identifier: existing.bucket, region: existing.region },
    { parent },
  );
  return pulumi.all([existing.bucket, existing.region, described.properties]).apply(([bucket, region, properties]) => {
    const refusal = standardLogBucketRefusal(bucket, region, properties);
    if (refusal) throw new Error(refusal);
    return `${bucket}.s3.amazonaws.com`;
  });
}

/** Configuration that leaves a public stack open to cost amplification, one warning line each (see README "Before you go live"). */
export function openStackWarnings(input: ImageResizerSettings | undefined): string[] {
  const allowUnsafe = input?.thumbor?.allowUnsafe ?? DEFAULT_SETTINGS.thumbor.allowUnsafe;
  const sizes = input?.sizes ?? DEFAULT_SETTINGS.sizes;
  const warnings: string[] = [];
  if (allowUnsafe) {
    warnings.push(
      "unsigned thumbor URLs (/unsafe/...) are accepted, so anyone can make any variant: set edge-resizer:allowUnsafe false and edge-resizer:securityKey",
    );
  }
  if (sizes.length === 0) {
    warnings.push(
      "?d= accepts any size up to maxWidth x maxHeight, so anyone can make any number of variants: set edge-resizer:sizes to the sizes your pages use",
    );
  }
  return warnings;
}

/**
 * Warns at preview and up when the stack is open to anyone (unless acknowledged), and always
 * when no thumbor URL could work (unsafe URLs off and no security key: validation then fails).
 */
function warnOnOpenStack(input: ImageResizerSettings | undefined, acknowledged: boolean, parent: pulumi.Resource): void {
  const allowUnsafe = input?.thumbor?.allowUnsafe ?? DEFAULT_SETTINGS.thumbor.allowUnsafe;
  if (!allowUnsafe && (input?.thumbor?.securityKey ?? "") === "") {
    pulumi.log.warn(
      "unsafe thumbor URLs are off and there is no security key, so no thumbor URL can work: set edge-resizer:securityKey",
      parent,
    );
  }
  if (acknowledged) return;
  for (const warning of openStackWarnings(input)) pulumi.log.warn(`${warning} (or edge-resizer:acknowledgeOpenStack true)`, parent);
}

/** WAF counts each client's requests over the last 5 minutes (its default window; 60, 120 and 600 are the others). */
const WAF_EVALUATION_WINDOW_SECONDS = 300;

/**
 * What WAF matches the patterns against: the URI and query string percent-decoded, then
 * lower-cased (in that order), so `/%76ariants/` or `/UNSAFE/` cannot slip past the rate rule.
 */
const DECODED_LOWER_CASE = [
  { priority: 0, type: "URL_DECODE" },
  { priority: 1, type: "LOWERCASE" },
];

/**
 * Viewer URLs that can make a render: `?d=`, `/unsafe/`, a signature-shaped first segment, and
 * direct variant keys. Originals are not counted. Regexes of AWS WAF's RegexMatchStatement, in
 * lower case: they see the URI after DECODED_LOWER_CASE.
 */
export function variantUrlPatterns(variantPrefix: string) {
  const prefix = variantPrefix.toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return { path: `^/(unsafe|[a-z0-9_-]{27}=|${prefix})/`, query: "(^|&)d=" };
}

/**
 * AWS's managed rule groups `wafManagedRules` adds (none carries a subscription fee), and the
 * rules of theirs that would block normal image requests, switched to count (logged, not blocked).
 */
export const WAF_MANAGED_RULE_GROUPS = [
  {
    name: "AWSManagedRulesCommonRuleSet",
    countInstead: {
      // Images are fetched by more than browsers: apps, mail image proxies, link-preview and feed
      // fetchers, some without a User-Agent. Blocking them breaks images; the rate rule bounds abuse.
      NoUserAgent_HEADER: "image clients without a User-Agent are legitimate",
      // S3 keys may be 1,024 bytes alone, so a thumbor URL for one (signature, sizes, filters) is
      // longer; CloudFront accepts up to 8,192 characters and the handlers check their own limits.
      SizeRestrictions_URIPATH: "thumbor URLs of long keys exceed 1,024 bytes",
    } as Record<string, string>,
  },
  { name: "AWSManagedRulesKnownBadInputsRuleSet", countInstead: {} as Record<string, string> },
  { name: "AWSManagedRulesAmazonIpReputationList", countInstead: {} as Record<string, string> },
] as const;

const visibility = (metric: string) => ({ cloudwatchMetricsEnabled: true, metricName: metric, sampledRequestsEnabled: true });

/** The per-IP rate rule on variant URLs. */
function rateRule(name: string, limit: number, variantPrefix: string) {
  const patterns = variantUrlPatterns(variantPrefix);
  const textTransformations = DECODED_LOWER_CASE;
  return {
    name: "variant-requests-per-ip",
    priority: 0,
    action: { block: {} },
    statement: {
      rateBasedStatement: {
        limit,
        aggregateKeyType: "IP",
        evaluationWindowSec: WAF_EVALUATION_WINDOW_SECONDS,
        scopeDownStatement: {
          orStatement: {
            statements: [
              { regexMatchStatement: { regexString: patterns.path, fieldToMatch: { uriPath: {} }, textTransformations } },
              { regexMatchStatement: { regexString: patterns.query, fieldToMatch: { queryString: {} }, textTransformations } },
            ],
          },
        },
      },
    },
    visibilityConfig: visibility(`${name}-variant-requests-per-ip`),
  };
}

/** One managed rule group as a web ACL rule, its overridden rules counting instead of blocking. */
function managedRule(name: string, group: (typeof WAF_MANAGED_RULE_GROUPS)[number], priority: number) {
  return {
    name: group.name,
    priority,
    overrideAction: { none: {} },
    statement: {
      managedRuleGroupStatement: {
        vendorName: "AWS",
        name: group.name,
        ruleActionOverrides: Object.keys(group.countInstead).map((rule) => ({ name: rule, actionToUse: { count: {} } })),
      },
    },
    visibilityConfig: visibility(`${name}-${group.name}`),
  };
}

/** Optional AWS WAF: a rate limit per client IP on variant requests, and/or AWS's managed rule groups. */
function firewall(name: string, infra: ResolvedInfraArgs, variantPrefix: string, parent: pulumi.Resource): aws.wafv2.WebAcl {
  const rules: aws.types.input.wafv2.WebAclRule[] = [];
  if (infra.wafRateLimit > 0) rules.push(rateRule(name, infra.wafRateLimit, variantPrefix));
  if (infra.wafManagedRules) WAF_MANAGED_RULE_GROUPS.forEach((group, i) => rules.push(managedRule(name, group, i + 1)));
  const what = [
    infra.wafRateLimit > 0 ? `at most ${infra.wafRateLimit} variant requests per client IP per 5 minutes` : "",
    infra.wafManagedRules ? "AWS managed rule groups" : "",
  ];
  // Caps how many renders one client IP can cause (each new variant URL is a Lambda run and an S3
  // object) and filters known attacks. CloudFront web ACLs live in us-east-1 (scope CLOUDFRONT).
  // Named for its first rule: a new name would replace the ACL of existing stacks.
  return new aws.wafv2.WebAcl(
    `${name}-rate-limit`,
    {
      region: "us-east-1",
      scope: "CLOUDFRONT",
      description: `edge-resizer ${name}: ${what.filter(Boolean).join("; ")}`,
      defaultAction: { allow: {} },
      rules,
      visibilityConfig: visibility(`${name}-rate-limit`),
    },
    { parent },
  );
}

/**
 * CloudFront's response headers policy settings for `headers` (lower-case name → value) and an
 * optional HSTS value. CloudFront takes the security headers it knows in their own fields (and
 * refuses them as custom headers); the rest go in as custom headers. Every one overrides the origin's.
 */
export function responseHeadersPolicySettings(headers: Readonly<Record<string, string>>, hsts?: string) {
  const security: Record<string, unknown> = {};
  const custom: { header: string; value: string; override: boolean }[] = [];
  for (const [header, value] of Object.entries(headers)) {
    if (header === "x-content-type-options" && value === "nosniff") security.contentTypeOptions = { override: true };
    else if (header === "content-security-policy") security.contentSecurityPolicy = { contentSecurityPolicy: value, override: true };
    else custom.push({ header, value, override: true });
  }
  if (hsts !== undefined) security.strictTransportSecurity = hstsSettings(hsts);
  return {
    securityHeadersConfig: security,
    customHeadersConfig: custom.length > 0 ? { items: custom } : undefined,
  };
}

function hstsSettings(value: string) {
  const maxAge = /(?:^|;)\s*max-age=(\d+)/i.exec(value);
  if (!maxAge) throw new Error(`HSTS value ${JSON.stringify(value)} has no max-age`);
  return {
    accessControlMaxAgeSec: Number(maxAge[1]),
    includeSubdomains: /(?:^|;)\s*includeSubDomains\s*(?:;|$)/i.test(value),
    preload: /(?:^|;)\s*preload\s*(?:;|$)/i.test(value),
    override: true,
  };
}

/** The distribution's cache policy (path only), origin request policy (the viewer URL header) and response headers policy. */
function distributionPolicies(name: string, infra: ResolvedInfraArgs, parent: pulumi.Resource) {
  // The cache key is the rewritten path alone: viewer-request already folded ?d=, thumbor
  // options and Accept into it, so query strings, headers and cookies would only split the cache.
  const cache = new aws.cloudfront.CachePolicy(
    `${name}-path-only`,
    {
      comment: `edge-resizer ${name}: cache key = variant path`,
      minTtl: 0,
      defaultTtl: 86_400,
      maxTtl: 31_536_000,
      parametersInCacheKeyAndForwardedToOrigin: {
        queryStringsConfig: { queryStringBehavior: "none" },
        headersConfig: { headerBehavior: "none" },
        cookiesConfig: { cookieBehavior: "none" },
        // Images are already compressed; gzip/brotli variants would only duplicate cache entries.
        enableAcceptEncodingGzip: false,
        enableAcceptEncodingBrotli: false,
      },
    },
    { parent },
  );
  // Forwards the viewer URL header set by viewer-request to the origin (so origin-response can
  // redirect large variants to it) without putting it in the cache key.
  const originRequest = new aws.cloudfront.OriginRequestPolicy(
    `${name}-viewer-url`,
    {
      comment: `edge-resizer ${name}: forward ${VIEWER_URL_HEADER} to origin-response`,
      headersConfig: { headerBehavior: "whitelist", headers: { items: [VIEWER_URL_HEADER] } },
      queryStringsConfig: { queryStringBehavior: "none" },
      cookiesConfig: { cookieBehavior: "none" },
    },
    { parent },
  );
  // Security headers on every answer (variants, originals, errors): no sniffing, no script in an
  // SVG opened directly, and HSTS under the stack's own host names.
  const securityHeaders = new aws.cloudfront.ResponseHeadersPolicy(
    `${name}-security-headers`,
    {
      comment: `edge-resizer ${name}: security headers`,
      ...responseHeadersPolicySettings(SECURITY_HEADERS, infra.aliases.length > 0 ? HSTS : undefined),
    },
    { parent },
  );
  return { cache, originRequest, securityHeaders };
}

/** Settings checked at preview time, with the security keys kept apart (they may be secrets known only later). */
interface CheckedSettings {
  plain: Settings;
  securityKey: pulumi.Input<string>;
  retiredSecurityKeys: pulumi.Input<string[]>;
}

/**
 * Validates the settings now with validateSettings (so a bad size fails `pulumi preview`, not
 * the first request) and separates the security keys, which may be secrets known only later.
 */
function checkSettings(
  label: string,
  input: (ImageResizerSettings & Partial<Pick<Settings, InfraBakedSetting>>) | undefined,
): CheckedSettings {
  const { thumbor = {}, ...rest } = input ?? {};
  const {
    securityKey = DEFAULT_SETTINGS.thumbor.securityKey,
    retiredSecurityKeys = DEFAULT_SETTINGS.thumbor.retiredSecurityKeys,
    ...thumborRest
  } = thumbor;
  // A key that is an Output is checked again, for real, when its value is known (see bakedSettings).
  const keyNow = typeof securityKey === "string" ? securityKey : "(secret, checked at deployment)";
  const retiredNow =
    Array.isArray(retiredSecurityKeys) && retiredSecurityKeys.every((k) => typeof k === "string") ? (retiredSecurityKeys as string[]) : [];
  const plain = validateSettings(
    { ...rest, thumbor: { ...thumborRest, securityKey: keyNow, retiredSecurityKeys: retiredNow } },
    `${label} settings`,
  );
  return { plain, securityKey, retiredSecurityKeys };
}

type BundleDirs = { "viewer-request": string; "origin-response": string; purge: string };

/** The built bundle folders: a given `bundleDir` is checked now; otherwise they are built into dist/. */
function locateBundles(label: string, bundleDir: string | undefined): pulumi.Output<BundleDirs> {
  if (bundleDir === undefined || bundleDir === "") {
    return pulumi.output(defaultBundleDir().then((outDir) => checkBundleDir(label, outDir)));
  }
  return pulumi.output(checkBundleDir(label, resolve(bundleDir)));
}

function checkBundleDir(label: string, dir: string): BundleDirs {
  const need = (path: string, what: string): void => {
    if (!existsSync(join(dir, path))) throw new Error(`${label}: bundleDir ${dir} has no ${path} (${what}); run \`npm run build\``);
  };
  need("viewer-request/index.js", "the viewer-request bundle");
  need("origin-response/index.js", "the origin-response bundle");
  need("origin-response/node_modules/sharp/package.json", "sharp beside origin-response");
  need("origin-response/node_modules/@img/sharp-linux-x64/package.json", "sharp's linux-x64 binary");
  need("purge/index.js", "the purge function");
  return { "viewer-request": join(dir, "viewer-request"), "origin-response": join(dir, "origin-response"), purge: join(dir, "purge") };
}

/**
 * The function's code: every file of the built folder, with `settings.json` replaced by the
 * function's share of the stack's settings (the build's own copy carries DEFAULT_SETTINGS). A new settings value changes
 * the archive, so Pulumi publishes a new version and re-points the distribution.
 */
export function edgeCodeArchive(dir: string, settingsJson: string): pulumi.asset.AssetArchive {
  const assets: Record<string, pulumi.asset.Asset | pulumi.asset.Archive> = {};
  for (const entry of readdirSync(dir).sort()) {
    if (entry === "settings.json") continue;
    const path = join(dir, entry);
    assets[entry] = statSync(path).isDirectory() ? new pulumi.asset.FileArchive(path) : new pulumi.asset.FileAsset(path);
  }
  assets["settings.json"] = new pulumi.asset.StringAsset(settingsJson);
  return new pulumi.asset.AssetArchive(assets);
}

/** Every principal, the OAI and the bucket's own account included, is refused the bucket over plain HTTP. */
export function denyInsecureTransportStatement(bucketArn: string) {
  return {
    Sid: "DenyInsecureTransport",
    Effect: "Deny",
    Principal: "*",
    Action: "s3:*",
    Resource: [bucketArn, `${bucketArn}/*`],
    Condition: { Bool: { "aws:SecureTransport": "false" } },
  };
}

/**
 * Bucket policy under OAC: CloudFront's service principal may read objects and list keys, only on
 * behalf of this distribution (AWS:SourceArn), and no access without TLS.
 */
export function oacReadPolicy(bucketArn: string, distributionArn: string) {
  const fromThisDistribution = { StringEquals: { "AWS:SourceArn": distributionArn } };
  const cloudFront = { Service: "cloudfront.amazonaws.com" };
  return {
    Version: "2012-10-17",
    Statement: [
      denyInsecureTransportStatement(bucketArn),
      {
        Sid: "CloudFrontReadsObjects",
        Effect: "Allow",
        Principal: cloudFront,
        Action: "s3:GetObject",
        Resource: `${bucketArn}/*`,
        Condition: fromThisDistribution,
      },
      {
        Sid: "CloudFrontSeesMissingKeysAs404",
        Effect: "Allow",
        Principal: cloudFront,
        Action: "s3:ListBucket",
        Resource: bucketArn,
        Condition: fromThisDistribution,
      },
    ],
  };
}

/** Bucket policy: the OAI may read objects and list keys; no other principal is granted anything; no access without TLS. */
export function oaiReadPolicy(bucketArn: string, oaiIamArn: string) {
  return {
    Version: "2012-10-17",
    Statement: [
      denyInsecureTransportStatement(bucketArn),
      { Sid: "CloudFrontReadsObjects", Effect: "Allow", Principal: { AWS: oaiIamArn }, Action: "s3:GetObject", Resource: `${bucketArn}/*` },
      {
        Sid: "CloudFrontSeesMissingKeysAs404",
        Effect: "Allow",
        Principal: { AWS: oaiIamArn },
        Action: "s3:ListBucket",
        Resource: bucketArn,
      },
    ],
  };
}

/** Trust policy: Lambda and Lambda@Edge's replicator may assume the role. */
export function edgeTrustPolicy() {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: ["lambda.amazonaws.com", "edgelambda.amazonaws.com"] },
        Action: "sts:AssumeRole",
      },
    ],
  };
}

/**
 * A function's own log groups in this account, in every region: Lambda@Edge logs where it ran, as
 * `/aws/lambda/us-east-1.<name>`; `/aws/lambda/<name>` takes test invocations in us-east-1.
 */
function ownLogsStatement(accountId: string, functionName: string) {
  const groups = [`/aws/lambda/us-east-1.${functionName}`, `/aws/lambda/${functionName}`];
  return {
    Sid: "WriteOwnLogs",
    Effect: "Allow",
    Action: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
    Resource: groups.flatMap((group) => [
      `arn:aws:logs:*:${accountId}:log-group:${group}`,
      `arn:aws:logs:*:${accountId}:log-group:${group}:*`,
    ]),
  };
}

/** viewer-request's permissions: its own logs, nothing else (it never touches S3). */
export function viewerRequestAccessPolicy(accountId: string, functionName: string) {
  return { Version: "2012-10-17", Statement: [ownLogsStatement(accountId, functionName)] };
}

/**
 * origin-response's permissions: GetObject anywhere in the bucket (originals), PutObject only
 * under the variant prefix (so a bug can never overwrite an original), and its own logs.
 */
export function originResponseAccessPolicy(
  bucketArn: string,
  variantPrefix: string,
  accountId: string,
  functionName: string,
  kmsKeyArn?: string,
) {
  const statements: object[] = [
    { Sid: "ReadOriginals", Effect: "Allow", Action: "s3:GetObject", Resource: `${bucketArn}/*` },
    { Sid: "WriteVariantsOnly", Effect: "Allow", Action: "s3:PutObject", Resource: `${bucketArn}/${variantPrefix}/*` },
    ownLogsStatement(accountId, functionName),
  ];
  // SSE-KMS: reading an original decrypts with the key; storing a variant asks it for a data key.
  if (kmsKeyArn)
    statements.push({ Sid: "UseBucketKey", Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: kmsKeyArn });
  return { Version: "2012-10-17", Statement: statements };
}
