/**
 * Packaging of the two Lambda@Edge functions (what `npm run build` and the ImageResizer run).
 *
 * - viewer-request: one minified CJS file, no sharp and no AWS SDK, so it stays far under the
 *   1 MB package quota that viewer triggers have had (and many tools still enforce).
 * - origin-response: one CJS file with sharp left external, plus linux-x64 glibc sharp in its own
 *   `node_modules` (Lambda@Edge is x86_64 only and has no layers, so the binaries ship inside).
 * Each gets a validated `settings.json` beside `index.js` (Lambda@Edge has no environment
 * variables), holding the settings that function reads and the others at their defaults
 * (settingsFor), and a reproducible `<name>.zip`.
 */
import type { BuildOptions, BuildResult, Metafile, Plugin } from "esbuild";
import { execFileSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, resolve } from "node:path";
import { DEFAULT_SETTINGS, settingsFileText, settingsFor, validateSettings, type Settings } from "../handlers/core/settings.js";
import { PACKAGE_LIMITS, checkPackageSize } from "../handlers/cloudfront/edge-rules.js";
import { zipDirectory } from "./zip.js";

/**
 * The package root, where package.json is: the repository root when run from source
 * (`components/`), or the installed package's root when run compiled (`lib/components/`).
 */
export const PROJECT_ROOT = packageRoot(__dirname);

function packageRoot(from: string): string {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) throw new Error(`edge-resizer: no package.json above ${from}`);
  }
}

/**
 * The Node.js runtime of all three functions, and the esbuild target that follows from it.
 * nodejs22.x is deprecated on 30 Apr 2027 and blocks function updates from 1 Jul 2027; every
 * settings change here is a code update, so a stack on 22 would freeze. Lambda@Edge supports 24.
 */
export const LAMBDA_NODE_RUNTIME = "nodejs24.x";
export const BUNDLE_TARGET = `node${/^nodejs(\d+)\.x$/.exec(LAMBDA_NODE_RUNTIME)![1]}`;

/** Where `npm run build` writes by default, and where `npm pack` (prepack) ships the bundles. */
export const DEFAULT_BUNDLE_DIR = join(PROJECT_ROOT, "dist");

/**
 * The bundle folder an ImageResizer deploys when given none: from a source checkout (handlers in
 * TypeScript beside us) both bundles are built into dist/ now, so they match the source; from the
 * installed package (no handler sources, no esbuild) it is the dist/ that `npm pack` built.
 */
export async function defaultBundleDir(): Promise<string> {
  if (existsSync(join(PROJECT_ROOT, "handlers", "viewer-request.ts"))) await buildEdgeBundles({ outDir: DEFAULT_BUNDLE_DIR });
  return DEFAULT_BUNDLE_DIR;
}

export type EdgeFunctionName = "viewer-request" | "origin-response";

/** The viewer-trigger package quota (handlers/cloudfront/edge-rules.ts); the viewer-request build fails above it. */
export const VIEWER_PACKAGE_LIMIT_BYTES = PACKAGE_LIMITS.value["viewer-request"].maxZippedBytes;

/** Modules that must never end up in the viewer-request bundle (size, cold start, no native code). */
const VIEWER_FORBIDDEN = /^(sharp|@img\/|@aws-sdk\/|@smithy\/)/;

export interface EdgeBundle {
  name: EdgeFunctionName;
  /** Folder holding `index.js`, `settings.json` (and `node_modules/` for origin-response). */
  dir: string;
  /** `<outDir>/<name>.zip`, the same files zipped. */
  zipPath: string;
  /** Size of `index.js` in bytes. */
  bundleBytes: number;
  zipBytes: number;
  /** Every file of `dir` together: what Lambda unpacks. */
  unzippedBytes: number;
}

export interface EdgeBundles {
  viewerRequest: EdgeBundle;
  originResponse: EdgeBundle;
  /** The purge function (a regular regional Lambda, not an edge one). */
  purge: PurgeBundle;
}

/** The purge function's folder (`index.js` alone: it is configured by environment variables) and zip. */
export interface PurgeBundle {
  name: "purge";
  dir: string;
  zipPath: string;
  bundleBytes: number;
  zipBytes: number;
}

export interface BuildEdgeBundlesOptions {
  /** Where `viewer-request/`, `origin-response/` and their zips are written (e.g. `dist`). */
  outDir: string;
  /** Validated first; each function's share of it is baked into its `settings.json`. Default: DEFAULT_SETTINGS. */
  settings?: unknown;
  /** Repository root (handlers, package-lock.json, `.cache/`). Default: PROJECT_ROOT. */
  projectRoot?: string;
  /** Progress lines (the build script prints them). Default: silent. */
  log?: (line: string) => void;
}

/** Builds both edge bundles (and the purge function's) from `handlers/viewer-request.ts` and `handlers/origin-response.ts`. */
export async function buildEdgeBundles(options: BuildEdgeBundlesOptions): Promise<EdgeBundles> {
  const root = options.projectRoot ?? PROJECT_ROOT;
  const settings = validateSettings(options.settings ?? DEFAULT_SETTINGS, "build settings");
  const common = { outDir: resolve(options.outDir), settings, projectRoot: root, log: options.log };
  const viewerRequest = await buildEdgeFunction({
    ...common,
    name: "viewer-request",
    entry: join(root, "handlers", "viewer-request.ts"),
    withSharp: false,
  });
  const originResponse = await buildEdgeFunction({
    ...common,
    name: "origin-response",
    entry: join(root, "handlers", "origin-response.ts"),
    withSharp: true,
  });
  const purge = await buildPurgeFunction({ outDir: common.outDir, entry: join(root, "handlers", "purge-handler.ts"), log: options.log });
  return { viewerRequest, originResponse, purge };
}

/**
 * Bundles the purge function into `<outDir>/purge/` and `<outDir>/purge.zip`: one CJS file with
 * the AWS SDK clients inside (the versions the tests ran, not whatever the runtime carries).
 */
export async function buildPurgeFunction(options: { outDir: string; entry: string; log?: (line: string) => void }): Promise<PurgeBundle> {
  const { dir, zipPath } = freshOutput(options.outDir, "purge");
  const result = await bundleEntry(options.entry, dir, { plugins: [forbidSharp()] });
  for (const warning of result.warnings) options.log?.(`  esbuild warning (purge): ${warning.text}`);
  const bundleBytes = statSync(join(dir, "index.js")).size;
  return { name: "purge", dir, zipPath, bundleBytes, zipBytes: zipDirectory(dir, zipPath) };
}

/** An empty `<outDir>/<name>/` for a build, and no stale `<outDir>/<name>.zip`. */
function freshOutput(outDir: string, name: string): { dir: string; zipPath: string } {
  const dir = join(outDir, name);
  const zipPath = join(outDir, `${name}.zip`);
  rmSync(dir, { recursive: true, force: true });
  rmSync(zipPath, { force: true });
  mkdirSync(dir, { recursive: true });
  return { dir, zipPath };
}

/** One function's code as one minified CommonJS file, `<dir>/index.js`, for Lambda's Node runtime. */
async function bundleEntry(entry: string, dir: string, extra: BuildOptions): Promise<BuildResult> {
  // Loaded here, not at the top: the installed package ships prebuilt bundles and no esbuild.
  const { build } = await import("esbuild");
  return build({
    entryPoints: [entry],
    outfile: join(dir, "index.js"),
    bundle: true,
    platform: "node",
    target: BUNDLE_TARGET,
    format: "cjs",
    minify: true,
    logLevel: "silent",
    legalComments: "none",
    ...extra,
  });
}

/** esbuild plugin: the purge never renders, so sharp in its bundle would be a mistake. */
function forbidSharp(): Plugin {
  return {
    name: "forbid-sharp",
    setup(b) {
      b.onResolve({ filter: /^(sharp|@img\/)/ }, (args) => ({
        errors: [{ text: `purge must not import "${args.path}" (imported from ${args.importer})` }],
      }));
    },
  };
}

export interface BuildEdgeFunctionOptions {
  name: EdgeFunctionName;
  /** TypeScript entry that exports `handler`. */
  entry: string;
  outDir: string;
  settings: Settings;
  /** true: sharp stays external and linux-x64 sharp is installed beside the bundle. false: sharp is forbidden. */
  withSharp: boolean;
  projectRoot?: string;
  log?: (line: string) => void;
}

/** Bundles one function into `<outDir>/<name>/` and zips it into `<outDir>/<name>.zip`. */
export async function buildEdgeFunction(options: BuildEdgeFunctionOptions): Promise<EdgeBundle> {
  const { name, entry, outDir, withSharp } = options;
  const root = options.projectRoot ?? PROJECT_ROOT;
  const log = options.log ?? (() => {});
  if (!existsSync(entry)) throw new Error(`build: entry point ${entry} does not exist (the ${name} handler must export \`handler\`)`);
  const settings = validateSettings(options.settings, `settings for ${name}`);

  const { dir, zipPath } = freshOutput(outDir, name);
  const result = await bundleEntry(entry, dir, {
    metafile: true,
    external: withSharp ? ["sharp"] : [],
    plugins: withSharp ? [] : [forbidModules(name)],
  });
  for (const warning of result.warnings) log(`  esbuild warning (${name}): ${warning.text}`);
  if (!withSharp) assertNoForbiddenInputs(name, result.metafile!);

  writeFileSync(join(dir, "settings.json"), settingsFileText(settingsFor(name, settings)));
  if (withSharp) {
    const sharpModules = ensureLambdaSharp(root, log);
    cpSync(sharpModules, join(dir, "node_modules"), { recursive: true });
  }

  const bundleBytes = statSync(join(dir, "index.js")).size;
  const zipBytes = zipDirectory(dir, zipPath);
  const unzippedBytes = directoryBytes(dir);
  const tooLarge = checkPackageSize(name, zipBytes, unzippedBytes);
  if (tooLarge.length > 0) throw new Error(`build: ${name}.zip is too large for Lambda@Edge: ${tooLarge.join("; ")}`);
  return { name, dir, zipPath, bundleBytes, zipBytes, unzippedBytes };
}

/** The bytes of every file under `dir`. */
export function directoryBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? directoryBytes(path) : statSync(path).size;
  }
  return total;
}

/** esbuild plugin: importing sharp or the AWS SDK from the viewer-request code is a build error naming the importer. */
function forbidModules(name: string): Plugin {
  return {
    name: "forbid-heavy-modules",
    setup(b) {
      b.onResolve({ filter: VIEWER_FORBIDDEN }, (args) => ({
        errors: [
          {
            text: `${name} must not import "${args.path}" (imported from ${args.importer}): it would bloat the viewer bundle past its 1 MB quota`,
          },
        ],
      }));
    },
  };
}

/** Second line of defence: nothing from sharp, @img or the AWS SDK may appear among the bundle's inputs. */
function assertNoForbiddenInputs(name: string, metafile: Metafile): void {
  const bad = Object.keys(metafile.inputs).filter((p) => /node_modules\/(sharp|@img|@aws-sdk|@smithy)\//.test(p));
  if (bad.length > 0) throw new Error(`build: ${name} bundle pulled in ${bad.slice(0, 3).join(", ")}${bad.length > 3 ? ", …" : ""}`);
}

/** The exact sharp version of our package-lock.json, so the Lambda gets what the tests ran. */
export function lockedSharpVersion(projectRoot: string = PROJECT_ROOT): string {
  const lockPath = join(projectRoot, "package-lock.json");
  const lock = JSON.parse(readFileSync(lockPath, "utf8")) as { packages?: Record<string, { version?: string }> };
  const version = lock.packages?.["node_modules/sharp"]?.version;
  if (!version) throw new Error(`build: ${lockPath} has no node_modules/sharp entry`);
  return version;
}

/**
 * Returns a `node_modules` folder holding sharp and its linux-x64 glibc binaries, installed once
 * per sharp version under `.cache/` (a fresh install takes seconds and needs the registry; the
 * cache makes repeated builds fast and offline). Installed in a scratch project with its own
 * package.json so our lockfile and node_modules are never touched.
 */
export function ensureLambdaSharp(projectRoot: string = PROJECT_ROOT, log: (line: string) => void = () => {}): string {
  const version = lockedSharpVersion(projectRoot);
  const cacheRoot = join(projectRoot, ".cache", "lambda-sharp");
  const cached = join(cacheRoot, `sharp-${version}-linux-x64-glibc`, "node_modules");
  if (isCompleteSharpInstall(cached, version)) return cached;

  mkdirSync(cacheRoot, { recursive: true });
  const scratch = mkdtempSync(join(cacheRoot, "install-"));
  try {
    writeFileSync(join(scratch, "package.json"), `${JSON.stringify({ name: "edge-resizer-lambda-sharp", private: true })}\n`);
    log(`  installing sharp@${version} for linux-x64 glibc into ${cacheRoot} (once per version)`);
    try {
      execFileSync(
        process.platform === "win32" ? "npm.cmd" : "npm",
        [
          "install",
          "--os=linux",
          "--cpu=x64",
          "--libc=glibc",
          "--omit=dev",
          "--no-save",
          "--package-lock=false",
          "--ignore-scripts",
          "--no-audit",
          "--no-fund",
          `sharp@${version}`,
        ],
        { cwd: scratch, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" },
      );
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`build: npm install of linux-x64 sharp@${version} failed: ${(e.stderr || e.message).trim()}`);
    }
    const installed = join(scratch, "node_modules");
    // .bin holds symlinks (Lambda packages cannot carry links) and the hidden lockfile is npm's own.
    rmSync(join(installed, ".bin"), { recursive: true, force: true });
    rmSync(join(installed, ".package-lock.json"), { force: true });
    if (!isCompleteSharpInstall(installed, version)) {
      throw new Error(`build: npm installed sharp@${version} without node_modules/@img/sharp-linux-x64 and sharp-libvips-linux-x64`);
    }
    mkdirSync(join(cached, ".."), { recursive: true });
    try {
      renameSync(installed, cached);
    } catch (err) {
      // Another build (e.g. a parallel test process) finished first: its copy is just as good.
      if (!isCompleteSharpInstall(cached, version)) throw err;
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return cached;
}

function isCompleteSharpInstall(modules: string, version: string): boolean {
  try {
    const sharpPkg = JSON.parse(readFileSync(join(modules, "sharp", "package.json"), "utf8")) as { version?: string };
    return (
      sharpPkg.version === version &&
      existsSync(join(modules, "@img", "sharp-linux-x64", "package.json")) &&
      existsSync(join(modules, "@img", "sharp-libvips-linux-x64", "package.json")) &&
      !hasSymlink(modules)
    );
  } catch {
    return false;
  }
}

function hasSymlink(dir: string): boolean {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) return true;
    if (stat.isDirectory() && hasSymlink(path)) return true;
  }
  return false;
}
