/**
 * `npx tsx bench/miss-quick.ts [workload id ...]` (bench/miss-profile.ts WORKLOADS, e.g. raindrops-800x500-jpeg): the per-miss profile alone, printed, nothing
 * written (for iterating on the miss's CPU; `npm run bench` writes the report and the chart).
 */
import { WORKLOADS, measureWorkloads } from "./miss-profile.js";

const picks = process.argv.slice(2);
const workloads = picks.length === 0 ? WORKLOADS : WORKLOADS.filter((w) => picks.includes(w.id));
measureWorkloads({ quick: process.env.QUICK === "1", log: (line) => console.log(line) }, workloads).catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
