/** What every benchmark module gets and gives back to bench/run.ts. */
import type { Section } from "./report.js";
import type { Budget } from "./stats.js";

export interface BenchContext {
  /** `--quick`: fewer repetitions and cases, for a smoke run (numbers are rougher). */
  quick: boolean;
  /** Progress lines on the console. */
  log: (line: string) => void;
}

/**
 * One case's numbers as the goal table and the bill read them (bench/goals.ts, bench/bill.ts).
 * Every field is a median over the case's timed runs in this run of the bench; a field a case
 * cannot measure is left out, and the goal that needs it says SKIPPED with the reason.
 */
export interface CaseMeasurement {
  /** CPU ms (user + system, every thread) of our work: one miss, or the whole set for `variant-set/…`. */
  cpuMs: number;
  /** Wall ms of the same work (the bill's duration). */
  wallMs?: number;
  /** Of `wallMs`, ms waiting on S3 rather than computing (billed on Lambda too; not scaled by memory). */
  ioWaitMs?: number;
  /** CPU ms of the Pillow anchor (bench/pillow-anchor.py) doing thumbor's engine work for the same output(s); absent when skipped. */
  pillowCpuMs?: number;
  /** Why `pillowCpuMs` is absent. */
  pillowSkip?: string;
  /** CPU ms of sharp's floor: decode at scale + resize + encode fused in one sharp pipeline from a buffer already in memory. */
  floorCpuMs?: number;
  /** Whether the output is byte-identical to today's full decode of the same original (the DC-only decode's promise). */
  identicalToFullDecode?: boolean;
  /**
   * dB: PSNR against a float-Lanczos reference of this case's outputs minus that of today's
   * render of the same outputs, the worst output of the set (negative: further from the reference).
   */
  psnrDeltaDb?: number;
  /** The two interleaved halves of the run (bench/goals.ts halvesAgree). */
  halves?: { cpuMs: [number, number]; pillowCpuMs?: [number, number] };
}

/**
 * Case names the goal table reads (bench/goals.ts GOALS), `<bench>/<case>`:
 * - `miss/raindrops-800x500-jpeg`, `miss/raindrops-800x500-webp`, `miss/twowings-800x500-jpeg`,
 *   `miss/elephants-progressive-800x500-jpeg`, `miss/elephants-progressive-300x200-jpeg`,
 *   `miss/elephants-baseline-300x200-jpeg` (bench/miss-profile.ts: one miss of the built bundle, with
 *   its reads as production makes them: the intermediate's GET beside the original's, and the
 *   progressive 300x200 one reading the original only up to its DC scans);
 * - `variant-set/elephants-progressive`, `variant-set/elephants-progressive-cached`,
 *   `variant-set/elephants-baseline`, `variant-set/elephants-baseline-cached`: the bench's standard
 *   set (8 sizes × 2 formats of one original, bench/intermediate.ts) as production makes it, without
 *   a cached intermediate (a page's first set: the intermediate made from the original, then every
 *   variant from it) and with one (a later set: every variant from the stored intermediate); `cpuMs`
 *   and `pillowCpuMs` are the whole set's totals, `psnrDeltaDb` the intermediate's worst variant.
 */
export type Measurements = Record<string, CaseMeasurement>;

export interface BenchResult {
  section: Section;
  budgets: Budget[];
  /** The cases' numbers by name, for the goal table and the bill. */
  measurements?: Measurements;
}
