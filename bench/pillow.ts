/**
 * The Pillow anchor (`pillow-anchor.py`: thumbor 7.8's PIL engine work for a request, without
 * thumbor) run from the bench. It needs a Python with Pillow: `BENCH_PYTHON`, else `python3` if
 * it imports PIL (the script is `bench/pillow-anchor.py`, or `BENCH_PILLOW_ANCHOR`).
 */
import { execFile, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { PROJECT_ROOT } from "./child.js";

export interface PillowResult {
  cpuMs: number;
  bytes: number;
}

export function anchorScript(): string {
  return process.env.BENCH_PILLOW_ANCHOR ? resolve(process.env.BENCH_PILLOW_ANCHOR) : join(PROJECT_ROOT, "bench", "pillow-anchor.py");
}

/** A Python that imports PIL: BENCH_PYTHON if set, else `python3` on the PATH; null when neither has Pillow. */
export function findPillowPython(): string | null {
  const candidate = process.env.BENCH_PYTHON ?? "python3";
  try {
    execFileSync(candidate, ["-c", "import PIL"], { stdio: "ignore", timeout: 30_000 });
    return candidate;
  } catch {
    return null;
  }
}

/** Why the anchor cannot run with this Python (null: it can), as the bench prints it. */
export function pillowSkipNote(python: string | null): string | null {
  if (!python) return "Pillow anchor SKIPPED: no Python with Pillow (set BENCH_PYTHON to one with Pillow 12.3, thumbor 7.8's version).";
  return existsSync(anchorScript()) ? null : `Pillow anchor SKIPPED: ${anchorScript()} not found (set BENCH_PILLOW_ANCHOR).`;
}

export interface Size {
  width: number;
  height: number;
}

/** The anchor's FORMATS and SIZES arguments: every size in every format (pillow-anchor.py). */
export function pillowSetArgs(formats: readonly string[], sizes: readonly Size[]): [string, string] {
  if (formats.length === 0 || sizes.length === 0) throw new Error("pillow anchor: no formats or no sizes");
  return [formats.join(","), sizes.map((s) => `${s.width}x${s.height}`).join(",")];
}

/** One request's CPU for this size and format. */
export function runPillow(python: string, photo: string, workload: { format: string } & Size, n: number): Promise<PillowResult> {
  return runPillowSet(python, photo, [workload.format], [workload], n);
}

/** The CPU of every size in every format made once (each a request from the original), and their total bytes. */
export function runPillowSet(
  python: string,
  photo: string,
  formats: readonly string[],
  sizes: readonly Size[],
  n: number,
): Promise<PillowResult> {
  const [formatArg, sizeArg] = pillowSetArgs(formats, sizes);
  const args = [anchorScript(), photo, formatArg, String(n), sizeArg];
  return new Promise((done, fail) => {
    execFile(python, args, { timeout: 600_000 }, (err, stdout, stderr) => {
      if (err) fail(new Error(`pillow anchor failed: ${stderr.trim().split("\n").at(-1) ?? err.message}`));
      else done(JSON.parse(stdout.trim().split("\n").at(-1)!) as PillowResult);
    });
  });
}
