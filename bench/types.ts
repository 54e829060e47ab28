/** What every benchmark module gets and gives back to bench/run.ts. */
import type { Section } from "./report.js";
import type { Budget } from "./stats.js";

export interface BenchContext {
  /** `--quick`: fewer repetitions and cases, for a smoke run (numbers are rougher). */
  quick: boolean;
  /** Progress lines on the console. */
  log: (line: string) => void;
}

export interface BenchResult {
  section: Section;
  budgets: Budget[];
}
