/**
 * The ImageResizer's resource graph, asserted from what Pulumi's mocks record (no CLI, no cloud).
 * The real bundles are built once into a temp dir, so the archive checks see what `npm run build`
 * makes.
 */
import test from "ava";
import * as pulumi from "@pulumi/pulumi";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { componentHarness, deployResizer } from "../helpers/component-harness.js";
import { archiveMembers, unwrapSecret, valueOf, type RecordedResource } from "../../components/pulumi-mocks.js";
import { DEFAULT_SETTINGS, settingsFor, validateSettings } from "../../handlers/core/settings.js";
import { existingBucketRefusal, type ImageResizer as ImageResizerClass, type ImageResizerArgs } from "../../components/image-resizer.js";
import { VIEWER_URL_HEADER } from "../../handlers/cloudfront/plumbing.js";
import { HSTS, SECURITY_HEADERS } from "../../handlers/cloudfront/security-headers.js";
import { responseHeadersPolicySettings } from "../../components/image-resizer.js";
import { NO_STANDARD_LOG_REGIONS, standardLogBucketRefusal } from "../../handlers/cloudfront/edge-rules.js";
import {
  CUSTOM_ERROR_CODES,
  checkDistributionInputs,
  checkEdgeFunctionInputs,
  disallowedEdgeHeader,
} from "../../handlers/cloudfront/edge-rules.js";

const T = {
  bucket: "aws:s3/bucket:Bucket",
  publicAccessBlock: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  ownership: "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
  encryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
  oai: "aws:cloudfront/originAccessIdentity:OriginAccessIdentity",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  fn: "aws:lambda/function:Function",
  provider: "pulumi:providers:aws",
  cloudControl: "aws:cloudcontrol/getResource:getResource",
  cachePolicy: "aws:cloudfront/cachePolicy:CachePolicy",
  originRequestPolicy: "aws:cloudfront/originRequestPolicy:OriginRequestPolicy",
  distribution: "aws:cloudfront/distribution:Distribution",
  responseHeadersPolicy: "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy",
  oac: "aws:cloudfront/originAccessControl:OriginAccessControl",
} as const;

const h = componentHarness(test, "edge-resizer-bundles-");

/** Creates a resizer and waits until its policies (registered after their apply()s resolve) are there too. */
async function deploy(name: string, args: ImageResizerArgs = {}): Promise<ImageResizerClass> {
  return deployResizer(
    h,
    name,
    args,
    () =>
      h.mocks.resources.some((r) => r.type === T.rolePolicy && r.name === `${name}-viewer-request-access`) &&
      h.mocks.resources.some((r) => r.type === T.rolePolicy && r.name === `${name}-origin-response-access`) &&
      h.mocks.resources.some((r) => r.type === T.bucketPolicy && r.name === `${name}-images-policy`) &&
      h.mocks.resources.some((r) => r.name === `${name}-edge-validation-logs`),
  );
}

function named(type: string, name: string): RecordedResource {
  const found = h.mocks.resources.filter((r) => r.type === type && r.name === name);
  if (found.length !== 1) throw new Error(`expected one ${type} named ${name}, found ${found.length}`);
  return found[0]!;
}

type Statement = { Effect: string; Principal?: any; Action: string | string[]; Resource: string | string[]; Condition?: any; Sid?: string };

/** Whether an identity policy allows `action` on `resource` (Allow statements with * wildcards; enough for ours). */
function allows(policy: { Statement: Statement[] }, action: string, resource: string): boolean {
  const glob = (pattern: string) =>
    new RegExp(
      `^${pattern
        .split("*")
        .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
        .join(".*")}$`,
    );
  const list = (v: string | string[]) => (Array.isArray(v) ? v : [v]);
  return policy.Statement.some(
    (s) => s.Effect === "Allow" && list(s.Action).some((a) => glob(a).test(action)) && list(s.Resource).some((r) => glob(r).test(resource)),
  );
}

test("the bucket is private: all four public-access flags, owner-enforced ownership, SSE, never force-destroyed", async (t) => {
  await deploy("priv");
  const bucket = named(T.bucket, "priv-images");
  t.false(bucket.inputs.forceDestroy);
  const pab = named(T.publicAccessBlock, "priv-images-private");
  t.is(pab.inputs.bucket, "priv-images-id");
  for (const flag of ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"]) t.true(pab.inputs[flag], flag);
  const ownership = named(T.ownership, "priv-images-ownership");
  t.is(ownership.inputs.bucket, "priv-images-id");
  t.is(ownership.inputs.rule.objectOwnership, "BucketOwnerEnforced");
  const sse = named(T.encryption, "priv-images-encryption");
  t.is(sse.inputs.bucket, "priv-images-id");
  t.is(sse.inputs.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm, "AES256");
});

test("only the OAI can read the bucket: GetObject on objects and ListBucket on the bucket, nothing else", async (t) => {
  const resizer = await deploy("oai");
  const oaiArn = await valueOf(resizer.originAccessIdentityIamArn);
  t.regex(oaiArn, /CloudFront Origin Access Identity oai-oai-id$/);
  const policyResource = named(T.bucketPolicy, "oai-images-policy");
  t.is(policyResource.inputs.bucket, "oai-images");
  const policy = JSON.parse(policyResource.inputs.policy) as { Statement: Statement[] };
  const grants = policy.Statement.filter((s) => s.Effect === "Allow");
  t.true(grants.length > 0);
  for (const s of grants) t.deepEqual(s.Principal, { AWS: oaiArn }, "every grant names the OAI and no one else");
  t.deepEqual(
    policy.Statement.filter((s) => s.Effect !== "Allow").map((s) => s.Sid),
    ["DenyInsecureTransport"],
  );
  t.true(allows(policy, "s3:GetObject", "arn:aws:s3:::oai-images/images/cat.jpg"));
  t.true(allows(policy, "s3:ListBucket", "arn:aws:s3:::oai-images"));
  t.false(allows(policy, "s3:PutObject", "arn:aws:s3:::oai-images/images/cat.jpg"));
  t.false(allows(policy, "s3:DeleteObject", "arn:aws:s3:::oai-images/images/cat.jpg"));
  t.false(allows(policy, "s3:GetObject", "arn:aws:s3:::other-bucket/x.jpg"));
});

test("the bucket policy denies every principal any access to the bucket and its objects without TLS", async (t) => {
  await deploy("tls");
  const policy = JSON.parse(named(T.bucketPolicy, "tls-images-policy").inputs.policy) as { Statement: Statement[] };
  const deny = policy.Statement.find((s) => s.Effect === "Deny");
  if (!deny) return t.fail("no Deny statement");
  t.is(deny.Principal, "*", "for every principal, the OAI and the account's own roles included");
  t.is(deny.Action, "s3:*");
  t.deepEqual(deny.Resource, ["arn:aws:s3:::tls-images", "arn:aws:s3:::tls-images/*"], "the bucket and every object");
  t.deepEqual(deny.Condition, { Bool: { "aws:SecureTransport": "false" } });
});

test("each edge function has its own role, trusted by lambda and edgelambda", async (t) => {
  await deploy("roles");
  for (const fn of ["viewer-request", "origin-response"]) {
    const trust = JSON.parse(named(T.role, `roles-${fn}-role`).inputs.assumeRolePolicy);
    t.deepEqual(
      trust.Statement.map((s: Statement) => s.Action),
      ["sts:AssumeRole"],
    );
    t.deepEqual([...trust.Statement[0].Principal.Service].sort(), ["edgelambda.amazonaws.com", "lambda.amazonaws.com"]);
    t.is(named(T.fn, `roles-${fn}`).inputs.role, `arn:aws:iam::123456789012:role/roles-${fn}-role`);
    t.is(named(T.rolePolicy, `roles-${fn}-access`).inputs.role, `roles-${fn}-role-id`);
  }
});

test("viewer-request's role has no S3 access at all, only its own logs in this account", async (t) => {
  await deploy("vr");
  const policy = JSON.parse(named(T.rolePolicy, "vr-viewer-request-access").inputs.policy) as { Statement: Statement[] };
  for (const action of ["s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:DeleteObject"]) {
    t.false(allows(policy, action, "arn:aws:s3:::vr-images/images/cat.jpg"), action);
    t.false(allows(policy, action, "arn:aws:s3:::vr-images/variants/images/cat.jpg/1x1.webp"), action);
  }
  t.false(
    policy.Statement.some((s) => [s.Action].flat().some((a) => a.startsWith("s3:"))),
    "not a single S3 action",
  );
  const ownLog = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/us-east-1.vr-viewer-request:log-stream:x";
  t.true(allows(policy, "logs:PutLogEvents", ownLog));
  t.false(allows(policy, "logs:PutLogEvents", ownLog.replace("123456789012", "210987654321")), "another account's log group");
  t.false(allows(policy, "logs:PutLogEvents", ownLog.replace("vr-viewer-request", "vr-origin-response")), "the other function's logs");
});

test("origin-response's role reads originals and can write only under the variant prefix, logs pinned to the account", async (t) => {
  await deploy("role", { settings: { variantPrefix: "cache/v1" } });
  const access = named(T.rolePolicy, "role-origin-response-access");
  const policy = JSON.parse(access.inputs.policy) as { Statement: Statement[] };
  const bucket = "arn:aws:s3:::role-images";
  t.true(allows(policy, "s3:GetObject", `${bucket}/images/cat.jpg`), "reads originals");
  t.true(allows(policy, "s3:PutObject", `${bucket}/cache/v1/images/cat.jpg/300x200.webp`), "writes variants");
  t.false(allows(policy, "s3:PutObject", `${bucket}/images/cat.jpg`), "never writes originals");
  t.false(allows(policy, "s3:PutObject", `${bucket}/cache/v1`), "not even the bare prefix key");
  t.false(allows(policy, "s3:PutObject", `${bucket}/cache/v10/x`), "the prefix is a whole path segment");
  for (const action of ["s3:DeleteObject", "s3:PutObjectAcl", "s3:DeleteBucket", "s3:PutBucketPolicy"]) {
    t.false(allows(policy, action, `${bucket}/images/cat.jpg`), action);
    t.false(allows(policy, action, bucket), action);
  }
  t.false(allows(policy, "s3:GetObject", "arn:aws:s3:::someone-elses-bucket/secret.txt"));
  t.true(
    allows(
      policy,
      "logs:PutLogEvents",
      "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/us-east-1.role-origin-response:log-stream:x",
    ),
  );
  t.false(
    allows(
      policy,
      "logs:PutLogEvents",
      "arn:aws:logs:eu-west-1:999999999999:log-group:/aws/lambda/us-east-1.role-origin-response:log-stream:x",
    ),
    "another account's log group of the same name",
  );
  t.false(
    policy.Statement.some((s) => [s.Resource].flat().some((r) => r.startsWith("arn:aws:logs:*:*:"))),
    "no account wildcard",
  );
  t.false(
    allows(policy, "logs:PutLogEvents", "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/us-east-1.unrelated:log-stream:x"),
  );
});

test("both functions are in us-east-1 through their own region input, published, x86_64, nodejs24.x, sized per role", async (t) => {
  await deploy("fns", { originResponseMemoryMb: 2048, originResponseTimeoutSeconds: 20 });
  // No second provider: it would drop the stack's aws:assumeRoles, allowedAccountIds, defaultTags...
  t.false(h.mocks.resources.some((r) => r.type === T.provider && r.name.startsWith("fns")));
  const expected = {
    "fns-viewer-request": { memorySize: 128, timeout: 5 },
    "fns-origin-response": { memorySize: 2048, timeout: 20 },
  };
  for (const [name, size] of Object.entries(expected)) {
    const fn = named(T.fn, name);
    t.is(fn.inputs.region, "us-east-1", `${name} is created in us-east-1`);
    t.falsy(fn.provider, `${name} uses the stack's own provider`);
    t.true(fn.inputs.publish, `${name} publishes versions`);
    t.deepEqual(fn.inputs.architectures, ["x86_64"]);
    t.is(fn.inputs.runtime, "nodejs24.x");
    t.is(fn.inputs.handler, "index.handler");
    t.is(fn.inputs.role, `arn:aws:iam::123456789012:role/${name}-role`);
    t.is(fn.inputs.memorySize, size.memorySize);
    t.is(fn.inputs.timeout, size.timeout);
    t.is(fn.inputs.environment, undefined, "Lambda@Edge has no environment variables");
    t.is(fn.inputs.layers, undefined, "Lambda@Edge has no layers");
  }
  // Nothing else is pinned to a region: the bucket, IAM and CloudFront follow the stack.
  t.deepEqual(
    h.mocks.resources
      .filter((r) => r.name.startsWith("fns") && r.inputs.region !== undefined)
      .map((r) => r.name)
      .sort(),
    ["fns-edge-validation-logs", "fns-origin-response", "fns-origin-response-logs", "fns-viewer-request", "fns-viewer-request-logs"],
  );
});

test("the distribution asks only for custom error codes CloudFront accepts, and the mocks refuse any other", async (t) => {
  await deploy("codes");
  const d = named(T.distribution, "codes-cdn").inputs;
  const codes = d.customErrorResponses.map((e: { errorCode: number }) => e.errorCode);
  t.true(codes.length > 0);
  for (const code of codes) t.true(CUSTOM_ERROR_CODES.value.includes(code), `${code}`);
  t.false(codes.includes(413));
  t.false(codes.includes(415));
  t.deepEqual(checkDistributionInputs(d), []);
  // A configuration asking for 413 and 415 custom error pages is what CloudFront refuses and the mocks catch.
  const old = { ...d, customErrorResponses: [...d.customErrorResponses, { errorCode: 413 }, { errorCode: 415 }] };
  const found = checkDistributionInputs(old);
  t.is(found.length, 2);
  t.regex(found[0]!, /custom error response for 413: CloudFront accepts only 400, 403, 404, 405, 414, 416, 500/);
});

test("the mocks check each associated function against its trigger's limits and Lambda@Edge's unsupported features", async (t) => {
  await deploy("limits");
  const viewer = named(T.fn, "limits-viewer-request").inputs;
  const origin = named(T.fn, "limits-origin-response").inputs;
  t.deepEqual(checkEdgeFunctionInputs("viewer-request", viewer), []);
  t.deepEqual(checkEdgeFunctionInputs("origin-response", origin), []);
  // The origin-response function would be refused on a viewer trigger (1536 MB, 30 s).
  t.is(checkEdgeFunctionInputs("viewer-request", origin).length, 2);
  const refused = checkEdgeFunctionInputs("viewer-request", {
    ...viewer,
    architectures: ["arm64"],
    environment: { variables: { A: "1" } },
    layers: ["arn:layer"],
    publish: false,
    region: "eu-west-1",
    ephemeralStorage: { size: 1024 },
    vpcConfig: { subnetIds: ["s"] },
    deadLetterConfig: { targetArn: "q" },
    packageType: "Image",
  });
  for (const what of [
    "arm64",
    "environment variables",
    "layers",
    "publish",
    "region eu-west-1",
    "ephemeral storage",
    "VPC",
    "dead-letter",
    "container images",
  ]) {
    t.true(
      refused.some((v) => v.includes(what)),
      what,
    );
  }
  const unqualified = { ...named(T.distribution, "limits-cdn").inputs };
  unqualified.defaultCacheBehavior = {
    ...unqualified.defaultCacheBehavior,
    lambdaFunctionAssociations: [
      { eventType: "viewer-request", lambdaArn: "arn:aws:lambda:us-east-1:123456789012:function:limits-viewer-request:$LATEST" },
    ],
  };
  t.regex(checkDistributionInputs(unqualified).join("\n"), /not a numbered version in us-east-1/);
});

test("the distribution associates the qualified ARN of each function with its own event", async (t) => {
  const resizer = await deploy("assoc");
  const viewerArn = await valueOf(resizer.viewerRequestFunction.qualifiedArn);
  const originArn = await valueOf(resizer.originResponseFunction.qualifiedArn);
  t.regex(viewerArn, /:function:assoc-viewer-request:1$/);
  t.regex(originArn, /:function:assoc-origin-response:1$/);
  const behavior = named(T.distribution, "assoc-cdn").inputs.defaultCacheBehavior;
  const byEvent = Object.fromEntries(
    behavior.lambdaFunctionAssociations.map((a: { eventType: string; lambdaArn: string }) => [a.eventType, a.lambdaArn]),
  );
  t.deepEqual(byEvent, { "viewer-request": viewerArn, "origin-response": originArn });
  t.is(await valueOf(resizer.viewerRequestFunctionArn), viewerArn);
  t.is(await valueOf(resizer.originResponseFunctionArn), originArn);
});

test("the cache key is the path alone and the viewer URL header reaches the origin outside the key", async (t) => {
  await deploy("cache");
  const cachePolicy = named(T.cachePolicy, "cache-path-only").inputs;
  const key = cachePolicy.parametersInCacheKeyAndForwardedToOrigin;
  t.is(key.queryStringsConfig.queryStringBehavior, "none");
  t.is(key.headersConfig.headerBehavior, "none");
  t.is(key.cookiesConfig.cookieBehavior, "none");
  const originPolicy = named(T.originRequestPolicy, "cache-viewer-url").inputs;
  t.is(originPolicy.headersConfig.headerBehavior, "whitelist");
  t.deepEqual(originPolicy.headersConfig.headers.items, [VIEWER_URL_HEADER]);
  t.is(originPolicy.queryStringsConfig.queryStringBehavior, "none");
  t.is(originPolicy.cookiesConfig.cookieBehavior, "none");
  const behavior = named(T.distribution, "cache-cdn").inputs.defaultCacheBehavior;
  t.is(behavior.cachePolicyId, "cache-path-only-id");
  t.is(behavior.originRequestPolicyId, "cache-viewer-url-id");
  t.is(behavior.forwardedValues, undefined, "legacy forwardedValues cannot be combined with a cache policy");
});

test("the distribution: S3 origin through the OAI, HTTPS redirect, HTTP/2 and 3, short error caching, no bucket listing at /", async (t) => {
  const resizer = await deploy("cdn");
  const d = named(T.distribution, "cdn-cdn").inputs;
  t.true(d.enabled);
  t.is(d.origins.length, 1);
  t.is(d.origins[0].domainName, "cdn-images.s3.eu-west-1.amazonaws.com");
  t.is(d.origins[0].s3OriginConfig.originAccessIdentity, "origin-access-identity/cloudfront/cdn-oai-id");
  t.is(d.defaultCacheBehavior.targetOriginId, d.origins[0].originId);
  t.is(d.defaultCacheBehavior.viewerProtocolPolicy, "redirect-to-https");
  t.is(d.httpVersion, "http2and3");
  t.is(d.priceClass, "PriceClass_100");
  t.truthy(d.defaultRootObject, '"/" must not map to a bucket listing');
  const errors = new Map(
    d.customErrorResponses.map((e: { errorCode: number; errorCachingMinTtl: number }) => [e.errorCode, e.errorCachingMinTtl]),
  );
  for (const code of [400, 403, 404, 500, 503]) t.is(errors.get(code), 10, `error ${code} cached 10 s`);
  t.deepEqual(d.viewerCertificate, { cloudfrontDefaultCertificate: true });
  t.is(d.aliases, undefined);
  t.is(d.loggingConfig, undefined);
  t.is(await valueOf(resizer.distributionDomainName), "d111111abcdef8.cloudfront.net");
  t.is(await valueOf(resizer.bucketName), "cdn-images");
});

test("aliases with an ACM certificate, price class, access logs and error caching follow the arguments", async (t) => {
  const certificateArn = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-123456789abc";
  await deploy("alias", {
    aliases: ["images.example.com"],
    certificateArn,
    priceClass: "PriceClass_All",
    accessLogsBucket: "example-logs",
    accessLogsPrefix: "cdn/",
    errorCachingMinTtl: 30,
  });
  const d = named(T.distribution, "alias-cdn").inputs;
  t.deepEqual(d.aliases, ["images.example.com"]);
  t.is(d.viewerCertificate.acmCertificateArn, certificateArn);
  t.is(d.viewerCertificate.sslSupportMethod, "sni-only");
  t.is(d.priceClass, "PriceClass_All");
  t.deepEqual(d.loggingConfig, { bucket: "example-logs.s3.amazonaws.com", prefix: "cdn/", includeCookies: false });
  t.true(d.customErrorResponses.every((e: { errorCachingMinTtl: number }) => e.errorCachingMinTtl === 30));
});

test("variants expire after N days through a lifecycle rule limited to the variant prefix; none by default", async (t) => {
  await deploy("expiry", { variantExpirationDays: 45, settings: { variantPrefix: "v" } });
  const rule = named(T.lifecycle, "expiry-variant-expiry").inputs;
  t.is(rule.bucket, "expiry-images");
  t.is(rule.rules.length, 1);
  t.is(rule.rules[0].status, "Enabled");
  t.is(rule.rules[0].filter.prefix, "v/");
  t.is(rule.rules[0].expiration.days, 45);
  await deploy("noexpiry");
  t.false(h.mocks.resources.some((r) => r.type === T.lifecycle && r.name.startsWith("noexpiry")));
});

test("an existing bucket in another region than the stack gets its policy and lifecycle in its own region", async (t) => {
  h.mocks.existingBuckets.set("far-originals", {
    region: "ap-southeast-2",
    properties: {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }] },
    },
  });
  await deploy("far", { existingBucketName: "far-originals", variantExpirationDays: 30 });
  t.is(named(T.bucketPolicy, "far-images-policy").inputs.region, "ap-southeast-2");
  t.is(named(T.lifecycle, "far-variant-expiry").inputs.region, "ap-southeast-2");
  t.is(named(T.distribution, "far-cdn").inputs.origins[0].domainName, "far-originals.s3.ap-southeast-2.amazonaws.com");
  await deploy("near", { variantExpirationDays: 30 });
  t.is(named(T.bucketPolicy, "near-images-policy").inputs.region, undefined, "a created bucket is in the stack's region");
});

test("an existing SSE-KMS bucket is refused at preview with the reason; SSE-S3 is served", async (t) => {
  const described = (algorithm: string) =>
    JSON.stringify({
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: algorithm } }] },
    });
  t.regex(
    existingBucketRefusal("kms-originals", described("aws:kms")) ?? "",
    /^existingBucketName kms-originals encrypts objects with aws:kms \(SSE-KMS\): CloudFront's Origin Access Identity cannot read/,
  );
  t.regex(existingBucketRefusal("b", described("aws:kms:dsse")) ?? "", /aws:kms:dsse/);
  t.is(existingBucketRefusal("b", described("AES256")), undefined);
  t.is(existingBucketRefusal("b", "{}"), undefined, "no default encryption is served");
  // The component asks Cloud Control for the bucket's description, in the bucket's own region.
  h.mocks.existingBuckets.set("sse-originals", { region: "eu-central-1", properties: JSON.parse(described("AES256")) });
  await deploy("sse", { existingBucketName: "sse-originals" });
  t.true(
    h.mocks.calls.some(
      (c) =>
        c.token === T.cloudControl &&
        c.inputs.identifier === "sse-originals" &&
        c.inputs.typeName === "AWS::S3::Bucket" &&
        c.inputs.region === "eu-central-1",
    ),
  );
});

test("an existing bucket is looked up, not created, and gets the OAI policy", async (t) => {
  await deploy("legacy", { existingBucketName: "thumbor-originals" });
  t.false(h.mocks.resources.some((r) => r.type === T.bucket && r.name.startsWith("legacy")));
  t.false(h.mocks.resources.some((r) => r.type === T.publicAccessBlock && r.name.startsWith("legacy")));
  t.true(h.mocks.calls.some((c) => c.token === "aws:s3/getBucket:getBucket" && c.inputs.bucket === "thumbor-originals"));
  t.is(named(T.bucketPolicy, "legacy-images-policy").inputs.bucket, "thumbor-originals");
  t.is(named(T.distribution, "legacy-cdn").inputs.origins[0].domainName, "thumbor-originals.s3.eu-west-1.amazonaws.com");
  const access = JSON.parse(named(T.rolePolicy, "legacy-origin-response-access").inputs.policy);
  t.true(allows(access, "s3:PutObject", "arn:aws:s3:::thumbor-originals/variants/a.jpg"));
  t.false(allows(access, "s3:PutObject", "arn:aws:s3:::thumbor-originals/a.jpg"));
});

test("each archive bakes its function's share of the stack's settings into settings.json, the secret key in viewer-request's only, and stays secret", async (t) => {
  const settings = {
    sizes: ["320x0", "640x0"],
    maxWidth: 2048,
    autoAvif: true,
    variantPrefix: "variants",
    thumbor: { allowUnsafe: false, securityKey: pulumi.secret("k3y-from-config"), stripHosts: ["images.example.com"] },
  };
  const resizer = await deploy("baked", { settings });
  const expected = validateSettings({ ...settings, thumbor: { ...settings.thumbor, securityKey: "k3y-from-config" } });
  for (const reader of ["viewer-request", "origin-response"] as const) {
    const name = `baked-${reader}`;
    const { secret, value } = unwrapSecret(named(T.fn, name).inputs.code);
    t.true(secret, `${name} code is derived from the secret key, so Pulumi encrypts it in state`);
    const members = await archiveMembers(value);
    const baked = members["settings.json"];
    if (baked?.kind !== "text") return t.fail(`${name} has no settings.json text asset`);
    t.deepEqual(JSON.parse(baked.text), settingsFor(reader, expected));
    t.is(JSON.parse(baked.text).thumbor.securityKey, reader === "viewer-request" ? "k3y-from-config" : "", name);
    t.is(baked.text.includes("k3y-from-config"), reader === "viewer-request", name);
    const index = members["index.js"];
    t.is(index?.kind, "file");
    t.true(existsSync((index as { path: string }).path));
  }
  t.true(await pulumi.isSecret(resizer.settingsJson));
  t.deepEqual(JSON.parse(await valueOf(resizer.settingsJson)), expected);
});

test("the origin-response timeout is baked into origin-response's settings, so the render deadline follows it", async (t) => {
  await deploy("timeout", { originResponseTimeoutSeconds: 12 });
  const bakedTimeout = async (name: string) => {
    const members = await archiveMembers(unwrapSecret(named(T.fn, name).inputs.code).value);
    return validateSettings(JSON.parse((members["settings.json"] as { text: string }).text)).originResponseTimeoutSeconds;
  };
  t.is(await bakedTimeout("timeout-origin-response"), 12);
  // viewer-request does not read it (the settings-readers test), so it keeps the default.
  t.is(await bakedTimeout("timeout-viewer-request"), DEFAULT_SETTINGS.originResponseTimeoutSeconds);
  t.is(named(T.fn, "timeout-origin-response").inputs.timeout, 12);
});

test("the default settings are baked when none are given", async (t) => {
  await deploy("defaults");
  const members = await archiveMembers(unwrapSecret(named(T.fn, "defaults-viewer-request").inputs.code).value);
  const baked = members["settings.json"] as { text: string };
  t.deepEqual(JSON.parse(baked.text), DEFAULT_SETTINGS);
});

test("the origin-response archive carries linux-x64 glibc sharp; the viewer-request archive carries no node_modules", async (t) => {
  await deploy("sharp");
  const origin = await archiveMembers(unwrapSecret(named(T.fn, "sharp-origin-response").inputs.code).value);
  const modules = origin["node_modules"];
  if (modules?.kind !== "archive") return t.fail("origin-response has no node_modules archive");
  const binary = JSON.parse(readFileSync(join(modules.path, "@img", "sharp-linux-x64", "package.json"), "utf8"));
  t.deepEqual([binary.os, binary.cpu, binary.libc], [["linux"], ["x64"], ["glibc"]]);
  const sharpPkg = JSON.parse(readFileSync(join(modules.path, "sharp", "package.json"), "utf8"));
  const locked = JSON.parse(readFileSync(join(__dirname, "..", "..", "package-lock.json"), "utf8")).packages["node_modules/sharp"].version;
  t.is(sharpPkg.version, locked);
  const viewer = await archiveMembers(unwrapSecret(named(T.fn, "sharp-viewer-request").inputs.code).value);
  t.deepEqual(Object.keys(viewer).sort(), ["index.js", "settings.json"]);
});

test("every resource is a child of the component; functions and the bucket's guards survive a destroy", async (t) => {
  await deploy("tree", { variantExpirationDays: 7 });
  named("edge-resizer:index:ImageResizer", "tree");
  const children = h.mocks.resources.filter((r) => r.name.startsWith("tree-"));
  t.true(children.length >= 14, `${children.length} children`);
  for (const child of children) t.regex(child.parent, /edge-resizer:index:ImageResizer::tree$/, `${child.type} ${child.name}`);
  // Lambda@Edge replicas keep the functions undeletable for hours: a destroy must forget, not delete, them.
  t.true(named(T.fn, "tree-viewer-request").retainOnDelete);
  t.true(named(T.fn, "tree-origin-response").retainOnDelete);
  // Originals are never deleted by a destroy, and a kept bucket stays private and encrypted.
  for (const [type, name] of [
    [T.bucket, "tree-images"],
    [T.publicAccessBlock, "tree-images-private"],
    [T.ownership, "tree-images-ownership"],
    [T.encryption, "tree-images-encryption"],
  ] as const) {
    t.true(named(type, name).retainOnDelete, name);
  }
  t.false(named(T.distribution, "tree-cdn").retainOnDelete);
  t.false(named(T.role, "tree-viewer-request-role").retainOnDelete);
  t.false(named(T.role, "tree-origin-response-role").retainOnDelete);
  await deploy("tree2", { retainBucketOnDelete: false });
  t.false(named(T.bucket, "tree2-images").retainOnDelete);
  t.true(named(T.fn, "tree2-origin-response").retainOnDelete, "functions are retained whatever the bucket does");
});

test("headers Lambda@Edge forbids functions to add are recognised, wildcards included", (t) => {
  t.is(disallowedEdgeHeader("X-Edge-Resizer-Url"), "X-Edge-*");
  t.is(disallowedEdgeHeader("x-amz-cf-id"), "X-Amz-Cf-*");
  t.is(disallowedEdgeHeader("Connection"), "Connection");
  t.is(disallowedEdgeHeader("x-resizer-viewer-url"), undefined);
  t.is(disallowedEdgeHeader("x-cache-status"), undefined, "X-Cache is exact, not a prefix");
});

test("invalid arguments fail at construction with a message naming the key", (t) => {
  const cases: Array<[ImageResizerArgs, RegExp]> = [
    [{ settings: { sizes: ["0x0"] } }, /settings: sizes\[0\] must be "WxH".*got "0x0"/],
    [{ settings: { sizes: ["300x200", "big"] } }, /sizes\[1\] must be .*got "big"/],
    [
      { priceClass: "PriceClass_50" as never },
      /priceClass must be one of "PriceClass_100", "PriceClass_200", "PriceClass_All", got "PriceClass_50"/,
    ],
    [{ settings: { variantPrefix: "/variants/" } }, /variantPrefix must be path segments/],
    [{ settings: { thumbor: { allowUnsafe: false } } }, /thumbor.allowUnsafe is false but thumbor.securityKey is empty/],
    [{ settings: { colour: "red" } as never }, /unknown key "colour"/],
    [{ originResponseMemoryMb: 64 }, /originResponseMemoryMb must be an integer from 128 to 10240, got 64/],
    [{ originResponseTimeoutSeconds: 31 }, /originResponseTimeoutSeconds must be an integer from 1 to 30, got 31/],
    [{ variantExpirationDays: 1.5 }, /variantExpirationDays must be an integer/],
    [{ aliases: ["images.example.com"] }, /aliases \["images.example.com"\] need certificateArn/],
    [
      { aliases: ["images.example.com"], certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/abc" },
      /certificateArn must be an ACM certificate ARN in us-east-1/,
    ],
    [{ existingBucketName: "Not_A_Bucket" }, /existingBucketName must be an S3 bucket name/],
  ];
  for (const [args, message] of cases) {
    const err = t.throws(() => new h.ImageResizer("bad", { bundleDir: h.bundleDir, ...args }), undefined, JSON.stringify(args));
    t.regex(err?.message ?? "", message);
    t.regex(err?.message ?? "", /^ImageResizer "bad"/);
  }
});

test("a bundleDir without the built bundles is refused with the missing path", (t) => {
  const empty = mkdtempSync(join(tmpdir(), "edge-resizer-empty-"));
  try {
    const err = t.throws(() => new h.ImageResizer("nobundle", { bundleDir: empty }));
    t.regex(err?.message ?? "", /has no viewer-request\/index\.js .*npm run build/);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});

test("every cache behaviour carries the security headers policy: nosniff and a CSP that sandboxes, no HSTS on CloudFront's domain", async (t) => {
  await deploy("hdrs");
  const policy = named(T.responseHeadersPolicy, "hdrs-security-headers").inputs;
  const security = policy.securityHeadersConfig;
  t.deepEqual(security.contentTypeOptions, { override: true });
  t.deepEqual(security.contentSecurityPolicy, { contentSecurityPolicy: SECURITY_HEADERS["content-security-policy"], override: true });
  t.is(security.strictTransportSecurity, undefined);
  t.is(policy.customHeadersConfig, undefined, "nothing beyond the security headers");
  const d = named(T.distribution, "hdrs-cdn").inputs;
  const behaviours = [d.defaultCacheBehavior, ...(d.orderedCacheBehaviors ?? [])];
  t.true(behaviours.length > 0);
  for (const b of behaviours) t.is(b.responseHeadersPolicyId, "hdrs-security-headers-id");
});

test("with aliases the policy adds HSTS for a year", async (t) => {
  const certificateArn = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-123456789abc";
  await deploy("hsts", { aliases: ["images.example.com"], certificateArn });
  const hsts = named(T.responseHeadersPolicy, "hsts-security-headers").inputs.securityHeadersConfig.strictTransportSecurity;
  t.deepEqual(hsts, { accessControlMaxAgeSec: 31_536_000, includeSubdomains: false, preload: false, override: true });
});

test("the response headers policy is built from SECURITY_HEADERS: every header lands in its CloudFront field or as a custom header", (t) => {
  const built = responseHeadersPolicySettings(SECURITY_HEADERS, HSTS);
  t.is(
    built.securityHeadersConfig.contentSecurityPolicy && (built.securityHeadersConfig.contentSecurityPolicy as any).contentSecurityPolicy,
    SECURITY_HEADERS["content-security-policy"],
  );
  const extra = responseHeadersPolicySettings({ ...SECURITY_HEADERS, "cross-origin-resource-policy": "cross-origin" });
  t.deepEqual(extra.customHeadersConfig, { items: [{ header: "cross-origin-resource-policy", value: "cross-origin", override: true }] });
  t.deepEqual(
    (responseHeadersPolicySettings({}, "max-age=600; includeSubDomains; preload").securityHeadersConfig as any).strictTransportSecurity,
    {
      accessControlMaxAgeSec: 600,
      includeSubdomains: true,
      preload: true,
      override: true,
    },
  );
  t.throws(() => responseHeadersPolicySettings({}, "includeSubDomains"), { message: /no max-age/ });
});

test("the mocks refuse reserved concurrency and a runtime management mode other than Auto on an associated edge function", async (t) => {
  await deploy("rtm");
  const aws = await import("@pulumi/aws");
  new aws.lambda.RuntimeManagementConfig("rtm-pinned-runtime", { functionName: "rtm-viewer-request", updateRuntimeOn: "Manual" });
  for (let i = 0; i < 300 && !h.mocks.violations.some((v) => v.startsWith("rtm-cdn: ")); i++) await new Promise((r) => setTimeout(r, 10));
  t.regex(
    h.mocks.violations.filter((v) => v.startsWith("rtm-cdn: ")).join("\n"),
    /rtm-viewer-request: runtime management updateRuntimeOn "Manual"/,
  );
  const origin = named(T.fn, "rtm-origin-response").inputs;
  t.is(origin.reservedConcurrentExecutions, undefined, "the component reserves none");
  t.regex(checkEdgeFunctionInputs("origin-response", { ...origin, reservedConcurrentExecutions: 100 }).join(), /reserved concurrency/);
});

const KMS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

test("originAccess oac: an S3 SigV4 OAC that always signs, an origin AWS accepts, and a bucket policy for this distribution only", async (t) => {
  const resizer = await deploy("oac", { originAccess: "oac" });
  const oac = named(T.oac, "oac-oac").inputs;
  t.deepEqual([oac.originAccessControlOriginType, oac.signingBehavior, oac.signingProtocol], ["s3", "always", "sigv4"]);
  t.false(
    h.mocks.resources.some((r) => r.type === T.oai && r.name.startsWith("oac-")),
    "no OAI",
  );
  const d = named(T.distribution, "oac-cdn").inputs;
  t.is(d.origins[0].originAccessControlId, "oac-oac-id");
  t.is(d.origins[0].s3OriginConfig.originAccessIdentity, "", "CloudFront requires the OAI empty beside an OAC");
  t.deepEqual(checkDistributionInputs(d), []);
  const both = { ...d, origins: [{ ...d.origins[0], s3OriginConfig: { originAccessIdentity: "origin-access-identity/cloudfront/X" } }] };
  t.regex(checkDistributionInputs(both).join(), /an origin access control and origin access identity/);

  const distributionArn = await valueOf(resizer.distributionArn);
  const policy = JSON.parse(named(T.bucketPolicy, "oac-images-policy").inputs.policy) as { Statement: Statement[] };
  const grants = policy.Statement.filter((s) => s.Effect === "Allow");
  t.deepEqual(grants.map((s) => s.Action).sort(), ["s3:GetObject", "s3:ListBucket"]);
  for (const s of grants) {
    t.deepEqual(s.Principal, { Service: "cloudfront.amazonaws.com" });
    t.deepEqual(s.Condition, { StringEquals: { "AWS:SourceArn": distributionArn } }, "only on behalf of this distribution");
  }
  t.true(
    policy.Statement.some((s) => s.Effect === "Deny" && s.Condition?.Bool?.["aws:SecureTransport"] === "false"),
    "TLS deny kept",
  );
  t.is(await valueOf(resizer.originAccessIdentityIamArn), "");
});

test("kmsKeyArn under OAC: the created bucket uses the key and origin-response may decrypt and encrypt with it, viewer-request may not", async (t) => {
  await deploy("kms", { originAccess: "oac", kmsKeyArn: KMS_KEY });
  const sse = named(T.encryption, "kms-images-encryption").inputs.rules[0].applyServerSideEncryptionByDefault;
  t.deepEqual(sse, { sseAlgorithm: "aws:kms", kmsMasterKeyId: KMS_KEY });
  const origin = JSON.parse(named(T.rolePolicy, "kms-origin-response-access").inputs.policy);
  t.true(allows(origin, "kms:Decrypt", KMS_KEY));
  t.true(allows(origin, "kms:GenerateDataKey", KMS_KEY));
  t.false(allows(origin, "kms:Decrypt", KMS_KEY.replace("1234abcd", "99999999")), "no other key");
  const viewer = JSON.parse(named(T.rolePolicy, "kms-viewer-request-access").inputs.policy);
  t.false(allows(viewer, "kms:Decrypt", KMS_KEY));
  await deploy("nokms", { originAccess: "oac" });
  t.false(allows(JSON.parse(named(T.rolePolicy, "nokms-origin-response-access").inputs.policy), "kms:Decrypt", KMS_KEY));
});

test("SSE-KMS: refused under an OAI with the reason, and under OAC without kmsKeyArn; served under OAC with it", async (t) => {
  const kms = JSON.stringify({
    BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms" } }] },
  });
  t.regex(existingBucketRefusal("b", kms, { originAccess: "oai" }) ?? "", /Origin Access Identity cannot read SSE-KMS.*originAccess "oac"/);
  t.regex(existingBucketRefusal("b", kms, { originAccess: "oac" }) ?? "", /set kmsKeyArn/);
  t.is(existingBucketRefusal("b", kms, { originAccess: "oac", kmsKeyArn: KMS_KEY }), undefined);
  const err = t.throws(() => new h.ImageResizer("kmsoai", { bundleDir: h.bundleDir, kmsKeyArn: KMS_KEY }));
  t.regex(err?.message ?? "", /kmsKeyArn needs originAccess "oac": CloudFront's Origin Access Identity cannot read SSE-KMS objects/);
  t.regex(
    t.throws(() => new h.ImageResizer("badkms", { bundleDir: h.bundleDir, originAccess: "oac", kmsKeyArn: "alias/x" }))?.message ?? "",
    /kmsKeyArn must be a KMS key ARN/,
  );
  t.regex(
    t.throws(() => new h.ImageResizer("badmode", { bundleDir: h.bundleDir, originAccess: "public" as never }))?.message ?? "",
    /originAccess must be one of "oai", "oac"/,
  );
  h.mocks.existingBuckets.set("kms-originals", { properties: JSON.parse(kms) });
  await deploy("kmsoac", { existingBucketName: "kms-originals", originAccess: "oac", kmsKeyArn: KMS_KEY });
  t.is(named(T.distribution, "kmsoac-cdn").inputs.origins[0].originAccessControlId, "kmsoac-oac-id");
});

test("the log groups the stack can name are its own, with retention (30 days by default), before CloudFront runs the functions", async (t) => {
  await deploy("logs");
  for (let i = 0; i < 300 && !h.mocks.resources.some((r) => r.name === "logs-purge-log-group"); i++)
    await new Promise((r) => setTimeout(r, 10));
  const group = (resource: string) => named("aws:cloudwatch/logGroup:LogGroup", resource).inputs;
  t.deepEqual(group("logs-viewer-request-logs"), {
    name: "/aws/lambda/us-east-1.logs-viewer-request",
    retentionInDays: 30,
    region: "us-east-1",
  });
  t.deepEqual(group("logs-origin-response-logs"), {
    name: "/aws/lambda/us-east-1.logs-origin-response",
    retentionInDays: 30,
    region: "us-east-1",
  });
  t.deepEqual(group("logs-edge-validation-logs"), {
    name: "/aws/cloudfront/LambdaEdge/logs-cdn-id",
    retentionInDays: 30,
    region: "us-east-1",
  });
  t.deepEqual(
    group("logs-purge-log-group"),
    { name: "/aws/lambda/logs-purge", retentionInDays: 30 },
    "the purge runs in the stack's region",
  );
  await deploy("keep", { logRetentionDays: 365 });
  t.is(group("keep-viewer-request-logs").retentionInDays, 365);
  const err = t.throws(() => new h.ImageResizer("badlogs", { bundleDir: h.bundleDir, logRetentionDays: 31 }));
  t.regex(err?.message ?? "", /logRetentionDays must be one of 0, 1, 3, 5, 7, 14, 30/);
});

test("an access logs bucket is checked at preview: ACLs must be enabled, and in a region CloudFront delivers logs to", async (t) => {
  const ownership = (mode: string) => JSON.stringify({ OwnershipControls: { Rules: [{ ObjectOwnership: mode }] } });
  t.regex(
    standardLogBucketRefusal("logs", "eu-west-1", ownership("BucketOwnerEnforced")) ?? "",
    /BucketOwnerEnforced, which disables ACLs, so CloudFront cannot write/,
  );
  t.is(standardLogBucketRefusal("logs", "eu-west-1", ownership("BucketOwnerPreferred")), undefined);
  t.is(standardLogBucketRefusal("logs", "eu-west-1", "{}"), undefined);
  for (const region of ["af-south-1", "eu-south-1", "me-south-1", "ap-east-1"]) {
    t.true(NO_STANDARD_LOG_REGIONS.value.includes(region));
    t.regex(
      standardLogBucketRefusal("logs", region, "{}") ?? "",
      new RegExp(`is in ${region}, where CloudFront does not deliver standard logs`),
    );
  }
  // The component looks the bucket up in its own region, and points CloudFront at it only once it passes.
  h.mocks.existingBuckets.set("good-logs", { region: "eu-central-1", properties: JSON.parse(ownership("ObjectWriter")) });
  await deploy("goodlogs", { accessLogsBucket: "good-logs" });
  t.is(named(T.distribution, "goodlogs-cdn").inputs.loggingConfig.bucket, "good-logs.s3.amazonaws.com");
  t.true(
    h.mocks.calls.some((c) => c.token === T.cloudControl && c.inputs.identifier === "good-logs" && c.inputs.region === "eu-central-1"),
  );
});
