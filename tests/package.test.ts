/**
 * The npm package as another Pulumi program gets it: `npm pack` (its prepack steps, building both
 * edge bundles and compiling lib/, run one test each first), the tarball unpacked into a temporary project's node_modules exactly
 * as npm unpacks it, and a plain-JavaScript program run with plain `node` (no tsx, no TypeScript
 * loader) that instantiates ImageResizer under Pulumi mocks and reports what it registered.
 *
 * Speed: instead of resolving the package's dependencies from the registry, the temporary project
 * links each of its declared `dependencies` to our own node_modules (offline, under a second).
 * Only declared dependencies are linked, so a compiled module needing a devDependency fails here.
 */
import test from "ava";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { PROJECT_ROOT } from "../components/bundle.js";

const NPM = process.platform === "win32" ? "npm.cmd" : "npm";
const work = mkdtempSync(join(tmpdir(), "edge-resizer-package-"));
const consumer = join(work, "consumer");
const installed = join(consumer, "node_modules", "edge-resizer");

interface PackedFile {
  path: string;
}
interface Manifest {
  exports: Record<string, unknown>;
  main: string;
  types: string;
  dependencies: Record<string, string>;
  scripts: Record<string, string>;
}
let tarball = "";
let packedFiles: string[] = [];

function run(command: string, args: string[], cwd: string): string {
  return execFileSync(command, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024 });
}

const ourManifest = JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8")) as Manifest;
/** prepack's steps, each `npm run <script>`; run one test at a time so no single step outlasts ava's timeout. */
const PREPACK_STEPS = ourManifest.scripts.prepack!.split(" && ").map((step) => /^npm run ([\w:-]+)$/.exec(step)?.[1] ?? step);

test.serial("prepack is a chain of npm scripts (build the bundles, compile lib/)", (t) => {
  t.deepEqual(PREPACK_STEPS, ["build", "build:package"]);
});

for (const script of PREPACK_STEPS) {
  test.serial(`prepack step: npm run ${script}`, (t) => {
    run(NPM, ["run", script], PROJECT_ROOT);
    t.pass();
  });
}

test.serial("npm pack (prepack done above) and unpack into a project as npm install does", (t) => {
  const out = run(NPM, ["pack", "--ignore-scripts", "--json", "--pack-destination", work], PROJECT_ROOT);
  const report = JSON.parse(out) as { filename: string; files: PackedFile[] }[];
  tarball = join(work, report[0]!.filename);
  packedFiles = report[0]!.files.map((f) => f.path);
  mkdirSync(installed, { recursive: true });
  run("tar", ["-xzf", tarball, "--strip-components=1", "-C", installed], work);
  writeFileSync(
    join(consumer, "package.json"),
    JSON.stringify({ name: "consumer", private: true, dependencies: { "edge-resizer": "0.1.0" } }),
  );
  for (const dep of Object.keys(manifest().dependencies)) {
    const link = join(consumer, "node_modules", dep);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(join(PROJECT_ROOT, "node_modules", dep), link, "dir");
  }
  t.true(existsSync(join(installed, "package.json")));
});

test.after.always(() => rmSync(work, { recursive: true, force: true }));

function manifest(): Manifest {
  return JSON.parse(readFileSync(join(installed, "package.json"), "utf8")) as Manifest;
}

/** Every file an `exports` entry (or main/types) points at, null entries (reserved subpaths) left out. */
function exportTargets(m: Manifest): string[] {
  const targets: string[] = [m.main, m.types];
  const walk = (v: unknown): void => {
    if (typeof v === "string") targets.push(v);
    else if (v !== null && typeof v === "object") Object.values(v).forEach(walk);
  };
  walk(m.exports);
  return targets;
}

test.serial("the tarball holds compiled JavaScript with types and both bundles, and no TypeScript source", (t) => {
  const m = manifest();
  for (const target of exportTargets(m)) {
    t.regex(target, /\.(js|d\.ts|json)$/, `${target}: a consumer's node cannot load TypeScript`);
    t.true(existsSync(join(installed, target)), `${target} is in the package`);
  }
  t.deepEqual(
    packedFiles.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts")),
    [],
  );
  for (const file of [
    "dist/viewer-request/index.js",
    "dist/origin-response/index.js",
    "dist/origin-response/node_modules/sharp/package.json",
  ]) {
    t.true(packedFiles.includes(file), file);
  }
  // npm keeps a nested node_modules inside dist/ when it is listed in `files`: the Lambda's sharp binaries.
  t.true(packedFiles.some((f) => /^dist\/origin-response\/node_modules\/@img\/sharp-linux-x64\/lib\/.*\.node$/.test(f)));
  t.true(packedFiles.some((f) => /^dist\/origin-response\/node_modules\/@img\/sharp-libvips-linux-x64\/lib\/libvips-cpp\.so/.test(f)));
  t.false(packedFiles.some((f) => f.endsWith(".zip") || f.startsWith("tests/") || f.startsWith("handlers/")));
});

/** A Pulumi program in plain JavaScript, as a team would write it, reporting what it registered. */
const CONSUMER_PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const { ImageResizer, installPulumiMocks, valueOf, archiveMembers } = require("edge-resizer");

async function main() {
  const mocks = await installPulumiMocks("consumer", "test");
  const resizer = new ImageResizer("site", { settings: { sizes: ["320x0"], thumbor: { allowUnsafe: false, securityKey: "k" } } });
  const domain = await valueOf(resizer.distributionDomainName);
  const functions = () => mocks.ofType("aws:lambda/function:Function");
  for (let i = 0; i < 3000 && (functions().length < 2 || mocks.ofType("aws:iam/rolePolicy:RolePolicy").length < 1); i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  const code = {};
  for (const fn of functions()) {
    // A secret input arrives wrapped; the archive is its value.
    const input = fn.inputs.code;
    code[fn.name] = await archiveMembers(input instanceof pulumi.asset.AssetArchive ? input : input.value);
  }
  const resources = mocks.resources.map((r) => r.type + " " + r.name);
  process.stdout.write(JSON.stringify({ domain, resources, code }));
}
main().catch((err) => { process.stderr.write(String(err && err.stack || err)); process.exit(1); });
`;

interface ConsumerReport {
  domain: string;
  resources: string[];
  code: Record<string, Record<string, { kind: string; path?: string; text?: string }>>;
}

test.serial("a plain-JavaScript Pulumi program instantiates ImageResizer from the installed package with plain node", (t) => {
  writeFileSync(join(consumer, "index.js"), CONSUMER_PROGRAM);
  const env = { ...process.env, NODE_OPTIONS: "" };
  const out = execFileSync(process.execPath, ["index.js"], { cwd: consumer, encoding: "utf8", env, stdio: ["ignore", "pipe", "pipe"] });
  const report = JSON.parse(out) as ConsumerReport;

  t.is(report.domain, "d111111abcdef8.cloudfront.net");
  for (const expected of [
    "edge-resizer:index:ImageResizer site",
    "aws:s3/bucket:Bucket site-images",
    "aws:cloudfront/originAccessIdentity:OriginAccessIdentity site-oai",
    "aws:iam/role:Role site-viewer-request-role",
    "aws:iam/role:Role site-origin-response-role",
    "aws:iam/rolePolicy:RolePolicy site-viewer-request-access",
    "aws:iam/rolePolicy:RolePolicy site-origin-response-access",
    "aws:lambda/function:Function site-viewer-request",
    "aws:lambda/function:Function site-origin-response",
    "aws:cloudfront/distribution:Distribution site-cdn",
  ])
    t.true(report.resources.includes(expected), expected);

  // The code comes from the bundles packed inside the installed package, with the program's settings.
  const viewer = report.code["site-viewer-request"]!;
  const origin = report.code["site-origin-response"]!;
  t.is(viewer["index.js"]?.path, join(installed, "dist", "viewer-request", "index.js"));
  t.is(origin["index.js"]?.path, join(installed, "dist", "origin-response", "index.js"));
  t.is(origin["node_modules"]?.path, join(installed, "dist", "origin-response", "node_modules"));
  // Each function gets the settings it reads: the size list and the signing rules are viewer-request's.
  const baked = (members: typeof viewer) =>
    JSON.parse(members["settings.json"]!.text!) as { sizes: string[]; thumbor: { allowUnsafe: boolean; securityKey: string } };
  t.deepEqual(baked(viewer).sizes, ["320x0"]);
  t.false(baked(viewer).thumbor.allowUnsafe);
  t.is(baked(viewer).thumbor.securityKey, "k");
  t.deepEqual(baked(origin).sizes, []);
  t.is(baked(origin).thumbor.securityKey, "");
});

/** tsconfig module + moduleResolution pairs a consumer may use; "node" is Pulumi's TypeScript template's. */
const RESOLUTIONS: Array<[module: string, moduleResolution: string]> = [
  ["commonjs", "node"],
  ["node16", "node16"],
  ["esnext", "bundler"],
];

test.serial("a TypeScript consumer type-checks both entry points under moduleResolution node, node16 and bundler", (t) => {
  writeFileSync(
    join(consumer, "typed.ts"),
    [
      `import { ImageResizer } from "edge-resizer";`,
      `import { createUrlBuilder } from "edge-resizer/url";`,
      `export const both: [typeof ImageResizer, typeof createUrlBuilder] = [ImageResizer, createUrlBuilder];`,
    ].join("\n"),
  );
  for (const dep of ["@types"]) {
    const link = join(consumer, "node_modules", dep);
    if (!existsSync(link)) symlinkSync(join(PROJECT_ROOT, "node_modules", dep), link, "dir");
  }
  const tsc = join(PROJECT_ROOT, "node_modules", "typescript", "bin", "tsc");
  for (const [module, moduleResolution] of RESOLUTIONS) {
    const compilerOptions = {
      strict: true,
      module,
      moduleResolution,
      target: "es2022",
      noEmit: true,
      skipLibCheck: true,
      types: ["node"],
      // TypeScript 6 deprecates "node" (node10) resolution; Pulumi's template still uses it.
      ignoreDeprecations: "6.0",
    };
    writeFileSync(join(consumer, "tsconfig.json"), JSON.stringify({ compilerOptions, files: ["typed.ts"] }));
    try {
      run(process.execPath, [tsc, "-p", "."], consumer);
      t.pass(moduleResolution);
    } catch (err) {
      t.fail(`moduleResolution ${moduleResolution}: ${(err as { stdout?: string }).stdout ?? String(err)}`);
    }
  }
});

test.serial("the package's command line runs compiled JavaScript", (t) => {
  const out = execFileSync(process.execPath, [join(installed, "bin", "edge-resizer.cjs"), "--help"], {
    cwd: consumer,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  t.regex(out, /audit/);
  t.regex(out, /migrate-config/);
});

test.serial("edge-resizer/url loads with plain node and signs exactly as libthumbor does", (t) => {
  const fixture = JSON.parse(readFileSync(join(PROJECT_ROOT, "tests", "fixtures", "libthumbor-vectors.json"), "utf8")) as {
    vectors: { title: string; key: string; options: { width?: number; smart?: boolean; image_url: string }; signed: string }[];
  };
  const vector = fixture.vectors.find((v) => v.title === "width only, smart" && v.key === "libthumbor-test-key")!;
  const program = `
const { createUrlBuilder } = require("edge-resizer/url");
const o = ${JSON.stringify(vector.options)};
const builder = createUrlBuilder({ key: ${JSON.stringify(vector.key)} });
process.stdout.write(builder.thumborPath({ image: o.image_url, width: o.width, smart: o.smart }));
`;
  writeFileSync(join(consumer, "sign.js"), program);
  const out = execFileSync(process.execPath, ["sign.js"], {
    cwd: consumer,
    encoding: "utf8",
    env: { ...process.env, NODE_OPTIONS: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  t.is(out, vector.signed);
});
