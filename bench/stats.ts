/**
 * The benchmark suite's arithmetic: summaries of repeated measurements and the budget verdicts.
 * Pure (no timers, no I/O), so tests/bench/harness.test.ts can check it exactly.
 */

export interface Summary {
  /** Number of samples. */
  n: number;
  median: number;
  p95: number;
  min: number;
  max: number;
}

function sorted(samples: readonly number[]): number[] {
  if (samples.length === 0) throw new Error("no samples to summarise");
  for (const s of samples) if (!Number.isFinite(s)) throw new Error(`not a finite sample: ${s}`);
  return [...samples].sort((a, b) => a - b);
}

/** The middle sample (the mean of the two middle ones for an even count). */
export function median(samples: readonly number[]): number {
  const s = sorted(samples);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Nearest-rank percentile: the smallest sample such that at least `p` % of the samples are at
 * or below it. Always one of the samples (no interpolation), so with few samples the p95 is
 * simply the largest: an honest "95 % of the runs were this fast or faster".
 */
export function percentile(samples: readonly number[], p: number): number {
  if (!(p > 0 && p <= 100)) throw new Error(`percentile must be in (0, 100], got ${p}`);
  const s = sorted(samples);
  return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)]!;
}

export function summarize(samples: readonly number[]): Summary {
  const s = sorted(samples);
  return { n: s.length, median: median(s), p95: percentile(s, 95), min: s[0]!, max: s[s.length - 1]! };
}

/** `value / baseline`; null when there is no usable baseline. */
export function ratio(value: number, baseline: number): number | null {
  return baseline > 0 && Number.isFinite(value) && Number.isFinite(baseline) ? value / baseline : null;
}

/** How a measured value must compare with its limit to pass. */
export type Comparison = "<" | "<=" | ">=" | ">";

export interface Budget {
  /** Short stable name, e.g. `viewer-request throughput`. */
  name: string;
  /** What was measured, e.g. `normalisations/s per core (median of rounds)`. */
  measure: string;
  comparison: Comparison;
  limit: number;
  unit: string;
  /** The measured value; null when the measurement could not be made (the budget is then skipped). */
  value: number | null;
  /** Why `value` is null (missing fixtures, a failed case). */
  skipReason?: string;
}

export type Verdict = "PASS" | "FAIL" | "SKIP";

export interface BudgetResult extends Budget {
  verdict: Verdict;
  /** One line, starting with the verdict, for the console and the report. */
  line: string;
}

export function meets(value: number, comparison: Comparison, limit: number): boolean {
  switch (comparison) {
    case "<":
      return value < limit;
    case "<=":
      return value <= limit;
    case ">=":
      return value >= limit;
    case ">":
      return value > limit;
  }
}

export function evaluateBudget(budget: Budget): BudgetResult {
  if (budget.value === null || !Number.isFinite(budget.value)) {
    const why = budget.skipReason ?? "not measured";
    return { ...budget, verdict: "SKIP", line: `SKIP ${budget.name}: ${why}` };
  }
  const verdict: Verdict = meets(budget.value, budget.comparison, budget.limit) ? "PASS" : "FAIL";
  const line = `${verdict} ${budget.name}: ${formatNumber(budget.value)} ${budget.unit} (${budget.measure}); budget ${budget.comparison} ${formatNumber(budget.limit)} ${budget.unit}`;
  return { ...budget, verdict, line };
}

/** Compact, readable numbers: 3 significant digits below 1000, thousands separated above. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString("en-US");
  if (abs === 0) return "0";
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toPrecision(3);
}

export function formatRatio(value: number | null): string {
  return value === null ? "n/a" : `${value.toFixed(2)}x`;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}
