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

  // The scope-down regexes count variant URLs only (JS RegExp standing in for WAF's regex engine).
  const [path, query] = rate.scopeDownStatement.orStatement.statements.map((s: any) => new RegExp(s.regexMatchStatement.regexString));
  for (const uri of [
    "/unsafe/300x200/a.jpg",
    "/zArXhd_7vJre_6imadq5CTc7uT8=/300x200/a.jpg",
    "/zArXhd_7vJre_6imadq5CTc7uT8%3D/a.jpg",
    "/variants/a.jpg/300x0,q80.webp",
  ])
    t.true(path.test(uri), uri);
  for (const uri of ["/images/cat.jpg", "/unsafe", "/variantsX/a.jpg"]) t.false(path.test(uri), uri);
  for (const q of ["d=300x200", "v=2&d=300"]) t.true(query.test(q), q);
  t.false(query.test("id=3"));
});

test.serial("wafRateLimit outside AWS WAF's range fails naming it", async (t) => {
  const err = await t.throwsAsync(() =>
    deployWith("waf-low", { "edge-resizer:acknowledgeOpenStack": true, "edge-resizer:wafRateLimit": 5 }),
  );
  t.regex(err!.message, /wafRateLimit must be 0 \(off\) or an integer from 10 to 2000000000/);
});
