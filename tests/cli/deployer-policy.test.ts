/**
 * The deployer policy cannot drift from the component: ImageResizer runs under Pulumi mocks in
 * the default, prod (Pulumi.prod.yaml), WAF, access-logs, existing-bucket and no-purge
 * configurations, and every resource type and data-source call it registers must have a row in
 * DEPLOYER_PERMISSIONS for that configuration, and every row must be for something it registers.
 */
import test from "ava";
import * as pulumi from "@pulumi/pulumi";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildEdgeBundles } from "../../components/bundle.js";
import { installPulumiMocks, valueOf, type PulumiMocks } from "../../components/pulumi-mocks.js";
import type { ImageResizer as ImageResizerClass } from "../../components/image-resizer.js";
import {
  deployerConfigOf,
  deployerPolicy,
  permissionRowsFor,
  runDeployerPolicy,
  typesWithoutPermissions,
} from "../../cli/deployer-policy.js";
import { readStackFile } from "../../cli/stack-file.js";
import { prodStack, programConfig, SECRET_KEYS } from "../helpers/stack-files.js";

let mocks: PulumiMocks;
let bundleDir: string;
let ImageResizer: typeof ImageResizerClass;
let imageResizerArgsFromConfig: typeof import("../../components/stack-config.js").imageResizerArgsFromConfig;

test.before(async () => {
  mocks = await installPulumiMocks("edge-resizer", "deployer");
  bundleDir = mkdtempSync(join(tmpdir(), "edge-resizer-deployer-"));
  await buildEdgeBundles({ outDir: bundleDir });
  ({ ImageResizer } = await import("../../components/image-resizer.js"));
  ({ imageResizerArgsFromConfig } = await import("../../components/stack-config.js"));
});

test.after.always(() => {
  if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
});

const quiet = { "edge-resizer:acknowledgeOpenStack": true };
const CONFIGURATIONS: Record<string, Record<string, unknown>> = {
  defaults: quiet,
  prod: { ...prodStack.config, "edge-resizer:securityKey": "prod-s3cr3t" },
  waf: { ...quiet, "edge-resizer:wafRateLimit": 600 },
  logs: { ...quiet, "edge-resizer:accessLogsBucket": "team-logs" },
  existing: { ...quiet, "edge-resizer:existingBucketName": "thumbor-originals", "edge-resizer:variantExpirationDays": 30 },
  nopurge: { ...quiet, "edge-resizer:purgeOnChange": false },
  oac: { ...quiet, "edge-resizer:originAccess": "oac" },
  managedRules: { ...quiet, "edge-resizer:wafManagedRules": true },
};

/** Constructs a resizer from stack values as index.ts does; returns every type and call token it registered. */
async function registeredBy(name: string, stackValues: Record<string, unknown>): Promise<Set<string>> {
  pulumi.runtime.setAllConfig(programConfig({ "edge-resizer:bundleDir": bundleDir, ...stackValues }), SECRET_KEYS);
  const callsBefore = mocks.calls.length;
  const resizer = new ImageResizer(name, imageResizerArgsFromConfig(new pulumi.Config("edge-resizer")));
  await valueOf(pulumi.all([resizer.distributionId, resizer.bucketName, resizer.originResponseRoleArn]));
  const mine = () => mocks.resources.filter((r) => r.name === name || r.name.startsWith(`${name}-`));
  // Some children register once an apply() resolves: wait until the count holds still.
  for (let seen = -1, i = 0; i < 100 && mine().length !== seen; i++) {
    seen = mine().length;
    await new Promise((r) => setTimeout(r, 50));
  }
  return new Set([...mine().map((r) => r.type), ...mocks.calls.slice(callsBefore).map((c) => c.token)]);
}

for (const [name, values] of Object.entries(CONFIGURATIONS)) {
  test.serial(`${name}: every type the component registers has its permissions, and the policy lists nothing else`, async (t) => {
    mocks.existingBuckets.set("thumbor-originals", { region: "ap-southeast-2" });
    const registered = await registeredBy(`dp-${name}`, values);
    // The values as the CLI reads a stack file: the project's defaults overlaid by the stack's.
    const config = deployerConfigOf(programConfig(values));
    t.deepEqual(typesWithoutPermissions(registered, config), [], "types registered without a row in DEPLOYER_PERMISSIONS");
    const granted = new Set(permissionRowsFor(config).map((row) => row.type));
    t.deepEqual([...granted].filter((type) => !registered.has(type)).sort(), [], "rows for types this configuration does not register");
  });
}

test("the check fails for a resource type nobody gave permissions", (t) => {
  const config = deployerConfigOf({});
  t.deepEqual(typesWithoutPermissions(["aws:sqs/queue:Queue", "aws:sns/topic:Topic"], config), ["aws:sns/topic:Topic"]);
  t.deepEqual(
    typesWithoutPermissions(["aws:wafv2/webAcl:WebAcl"], config),
    ["aws:wafv2/webAcl:WebAcl"],
    "a row that applies only with WAF does not cover a configuration without it",
  );
  for (const row of permissionRowsFor({
    ...config,
    waf: true,
    existingBucketName: "b",
    accessLogsBucket: "l",
    variantExpiration: true,
    oac: true,
  }))
    t.true(row.source.length > 0, `${row.type} says where its actions come from`);
});

test("the command prints the policy of a stack file; what the review found missing is in it, within IAM's size limit", (t) => {
  let out = "";
  const code = runDeployerPolicy(
    ["--stack", "Pulumi.prod.yaml", "--waf", "--access-logs-bucket", "team-logs", "--existing-bucket", "old"],
    {
      stdout: (s) => (out += s),
      stderr: () => {},
    },
  );
  t.is(code, 0);
  const policy = JSON.parse(out);
  const prod = deployerConfigOf(readStackFile("Pulumi.prod.yaml", "omit"));
  t.true(prod.variantExpiration, "Pulumi.prod.yaml sets variantExpirationDays");
  t.deepEqual(policy, deployerPolicy({ ...prod, waf: true, accessLogsBucket: "team-logs", existingBucketName: "old" }));
  const actions: string[] = policy.Statement.flatMap((s: { Action: string[] }) => s.Action);
  for (const action of [
    "sqs:CreateQueue",
    "events:PutRule",
    "lambda:CreateEventSourceMapping",
    "iam:PassRole",
    "s3:PutBucketNotification",
    "wafv2:GetWebACL",
    "lambda:EnableReplication*",
    "cloudformation:GetResource",
  ])
    t.true(actions.includes(action), action);
  const acl = policy.Statement.find((s: { Action: string[] }) => s.Action.includes("s3:PutBucketAcl"));
  t.deepEqual(acl.Resource, ["arn:aws:s3:::team-logs"], "the log bucket's ACL only");
  t.true(actions.filter((a) => a.startsWith("s3:Get")).length >= 18, "Cloud Control's read of the existing bucket");
  // IAM counts a managed policy's characters without whitespace: at most 6,144.
  t.true(JSON.stringify(policy).length <= 6_144, `${JSON.stringify(policy).length} characters`);

  let err = "";
  t.is(runDeployerPolicy(["--stack", "no-such-stack.yaml"], { stdout: () => {}, stderr: (s) => (err += s) }), 2);
  t.regex(err, /cannot read no-such-stack\.yaml/);
  t.is(runDeployerPolicy(["--no-purge"], { stdout: (s) => (out = s), stderr: () => {} }), 0);
  t.false(out.includes("sqs:CreateQueue"), "without purging, no SQS");
});
