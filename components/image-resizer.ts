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
import { VIEWER_URL_HEADER } from "../handlers/cloudfront.js";
import { DEFAULT_SETTINGS, validateSettings, type Settings, type ThumborSettings } from "../handlers/core/settings.js";
import { defaultBundleDir } from "./bundle.js";

/** Settings baked into both functions; the security keys may be Pulumi secrets. Absent keys take DEFAULT_SETTINGS. */
export type ImageResizerSettings = Partial<Omit<Settings, "thumbor">> & {
  thumbor?: Partial<Omit<ThumborSettings, "securityKey" | "retiredSecurityKeys">> & {
    securityKey?: pulumi.Input<string>;
    retiredSecurityKeys?: pulumi.Input<string[]>;
  };
};

export const PRICE_CLASSES = ["PriceClass_100", "PriceClass_200", "PriceClass_All"] as const;
export type PriceClass = (typeof PRICE_CLASSES)[number];

export interface ImageResizerArgs {
  /** Handler settings (sizes, limits, thumbor keys, variant prefix, ...). Default: DEFAULT_SETTINGS. */
  settings?: ImageResizerSettings;
  /** Serve an existing bucket (e.g. thumbor's) instead of creating one. Its policy is replaced by ours (see docs/deploy.md). */
  existingBucketName?: string;
  /** CloudFront price class. Default "PriceClass_100" (North America and Europe). */
  priceClass?: PriceClass;
  /** Extra host names for the distribution; needs `certificateArn`. */
  aliases?: string[];
  /** ACM certificate in us-east-1 covering every alias. */
  certificateArn?: string;
  /** Bucket name for CloudFront standard access logs (the bucket must allow ACLs). Default: no logs. */
  accessLogsBucket?: string;
  /** Key prefix of the access logs. Default "cloudfront/". */
  accessLogsPrefix?: string;
  /** Expire stored variants this many days after creation (they are re-made on demand). 0 = never. Default 0. */
  variantExpirationDays?: number;
  /** origin-response memory in MB; more memory is more CPU for sharp. Default 1536. */
  originResponseMemoryMb?: number;
  /** origin-response timeout in seconds (Lambda@Edge allows at most 30). Default 30. */
  originResponseTimeoutSeconds?: number;
  /** How long CloudFront caches error answers at least, in seconds. Default 10. */
  errorCachingMinTtl?: number;
  /** Output of `npm run build` (holding viewer-request/ and origin-response/). Default: build into dist/ during the deployment. */
  bundleDir?: string;
  /** Keep the bucket (and its privacy settings) when the stack is destroyed. Default true: originals are never deleted by a destroy. */
  retainBucketOnDelete?: boolean;
}

/** The defaults of every infrastructure argument, in one place for the docs and Pulumi.yaml. */
export const IMAGE_RESIZER_DEFAULTS = Object.freeze({
  priceClass: "PriceClass_100" as PriceClass,
  aliases: [] as string[],
  accessLogsPrefix: "cloudfront/",
  variantExpirationDays: 0,
  originResponseMemoryMb: 1536,
  originResponseTimeoutSeconds: 30,
  errorCachingMinTtl: 10,
  retainBucketOnDelete: true,
});

/** viewer-request runs on every request: kept to the old viewer-trigger limits (128 MB, 5 s). */
const VIEWER_REQUEST_MEMORY_MB = 128;
const VIEWER_REQUEST_TIMEOUT_SECONDS = 5;
/** Lambda@Edge accepts only current Node runtimes; 22 still allows the async handlers we use. */
const EDGE_RUNTIME = aws.lambda.Runtime.NodeJS22dX;
/** Error codes whose caching we shorten; 4xx from the handlers carry their own short Cache-Control too. */
const SHORT_CACHED_ERRORS = [400, 403, 404, 405, 413, 414, 415, 500, 501, 502, 503, 504];
/** The key "/" maps to; with ListBucket granted to the OAI, "/" would otherwise list the bucket. */
const DEFAULT_ROOT_OBJECT = "index.html";

/**
 * Headers an edge function may not add: CloudFront fails such a request with a 502 ("Restrictions
 * on all edge functions", CloudFront Developer Guide). A trailing * matches any suffix.
 */
const DISALLOWED_EDGE_HEADERS = [
  "Connection", "Expect", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Connection", "Trailer",
  "Upgrade", "X-Accel-Buffering", "X-Accel-Charset", "X-Accel-Limit-Rate", "X-Accel-Redirect", "X-Amz-Cf-*",
  "X-Amzn-Auth", "X-Amzn-Cf-Billing", "X-Amzn-Cf-Id", "X-Amzn-Cf-Xff", "X-Amzn-Errortype", "X-Amzn-Fle-Profile",
  "X-Amzn-Header-Count", "X-Amzn-Header-Order", "X-Amzn-Lambda-Integration-Tag", "X-Amzn-RequestId", "X-Cache",
  "X-Edge-*", "X-Forwarded-Proto", "X-Real-IP",
];

/** The rule of DISALLOWED_EDGE_HEADERS that forbids adding `name` in an edge function, if any. */
export function disallowedEdgeHeader(name: string): string | undefined {
  const lower = name.toLowerCase();
  return DISALLOWED_EDGE_HEADERS.find((rule) => {
    const r = rule.toLowerCase();
    return r.endsWith("*") ? lower.startsWith(r.slice(0, -1)) : lower === r;
  });
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const HOST_NAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const ACM_ARN_US_EAST_1 = /^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate\/[0-9a-f-]+$/;

/** Infrastructure arguments after validation and defaults. */
interface ResolvedArgs {
  priceClass: PriceClass;
  aliases: string[];
  certificateArn?: string;
  existingBucketName?: string;
  accessLogsBucket?: string;
  accessLogsPrefix: string;
  variantExpirationDays: number;
  originResponseMemoryMb: number;
  originResponseTimeoutSeconds: number;
  errorCachingMinTtl: number;
  retainBucketOnDelete: boolean;
}

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
  public readonly edgeRoleArn: pulumi.Output<string>;
  public readonly originAccessIdentityIamArn: pulumi.Output<string>;
  /** The settings baked into both functions (secret when a security key is a secret). */
  public readonly settingsJson: pulumi.Output<string>;

  public readonly viewerRequestFunction: aws.lambda.Function;
  public readonly originResponseFunction: aws.lambda.Function;
  public readonly distribution: aws.cloudfront.Distribution;

  constructor(name: string, args: ImageResizerArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super("edge-resizer:index:ImageResizer", name, {}, opts);
    const label = `ImageResizer "${name}"`;
    const infra = resolveImageResizerArgs(label, args);
    const { plain: settings, securityKey, retiredSecurityKeys } = checkSettings(label, args.settings);
    const bundles = locateBundles(label, args.bundleDir);
    const parent = { parent: this };
    const forbiddenBy = disallowedEdgeHeader(VIEWER_URL_HEADER);
    if (forbiddenBy) {
      pulumi.log.warn(`the viewer-request handler adds header ${VIEWER_URL_HEADER}, which Lambda@Edge forbids (${forbiddenBy}): `
        + "CloudFront will answer 502 to every variant request until handlers/cloudfront.ts renames it", this);
    }

    // Lambda@Edge functions must live in us-east-1 whatever the stack's region; only they use this provider.
    const usEast1 = new aws.Provider(`${name}-us-east-1`, { region: "us-east-1", profile: aws.config.profile }, parent);

    // ---- The bucket -------------------------------------------------------------------------
    let bucketName: pulumi.Output<string>;
    let bucketArn: pulumi.Output<string>;
    let bucketDomain: pulumi.Output<string>;
    const bucketGuards: pulumi.Resource[] = [];
    // Retained resources survive `pulumi destroy`: originals are the team's data, and the bucket
    // must stay private and encrypted for as long as it exists.
    const keep = { parent: this, retainOnDelete: infra.retainBucketOnDelete };
    if (infra.existingBucketName) {
      // An existing bucket (e.g. thumbor's) is read, not managed: its settings stay the owner's.
      const existing = aws.s3.getBucketOutput({ bucket: infra.existingBucketName }, parent);
      bucketName = existing.bucket;
      bucketArn = existing.arn;
      bucketDomain = existing.bucketRegionalDomainName;
    } else {
      // Originals and variants; never force-destroyed, so a destroy cannot delete originals.
      const bucket = new aws.s3.Bucket(`${name}-images`, { forceDestroy: false }, keep);
      // Nothing in the bucket may ever be public: CloudFront reads it through the OAI only.
      const publicAccessBlock = new aws.s3.BucketPublicAccessBlock(`${name}-images-private`, {
        bucket: bucket.id,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      }, keep);
      // ACLs off: the bucket owner owns every object, so access is decided by policies alone.
      const ownership = new aws.s3.BucketOwnershipControls(`${name}-images-ownership`, {
        bucket: bucket.id,
        rule: { objectOwnership: "BucketOwnerEnforced" },
      }, keep);
      // Encryption at rest with S3-managed keys (SSE-KMS would need a key policy for the OAI, which OAI cannot use).
      const encryption = new aws.s3.BucketServerSideEncryptionConfiguration(`${name}-images-encryption`, {
        bucket: bucket.id,
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }],
      }, keep);
      bucketGuards.push(publicAccessBlock, ownership, encryption);
      bucketName = bucket.bucket;
      bucketArn = bucket.arn;
      bucketDomain = bucket.bucketRegionalDomainName;
    }

    if (infra.variantExpirationDays > 0) {
      // Variants are a cache: expiring them bounds storage, and any expired one is re-made on demand.
      // Only the variant prefix is touched; originals never expire.
      new aws.s3.BucketLifecycleConfiguration(`${name}-variant-expiry`, {
        bucket: bucketName,
        rules: [{
          id: "expire-variants",
          status: "Enabled",
          filter: { prefix: `${settings.variantPrefix}/` },
          expiration: { days: infra.variantExpirationDays },
        }],
      }, parent);
    }

    // ---- CloudFront's read access -----------------------------------------------------------
    // The identity CloudFront uses to read the private bucket.
    const oai = new aws.cloudfront.OriginAccessIdentity(`${name}-oai`, { comment: `edge-resizer ${name}: reads the images bucket` }, parent);
    // Only the OAI may read through the bucket policy: GetObject for objects, ListBucket so a
    // missing key is a 404 (not a 403) that origin-response and the error caching can tell apart.
    new aws.s3.BucketPolicy(`${name}-images-policy`, {
      bucket: bucketName,
      policy: pulumi.all([bucketArn, oai.iamArn]).apply(([arn, oaiArn]) => JSON.stringify(oaiReadPolicy(arn, oaiArn))),
    }, { parent: this, dependsOn: bucketGuards });

    // ---- The functions' role ----------------------------------------------------------------
    // Lambda@Edge assumes the role through both services; nothing else may.
    const role = new aws.iam.Role(`${name}-edge-role`, {
      description: `edge-resizer ${name}: Lambda@Edge execution role`,
      assumeRolePolicy: JSON.stringify(edgeTrustPolicy()),
    }, parent);

    const codeFor = (fn: "viewer-request" | "origin-response", baked: pulumi.Output<string>) =>
      pulumi.all([bundles, baked]).apply(([dirs, json]) => edgeCodeArchive(dirs[fn], json));

    const settingsJson = pulumi.all([pulumi.output(securityKey), pulumi.output(retiredSecurityKeys)]).apply(([key, retired]) =>
      `${JSON.stringify(validateSettings({ ...settings, thumbor: { ...settings.thumbor, securityKey: key, retiredSecurityKeys: retired } }, `${label} settings`), null, 2)}\n`);

    // Edge functions: published versions in us-east-1, retained on delete because CloudFront's
    // replicas keep them undeletable for hours after the distribution lets go (see docs/deploy.md).
    const edgeOptions: pulumi.CustomResourceOptions = { parent: this, provider: usEast1, retainOnDelete: true };
    // viewer-request: matches and rewrites every request, so small and fast (no sharp).
    this.viewerRequestFunction = new aws.lambda.Function(`${name}-viewer-request`, {
      description: `edge-resizer ${name}: rewrites ?d= and thumbor URLs to canonical variant keys`,
      runtime: EDGE_RUNTIME,
      architectures: ["x86_64"],
      handler: "index.handler",
      role: role.arn,
      code: codeFor("viewer-request", settingsJson),
      publish: true,
      memorySize: VIEWER_REQUEST_MEMORY_MB,
      timeout: VIEWER_REQUEST_TIMEOUT_SECONDS,
    }, edgeOptions);
    // origin-response: makes a missing variant with sharp; memory buys CPU time.
    this.originResponseFunction = new aws.lambda.Function(`${name}-origin-response`, {
      description: `edge-resizer ${name}: renders and stores missing variants`,
      runtime: EDGE_RUNTIME,
      architectures: ["x86_64"],
      handler: "index.handler",
      role: role.arn,
      code: codeFor("origin-response", settingsJson),
      publish: true,
      memorySize: infra.originResponseMemoryMb,
      timeout: infra.originResponseTimeoutSeconds,
    }, edgeOptions);

    // Least privilege: read originals, write variants under the prefix only, write own logs.
    const rolePolicy = new aws.iam.RolePolicy(`${name}-edge-access`, {
      role: role.id,
      policy: pulumi
        .all([bucketArn, this.viewerRequestFunction.name, this.originResponseFunction.name])
        .apply(([arn, viewerName, originName]) => JSON.stringify(edgeAccessPolicy(arn, settings.variantPrefix, [viewerName, originName]))),
    }, parent);

    // ---- The distribution -------------------------------------------------------------------
    // The cache key is the rewritten path alone: viewer-request already folded ?d=, thumbor
    // options and Accept into it, so query strings, headers and cookies would only split the cache.
    const cachePolicy = new aws.cloudfront.CachePolicy(`${name}-path-only`, {
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
    }, parent);
    // Forwards the viewer URL header set by viewer-request to the origin (so origin-response can
    // redirect large variants to it) without putting it in the cache key.
    const originRequestPolicy = new aws.cloudfront.OriginRequestPolicy(`${name}-viewer-url`, {
      comment: `edge-resizer ${name}: forward ${VIEWER_URL_HEADER} to origin-response`,
      headersConfig: { headerBehavior: "whitelist", headers: { items: [VIEWER_URL_HEADER] } },
      queryStringsConfig: { queryStringBehavior: "none" },
      cookiesConfig: { cookieBehavior: "none" },
    }, parent);

    const originId = "images-bucket";
    // The CDN itself: S3 origin through the OAI, both edge functions on the default behaviour.
    this.distribution = new aws.cloudfront.Distribution(`${name}-cdn`, {
      enabled: true,
      comment: `edge-resizer ${name}`,
      httpVersion: "http2and3",
      isIpv6Enabled: true,
      priceClass: infra.priceClass,
      aliases: infra.aliases.length > 0 ? infra.aliases : undefined,
      defaultRootObject: DEFAULT_ROOT_OBJECT,
      origins: [{
        originId,
        domainName: bucketDomain,
        s3OriginConfig: { originAccessIdentity: oai.cloudfrontAccessIdentityPath },
      }],
      defaultCacheBehavior: {
        targetOriginId: originId,
        viewerProtocolPolicy: "redirect-to-https",
        allowedMethods: ["GET", "HEAD"],
        cachedMethods: ["GET", "HEAD"],
        compress: false,
        cachePolicyId: cachePolicy.id,
        originRequestPolicyId: originRequestPolicy.id,
        lambdaFunctionAssociations: [
          { eventType: "viewer-request", lambdaArn: this.viewerRequestFunction.qualifiedArn, includeBody: false },
          { eventType: "origin-response", lambdaArn: this.originResponseFunction.qualifiedArn, includeBody: false },
        ],
      },
      // Errors are cached briefly so a fixed or newly uploaded original shows up soon.
      customErrorResponses: SHORT_CACHED_ERRORS.map((errorCode) => ({ errorCode, errorCachingMinTtl: infra.errorCachingMinTtl })),
      restrictions: { geoRestriction: { restrictionType: "none" } },
      viewerCertificate: infra.certificateArn
        ? { acmCertificateArn: infra.certificateArn, sslSupportMethod: "sni-only", minimumProtocolVersion: "TLSv1.2_2021" }
        : { cloudfrontDefaultCertificate: true },
      loggingConfig: infra.accessLogsBucket
        ? { bucket: `${infra.accessLogsBucket}.s3.amazonaws.com`, prefix: infra.accessLogsPrefix, includeCookies: false }
        : undefined,
    }, { parent: this, dependsOn: [rolePolicy] });

    this.bucketName = bucketName;
    this.bucketArn = bucketArn;
    this.distributionId = this.distribution.id;
    this.distributionArn = this.distribution.arn;
    this.distributionDomainName = this.distribution.domainName;
    this.viewerRequestFunctionArn = this.viewerRequestFunction.qualifiedArn;
    this.originResponseFunctionArn = this.originResponseFunction.qualifiedArn;
    this.edgeRoleArn = role.arn;
    this.originAccessIdentityIamArn = oai.iamArn;
    this.settingsJson = settingsJson;
    this.registerOutputs({
      bucketName: this.bucketName,
      bucketArn: this.bucketArn,
      distributionId: this.distributionId,
      distributionArn: this.distributionArn,
      distributionDomainName: this.distributionDomainName,
      viewerRequestFunctionArn: this.viewerRequestFunctionArn,
      originResponseFunctionArn: this.originResponseFunctionArn,
      edgeRoleArn: this.edgeRoleArn,
      originAccessIdentityIamArn: this.originAccessIdentityIamArn,
    });
  }
}

/** Validates the infrastructure arguments and applies their defaults; errors name the key. */
export function resolveImageResizerArgs(label: string, args: ImageResizerArgs): ResolvedArgs {
  const fail = (key: string, want: string, got: unknown): never => {
    throw new Error(`${label}: ${key} must be ${want}, got ${JSON.stringify(got)}`);
  };
  const d = IMAGE_RESIZER_DEFAULTS;
  const int = (key: keyof ImageResizerArgs, min: number, max: number, fallback: number): number => {
    const v = args[key] ?? fallback;
    return Number.isInteger(v) && (v as number) >= min && (v as number) <= max ? (v as number) : fail(key, `an integer from ${min} to ${max}`, v);
  };
  const priceClass = args.priceClass ?? d.priceClass;
  if (!(PRICE_CLASSES as readonly string[]).includes(priceClass)) fail("priceClass", `one of ${PRICE_CLASSES.join(", ")}`, priceClass);

  const aliases = args.aliases ?? d.aliases;
  if (!Array.isArray(aliases)) fail("aliases", "an array of host names", aliases);
  aliases.forEach((host, i) => { if (typeof host !== "string" || !HOST_NAME.test(host)) fail(`aliases[${i}]`, "a lower-case host name like images.example.com", host); });
  const certificateArn = args.certificateArn || undefined;
  if (aliases.length > 0 && !certificateArn) {
    throw new Error(`${label}: aliases ${JSON.stringify(aliases)} need certificateArn, an ACM certificate in us-east-1 covering them`);
  }
  if (certificateArn !== undefined) {
    if (!ACM_ARN_US_EAST_1.test(certificateArn)) fail("certificateArn", "an ACM certificate ARN in us-east-1 (CloudFront only uses certificates there)", certificateArn);
    if (aliases.length === 0) throw new Error(`${label}: certificateArn is set but aliases is empty; CloudFront serves its own domain with its own certificate`);
  }
  const bucketName = (key: keyof ImageResizerArgs): string | undefined => {
    const v = args[key];
    if (v === undefined || v === "") return undefined;
    return typeof v === "string" && BUCKET_NAME.test(v) ? v : fail(key, "an S3 bucket name (3-63 of a-z, 0-9, '.', '-')", v);
  };
  const accessLogsPrefix = args.accessLogsPrefix ?? d.accessLogsPrefix;
  if (typeof accessLogsPrefix !== "string") fail("accessLogsPrefix", "a string", accessLogsPrefix);
  const retainBucketOnDelete = args.retainBucketOnDelete ?? d.retainBucketOnDelete;
  if (typeof retainBucketOnDelete !== "boolean") fail("retainBucketOnDelete", "true or false", retainBucketOnDelete);
  return {
    priceClass,
    aliases,
    certificateArn,
    existingBucketName: bucketName("existingBucketName"),
    accessLogsBucket: bucketName("accessLogsBucket"),
    accessLogsPrefix,
    variantExpirationDays: int("variantExpirationDays", 0, 36_500, d.variantExpirationDays),
    originResponseMemoryMb: int("originResponseMemoryMb", 128, 10_240, d.originResponseMemoryMb),
    originResponseTimeoutSeconds: int("originResponseTimeoutSeconds", 1, 30, d.originResponseTimeoutSeconds),
    errorCachingMinTtl: int("errorCachingMinTtl", 0, 31_536_000, d.errorCachingMinTtl),
    retainBucketOnDelete,
  };
}

/**
 * Validates the settings now with validateSettings (so a bad size fails `pulumi preview`, not
 * the first request) and separates the security keys, which may be secrets known only later.
 */
function checkSettings(label: string, input: ImageResizerSettings | undefined): {
  plain: Settings;
  securityKey: pulumi.Input<string>;
  retiredSecurityKeys: pulumi.Input<string[]>;
} {
  const { thumbor = {}, ...rest } = input ?? {};
  const { securityKey = DEFAULT_SETTINGS.thumbor.securityKey, retiredSecurityKeys = DEFAULT_SETTINGS.thumbor.retiredSecurityKeys, ...thumborRest } = thumbor;
  // A key that is an Output is checked again, for real, when its value is known (see settingsJson).
  const keyNow = typeof securityKey === "string" ? securityKey : "(secret, checked at deployment)";
  const retiredNow = Array.isArray(retiredSecurityKeys) && retiredSecurityKeys.every((k) => typeof k === "string") ? retiredSecurityKeys as string[] : [];
  const plain = validateSettings({ ...rest, thumbor: { ...thumborRest, securityKey: keyNow, retiredSecurityKeys: retiredNow } }, `${label} settings`);
  return { plain, securityKey, retiredSecurityKeys };
}

type BundleDirs = { "viewer-request": string; "origin-response": string };

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
  return { "viewer-request": join(dir, "viewer-request"), "origin-response": join(dir, "origin-response") };
}

/**
 * The function's code: every file of the built folder, with `settings.json` replaced by the
 * stack's settings (the build's own copy carries DEFAULT_SETTINGS). A new settings value changes
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

/** Bucket policy: the OAI may read objects and list keys; no other principal is granted anything. */
export function oaiReadPolicy(bucketArn: string, oaiIamArn: string) {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "CloudFrontReadsObjects", Effect: "Allow", Principal: { AWS: oaiIamArn }, Action: "s3:GetObject", Resource: `${bucketArn}/*` },
      { Sid: "CloudFrontSeesMissingKeysAs404", Effect: "Allow", Principal: { AWS: oaiIamArn }, Action: "s3:ListBucket", Resource: bucketArn },
    ],
  };
}

/** Trust policy: Lambda and Lambda@Edge's replicator may assume the role. */
export function edgeTrustPolicy() {
  return {
    Version: "2012-10-17",
    Statement: [{
      Effect: "Allow",
      Principal: { Service: ["lambda.amazonaws.com", "edgelambda.amazonaws.com"] },
      Action: "sts:AssumeRole",
    }],
  };
}

/**
 * The functions' permissions: GetObject anywhere in the bucket (originals), PutObject only under
 * the variant prefix (so a bug can never overwrite an original), and logs of these two functions
 * in every region (Lambda@Edge logs where it ran, as `/aws/lambda/us-east-1.<name>`).
 */
export function edgeAccessPolicy(bucketArn: string, variantPrefix: string, functionNames: string[]) {
  const logGroups = functionNames.flatMap((fn) => [`/aws/lambda/us-east-1.${fn}`, `/aws/lambda/${fn}`]);
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "ReadOriginals", Effect: "Allow", Action: "s3:GetObject", Resource: `${bucketArn}/*` },
      { Sid: "WriteVariantsOnly", Effect: "Allow", Action: "s3:PutObject", Resource: `${bucketArn}/${variantPrefix}/*` },
      {
        Sid: "WriteOwnLogs",
        Effect: "Allow",
        Action: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: logGroups.flatMap((group) => [`arn:aws:logs:*:*:log-group:${group}`, `arn:aws:logs:*:*:log-group:${group}:*`]),
      },
    ],
  };
}
