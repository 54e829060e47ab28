/**
 * Safe on the internet by default, under Pulumi's mocks: `pulumi up`/`preview` warns,
 * one line per problem naming the config key, when the stack config leaves it open (the project
 * defaults), not for Pulumi.prod.yaml's, and not once acknowledged; and the optional WAF rate
 * limit exists only when asked, in us-east-1, attached to the distribution.
 */
import test from "ava";
import * as pulumi from "@pulumi/pulumi";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildEdgeBundles } from "../../components/bundle.js";
import { installPulumiMocks, valueOf, type PulumiMocks } from "../../components/pulumi-mocks.js";
import type { ImageResizer as ImageResizerClass } from "../../components/image-resizer.js";
import { imageResizerArgsFromConfig } from "../../components/stack-config.js";
import { prodStack, programConfig, SECRET_KEYS } from "../helpers/stack-files.js";

const WEB_ACL = "aws:wafv2/webAcl:WebAcl";

let mocks: PulumiMocks;
let bundleDir: string;
let ImageResizer: typeof ImageResizerClass;

test.before(async () => {
  mocks = await installPulumiMocks("edge-resizer", "open-stack");
  bundleDir = mkdtempSync(join(tmpdir(), "edge-resizer-open-stack-"));
  await buildEdgeBundles({ outDir: bundleDir });
  ({ ImageResizer } = await import("../../components/image-resizer.js"));
});

test.after.always(() => {
  if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
});

/** Constructs a resizer from stack values as index.ts does, and returns it with the warnings it logged on itself. */
async function deployWith(name: string, stackValues: Record<string, unknown>): Promise<{ resizer: ImageResizerClass; warnings: string[] }> {
  pulumi.runtime.setAllConfig(programConfig({ "edge-resizer:bundleDir": bundleDir, ...stackValues }), SECRET_KEYS);
  const warnings: string[] = [];
  const original = pulumi.log.warn;
  pulumi.log.warn = (message: string, resource?: pulumi.Resource) => {
    if (resource instanceof ImageResizer) warnings.push(message);
    return Promise.resolve();
  };
  try {
    const resizer = new ImageResizer(name, imageResizerArgsFromConfig(new pulumi.Config("edge-resizer")));
    await valueOf(pulumi.all([resizer.distributionId, resizer.distributionArn]));
    return { resizer, warnings };
  } finally {
    pulumi.log.warn = original;
  }
}

function distributionOf(name: string) {
  return mocks.resources.find((r) => r.type === "aws:cloudfront/distribution:Distribution" && r.name === `${name}-cdn`)!;
}

test.serial("the project's default config warns twice, one line each naming the key to set", async (t) => {
  const { warnings } = await deployWith("defaults", {});
  t.is(warnings.length, 2, warnings.join("\n"));
  t.regex(
    warnings[0]!,
    /unsigned thumbor URLs .* set edge-resizer:allowUnsafe false and edge-resizer:securityKey \(or edge-resizer:acknowledgeOpenStack true\)$/,
  );
  t.regex(warnings[1]!, /\?d= accepts any size .* set edge-resizer:sizes .* \(or edge-resizer:acknowledgeOpenStack true\)$/);
  for (const w of warnings) t.false(w.includes("\n"), "one line");
});

test.serial("Pulumi.prod.yaml's config (with its secret key set) gives no warning", async (t) => {
  const { warnings } = await deployWith("prod", { ...prodStack.config, "edge-resizer:securityKey": "prod-s3cr3t" });
  t.deepEqual(warnings, []);
});

test.serial("each open setting warns on its own; acknowledgeOpenStack silences both", async (t) => {
  const unsigned = await deployWith("unsigned-only", { "edge-resizer:sizes": ["320x0"] });
  t.is(unsigned.warnings.length, 1);
  t.regex(unsigned.warnings[0]!, /edge-resizer:allowUnsafe/);
  const anySize = await deployWith("any-size", { "edge-resizer:allowUnsafe": false, "edge-resizer:securityKey": "k" });
  t.is(anySize.warnings.length, 1);
  t.regex(anySize.warnings[0]!, /edge-resizer:sizes/);
  const acknowledged = await deployWith("acknowledged", { "edge-resizer:acknowledgeOpenStack": true });
  t.deepEqual(acknowledged.warnings, []);
});

test.serial("unsafe URLs off without a key: a warning that no thumbor URL can work, then the settings error", async (t) => {
  const warnings: string[] = [];
  const original = pulumi.log.warn;
  pulumi.log.warn = (message: string) => {
    warnings.push(message);
    return Promise.resolve();
  };
  try {
    pulumi.runtime.setAllConfig(
      programConfig({ "edge-resizer:bundleDir": bundleDir, "edge-resizer:allowUnsafe": false, "edge-resizer:sizes": ["320x0"] }),
      SECRET_KEYS,
    );
    const err = t.throws(() => new ImageResizer("nokey", imageResizerArgsFromConfig(new pulumi.Config("edge-resizer"))));
    t.regex(err!.message, /securityKey is empty/);
  } finally {
    pulumi.log.warn = original;
  }
  t.deepEqual(warnings, [
    "unsafe thumbor URLs are off and there is no security key, so no thumbor URL can work: set edge-resizer:securityKey",
  ]);
});

test.serial("no WAF web ACL unless wafRateLimit is set", async (t) => {
  await deployWith("no-waf", { "edge-resizer:acknowledgeOpenStack": true });
  t.false(mocks.resources.some((r) => r.type === WEB_ACL && r.name.startsWith("no-waf")));
  t.is(distributionOf("no-waf").inputs.webAclId, undefined);
});

test.serial("wafRateLimit: a CLOUDFRONT web ACL in us-east-1, a per-IP rate rule on variant URLs, attached by ARN", async (t) => {
  await deployWith("waf", { ...prodStack.config, "edge-resizer:securityKey": "k", "edge-resizer:wafRateLimit": 600 });
  const acls = mocks.resources.filter((r) => r.type === WEB_ACL && r.name.startsWith("waf"));
  t.is(acls.length, 1);
  const acl = acls[0]!.inputs;
  t.is(acl.region, "us-east-1");
  t.is(acl.scope, "CLOUDFRONT");
  t.deepEqual(acl.defaultAction, { allow: {} });
  const rule = acl.rules[0];
  t.deepEqual(rule.action, { block: {} });
  const rate = rule.statement.rateBasedStatement;
  t.is(rate.limit, 600);
  t.is(rate.aggregateKeyType, "IP");
  t.is(rate.evaluationWindowSec, 300);
  t.regex(distributionOf("waf").inputs.webAclId, /^arn:aws:wafv2:us-east-1:\d{12}:global\/webacl\/waf-rate-limit\//);

  // The scope-down regexes count variant URLs only (JS RegExp standing in for WAF's regex engine),
  // matched against what WAF's text transformations make of the viewer's URI.
  const [path, query] = rate.scopeDownStatement.orStatement.statements.map(
    (s: any) => (value: string) =>
      new RegExp(s.regexMatchStatement.regexString).test(asWafSees(s.regexMatchStatement.textTransformations, value)),
  );
  for (const uri of [
    "/unsafe/300x200/a.jpg",
    "/zArXhd_7vJre_6imadq5CTc7uT8=/300x200/a.jpg",
    "/zArXhd_7vJre_6imadq5CTc7uT8%3D/a.jpg",
    "/variants/a.jpg/300x0,q80.webp",
    // Encoded or upper-cased spellings of the same paths, which CloudFront and S3 read alike.
    "/%76ariants/a.jpg/300x0,q80.webp",
    "/%75nsafe/300x200/a.jpg",
    "/UNSAFE/300x200/a.jpg",
  ])
    t.true(path(uri), uri);
  for (const uri of ["/images/cat.jpg", "/unsafe", "/variantsX/a.jpg"]) t.false(path(uri), uri);
  for (const q of ["d=300x200", "v=2&d=300", "%64=300x200", "v=2&D=300"]) t.true(query(q), q);
  t.false(query("id=3"));
});

/** A value after a rule's text transformations, applied in priority order (the two WAF transformations used here). */
function asWafSees(transformations: Array<{ priority: number; type: string }>, value: string): string {
  const apply: Record<string, (v: string) => string> = { URL_DECODE: (v) => decodeURIComponent(v), LOWERCASE: (v) => v.toLowerCase() };
  return [...transformations]
    .sort((a, b) => a.priority - b.priority)
    .reduce((v, { type }) => {
      if (!apply[type]) throw new Error(`transformation ${type} not modelled`);
      return apply[type]!(v);
    }, value);
}

test.serial("the rate rule matches the decoded, then lower-cased URI and query string, with lower-case patterns", async (t) => {
  await deployWith("waf-case", {
    "edge-resizer:acknowledgeOpenStack": true,
    "edge-resizer:wafRateLimit": 100,
    "edge-resizer:variantPrefix": "Cache/V1",
  });
  const acl = mocks.resources.find((r) => r.type === WEB_ACL && r.name === "waf-case-rate-limit")!.inputs;
  for (const s of acl.rules[0].statement.rateBasedStatement.scopeDownStatement.orStatement.statements) {
    const match = s.regexMatchStatement;
    t.deepEqual(match.textTransformations, [
      { priority: 0, type: "URL_DECODE" },
      { priority: 1, type: "LOWERCASE" },
    ]);
    t.is(match.regexString, match.regexString.toLowerCase(), "a pattern with upper case could never match a lower-cased URI");
  }
  t.regex(
    acl.rules[0].statement.rateBasedStatement.scopeDownStatement.orStatement.statements[0].regexMatchStatement.regexString,
    /cache\/v1/,
  );
});

test.serial("wafManagedRules: AWS's three managed rule groups, the rules that would block image requests counting only", async (t) => {
  await deployWith("managed", { "edge-resizer:acknowledgeOpenStack": true, "edge-resizer:wafManagedRules": true });
  const acl = mocks.resources.find((r) => r.type === WEB_ACL && r.name.startsWith("managed"))!.inputs;
  t.regex(distributionOf("managed").inputs.webAclId, /^arn:aws:wafv2:us-east-1:/, "a web ACL is made even without a rate limit");
  t.deepEqual(
    acl.rules.map((r: any) => [r.statement.managedRuleGroupStatement.vendorName, r.statement.managedRuleGroupStatement.name]),
    [
      ["AWS", "AWSManagedRulesCommonRuleSet"],
      ["AWS", "AWSManagedRulesKnownBadInputsRuleSet"],
      ["AWS", "AWSManagedRulesAmazonIpReputationList"],
    ],
  );
  t.is(new Set(acl.rules.map((r: any) => r.priority)).size, 3, "distinct priorities");
  for (const rule of acl.rules) t.deepEqual(rule.overrideAction, { none: {} }, "the groups' own actions apply");
  const crs = acl.rules[0].statement.managedRuleGroupStatement.ruleActionOverrides;
  t.deepEqual(
    crs.map((o: any) => [o.name, o.actionToUse]),
    [
      ["NoUserAgent_HEADER", { count: {} }],
      ["SizeRestrictions_URIPATH", { count: {} }],
    ],
  );
  await deployWith("both", {
    "edge-resizer:acknowledgeOpenStack": true,
    "edge-resizer:wafManagedRules": true,
    "edge-resizer:wafRateLimit": 50,
  });
  const both = mocks.resources.find((r) => r.type === WEB_ACL && r.name.startsWith("both"))!.inputs;
  t.deepEqual(
    both.rules.map((r: any) => r.priority),
    [0, 1, 2, 3],
    "the rate rule first, then the groups",
  );
});

test.serial("wafRateLimit outside AWS WAF's range fails naming it", async (t) => {
  const err = await t.throwsAsync(() =>
    deployWith("waf-low", { "edge-resizer:acknowledgeOpenStack": true, "edge-resizer:wafRateLimit": 5 }),
  );
  t.regex(err!.message, /wafRateLimit must be 0 \(off\) or an integer from 10 to 2000000000/);
});
