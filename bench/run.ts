/**
 * `npm run bench [-- --quick] [-- --only viewer,origin,miss,avif,edge,dc,budget,encoders,intermediate,prefix] [-- --out <file>]`: runs the
 * benchmark suite, prints the goal table (bench/goals.ts) and one PASS/FAIL/SKIP line per budget, and writes
 * BENCHMARKS.md with the goal table and the team's bill (bench/bill.ts) first.
 * Exits 0 even when a budget fails: it is a measurement, not a test (a crash still exits 1).
 * The origin-response cases read the photos in `bench/photos/` (or the folder named by
 * BENCH_PHOTOS_DIR). The per-miss profile (`miss`) and the variant set (`intermediate`) compare with Pillow
 * (`bench/pillow-anchor.py`) when a Python with Pillow is found (BENCH_PYTHON, else `python3`; skipped with a
 * line otherwise); the per-miss profile writes its chart to docs/miss-cpu.svg.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { PROJECT_ROOT } from "./child.js";
import { runAvifEffortBench } from "./avif-effort.js";
import { billSection } from "./bill.js";
import { runDcOnlyDecodeBench } from "./dc-only-decode.js";
import { runEncoderBench } from "./encoders.js";
import { THUMBOR_SERVER, evaluateGoals, goalSection } from "./goals.js";
import { runIntermediateBench } from "./intermediate.js";
import { runLocalEdgeBench } from "./local-edge.js";
import { machineFacts, loadNote } from "./machine.js";
import { runMissProfileBench } from "./miss-profile.js";
import { runOriginResponseBench } from "./origin-response.js";
import { runPrefixReadBench } from "./prefix-read.js";
import { runRenderBudgetBench } from "./render-budget.js";
import { renderReport, renderTable, verdictSummary, type Section } from "./report.js";
import { evaluateBudget, type Budget } from "./stats.js";
import type { BenchContext, BenchResult, Measurements } from "./types.js";
import { runViewerRequestBench } from "./viewer-request.js";

const BENCHES: Record<string, (ctx: BenchContext) => Promise<BenchResult>> = {
  viewer: runViewerRequestBench,
  origin: runOriginResponseBench,
  miss: runMissProfileBench,
  avif: async (ctx) => ({ section: await runAvifEffortBench(ctx), budgets: [] }),
  edge: runLocalEdgeBench,
  dc: runDcOnlyDecodeBench,
  budget: runRenderBudgetBench,
  encoders: runEncoderBench,
  intermediate: runIntermediateBench,
  prefix: runPrefixReadBench,
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string" },
      out: { type: "string", default: join(PROJECT_ROOT, "BENCHMARKS.md") },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(`usage: npm run bench [-- --quick] [-- --only ${Object.keys(BENCHES).join(",")}] [-- --out BENCHMARKS.md]`);
    return;
  }
  const only = values.only ? values.only.split(",").map((s) => s.trim()) : Object.keys(BENCHES);
  for (const name of only)
    if (!BENCHES[name]) throw new Error(`--only: unknown benchmark "${name}" (known: ${Object.keys(BENCHES).join(", ")})`);

  const ctx: BenchContext = { quick: values.quick!, log: (line) => console.log(line) };
  const started = Date.now();
  const loadBefore = loadNote();
  const sections: Section[] = [];
  const budgets: Budget[] = [];
  const measurements: Measurements = {};
  for (const name of only) {
    console.log(`${name}…`);
    try {
      const result = await BENCHES[name]!(ctx);
      sections.push(result.section);
      budgets.push(...result.budgets);
      Object.assign(measurements, result.measurements ?? {});
    } catch (err) {
      // One broken benchmark must not hide the others' numbers.
      const message = err instanceof Error ? err.message : String(err);
      console.error(`${name} benchmark failed: ${message}`);
      sections.push({ title: `${name}: failed`, text: [`The benchmark failed: ${message}`], tables: [] });
      budgets.push({
        name: `${name} benchmark`,
        measure: "ran to the end",
        comparison: ">=",
        limit: 1,
        unit: "",
        value: null,
        skipReason: `failed: ${message}`,
      });
    }
  }
  const results = budgets.map(evaluateBudget);
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  const facts = await machineFacts();
  facts.push(["load average (1 min) before / after", `${loadBefore} / ${loadNote()}`]);
  facts.push([
    "command",
    `npm run bench${values.quick ? " -- --quick" : ""}${values.only ? ` -- --only ${values.only}` : ""} (${minutes} min)`,
  ]);
  const goals = goalSection(measurements);
  const bill = billSection(measurements, await originResponseMemoryMb(), thumborConstants());
  writeFileSync(values.out!, renderReport({ title: "Benchmarks", facts, budgets: results, sections: [goals, bill, ...sections] }));

  console.log(`\n${goals.title}\n${renderTable(goals.tables[0]!)}`);
  if (goals.tables[1]) console.log(`\n${renderTable(goals.tables[1])}`);
  if (evaluateGoals(measurements).every((g) => g.verdict === "SKIPPED")) console.log("(no goal's case ran: `--only miss` runs them)");

  console.log("");
  for (const r of results) console.log(r.verdict === "FAIL" ? `\n*** ${r.line} ***\n` : r.line);
  console.log(`\n${verdictSummary(results)}; wrote ${values.out} in ${minutes} min`);
}

/** The configured origin-response memory: the component's default (loaded only here: it brings Pulumi). */
async function originResponseMemoryMb(): Promise<number> {
  const { IMAGE_RESIZER_DEFAULTS } = await import("../components/image-resizer.js");
  return IMAGE_RESIZER_DEFAULTS.originResponseMemoryMb;
}

function thumborConstants(): Record<string, number> {
  return Object.fromEntries(Object.entries(THUMBOR_SERVER.cases).map(([name, c]) => [name, c.thumborCpuMs]));
}

main().catch((err: unknown) => {
  console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
