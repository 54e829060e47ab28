/**
 * The goal table at the top of BENCHMARKS.md: one row per goal and workload, read from the
 * cases' measurements by name (bench/types.ts), with a verdict. Pure, so tests/bench/goals.test.ts
 * checks the verdicts without running a benchmark. A case a run did not make is SKIPPED with the
 * reason, never guessed.
 */
import type { Section, Table } from "./report.js";
import { formatNumber, formatRatio } from "./stats.js";
import type { CaseMeasurement, Measurements } from "./types.js";

/**
 * The thumbor 7.8 server's CPU per request, measured once on this bench's machine (2 vCPU Xeon,
 * quiet) before this table existed; there is no thumbor server here, so they are constants. The
 * same session measured sharp's floor and the Pillow anchor, given so a reader can see how far
 * today's machine is from that one.
 */
export const THUMBOR_SERVER = {
  conditions:
    "thumbor 7.8 server, CPU ms per request, measured on this machine (2 vCPU Xeon, quiet) before 7 Dec 2026 (exact date not recorded)",
  cases: {
    "miss/raindrops-800x500-jpeg": { thumborCpuMs: 50.7, floorCpuMs: 29.7, pillowCpuMs: 28.7 },
    "miss/raindrops-800x500-webp": { thumborCpuMs: 81.2, floorCpuMs: 39.9, pillowCpuMs: 55.8 },
    "miss/twowings-800x500-jpeg": { thumborCpuMs: 59.4, floorCpuMs: 23.4, pillowCpuMs: 29.2 },
    "miss/elephants-progressive-300x200-jpeg": { thumborCpuMs: 1377, floorCpuMs: 602, pillowCpuMs: 744 },
  } as Record<string, { thumborCpuMs: number; floorCpuMs: number; pillowCpuMs: number }>,
};

/** What a goal compares our CPU with. */
export type GoalKind =
  /** our CPU / Pillow's, at most `limit` */
  | "pillow-ratio"
  /** our CPU / the thumbor server's constant, at most `limit` */
  | "thumbor-ratio"
  /** our CPU − sharp's floor, at most `limit` ms */
  | "floor-overhead";

export interface Goal {
  /** The goal as the brief states it. */
  goal: string;
  /** The case it reads (bench/types.ts Measurements). */
  caseName: string;
  /** The workload as a reader names it. */
  workload: string;
  kind: GoalKind;
  limit: number;
  /** The output must be byte-identical to today's full decode. */
  identical?: boolean;
  /** The outputs must stay within this many dB of today's against a float-Lanczos reference. */
  maxPsnrLossDb?: number;
}

const BASELINE = "first miss of a baseline JPEG ≤ Pillow's CPU";
const WEBP = "first miss to WebP ≤ 0.6x Pillow";
const PROGRESSIVE = "progressive original downscaled ≥ 8x ≤ 0.3x Pillow, byte-identical to the full decode";
const VARIANT_SET = "variant set (8 sizes × 2 formats) of a progressive or ≥ 12 MP original ≤ 0.5x Pillow's total, within 1 dB";
const THUMBOR = "≤ 0.5x the thumbor 7.8 server's CPU";
const OVERHEAD = "≤ 3 ms above sharp's floor per miss (1-4 MB originals)";

const RAINDROPS_JPEG = { caseName: "miss/raindrops-800x500-jpeg", workload: "RainDrops 1920x1200 → 800x500 JPEG" };
const RAINDROPS_WEBP = { caseName: "miss/raindrops-800x500-webp", workload: "RainDrops 1920x1200 → 800x500 WebP" };
const TWOWINGS_JPEG = { caseName: "miss/twowings-800x500-jpeg", workload: "TwoWings 2560x1600 → 800x500 JPEG" };
const ELEPHANTS_300 = {
  caseName: "miss/elephants-progressive-300x200-jpeg",
  workload: "Elephants 18 MP progressive → 300x200 JPEG (the miss reads the original up to its DC scans)",
};
const ELEPHANTS_BASELINE_300 = { caseName: "miss/elephants-baseline-300x200-jpeg", workload: "Elephants 18 MP baseline → 300x200 JPEG" };
const set = (file: string, label: string, cached: boolean) => ({
  caseName: `variant-set/elephants-${file}${cached ? "-cached" : ""}`,
  workload: `variant set of Elephants 18 MP ${label}, ${cached ? "with" : "without"} a cached intermediate`,
});

/** Every goal row, in the table's order. */
export const GOALS: Goal[] = [
  { goal: BASELINE, ...RAINDROPS_JPEG, kind: "pillow-ratio", limit: 1 },
  { goal: BASELINE, ...TWOWINGS_JPEG, kind: "pillow-ratio", limit: 1 },
  { goal: BASELINE, ...ELEPHANTS_BASELINE_300, kind: "pillow-ratio", limit: 1 },
  { goal: WEBP, ...RAINDROPS_WEBP, kind: "pillow-ratio", limit: 0.6 },
  { goal: PROGRESSIVE, ...ELEPHANTS_300, kind: "pillow-ratio", limit: 0.3, identical: true },
  ...[
    set("progressive", "progressive", false),
    set("progressive", "progressive", true),
    set("baseline", "baseline", false),
    set("baseline", "baseline", true),
  ].map((c): Goal => ({ goal: VARIANT_SET, ...c, kind: "pillow-ratio", limit: 0.5, maxPsnrLossDb: 1 })),
  { goal: THUMBOR, ...RAINDROPS_JPEG, kind: "thumbor-ratio", limit: 0.5 },
  { goal: THUMBOR, ...RAINDROPS_WEBP, kind: "thumbor-ratio", limit: 0.5 },
  { goal: THUMBOR, ...TWOWINGS_JPEG, kind: "thumbor-ratio", limit: 0.5 },
  { goal: THUMBOR, ...ELEPHANTS_300, kind: "thumbor-ratio", limit: 0.5 },
  { goal: OVERHEAD, ...RAINDROPS_JPEG, kind: "floor-overhead", limit: 3 },
  { goal: OVERHEAD, ...RAINDROPS_WEBP, kind: "floor-overhead", limit: 3 },
  { goal: OVERHEAD, ...TWOWINGS_JPEG, kind: "floor-overhead", limit: 3 },
];

export type GoalVerdict = "MET" | "NOT MET" | "SKIPPED";

export interface GoalResult {
  goal: Goal;
  verdict: GoalVerdict;
  /** The compared value: a ratio (`x`) or ms above the floor. */
  value: number | null;
  /** Why SKIPPED or NOT MET beyond the value (a missing case, a changed output). */
  reason?: string;
  measurement?: CaseMeasurement;
  thumborCpuMs?: number;
}

function thumborConstant(goal: Goal): number | undefined {
  return THUMBOR_SERVER.cases[goal.caseName]?.thumborCpuMs;
}

/** The goal's compared value, or why it cannot be computed. */
function compared(goal: Goal, m: CaseMeasurement): { value: number } | { skip: string } {
  switch (goal.kind) {
    case "pillow-ratio":
      if (!(m.pillowCpuMs! > 0)) return { skip: m.pillowSkip ?? "no Pillow figure in this run" };
      return { value: m.cpuMs / m.pillowCpuMs! };
    case "thumbor-ratio": {
      const thumbor = thumborConstant(goal);
      return thumbor ? { value: m.cpuMs / thumbor } : { skip: "no thumbor server constant for this workload" };
    }
    case "floor-overhead":
      return m.floorCpuMs === undefined ? { skip: "sharp's floor not measured in this case" } : { value: m.cpuMs - m.floorCpuMs };
  }
}

/** A goal's verdict from this run's measurements. */
export function evaluateGoal(goal: Goal, measurements: Measurements): GoalResult {
  const thumborCpuMs = thumborConstant(goal);
  const m = measurements[goal.caseName];
  if (!m) return { goal, verdict: "SKIPPED", value: null, reason: `case ${goal.caseName} not in this run`, thumborCpuMs };
  const base = { goal, measurement: m, thumborCpuMs };
  const c = compared(goal, m);
  if ("skip" in c) return { ...base, verdict: "SKIPPED", value: null, reason: c.skip };
  const failures: string[] = [];
  if (!(c.value <= goal.limit)) failures.push(`${formatValue(goal, c.value)} > ${formatValue(goal, goal.limit)}`);
  if (goal.identical) {
    if (m.identicalToFullDecode === undefined)
      return { ...base, verdict: "SKIPPED", value: c.value, reason: "output not compared with the full decode" };
    if (!m.identicalToFullDecode) failures.push("output differs from the full decode");
  }
  if (goal.maxPsnrLossDb !== undefined) {
    if (m.psnrDeltaDb === undefined)
      return { ...base, verdict: "SKIPPED", value: c.value, reason: "PSNR against the float-Lanczos reference not measured" };
    if (m.psnrDeltaDb < -goal.maxPsnrLossDb) failures.push(`${(-m.psnrDeltaDb).toFixed(2)} dB below today's`);
  }
  return failures.length === 0
    ? { ...base, verdict: "MET", value: c.value }
    : { ...base, verdict: "NOT MET", value: c.value, reason: failures.join("; ") };
}

export function evaluateGoals(measurements: Measurements, goals: readonly Goal[] = GOALS): GoalResult[] {
  return goals.map((g) => evaluateGoal(g, measurements));
}

function formatValue(goal: Goal, value: number): string {
  return goal.kind === "floor-overhead" ? `${formatNumber(value)} ms` : formatRatio(value);
}

function limitText(goal: Goal): string {
  const extra = [goal.identical ? "byte-identical" : "", goal.maxPsnrLossDb !== undefined ? `within ${goal.maxPsnrLossDb} dB` : ""].filter(
    Boolean,
  );
  return [
    `≤ ${formatValue(goal, goal.limit)}${goal.kind === "floor-overhead" ? " above the floor" : goal.kind === "thumbor-ratio" ? " thumbor" : " Pillow"}`,
    ...extra,
  ].join(", ");
}

const ms = (v: number | undefined) => (v === undefined ? "–" : formatNumber(v));

export function goalTable(results: readonly GoalResult[]): Table {
  return {
    columns: [
      "goal",
      "workload",
      "our CPU ms",
      "Pillow CPU ms",
      "sharp's floor CPU ms",
      "thumbor server CPU ms (constant)",
      "measured",
      "limit",
      "verdict",
    ],
    rows: results.map((r) => [
      r.goal.goal,
      r.goal.workload,
      ms(r.measurement?.cpuMs),
      ms(r.measurement?.pillowCpuMs),
      ms(r.measurement?.floorCpuMs),
      ms(r.thumborCpuMs),
      r.value === null ? "–" : formatValue(r.goal, r.value),
      limitText(r.goal),
      r.reason ? `${r.verdict} (${r.reason})` : r.verdict,
    ]),
  };
}

/** The noise band two halves of one run must agree within: 5 % of their mean. */
export const NOISE_BAND = 0.05;

/** Whether two medians of the same work agree within `band` (a fraction of their mean). */
export function halvesAgree(a: number, b: number, band: number = NOISE_BAND): boolean {
  const mean = (a + b) / 2;
  return mean > 0 && Math.abs(a - b) <= band * mean;
}

/** The "twice within noise" table: each case's two interleaved halves, our CPU and the ratio to Pillow. */
export function halvesTable(measurements: Measurements, band: number = NOISE_BAND): Table | null {
  const rows = Object.entries(measurements)
    .filter(([, m]) => m.halves)
    .map(([name, m]) => {
      const [a, b] = m.halves!.cpuMs;
      const pillow = m.halves!.pillowCpuMs;
      const ratios = pillow ? ([a / pillow[0], b / pillow[1]] as const) : null;
      const cpuOk = halvesAgree(a, b, band);
      const ratioOk = ratios ? halvesAgree(ratios[0], ratios[1], band) : true;
      return [
        name,
        `${formatNumber(a)} / ${formatNumber(b)}`,
        `${((Math.abs(a - b) / ((a + b) / 2)) * 100).toFixed(1)} %`,
        pillow ? `${formatNumber(pillow[0])} / ${formatNumber(pillow[1])}` : "–",
        ratios ? `${formatRatio(ratios[0])} / ${formatRatio(ratios[1])}` : "–",
        cpuOk && ratioOk ? "agree" : "DISAGREE",
      ];
    });
  if (rows.length === 0) return null;
  return {
    columns: [
      "case",
      "our CPU ms, half A / half B",
      "difference",
      "Pillow CPU ms, A / B",
      "ratio to Pillow, A / B",
      `within ${band * 100} %`,
    ],
    rows,
  };
}

/** The goal section of BENCHMARKS.md. */
export function goalSection(measurements: Measurements): Section {
  const results = evaluateGoals(measurements);
  const count = (v: GoalVerdict) => results.filter((r) => r.verdict === v).length;
  const halves = halvesTable(measurements);
  return {
    title: `Goals (${count("MET")} MET, ${count("NOT MET")} NOT MET, ${count("SKIPPED")} SKIPPED)`,
    text: [
      "One row per goal and workload, every figure but the thumbor server's from this run (CPU ms: user + system, every thread, " +
        "medians). **our CPU**: the case's whole miss of the built bundle (or the whole variant set); **Pillow**: bench/pillow-anchor.py " +
        "doing thumbor's engine work for the same output in the same run; **sharp's floor**: decode at scale + resize + encode fused in " +
        "one sharp pipeline from the original already in memory, run after each miss in the miss's process. " +
        `**thumbor server**: constants, not measured here: ${THUMBOR_SERVER.conditions}. That session's sharp floor and Pillow, for ` +
        `comparison with this run's: ${Object.entries(THUMBOR_SERVER.cases)
          .map(([k, v]) => `${k.replace(/^miss\//, "")} floor ${v.floorCpuMs}, Pillow ${v.pillowCpuMs}`)
          .join("; ")}.`,
      ...(halves
        ? [
            `**Twice within noise**: each miss case ran in two halves, A (every case in turn) then B (every case again), each its own ` +
              `process and its own Pillow run; the halves agree when their medians (and their ratios to Pillow) differ by at most ` +
              `${NOISE_BAND * 100} % of their mean.`,
          ]
        : []),
    ],
    tables: [goalTable(results), ...(halves ? [halves] : [])],
  };
}
