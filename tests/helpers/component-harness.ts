/**
 * The ImageResizer under Pulumi mocks, as its tests use it: the mocks installed first, the real
 * bundles built once into a temporary folder (so archive checks see what `npm run build` makes),
 * and the component imported only then (it reads Pulumi config when it loads).
 */
import type { TestFn } from "ava";
import * as pulumi from "@pulumi/pulumi";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildEdgeBundles } from "../../components/bundle.js";
import { installPulumiMocks, valueOf, type PulumiMocks } from "../../components/pulumi-mocks.js";
import type { ImageResizer as ImageResizerClass, ImageResizerArgs } from "../../components/image-resizer.js";

export interface ComponentHarness {
  mocks: PulumiMocks;
  bundleDir: string;
  ImageResizer: typeof ImageResizerClass;
}

/** Registers the test file's before/after hooks; the harness is filled when its tests run. */
export function componentHarness(test: TestFn, tempPrefix: string): ComponentHarness {
  const harness = {} as ComponentHarness;
  test.before(async () => {
    harness.mocks = await installPulumiMocks("edge-resizer", "test");
    harness.bundleDir = mkdtempSync(join(tmpdir(), tempPrefix));
    await buildEdgeBundles({ outDir: harness.bundleDir });
    harness.ImageResizer = (await import("../../components/image-resizer.js")).ImageResizer;
  });
  test.after.always(() => {
    if (harness.bundleDir) rmSync(harness.bundleDir, { recursive: true, force: true });
  });
  return harness;
}

/**
 * Creates a resizer and waits until `settled` says its late children (registered after apply()s
 * resolve) are there. Fails when its distribution or functions break a CloudFront or Lambda@Edge
 * rule (handlers/cloudfront/edge-rules.ts): what AWS would refuse at `pulumi up` fails the test.
 */
export async function deployResizer(
  harness: ComponentHarness,
  name: string,
  args: ImageResizerArgs,
  settled: () => boolean,
): Promise<ImageResizerClass> {
  const resizer = new harness.ImageResizer(name, { bundleDir: harness.bundleDir, ...args });
  await valueOf(pulumi.all([resizer.distributionId, resizer.bucketName, resizer.originResponseRoleArn]));
  for (let i = 0; i < 300 && !settled(); i++) await new Promise((r) => setTimeout(r, 10));
  const refused = harness.mocks.violations.filter((v) => v.startsWith(`${name}-cdn: `));
  if (refused.length > 0) throw new Error(`AWS would refuse ImageResizer "${name}":\n${refused.join("\n")}`);
  return resizer;
}
