/**
 * `npm run build [-- --settings <file>] [-- --out <dir>]`: builds both Lambda@Edge bundles into
 * `dist/` (see components/bundle.ts) and prints their sizes. Settings default to DEFAULT_SETTINGS;
 * a settings file is validated exactly as the handlers validate it at cold start.
 */
import { parseArgs } from "node:util";
import { relative, resolve } from "node:path";
import {
  BUNDLE_TARGET,
  buildEdgeBundles,
  LAMBDA_NODE_RUNTIME,
  PROJECT_ROOT,
  VIEWER_PACKAGE_LIMIT_BYTES,
  type EdgeBundle,
} from "../components/bundle.js";
import { DEFAULT_SETTINGS, loadSettingsFile } from "../handlers/core/settings.js";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      settings: { type: "string" },
      out: { type: "string", default: resolve(PROJECT_ROOT, "dist") },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log("usage: npm run build [-- --settings <settings.json>] [-- --out <dir>]");
    return;
  }
  const settings = values.settings ? loadSettingsFile(resolve(values.settings)) : DEFAULT_SETTINGS;
  const started = Date.now();
  const bundles = await buildEdgeBundles({ outDir: values.out!, settings, log: (line) => console.log(line) });
  console.log(`esbuild target ${BUNDLE_TARGET}, for the ${LAMBDA_NODE_RUNTIME} runtime of all three functions`);
  for (const bundle of [bundles.viewerRequest, bundles.originResponse]) console.log(describe(bundle));
  const viewerShare = ((bundles.viewerRequest.zipBytes / VIEWER_PACKAGE_LIMIT_BYTES) * 100).toFixed(1);
  console.log(`viewer-request zip uses ${viewerShare}% of the 1 MB viewer quota; built in ${Date.now() - started} ms`);
}

function describe(bundle: EdgeBundle): string {
  const where = relative(process.cwd(), bundle.dir) || ".";
  return `${bundle.name.padEnd(16)} index.js ${kib(bundle.bundleBytes).padStart(10)}   zip ${kib(bundle.zipBytes).padStart(10)}   ${where}/`;
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

main().catch((err: unknown) => {
  console.error(`build failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
