import test from "ava";
import type { CaseOutput } from "../../bench/origin-response-case.js";
import { PHOTOS, originBudgets, type CaseResult } from "../../bench/origin-response.js";
import { renderReport, renderTable, verdictSummary } from "../../bench/report.js";
import { evaluateBudget, formatNumber, meets, median, percentile, ratio, summarize, type Budget } from "../../bench/stats.js";

test("median: middle sample, mean of the two middle ones for an even count, order does not matter", (t) => {
  t.is(median([5]), 5);
  t.is(median([3, 1, 2]), 2);
  t.is(median([4, 1, 3, 2]), 2.5);
  t.is(median([10, 10, 1, 1000]), 10);
  t.throws(() => median([]), { message: /no samples/ });
  t.throws(() => median([1, Number.NaN]), { message: /not a finite sample/ });
});

test("median does not reorder the caller's array", (t) => {
  const samples = [3, 1, 2];
  median(samples);
  t.deepEqual(samples, [3, 1, 2]);
});

test("percentile: nearest rank, always one of the samples", (t) => {
  const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted
  t.is(percentile(hundred, 95), 95);
  t.is(percentile(hundred, 50), 50);
  t.is(percentile(hundred, 100), 100);
  t.is(percentile(hundred, 1), 1);
  // With few samples the p95 is the largest: 95 % of 5 samples needs all 5.
  t.is(percentile([10, 20, 30, 40, 50], 95), 50);
  t.is(percentile([10, 20, 30, 40, 50], 80), 40);
  t.is(percentile([7], 95), 7);
  // The slowest 5 % of per-second rates (a low percentile) for throughput.
  t.is(percentile([100, 90, 80, 70, 60, 50, 40, 30, 20, 10, 95, 85, 75, 65, 55, 45, 35, 25, 15, 5], 5), 5);
  t.throws(() => percentile([1, 2], 0), { message: /percentile must be/ });
  t.throws(() => percentile([1, 2], 101), { message: /percentile must be/ });
});

test("summarize gathers n, median, p95, min and max", (t) => {
  t.deepEqual(summarize([4, 2, 8, 6]), { n: 4, median: 5, p95: 8, min: 2, max: 8 });
});

test("ratio: null without a usable baseline", (t) => {
  t.is(ratio(3, 2), 1.5);
  t.is(ratio(3, 0), null);
  t.is(ratio(3, -1), null);
  t.is(ratio(Number.NaN, 2), null);
});

const budget = (over: Partial<Budget>): Budget => ({
  name: "throughput",
  measure: "ops/s",
  comparison: ">=",
  limit: 200_000,
  unit: "/s",
  value: 250_000,
  ...over,
});

test("budgets: each comparison passes and fails at its edge", (t) => {
  t.true(meets(200_000, ">=", 200_000));
  t.false(meets(199_999, ">=", 200_000));
  t.true(meets(1.15, "<=", 1.15));
  t.false(meets(1.1501, "<=", 1.15));
  t.false(meets(400, "<", 400));
  t.true(meets(399.9, "<", 400));
  t.false(meets(2, ">", 2));
});

test("evaluateBudget: PASS and FAIL lines name the budget, the value and the limit", (t) => {
  const pass = evaluateBudget(budget({ value: 250_000 }));
  t.is(pass.verdict, "PASS");
  t.is(pass.line, "PASS throughput: 250,000 /s (ops/s); budget >= 200,000 /s");
  const fail = evaluateBudget(budget({ value: 171_755.4 }));
  t.is(fail.verdict, "FAIL");
  t.regex(fail.line, /^FAIL throughput: 171,755 \/s/);
  const ratioFail = evaluateBudget(budget({ name: "own work", comparison: "<=", limit: 1.15, unit: "x", value: 1.2 }));
  t.is(ratioFail.verdict, "FAIL");
  t.regex(ratioFail.line, /1\.20 x .*<= 1\.15 x/);
});

test("evaluateBudget: no measurement is a SKIP with its reason, never a PASS", (t) => {
  const skipped = evaluateBudget(budget({ value: null, skipReason: "fixtures missing" }));
  t.is(skipped.verdict, "SKIP");
  t.is(skipped.line, "SKIP throughput: fixtures missing");
  t.is(evaluateBudget(budget({ value: Number.NaN })).verdict, "SKIP");
});

test("formatNumber: thousands separated, three significant digits below 1000", (t) => {
  t.is(formatNumber(171755.4), "171,755");
  t.is(formatNumber(548.2), "548");
  t.is(formatNumber(53.34), "53.3");
  t.is(formatNumber(8.123), "8.12");
  t.is(formatNumber(0.2113), "0.211");
  t.is(formatNumber(0), "0");
});

test("renderTable escapes pipes and refuses rows of the wrong width", (t) => {
  t.is(renderTable({ columns: ["a", "b"], rows: [["1", "x|y"]] }), "| a | b |\n|---|---|\n| 1 | x\\|y |");
  t.throws(() => renderTable({ columns: ["a", "b"], rows: [["1"]] }), { message: /1 cells, the header has 2/ });
});

test("renderReport: facts, the budget table with counts, then each section", (t) => {
  const budgets = [
    evaluateBudget(budget({})),
    evaluateBudget(budget({ name: "rss", comparison: "<", limit: 400, unit: "MiB", value: 512 })),
    evaluateBudget(budget({ value: null, skipReason: "no photos" })),
  ];
  t.is(verdictSummary(budgets), "1 PASS, 1 FAIL, 1 SKIP");
  const md = renderReport({
    title: "Benchmarks",
    facts: [["CPU", "Test CPU, 2 logical cores"]],
    budgets,
    sections: [{ title: "viewer-request", text: ["How it was measured."], tables: [{ columns: ["x"], rows: [["1"]] }], notes: ["a note"] }],
  });
  t.true(md.startsWith("# Benchmarks\n"));
  t.regex(md, /- \*\*CPU\*\*: Test CPU, 2 logical cores/);
  t.regex(md, /## Budgets \(1 PASS, 1 FAIL, 1 SKIP\)/);
  t.regex(md, /\| FAIL \| rss \(ops\/s\) \| 512 MiB \| < 400 MiB \|/);
  t.regex(md, /\| SKIP \| throughput \(ops\/s\) \| no photos \|/);
  t.regex(md, /## viewer-request\n\nHow it was measured\.\n\n\| x \|\n\|---\|\n\| 1 \|\n\n- a note\n$/);
  t.notRegex(md, /\n{3,}/);
});

// originBudgets: the verdict inputs taken from the per-case results (no benchmark runs here).

function caseResult(file: string, width: number, format: "jpeg" | "webp" | "avif", own: number[], bare: number[], peak = 100): CaseResult {
  const photo = PHOTOS.find((p) => p.file === file)!;
  const output: CaseOutput = {
    variantKey: "",
    status: "200",
    outputWidth: width,
    outputHeight: 1,
    outputBytes: 1,
    endToEnd: own,
    s3: own.map(() => 0),
    own,
    ownCpu: own,
    s3Cpu: own.map(() => 0),
    baseline: bare,
    baselineCpu: bare,
    peakRssMiB: peak,
    idleRssMiB: 90,
    sharpConcurrency: 1,
  };
  return { photo, width, format, output };
}

test("originBudgets: the worst own/bare ratio decides and is named; AVIF is paired with WebP of the same photo and width", (t) => {
  const results = [
    caseResult("RainDrops.jpg", 320, "webp", [10, 11, 12], [10, 10, 10]),
    caseResult("RainDrops.jpg", 320, "avif", [30, 31, 29], [25, 25, 25]),
    caseResult("RainDrops.jpg", 800, "webp", [50, 50, 50], [40, 40, 40]),
    caseResult("RainDrops.jpg", 800, "avif", [90, 90, 90], [90, 90, 90]),
    caseResult("Elephants_5640x3172.jpg", 800, "webp", [500], [500], 395.5),
    { photo: PHOTOS[1]!, width: 800, format: "webp", error: "child crashed" } satisfies CaseResult,
  ];
  const [own, rssProgressive, rssBaseline, avif] = originBudgets(results).map(evaluateBudget);
  t.is(own!.value, 1.25);
  t.regex(own!.measure, /worst case of 5: RainDrops\.jpg → 800 webp/);
  t.is(own!.verdict, "FAIL");
  t.is(rssProgressive!.value, 395.5);
  t.is(rssProgressive!.verdict, "PASS");
  t.is(rssBaseline!.verdict, "SKIP", "the baseline Elephants case did not run");
  // Medians: 320 px AVIF 30 / WebP 11 = 2.73, 800 px 90 / 50 = 1.8.
  t.is(avif!.value!.toFixed(3), "2.727");
  t.regex(avif!.measure, /RainDrops\.jpg → 320/);
  t.is(avif!.verdict, "FAIL");
});

test("originBudgets: without the photos every budget is a SKIP carrying the reason", (t) => {
  const budgets = originBudgets([], "bench/photos not found").map(evaluateBudget);
  t.is(budgets.length, 4);
  for (const b of budgets) {
    t.is(b.verdict, "SKIP");
    t.regex(b.line, /photos not found/);
  }
});
