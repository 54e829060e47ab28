/**
 * Stack config: Pulumi.yaml declares every key with the handlers' defaults, the keys map one to
 * one onto Settings, the program (index.ts) deploys Pulumi.prod.yaml as written, and invalid
 * config fails with a message naming the key. Config is process-global, so tests run serially.
 */
import test from "ava";
import * as pulumi from "@pulumi/pulumi";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildEdgeBundles } from "../../components/bundle.js";
import { IMAGE_RESIZER_DEFAULTS, INFRA_BAKED_SETTINGS, ImageResizer } from "../../components/image-resizer.js";
import { archiveMembers, installPulumiMocks, unwrapSecret, valueOf, type PulumiMocks } from "../../components/pulumi-mocks.js";
import { INFRA_CONFIG_KEYS, SETTINGS_CONFIG_KEYS, imageResizerArgsFromConfig } from "../../components/stack-config.js";
import { DEFAULT_SETTINGS, settingsFor, validateSettings } from "../../handlers/core/settings.js";
import { prodStack, programConfig, project, SECRET_KEYS } from "../helpers/stack-files.js";

let mocks: PulumiMocks;
let bundleDir: string;

test.before(async () => {
  mocks = await installPulumiMocks("edge-resizer", "prod");
  bundleDir = mkdtempSync(join(tmpdir(), "edge-resizer-config-bundles-"));
  await buildEdgeBundles({ outDir: bundleDir });
});

test.after.always(() => {
  if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
});

function settingsLeaves(): string[] {
  const { thumbor, ...top } = DEFAULT_SETTINGS;
  return [...Object.keys(top), ...Object.keys(thumbor).map((k) => `thumbor.${k}`)].sort();
}

test.serial("the config keys map one to one onto every Settings key (those baked from an infrastructure key through it)", (t) => {
  const mapped = Object.values(SETTINGS_CONFIG_KEYS).map((s) => s.path.join("."));
  t.deepEqual([...mapped, ...INFRA_BAKED_SETTINGS].sort(), settingsLeaves());
  for (const key of INFRA_BAKED_SETTINGS) t.true(key in INFRA_CONFIG_KEYS, `${key} is read as an infrastructure key`);
  for (const [key, spec] of Object.entries(SETTINGS_CONFIG_KEYS))
    t.is(spec.path[spec.path.length - 1] as string, key, "a config key is named after its setting");
  t.deepEqual(
    Object.keys(SETTINGS_CONFIG_KEYS).filter((k) => k in INFRA_CONFIG_KEYS),
    [],
    "no name is used twice",
  );
});

test.serial("Pulumi.yaml declares every key, with a description and the defaults the code uses", (t) => {
  t.is(project.name, "edge-resizer");
  t.is(project.main, "index.ts");
  const declared = Object.keys(project.config).sort();
  t.deepEqual(declared, [...Object.keys(SETTINGS_CONFIG_KEYS), ...Object.keys(INFRA_CONFIG_KEYS)].sort());
  const typeOf = { string: "string", integer: "integer", number: "string", boolean: "boolean", "string[]": "array" } as const;
  for (const [key, spec] of Object.entries(SETTINGS_CONFIG_KEYS)) {
    const d = project.config[key]!;
    t.truthy(d.description, `${key} has a description`);
    t.is(d.type, typeOf[spec.kind], `${key} type`);
    const def = spec.path.length === 2 ? DEFAULT_SETTINGS.thumbor[spec.path[1]] : DEFAULT_SETTINGS[spec.path[0]];
    t.deepEqual(spec.kind === "number" ? Number(d.default) : d.default, def, `${key} default`);
    t.not(d.secret, true, "a secret key cannot carry a default, so secrecy comes from `config set --secret`");
  }
  for (const [key, kind] of Object.entries(INFRA_CONFIG_KEYS)) {
    const d = project.config[key]!;
    t.truthy(d.description, `${key} has a description`);
    t.is(d.type, typeOf[kind], `${key} type`);
    const def = (IMAGE_RESIZER_DEFAULTS as Record<string, unknown>)[key];
    t.deepEqual(d.default, def === undefined ? "" : def, `${key} default`);
  }
});

test.serial(
  "the program deploys Pulumi.prod.yaml: its settings are baked into both functions, the secret key into viewer-request only",
  async (t) => {
    const stackValues = { ...prodStack.config, "edge-resizer:securityKey": "prod-s3cr3t", "edge-resizer:bundleDir": bundleDir };
    pulumi.runtime.setAllConfig(programConfig(stackValues), SECRET_KEYS);
    const program = await import("../../index.js");
    t.is(await valueOf(program.distributionDomainName), "d111111abcdef8.cloudfront.net");
    t.is(await valueOf(program.url), "https://d111111abcdef8.cloudfront.net");
    t.is(await valueOf(program.bucketName), "edge-resizer-images");
    t.regex(await valueOf(program.viewerRequestFunctionArn), /:function:edge-resizer-viewer-request:1$/);

    const c = prodStack.config as Record<string, any>;
    const expected = validateSettings({
      sizes: c["edge-resizer:sizes"],
      sizeTolerance: Number(c["edge-resizer:sizeTolerance"]),
      maxWidth: c["edge-resizer:maxWidth"],
      maxHeight: c["edge-resizer:maxHeight"],
      maxInputPixels: c["edge-resizer:maxInputPixels"],
      autoAvif: c["edge-resizer:autoAvif"],
      defaultQuality: c["edge-resizer:defaultQuality"],
      thumbor: { allowUnsafe: false, securityKey: "prod-s3cr3t", stripHosts: c["edge-resizer:stripHosts"] },
    });
    t.false(expected.thumbor.allowUnsafe);
    for (const reader of ["viewer-request", "origin-response"] as const) {
      const fn = `edge-resizer-${reader}`;
      const recorded = mocks.resources.find((r) => r.type === "aws:lambda/function:Function" && r.name === fn);
      if (!recorded) return t.fail(`${fn} not created`);
      const { secret, value } = unwrapSecret(recorded.inputs.code);
      t.true(secret, `${fn}: the archive is derived from the settings holding the key, so it stays a secret`);
      const baked = (await archiveMembers(value))["settings.json"] as { text: string };
      t.deepEqual(JSON.parse(baked.text), settingsFor(reader, expected));
      t.is(baked.text.includes("prod-s3cr3t"), reader === "viewer-request", fn);
    }
    const origin = mocks.resources.find((r) => r.name === "edge-resizer-origin-response")!;
    t.is(origin.inputs.memorySize, c["edge-resizer:originResponseMemoryMb"]);
    const lifecycle = mocks.resources.find((r) => r.type === "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration");
    t.is(lifecycle?.inputs.rules[0].expiration.days, 90);
    t.is(lifecycle?.inputs.rules[0].filter.prefix, "variants/");
    const distribution = mocks.resources.find((r) => r.type === "aws:cloudfront/distribution:Distribution");
    t.is(distribution?.inputs.priceClass, "PriceClass_100");
  },
);

/** Applies stack values over the project defaults and constructs a resizer from them, as index.ts does. */
function deployWith(name: string, stackValues: Record<string, unknown>): ImageResizer {
  pulumi.runtime.setAllConfig(
    programConfig({ "edge-resizer:bundleDir": bundleDir, "edge-resizer:securityKey": "k", ...stackValues }),
    SECRET_KEYS,
  );
  return new ImageResizer(name, imageResizerArgsFromConfig(new pulumi.Config("edge-resizer")));
}

test.serial("Pulumi.prod.yaml without the secret key fails, saying the key is missing", (t) => {
  const err = t.throws(() => deployWith("nokey", { ...prodStack.config, "edge-resizer:securityKey": "" }));
  t.regex(err?.message ?? "", /thumbor\.allowUnsafe is false but thumbor\.securityKey is empty/);
});

test.serial("a size of 0x0 in the stack config fails with the offending entry", (t) => {
  const err = t.throws(() => deployWith("zero", { "edge-resizer:sizes": ["320x0", "0x0"] }));
  t.regex(err?.message ?? "", /sizes\[1\] must be "WxH".*not both 0, got "0x0"/);
});

test.serial("an unknown price class in the stack config fails with the allowed values", (t) => {
  const err = t.throws(() => deployWith("price", { "edge-resizer:priceClass": "PriceClass_Cheapest" }));
  t.regex(err?.message ?? "", /priceClass must be one of "PriceClass_100", "PriceClass_200", "PriceClass_All", got "PriceClass_Cheapest"/);
});

test.serial("a misspelt config key fails instead of silently taking a default", (t) => {
  const err = t.throws(() => deployWith("typo", { "edge-resizer:maxWidht": 800 }));
  t.regex(err?.message ?? "", /stack config edge-resizer:maxWidht is not a known key/);
});

test.serial("values of the wrong type fail naming the key", (t) => {
  const notNumber = t.throws(() => deployWith("nan", { "edge-resizer:maxWidth": "wide" }));
  t.regex(notNumber?.message ?? "", /edge-resizer:maxWidth/);
  const notList = t.throws(() => deployWith("notlist", { "edge-resizer:sizes": "300x200" }));
  t.regex(notList?.message ?? "", /edge-resizer:sizes/);
  const outOfRange = t.throws(() => deployWith("huge", { "edge-resizer:maxWidth": 20000 }));
  t.regex(outOfRange?.message ?? "", /maxWidth must be an integer from 1 to 16383, got 20000/);
});

test.serial("a secret key given in config stays secret in the baked settings", async (t) => {
  const resizer = deployWith("secret", {
    "edge-resizer:allowUnsafe": false,
    "edge-resizer:securityKey": "rotating-key",
    "edge-resizer:retiredSecurityKeys": ["old-key"],
  });
  await valueOf(resizer.distributionId);
  t.true(await pulumi.isSecret(resizer.settingsJson));
  const baked = JSON.parse(await valueOf(resizer.settingsJson));
  t.is(baked.thumbor.securityKey, "rotating-key");
  t.deepEqual(baked.thumbor.retiredSecurityKeys, ["old-key"]);
  t.false(baked.thumbor.allowUnsafe);
});
