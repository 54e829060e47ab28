/**
 * Child processes of the suite: benchmark entry points bundled with esbuild (as the Lambda
 * bundles are, sharp left external) and run with plain `node`, so neither tsx nor the parent's
 * heap is in the timings or in the child's peak RSS.
 */
import { build } from "esbuild";
import { execFile } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";

export const PROJECT_ROOT = resolve(__dirname, "..");
/** Scratch space of the suite (gitignored). */
export const BENCH_CACHE = join(PROJECT_ROOT, ".cache", "bench");

/** Bundles `entry` (a bench/*.ts file with a `require.main === module` block) into `.cache/bench/<name>.js`. */
export async function bundleChild(entry: string, name: string): Promise<string> {
  mkdirSync(BENCH_CACHE, { recursive: true });
  const outfile = join(BENCH_CACHE, `${name}.js`);
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    logLevel: "silent",
    external: ["sharp"],
  });
  return outfile;
}

export interface ChildResult {
  stdout: string;
  stderr: string;
  code: number | null;
}

/** Runs `node <script> ...args` and collects its output; never rejects on a non-zero exit. */
export function runNode(
  script: string,
  args: string[],
  options: { timeoutMs?: number; cwd?: string; env?: NodeJS.ProcessEnv; nodeArgs?: string[] } = {},
): Promise<ChildResult> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [...(options.nodeArgs ?? []), script, ...args],
      {
        cwd: options.cwd ?? PROJECT_ROOT,
        env: options.env ?? process.env,
        timeout: options.timeoutMs ?? 300_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        done({ stdout, stderr, code: typeof code === "number" ? code : 1 });
      },
    );
  });
}

/** The last non-empty stdout line of a child, parsed as JSON; throws with the child's stderr otherwise. */
export function childJson<T>(result: ChildResult, what: string): T {
  const line = result.stdout.trim().split("\n").at(-1);
  if (result.code !== 0 || !line) {
    throw new Error(`${what} failed (exit ${result.code}): ${result.stderr.trim().split("\n").slice(0, 6).join(" / ") || "no output"}`);
  }
  return JSON.parse(line) as T;
}
