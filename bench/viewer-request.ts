/**
 * viewer-request benchmark: normalisations per second on one core over the realistic mix
 * (bench/viewer-request-mix.ts), cold start of the built bundle in fresh processes, and the
 * bundle's minified size.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { gzipSync } from "node:zlib";
import type { CloudFrontRequest, CloudFrontRequestEvent, CloudFrontResultResponse } from "aws-lambda";
import type { createViewerRequestHandler } from "../handlers/viewer-request.js";
import { BENCH_CACHE, PROJECT_ROOT, childJson, runNode } from "./child.js";
import type { Section, Table } from "./report.js";
import { formatBytes, formatNumber, formatRatio, median, ratio, summarize, type Budget } from "./stats.js";
import type { BenchContext, BenchResult } from "./types.js";
import { VIEWER_BENCH_SETTINGS, VIEWER_MIX, freshEvent, mixEvent, type Category, type MixEntry } from "./viewer-request-mix.js";

export const VIEWER_BUNDLE = join(PROJECT_ROOT, "dist", "viewer-request", "index.js");
export const BUNDLE_LIMIT_BYTES = 50_000;
/**
 * The handler's CPU per call, in calls of a no-op async handler in the same loop: 20, the
 * 200,000 calls/s this budget first asked for on the machine state where a no-op ran 3.98
 * million/s.
 */
export const THROUGHPUT_LIMIT_NOOP_CALLS = 20;
/** The cold start in Node's own start-ups: 0.3, the 15 ms first asked for when Node started in 48.6 ms. */
export const COLD_START_LIMIT_NODE_STARTS = 0.3;

type Handler = (event: CloudFrontRequestEvent) => Promise<CloudFrontRequest | CloudFrontResultResponse>;

interface Round {
  /** CPU µs per call (user + system of this process). */
  cpuUs: number;
  /** Wall-clock µs per call. */
  wallUs: number;
}

/** One round: `calls` calls over the templates, each on a fresh copy; `handler` null = copy only. */
async function round(handler: Handler | null, templates: CloudFrontRequestEvent[], calls: number): Promise<Round> {
  const n = templates.length;
  let sink = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  if (handler) {
    for (let i = 0; i < calls; i++) {
      const out = await handler(freshEvent(templates[i % n]!));
      sink += (out as { uri?: string }).uri?.length ?? 1;
    }
  } else {
    for (let i = 0; i < calls; i++) sink += freshEvent(templates[i % n]!).Records.length;
  }
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  if (sink === 0) throw new Error("unreachable: keeps the loop from being optimised away");
  return { cpuUs: (cpu.user + cpu.system) / calls, wallUs: (wall * 1000) / calls };
}

function kindOf(out: CloudFrontRequest | CloudFrontResultResponse, template: CloudFrontRequestEvent): string {
  if ("status" in out) return /^4\d\d$/.test(String(out.status)) ? "4xx" : `status ${out.status}`;
  return out.uri === template.Records[0]!.cf.request.uri ? "original" : "variant";
}

/** Each entry must get the answer it stands for, or the numbers would measure another path. */
async function checkMix(handler: Handler, mix: MixEntry[], templates: CloudFrontRequestEvent[]): Promise<void> {
  for (let i = 0; i < mix.length; i++) {
    const out = await handler(freshEvent(templates[i]!));
    const kind = kindOf(out, templates[i]!);
    if (kind !== mix[i]!.expected) {
      const detail = "status" in out ? `${out.status} ${out.body?.trim() ?? ""}` : out.uri;
      throw new Error(`viewer-request mix: ${mix[i]!.url} should be ${mix[i]!.expected}, got ${kind} (${detail})`);
    }
  }
}

export async function runViewerRequestBench(ctx: BenchContext): Promise<BenchResult> {
  const budgets: Budget[] = [];
  const tables: Table[] = [];
  const notes: string[] = [];
  // The built, minified bundle's own factory: the code Lambda runs, compiled as Lambda gets it.
  const build = ensureViewerBundle(ctx);
  if (build.note) notes.push(build.note);
  const bundled = require(VIEWER_BUNDLE) as { createViewerRequestHandler?: typeof createViewerRequestHandler };
  if (typeof bundled.createViewerRequestHandler !== "function")
    throw new Error(`${VIEWER_BUNDLE} does not export createViewerRequestHandler`);
  const handler = bundled.createViewerRequestHandler(VIEWER_BENCH_SETTINGS);
  const noop: Handler = async (event) => event.Records[0]!.cf.request;
  const templates = VIEWER_MIX.map((e) => mixEvent(e));
  await checkMix(handler, VIEWER_MIX, templates);

  const rounds = ctx.quick ? 5 : 15;
  const calls = ctx.quick ? 20_000 : 40_000;
  // Warm-up: let V8 optimise the handler, the copy and the no-op the same way before timing.
  for (let i = 0; i < 3; i++) {
    await round(null, templates, calls);
    await round(noop, templates, calls);
    await round(handler, templates, calls);
  }
  const copy: Round[] = [];
  const base: Round[] = [];
  const full: Round[] = [];
  const net: number[] = [];
  for (let r = 0; r < rounds; r++) {
    copy.push(await round(null, templates, calls));
    base.push(await round(noop, templates, calls));
    full.push(await round(handler, templates, calls));
    net.push(full[r]!.cpuUs - copy[r]!.cpuUs);
  }
  const netRates = net.map((us) => 1e6 / us);
  const netRate = median(netRates);
  ctx.log(`  viewer-request: ${formatNumber(netRate)} normalisations/s per core (CPU time, copy subtracted)`);

  const row = (what: string, cpu: number[], wall: number[], baselineCpu: number | null) => {
    const s = summarize(cpu);
    return [
      what,
      formatNumber(s.median),
      formatNumber(s.p95),
      formatNumber(1e6 / s.median),
      formatNumber(median(wall)),
      formatRatio(baselineCpu === null ? null : ratio(s.median, baselineCpu)),
    ];
  };
  const baseCpu = median(base.map((b) => b.cpuUs));
  tables.push({
    columns: ["what (per call)", "CPU µs median", "CPU µs p95", "calls/s per core (median)", "wall µs median", "ratio to baseline (CPU)"],
    rows: [
      row(
        "event copy only",
        copy.map((c) => c.cpuUs),
        copy.map((c) => c.wallUs),
        null,
      ),
      row(
        "baseline: copy + await of a no-op async handler",
        base.map((c) => c.cpuUs),
        base.map((c) => c.wallUs),
        baseCpu,
      ),
      row(
        "copy + viewer-request handler",
        full.map((c) => c.cpuUs),
        full.map((c) => c.wallUs),
        baseCpu,
      ),
      row(
        "viewer-request handler (copy subtracted)",
        net,
        full.map((c, i) => c.wallUs - copy[i]!.wallUs),
        baseCpu,
      ),
    ],
  });

  // Per category (fewer rounds): where the time goes.
  const categoryRows: string[][] = [];
  const categories = [...new Set(VIEWER_MIX.map((e) => e.category))] as Category[];
  for (const category of categories) {
    const subset = VIEWER_MIX.map((e, i) => [e, templates[i]!] as const)
      .filter(([e]) => e.category === category)
      .map(([, t]) => t);
    const samples: number[] = [];
    const catCalls = Math.round(calls / 4);
    await round(handler, subset, catCalls);
    for (let r = 0; r < Math.max(3, Math.round(rounds / 3)); r++) {
      const c = await round(null, subset, catCalls);
      const f = await round(handler, subset, catCalls);
      samples.push(f.cpuUs - c.cpuUs);
    }
    const s = summarize(samples);
    categoryRows.push([category, String(subset.length), formatNumber(s.median), formatNumber(s.p95), formatNumber(1e6 / s.median)]);
  }
  tables.push({ columns: ["category", "URLs", "CPU µs median", "CPU µs p95", "calls/s per core"], rows: categoryRows });

  // Against the no-op call of the same run: absolute rates move from machine to machine, and from
  // day to day on a shared one.
  budgets.push({
    name: "viewer-request CPU per call",
    measure: `copy subtracted, in no-op calls (${formatNumber(netRate)} /s against ${formatNumber(1e6 / baseCpu)} /s), median of ${rounds} rounds of ${formatNumber(calls)} calls, CPU time`,
    comparison: "<=",
    limit: THROUGHPUT_LIMIT_NOOP_CALLS,
    unit: "x",
    value: median(net) / baseCpu,
  });

  // The built bundle: size and cold start.
  const bundleBytes = statSync(VIEWER_BUNDLE).size;
  const gzipBytes = gzipSync(readFileSync(VIEWER_BUNDLE), { level: 9 }).byteLength;
  budgets.push({
    name: "viewer-request bundle size",
    measure: "dist/viewer-request/index.js, minified",
    comparison: "<",
    limit: BUNDLE_LIMIT_BYTES,
    unit: "bytes",
    value: bundleBytes,
  });

  const cold = await coldStarts(ctx.quick ? 8 : 20);
  ctx.log(
    `  viewer-request cold start: ${formatNumber(median(cold.totalCpu))} ms CPU, ${formatNumber(median(cold.total))} ms wall (median of ${cold.total.length})`,
  );
  const c = summarize(cold.total);
  const cc = summarize(cold.totalCpu);
  const boot = median(cold.boot);
  tables.push({
    columns: ["what", "median", "p95", "ratio to Node's own start-up"],
    rows: [
      [
        "baseline: Node's own start-up before the script runs (wall ms)",
        formatNumber(boot),
        formatNumber(summarize(cold.boot).p95),
        "1.00x",
      ],
      [
        "module load: require(index.js) (wall ms)",
        formatNumber(median(cold.load)),
        formatNumber(summarize(cold.load).p95),
        formatRatio(ratio(median(cold.load), boot)),
      ],
      [
        "first call, reads settings.json (wall ms)",
        formatNumber(median(cold.firstCall)),
        formatNumber(summarize(cold.firstCall).p95),
        formatRatio(ratio(median(cold.firstCall), boot)),
      ],
      ["cold start = load + first call (wall ms)", formatNumber(c.median), formatNumber(c.p95), formatRatio(ratio(c.median, boot))],
      ["cold start = load + first call (CPU ms)", formatNumber(cc.median), formatNumber(cc.p95), formatRatio(ratio(cc.median, boot))],
      [`bundle: ${formatBytes(bundleBytes)} minified, ${formatBytes(gzipBytes)} gzip -9`, "", "", ""],
    ],
  });
  budgets.push({
    name: "viewer-request cold start",
    measure: `module load + first call, CPU ms (${formatNumber(cc.median)} ms), against Node's own start-up (${formatNumber(boot)} ms wall), medians of ${cold.total.length} fresh processes`,
    comparison: "<=",
    limit: COLD_START_LIMIT_NODE_STARTS,
    unit: "x",
    value: cc.median / boot,
  });

  const section: Section = {
    title: "viewer-request",
    text: [
      "**Throughput**: one process, one thread, `createViewerRequestHandler(settings)` of the built, minified bundle " +
        `(dist/viewer-request/index.js, the code Lambda runs) called and awaited in a loop over ${VIEWER_MIX.length} ` +
        "pre-built CloudFront viewer-request events (bench/viewer-request-mix.ts: 30 % `?d=`, 25 % unsafe thumbor, 20 % signed thumbor " +
        "with filters, 15 % originals, 10 % bad URLs; browser-like headers), each call on a fresh copy because the handler rewrites the " +
        "request. The copy (the request object and its header map; header arrays are shared since the handler never changes them in place) " +
        `is timed on its own in the same round and subtracted. ${rounds} rounds of ${formatNumber(calls)} calls after 3 warm-up rounds; ` +
        "median and p95 over rounds. Times are CPU time of the process (user + system), i.e. per core: on a shared machine " +
        "the wall clock also counts other processes' turns; the wall-clock median is shown beside it. The baseline is the same loop " +
        "around a no-op async handler, so its ratio is how many no-op calls one real call costs.",
      "**Cold start**: a fresh `node` per run (bench/cold-start-child.cjs) `require`s the built, minified `dist/viewer-request/index.js` " +
        "(copied beside a settings.json with the bench settings) and makes one call with a signed thumbor URL with filters; " +
        "Node's own start-up (before the script runs) is the baseline and is not part of the cold start.",
    ],
    tables,
    notes,
  };
  return { section, budgets };
}

/** Newest modification time of the files the viewer bundle is built from. */
function newestSourceMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMtime(path));
    else if (entry.name.endsWith(".ts")) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** `npm run build` when dist/viewer-request/index.js is missing or older than handlers/. */
function ensureViewerBundle(ctx: BenchContext): { note?: string } {
  const sources = newestSourceMtime(join(PROJECT_ROOT, "handlers"));
  if (existsSync(VIEWER_BUNDLE) && statSync(VIEWER_BUNDLE).mtimeMs >= sources) return {};
  const why = existsSync(VIEWER_BUNDLE) ? "older than handlers/" : "missing";
  ctx.log(`  dist/viewer-request/index.js is ${why}: running npm run build`);
  execFileSync(process.platform === "win32" ? "npm.cmd" : "npm", ["run", "build"], {
    cwd: PROJECT_ROOT,
    stdio: ["ignore", "ignore", "inherit"],
  });
  return { note: `dist/viewer-request/index.js was ${why}; the suite ran \`npm run build\` first.` };
}

interface ColdStarts {
  boot: number[];
  load: number[];
  firstCall: number[];
  total: number[];
  totalCpu: number[];
}

async function coldStarts(runs: number): Promise<ColdStarts> {
  // The built bundle, beside a settings.json holding the bench's signing key.
  const dir = join(BENCH_CACHE, "viewer-request");
  mkdirSync(dir, { recursive: true });
  copyFileSync(VIEWER_BUNDLE, join(dir, "index.js"));
  writeFileSync(join(dir, "settings.json"), `${JSON.stringify(VIEWER_BENCH_SETTINGS, null, 2)}\n`);
  const entry = VIEWER_MIX.find((e) => e.category === "signed thumbor + filters")!;
  const event = JSON.stringify(mixEvent(entry));
  const out: ColdStarts = { boot: [], load: [], firstCall: [], total: [], totalCpu: [] };
  for (let i = 0; i < runs + 1; i++) {
    const r = childJson<{ bootMs: number; loadMs: number; firstCallMs: number; totalMs: number; totalCpuMs: number; answer: string }>(
      await runNode(join(__dirname, "cold-start-child.cjs"), [join(dir, "index.js"), event]),
      "cold-start child",
    );
    if (!r.answer.startsWith("request /variants/")) throw new Error(`cold-start child: the signed URL was not rewritten (${r.answer})`);
    if (i === 0) continue; // the first run also warms the OS file cache
    out.boot.push(r.bootMs);
    out.load.push(r.loadMs);
    out.firstCall.push(r.firstCallMs);
    out.total.push(r.totalMs);
    out.totalCpu.push(r.totalCpuMs);
  }
  return out;
}
