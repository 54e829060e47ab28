/**
 * The folders mirror the bundles: only handlers/render/ uses sharp; core/ is shared and imports
 * only itself; every other folder of handlers/ (url for viewer-request, render and s3 for
 * origin-response, purge, cloudfront) imports only itself and core/, in both directions, and none
 * reaches components/, local/ or cli/; each bundle (viewer-request, origin-response, purge)
 * reaches only its own folders and core/, never another bundle's code or entry point, the tools or
 * (but origin-response) sharp, however indirectly; the CLI never reaches render/ and reaches sharp only through verify's own decoder,
 * never from the audit.
 */
import test from "ava";
import { join, posix } from "node:path";
import { BUNDLES, boundaryViolations, buildImportGraph, findPath, readSources } from "./helpers/import-graph.js";

const graph = buildImportGraph(readSources(join(__dirname, "..")));

/** A graph from made-up sources: file → its import lines. */
function fakeGraph(files: Record<string, string[]>) {
  return buildImportGraph(new Map(Object.entries(files).map(([file, lines]) => [file, lines.join("\n")])));
}

test("the real tree respects every boundary", (t) => {
  t.deepEqual(boundaryViolations(graph), []);
});

test("the graph is the real one: the handlers, the render's sharp and the CLI are all in it", (t) => {
  t.true(graph.size > 50);
  t.true(graph.get("handlers/render/pipeline.ts")?.includes("sharp"));
  t.deepEqual(findPath(graph, "handlers/origin-response.ts", (n) => n === "sharp")?.at(-1), "sharp");
  t.truthy(findPath(graph, "handlers/viewer-request.ts", (n) => n === "handlers/url/request-plan.ts"));
  t.truthy(findPath(graph, "cli/main.ts", (n) => n === "handlers/url/request-plan.ts"));
});

test("the checker fails when a file outside render/ imports sharp, whatever the import's form", (t) => {
  for (const line of [
    `import sharp from "sharp";`,
    `import type { Sharp } from "sharp";`,
    `type S = import("sharp").Sharp;`,
    `export { default } from "sharp";`,
  ]) {
    const violations = boundaryViolations(
      fakeGraph({ "handlers/core/colour.ts": [line], "handlers/render/ok.ts": [`import sharp from "sharp";`] }),
    );
    t.deepEqual(violations, ["handlers/core/colour.ts imports sharp (only handlers/render/ may)"], line);
  }
});

test("the checker fails on core → url/render/adapter and url → render imports", (t) => {
  const violations = boundaryViolations(
    fakeGraph({
      "handlers/core/a.ts": [
        `import { x } from "../url/b.js";`,
        `import { y } from "../render/c.js";`,
        `import { z } from "../viewer-request.js";`,
      ],
      "handlers/url/b.ts": [`import { y } from "../render/c.js";`],
      "handlers/render/c.ts": [],
      "handlers/viewer-request.ts": [],
    }),
  );
  t.deepEqual(violations, [
    "handlers/core/a.ts (core) imports handlers/url/b.ts",
    "handlers/core/a.ts (core) imports handlers/render/c.ts",
    "handlers/core/a.ts (core) imports handlers/viewer-request.ts",
    "handlers/url/b.ts (url) imports handlers/render/c.ts",
  ]);
});

test("the checker fails on every cross-folder import between the bundles' folders, both ways, and on handlers reaching the tools", (t) => {
  const violations = boundaryViolations(
    fakeGraph({
      "handlers/render/a.ts": [`import { f } from "../url/filters.js";`, `import { p } from "../purge/plan.js";`],
      "handlers/url/filters.ts": [`import { a } from "../render/a.js";`, `import { c } from "../core/plan.js";`],
      "handlers/purge/plan.ts": [`import { a } from "../render/a.js";`],
      "handlers/s3/client.ts": [`import { o } from "../../components/image-resizer.js";`],
      "handlers/cloudfront/plumbing.ts": [`import { l } from "../../local/edge.js";`],
      "handlers/core/plan.ts": [`import { s } from "../s3/client.js";`],
      "handlers/render/b.ts": [`import { a } from "./a.js";`, `import { c } from "../core/plan.js";`],
      "components/image-resizer.ts": [],
      "local/edge.ts": [],
    }),
  );
  t.deepEqual(violations, [
    "handlers/render/a.ts (render) imports handlers/url/filters.ts",
    "handlers/render/a.ts (render) imports handlers/purge/plan.ts",
    "handlers/url/filters.ts (url) imports handlers/render/a.ts",
    "handlers/purge/plan.ts (purge) imports handlers/render/a.ts",
    "handlers/s3/client.ts (s3) imports components/image-resizer.ts",
    "handlers/cloudfront/plumbing.ts (cloudfront) imports local/edge.ts",
    "handlers/core/plan.ts (core) imports handlers/s3/client.ts",
  ]);
});

test("the checker follows chains: viewer-request reaching render/ or the CLI reaching sharp through other files fails", (t) => {
  const violations = boundaryViolations(
    fakeGraph({
      "handlers/viewer-request.ts": [`import { plan } from "../local/a.js";`],
      "local/a.ts": [`import { b } from "./b.js";`],
      "local/b.ts": [`import { c } from "../handlers/render/c.js";`],
      "handlers/render/c.ts": [`import sharp from "sharp";`],
      "cli/main.ts": [`import { b } from "../local/b.js";`],
    }),
  );
  t.deepEqual(violations, [
    "viewer-request reaches handlers/render/c.ts: handlers/viewer-request.ts → local/a.ts → local/b.ts → handlers/render/c.ts",
    "viewer-request reaches local/a.ts: handlers/viewer-request.ts → local/a.ts",
    "cli/main.ts reaches sharp: cli/main.ts → local/b.ts → handlers/render/c.ts → sharp",
  ]);
});

/** A file of each bundle's own folder (not core/, which every bundle shares). */
const OWN_FILE: Record<string, string> = {
  "viewer-request": "handlers/url/own.ts",
  "origin-response": "handlers/render/own.ts",
  purge: "handlers/purge/own.ts",
};
const SHARED = "handlers/core/shared.ts";

/** A fake graph of import chains: each chain's files, each importing the next by a relative specifier. */
function chains(...paths: string[][]) {
  const files: Record<string, string[]> = {};
  for (const path of paths)
    path.forEach((file, i) => {
      files[file] ??= [];
      const next = path[i + 1];
      if (next === undefined) return;
      const spec = posix.relative(posix.dirname(file), next).replace(/\.ts$/, ".js");
      files[file]!.push(`import { x } from "${spec.startsWith(".") ? spec : `./${spec}`}";`);
    });
  return fakeGraph(files);
}

for (const [from, { entry }] of Object.entries(BUNDLES)) {
  for (const [to, other] of Object.entries(BUNDLES)) {
    if (to === from) continue;
    test(`the checker fails when ${from} reaches ${to}'s code or entry point, through any chain`, (t) => {
      const own = [entry, OWN_FILE[from]!, SHARED];
      t.deepEqual(boundaryViolations(chains(own, ["local/x.ts", OWN_FILE[to]!])), [], "its own folders and core/ are fine");
      const viaCore = chains([...own, OWN_FILE[to]!]);
      t.true(viaCore.get(SHARED)!.includes(OWN_FILE[to]!), "the fake graph resolves the chain");
      t.true(viaCore.get(OWN_FILE[from]!)!.includes(SHARED));
      t.true(boundaryViolations(viaCore).includes(`${from} reaches ${OWN_FILE[to]}: ${[...own, OWN_FILE[to]].join(" → ")}`));
      t.deepEqual(boundaryViolations(chains([entry, other.entry])), [`${from} reaches ${other.entry}: ${entry} → ${other.entry}`]);
    });
  }
  test(`the checker fails when ${from} reaches components/, local/ or cli/, however indirectly`, (t) => {
    for (const tool of ["components/image-resizer.ts", "local/edge.ts", "cli/main.ts"]) {
      const path = [entry, OWN_FILE[from]!, SHARED, tool];
      t.true(boundaryViolations(chains(path)).includes(`${from} reaches ${tool}: ${path.join(" → ")}`), tool);
    }
  });
}

test("the checker fails when render/ or url/ imports the other, or components/", (t) => {
  const violations = boundaryViolations(
    fakeGraph({
      "handlers/render/a.ts": [`import { u } from "../url/b.js";`, `import { c } from "../../components/bundle.js";`],
      "handlers/url/b.ts": [`import { r } from "../render/a.js";`, `import { c } from "../../components/bundle.js";`],
      "components/bundle.ts": [],
    }),
  );
  t.deepEqual(violations, [
    "handlers/render/a.ts (render) imports handlers/url/b.ts",
    "handlers/render/a.ts (render) imports components/bundle.ts",
    "handlers/url/b.ts (url) imports handlers/render/a.ts",
    "handlers/url/b.ts (url) imports components/bundle.ts",
  ]);
});

test("the real bundles reach exactly their own folders", (t) => {
  for (const [bundle, { entry, rooms }] of Object.entries(BUNDLES)) {
    const reached = new Set<string>();
    for (const file of graph.keys()) {
      const room = /^handlers\/([^/]+)\//.exec(file)?.[1];
      if (room && findPath(graph, entry, (n) => n === file)) reached.add(room);
    }
    t.deepEqual([...reached].sort(), [...rooms].sort(), bundle);
  }
});

test("the CLI decodes with sharp only through verify's decoder: never the render, never on the audit's path", (t) => {
  const violations = boundaryViolations(
    fakeGraph({
      "cli/image-compare.ts": [`import sharp from "sharp";`],
      "cli/verify.ts": [`import { compareImages } from "./image-compare.js";`],
      "cli/main.ts": [`const v = import("./verify.js");`],
      "cli/audit.ts": [`import { judge } from "./verify.js";`],
      "cli/warm.ts": [`import sharp from "sharp";`, `import { x } from "../handlers/render/c.js";`],
      "handlers/render/c.ts": [],
    }),
  );
  t.deepEqual(violations, [
    "cli/warm.ts imports sharp (only handlers/render/ may)",
    "cli/warm.ts reaches sharp: cli/warm.ts → sharp",
    "cli/audit.ts reaches sharp: cli/audit.ts → cli/verify.ts → cli/image-compare.ts → sharp",
  ]);
  t.truthy(
    findPath(graph, "cli/main.ts", (n) => n === "cli/image-compare.ts"),
    "the real verify does load the decoder",
  );
});

test("imports mentioned in comments or strings are not imports", (t) => {
  const g = fakeGraph({ "handlers/core/a.ts": [`// import sharp from "sharp";`, `const accept = "image/*,*/*"; /* import("sharp") */`] });
  t.deepEqual(g.get("handlers/core/a.ts"), []);
});

test("origin-response reaches S3 through its own client, never the AWS SDK (a miss pays for every layer, and so does its cold start)", (t) => {
  t.is(
    findPath(graph, "handlers/origin-response.ts", (n) => n.startsWith("@aws-sdk/") || n.startsWith("@smithy/")),
    null,
  );
  t.truthy(findPath(graph, "handlers/origin-response.ts", (n) => n === "handlers/s3/client.ts"));
  t.truthy(
    findPath(graph, "handlers/purge-handler.ts", (n) => n.startsWith("@aws-sdk/")),
    "the checker does see SDK imports",
  );
});
