/**
 * The Pillow anchor (`pillow-anchor.py`: thumbor 7.8's PIL engine work for a request, without
 * thumbor) run from the bench. It needs a Python with Pillow: `BENCH_PYTHON`, else `python3` if
 * it imports PIL (the script is `bench/pillow-anchor.py`, or `BENCH_PILLOW_ANCHOR`).
 */
import { execFile, execFileSync } from "node:child_process";
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

export function runPillow(
  python: string,
  photo: string,
  workload: { format: string; width: number; height: number },
  n: number,
): Promise<PillowResult> {
  const args = [anchorScript(), photo, workload.format, String(n), `${workload.width}x${workload.height}`];
  return new Promise((done, fail) => {
    execFile(python, args, { timeout: 600_000 }, (err, stdout, stderr) => {
      if (err) fail(new Error(`pillow anchor failed: ${stderr.trim().split("\n").at(-1) ?? err.message}`));
      else done(JSON.parse(stdout.trim().split("\n").at(-1)!) as PillowResult);
    });
  });
}
