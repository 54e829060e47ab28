/**
 * The per-miss profile: CPU per origin-response miss of the BUILT bundle, split into
 * S3 GET, render, S3 PUT and answer (bench/miss-profile-child.ts), side by side with the Pillow
 * anchor (`pillow-anchor.py`: thumbor's engine work for the same request, without thumbor) in the
 * same run, and an SVG chart of the comparison.
 *
 * The S3 server (s3rver) runs in this process; each workload's misses run in a child process.
 * Pillow needs a Python with Pillow: `BENCH_PYTHON`, else `python3` if it imports PIL (the script
 * is `bench/pillow-anchor.py`, or `BENCH_PILLOW_ANCHOR`); without one that column is skipped with
 * a line saying so. `BENCH_NODE_ARGS` (e.g. `--cpu-prof`) is passed to the children's node.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import type { CloudFrontRequest, CloudFrontResultResponse } from "aws-lambda";
import { buildEdgeBundles } from "../components/bundle.js";
import { VIEWER_URL_HEADER } from "../handlers/cloudfront/plumbing.js";
import { intermediateKey } from "../handlers/core/intermediate.js";
import { DEFAULT_SETTINGS } from "../handlers/core/settings.js";
import { parseVariantKey, uriToKey } from "../handlers/core/variant-key.js";
import { stillEncoderOptions } from "../handlers/render/encode.js";
import { createViewerRequestHandler } from "../handlers/viewer-request.js";
import { originResponseEvent, viewerRequestEvent, type Distribution } from "../local/events.js";
import { LOCAL_REGION, S3RVER_CREDENTIALS, createS3Client, startEmbeddedS3 } from "../local/s3.js";
import { loopbackTls } from "../local/signature-check.js";
import { PROJECT_ROOT, bundleChild, childJson, runNode } from "./child.js";
import { wholeFileRender } from "./dc-only-decode.js";
import { missChartSvg } from "./miss-chart.js";
import { PHASES, PHASE_LABELS, phaseMedians, type ProfileInput, type ProfileOutput } from "./miss-profile-child.js";
import { PHOTOS_DIR } from "./origin-response.js";
import { findPillowPython, pillowSkipNote, runPillow, type PillowResult } from "./pillow.js";
import type { Section, Table } from "./report.js";
import { formatNumber, formatRatio, median, percentile, ratio, type Budget } from "./stats.js";
import type { BenchContext, BenchResult, CaseMeasurement, Measurements } from "./types.js";

export interface Workload {
  /** The case's name in the goal table's measurements is `miss/<id>` (bench/types.ts). */
  id: string;
  label: string;
  file: string;
  format: "jpeg" | "webp";
  width: number;
  height: number;
  /** Big originals get fewer runs (each costs up to half a second). */
  big?: boolean;
  /** The miss takes the DC-only decode: its output is compared with the full decode's, byte for byte. */
  dcOnly?: boolean;
}

/** thumbor's `/unsafe/WxH/<photo>` at quality 80: the goal table's miss workloads. */
export const WORKLOADS: Workload[] = [
  {
    id: "raindrops-800x500-jpeg",
    label: "RainDrops 1920x1200 → 800x500 JPEG",
    file: "RainDrops.jpg",
    format: "jpeg",
    width: 800,
    height: 500,
  },
  {
    id: "raindrops-800x500-webp",
    label: "RainDrops 1920x1200 → 800x500 WebP",
    file: "RainDrops.jpg",
    format: "webp",
    width: 800,
    height: 500,
  },
  {
    id: "twowings-800x500-jpeg",
    label: "TwoWings 2560x1600 → 800x500 JPEG",
    file: "TwoWings.jpg",
    format: "jpeg",
    width: 800,
    height: 500,
  },
  {
    id: "elephants-progressive-800x500-jpeg",
    label: "Elephants 5640x3172 progressive → 800x500 JPEG",
    file: "Elephants_5640x3172.jpg",
    format: "jpeg",
    width: 800,
    height: 500,
    big: true,
  },
  {
    id: "elephants-progressive-300x200-jpeg",
    label: "Elephants 5640x3172 progressive → 300x200 JPEG (15.9x)",
    file: "Elephants_5640x3172.jpg",
    format: "jpeg",
    width: 300,
    height: 200,
    big: true,
    dcOnly: true,
  },
  {
    id: "elephants-baseline-300x200-jpeg",
    label: "Elephants 5640x3172 baseline → 300x200 JPEG",
    file: "Elephants_5640x3172_baseline.jpg",
    format: "jpeg",
    width: 300,
    height: 200,
    big: true,
  },
];

const BUCKET = "bench";
const QUALITY = 80;
const distribution: Distribution = { domainName: "bench.cloudfront.net", distributionId: "BENCH", bucket: BUCKET, region: LOCAL_REGION };

export interface WorkloadResult {
  workload: Workload;
  /** Both halves' misses together. */
  own?: ProfileOutput;
  /** Both halves' Pillow runs: their mean CPU. */
  pillow?: PillowResult;
  /** Each half's median miss CPU and Pillow CPU. */
  halves?: { cpuMs: [number, number]; pillowCpuMs?: [number, number] };
  /** Whether the output equals today's full decode's (for `dcOnly` workloads). */
  identicalToFullDecode?: boolean;
  error?: string;
}

/** The embedded S3's certificate: the misses read over HTTPS (local/tls/). */
const LOOPBACK_TLS = loopbackTls();

/** Where the chart is written, relative to the project root (BENCHMARKS.md links it). */
export const CHART_PATH = "docs/miss-cpu.svg";

const isResponse = (r: CloudFrontRequest | CloudFrontResultResponse): r is CloudFrontResultResponse => "status" in r;

/**
 * Each workload's own copy of its photo: a miss that may use an intermediate finds the one an
 * earlier workload of the same photo stored (the Elephants 800x500 one), and the 300x200 case
 * would then render from it instead of reading the original up to its DC scans.
 */
function originalKey(workload: Workload): string {
  return `photos/${workload.id}/${workload.file}`;
}

/** The origin-response event of a miss for `workload`: viewer-request's rewrite of the thumbor URL, answered 403 by S3. */
async function missEvent(workload: Workload) {
  const viewer = createViewerRequestHandler(DEFAULT_SETTINGS);
  const url = `/unsafe/${workload.width}x${workload.height}/filters:format(${workload.format}):quality(${QUALITY})/${originalKey(workload)}`;
  const rewritten = await viewer(
    viewerRequestEvent(
      { method: "GET", url, rawHeaders: ["Host", distribution.domainName, "Accept", "image/*"], clientIp: "203.0.113.9" },
      distribution,
      "bench",
    ),
  );
  if (isResponse(rewritten)) throw new Error(`viewer-request refused ${url}: ${rewritten.status}`);
  return originResponseEvent(rewritten, { status: 403, statusDescription: "Forbidden", headers: {} }, distribution, "bench", [
    VIEWER_URL_HEADER,
  ]);
}

/** Timed misses per half of the run (two halves: see measureWorkloads). */
function runsPerHalf(workload: Workload, quick: boolean): number {
  return quick ? 3 : workload.big ? 5 : 21;
}

async function profileWorkload(
  script: string,
  bundle: string,
  endpoint: string,
  workload: Workload,
  quick: boolean,
): Promise<ProfileOutput> {
  const input: ProfileInput = {
    bundle,
    event: await missEvent(workload),
    warmups: workload.big ? 3 : 8,
    runs: runsPerHalf(workload, quick),
    encoder: { format: workload.format, options: stillEncoderOptions(workload.format, QUALITY) },
    // thumbor's crop to the target's aspect ratio is sharp's centred "cover".
    floor: { file: join(PHOTOS_DIR, workload.file), width: workload.width, height: workload.height, fit: "cover" },
    forgetIntermediate: { bucket: BUCKET, key: intermediateKey(originalKey(workload), DEFAULT_SETTINGS) },
  };
  return childJson<ProfileOutput>(
    await runNode(script, [JSON.stringify(input)], {
      env: missEnv(endpoint),
      nodeArgs: process.env.BENCH_NODE_ARGS?.split(" ").filter(Boolean),
    }),
    `miss profile ${workload.label}`,
  );
}

/** The Lambda-like environment of a miss's process: the runtime's credential variables, S3 at `endpoint`. */
function missEnv(endpoint: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    AWS_ENDPOINT_URL_S3: endpoint,
    NODE_EXTRA_CA_CERTS: LOOPBACK_TLS.certFile,
    AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
  };
}

export interface ColdStarts {
  load: number[];
  firstMiss: number[];
  totalCpu: number[];
}

/**
 * A Lambda cold start of origin-response: a fresh `node` per run (bench/cold-start-child.cjs)
 * `require`s the built bundle and answers the first workload's miss. The first run only warms
 * the OS file cache.
 */
async function coldStarts(bundle: string, endpoint: string, runs: number): Promise<ColdStarts> {
  const event = JSON.stringify(await missEvent(WORKLOADS[0]!));
  const out: ColdStarts = { load: [], firstMiss: [], totalCpu: [] };
  for (let i = 0; i < runs + 1; i++) {
    const r = childJson<{ loadMs: number; firstCallMs: number; totalCpuMs: number; answer: string }>(
      await runNode(join(__dirname, "cold-start-child.cjs"), [bundle, event], { env: missEnv(endpoint) }),
      "origin-response cold start",
    );
    if (r.answer !== "response 200") throw new Error(`origin-response cold start: ${r.answer}`);
    if (i === 0) continue;
    out.load.push(r.loadMs);
    out.firstMiss.push(r.firstCallMs);
    out.totalCpu.push(r.totalCpuMs);
  }
  return out;
}

/** Both halves of a workload as one result: samples together, Pillow's mean, each half's medians. */
export function mergeHalves(workload: Workload, a: HalfResult, b: HalfResult): WorkloadResult {
  const own: ProfileOutput = {
    ...b.own,
    samples: [...a.own.samples, ...b.own.samples],
    encodeCpu: [...a.own.encodeCpu, ...b.own.encodeCpu],
    floorCpu: [...a.own.floorCpu, ...b.own.floorCpu],
    peakRssMiB: Math.max(a.own.peakRssMiB, b.own.peakRssMiB),
  };
  const cpu = (o: ProfileOutput) => median(o.samples.map((s) => s.cpu.total));
  const result: WorkloadResult = { workload, own, halves: { cpuMs: [cpu(a.own), cpu(b.own)] } };
  if (a.pillow && b.pillow) {
    result.pillow = { cpuMs: (a.pillow.cpuMs + b.pillow.cpuMs) / 2, bytes: b.pillow.bytes };
    result.halves!.pillowCpuMs = [a.pillow.cpuMs, b.pillow.cpuMs];
  }
  return result;
}

export interface HalfResult {
  own: ProfileOutput;
  pillow?: PillowResult;
}

/** The workload's output against today's full decode of the same plan (the render without its draft step), by SHA-256. */
async function sameAsFullDecode(workload: Workload, own: ProfileOutput): Promise<boolean> {
  const event = await missEvent(workload);
  const plan = parseVariantKey(uriToKey(event.Records[0]!.cf.request.uri), DEFAULT_SETTINGS);
  const full = await wholeFileRender(plan, readFileSync(join(PHOTOS_DIR, workload.file)));
  return createHash("sha256").update(full).digest("hex") === own.outputSha256;
}

/**
 * Runs every workload in two halves, A then B, each its own child process of misses (with sharp's
 * floor after each) followed by its own Pillow run: the halves' medians say whether the run
 * agrees with itself (bench/goals.ts halvesAgree). Returns both halves merged per workload.
 */
export async function measureWorkloads(
  ctx: BenchContext,
  workloads: Workload[] = WORKLOADS,
): Promise<{ results: WorkloadResult[]; pillowNote: string | null; cold: ColdStarts | null }> {
  ctx.log("  building dist/ (npm run build's bundles)…");
  const bundles = await buildEdgeBundles({ outDir: join(PROJECT_ROOT, "dist"), settings: DEFAULT_SETTINGS, log: () => {} });
  const bundle = join(bundles.originResponse.dir, "index.js");
  const script = await bundleChild(join(__dirname, "miss-profile-child.ts"), "miss-profile-child");
  const python = findPillowPython();
  const pillowNote = pillowSkipNote(python);
  if (pillowNote) ctx.log(`  ${pillowNote}`);
  const dataDir = mkdtempSync(join(tmpdir(), "edge-resizer-miss-s3-"));
  // Over HTTPS, as origin-response reaches AWS's S3: a GET pays TLS's decryption, not the MD5 check.
  const s3 = await startEmbeddedS3(dataDir, BUCKET, { tls: LOOPBACK_TLS });
  const results: WorkloadResult[] = [];
  let cold: ColdStarts | null = null;
  try {
    const client = createS3Client({ endpoint: s3.endpoint, region: LOCAL_REGION, credentials: S3RVER_CREDENTIALS, ca: LOOPBACK_TLS.cert });
    for (const workload of workloads) {
      await client.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: originalKey(workload),
          Body: readFileSync(join(PHOTOS_DIR, workload.file)),
          ContentType: "image/jpeg",
        }),
      );
    }
    client.destroy();
    const halves: (HalfResult | Error)[][] = [[], []];
    for (const half of [0, 1]) {
      for (const workload of workloads) {
        try {
          const own = await profileWorkload(script, bundle, s3.endpoint, workload, ctx.quick);
          const loops = ctx.quick ? 3 : workload.big ? 3 : 10;
          const pillow = python && !pillowNote ? await runPillow(python, join(PHOTOS_DIR, workload.file), workload, loops) : undefined;
          halves[half]!.push({ own, ...(pillow ? { pillow } : {}) });
          ctx.log(`  half ${"AB"[half]}: ${workload.label}: ${describe({ workload, own, ...(pillow ? { pillow } : {}) })}`);
        } catch (err) {
          halves[half]!.push(err instanceof Error ? err : new Error(String(err)));
          ctx.log(`  half ${"AB"[half]}: ${workload.label}: FAILED ${String(err)}`);
        }
      }
    }
    for (const [i, workload] of workloads.entries()) {
      const [a, b] = [halves[0]![i]!, halves[1]![i]!];
      if (a instanceof Error || b instanceof Error) {
        results.push({ workload, error: (a instanceof Error ? a : (b as Error)).message });
        continue;
      }
      const result = mergeHalves(workload, a, b);
      if (workload.dcOnly) result.identicalToFullDecode = await sameAsFullDecode(workload, result.own!);
      results.push(result);
    }
    if (workloads.includes(WORKLOADS[0]!)) {
      cold = await coldStarts(bundle, s3.endpoint, ctx.quick ? 4 : 12);
      ctx.log(
        `  origin-response cold start: load ${formatNumber(median(cold.load))} ms, first miss ${formatNumber(median(cold.firstMiss))} ms wall`,
      );
    }
  } finally {
    await s3.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return { results, pillowNote, cold };
}

/** The goal table's and the bill's numbers of each measured workload, as `miss/<id>`. */
export function missMeasurements(results: WorkloadResult[], pillowNote: string | null): Measurements {
  const out: Measurements = {};
  for (const r of results) {
    if (!r.own) continue;
    const m: CaseMeasurement = {
      cpuMs: phaseMedians(r.own).total,
      wallMs: median(r.own.samples.map((s) => s.wallMs)),
      ioWaitMs: median(r.own.samples.map((s) => s.ioWaitMs)),
    };
    if (r.pillow) m.pillowCpuMs = r.pillow.cpuMs;
    else m.pillowSkip = pillowNote ?? "Pillow anchor failed";
    if (r.own.floorCpu.length > 0) m.floorCpuMs = median(r.own.floorCpu);
    if (r.identicalToFullDecode !== undefined) m.identicalToFullDecode = r.identicalToFullDecode;
    if (r.halves) m.halves = r.halves;
    out[`miss/${r.workload.id}`] = m;
  }
  return out;
}

function describe(r: WorkloadResult): string {
  if (!r.own) return "no result";
  const m = phaseMedians(r.own);
  const parts = PHASES.map((p) => `${p} ${formatNumber(m[p])}`).join(", ");
  const pillow = r.pillow ? `; Pillow ${formatNumber(r.pillow.cpuMs)} ms, ratio ${formatRatio(ratio(m.total, r.pillow.cpuMs))}` : "";
  const floor = r.own.floorCpu.length > 0 ? `, sharp's floor ${formatNumber(median(r.own.floorCpu))}` : "";
  return `${formatNumber(m.total)} ms CPU (${parts}), encode alone ${formatNumber(median(r.own.encodeCpu))}${floor}, ${r.own.outputBytes} B${pillow}`;
}

function coldStartTable(cold: ColdStarts): Table {
  const row = (what: string, xs: number[]) => [what, formatNumber(median(xs)), formatNumber(percentile(xs, 95))];
  return {
    columns: [`origin-response cold start (fresh process, built bundle, ${cold.load.length} runs)`, "median", "p95"],
    rows: [
      row("module load: require(index.js), sharp included (wall ms)", cold.load),
      row(`first miss: ${WORKLOADS[0]!.label} (wall ms)`, cold.firstMiss),
      row("load + first miss (CPU ms, every thread)", cold.totalCpu),
    ],
  };
}

function comparisonTable(results: WorkloadResult[]): Table {
  const rows = results.map((r) => {
    if (!r.own) return [r.workload.label, `failed: ${r.error ?? "?"}`, "", "", "", "", "", "", ""];
    const m = phaseMedians(r.own);
    const p95 = percentile(
      r.own.samples.map((s) => s.cpu.total),
      95,
    );
    const pillow = r.pillow;
    const sizeRatio = pillow ? ratio(r.own.outputBytes, pillow.bytes) : null;
    return [
      r.workload.label,
      `${formatNumber(m.total)} / ${formatNumber(p95)}`,
      formatNumber(m.get + m.put + m.answer),
      r.own.floorCpu.length > 0 ? formatNumber(median(r.own.floorCpu)) : "n/a",
      pillow ? formatNumber(pillow.cpuMs) : "skipped",
      pillow ? formatRatio(ratio(m.total, pillow.cpuMs)) : "n/a",
      `${r.own.outputWidth}x${r.own.outputHeight}, ${(r.own.outputBytes / 1024).toFixed(1)} KiB`,
      pillow ? `${(pillow.bytes / 1024).toFixed(1)} KiB` : "skipped",
      sizeRatio === null ? "n/a" : `${((sizeRatio - 1) * 100).toFixed(1)} %`,
    ];
  });
  return {
    columns: [
      "workload",
      "edge-resizer miss CPU ms median / p95",
      "of which outside the render",
      "sharp's floor CPU ms",
      "Pillow (thumbor's engine) CPU ms",
      "ratio to Pillow",
      "our output",
      "Pillow's output",
      "size vs Pillow",
    ],
    rows,
  };
}

function phaseTable(results: WorkloadResult[]): Table {
  const rows = results
    .filter((r) => r.own)
    .map((r) => {
      const own = r.own!;
      const m = phaseMedians(own);
      const wall = own.samples.map((s) => s.wallMs);
      return [
        r.workload.label,
        ...PHASES.map((p) => formatNumber(m[p])),
        formatNumber(median(own.encodeCpu)),
        formatNumber(median(own.samples.map((s) => s.gcMs))),
        `${formatNumber(percentile(wall, 50))} / ${formatNumber(percentile(wall, 95))} / ${formatNumber(percentile(wall, 99))}`,
        `${own.samples.length}`,
        own.peakRssMiB.toFixed(0),
      ];
    });
  return {
    columns: [
      "workload",
      ...PHASES.map((p) => `${PHASE_LABELS[p]} CPU ms`),
      "encode alone CPU ms",
      "GC wall ms",
      "latency ms p50 / p95 / p99",
      "misses",
      "peak RSS MiB",
    ],
    rows,
  };
}

/** The per-miss targets as budgets: the milestone (at or below Pillow), the goal (half) and the overhead. */
export function missBudgets(results: WorkloadResult[], pillowNote: string | null): Budget[] {
  const measured = results.filter((r) => r.own);
  const withPillow = measured.filter((r) => r.pillow);
  const worst = (rows: WorkloadResult[], value: (r: WorkloadResult) => number) => (rows.length === 0 ? null : Math.max(...rows.map(value)));
  const toPillow = worst(withPillow, (r) => phaseMedians(r.own!).total / r.pillow!.cpuMs);
  const skip = toPillow === null ? { skipReason: pillowNote ?? "no workload measured" } : {};
  const overhead = worst(measured, (r) => {
    const m = phaseMedians(r.own!);
    return m.get + m.put + m.answer;
  });
  return [
    {
      name: "miss CPU vs Pillow, milestone",
      measure: "worst workload, whole-process CPU medians",
      comparison: "<=",
      limit: 1,
      unit: "x",
      value: toPillow,
      ...skip,
    },
    {
      name: "miss CPU vs Pillow, goal",
      measure: "worst workload, whole-process CPU medians",
      comparison: "<=",
      limit: 0.5,
      unit: "x",
      value: toPillow,
      ...skip,
    },
    {
      name: "miss CPU outside the render",
      measure: "worst workload, S3 GET + S3 PUT + answer, CPU ms median",
      comparison: "<",
      limit: 5,
      unit: "ms",
      value: overhead,
      ...(overhead === null ? { skipReason: "no workload measured" } : {}),
    },
  ];
}

export async function runMissProfileBench(ctx: BenchContext): Promise<BenchResult> {
  const section: Section = {
    title: "origin-response: CPU per miss, side by side with Pillow",
    text: [
      "Each workload is thumbor's `/unsafe/WxH/<photo>` at quality 80 (JPEG, or WebP with `format(webp)`). **edge-resizer miss**: " +
        "the built bundle (`dist/origin-response/index.js`, the code and the linux-x64 sharp Lambda gets) answers an S3 403 for a new " +
        "variant, its own `handler` called as Lambda calls it, one miss at a time in a child process of its own (bench/miss-profile-child.ts): " +
        "the GETs from s3rver running in ANOTHER process (the bench's) over HTTPS (as from AWS's S3: TLS decryption is in the miss, " +
        "and a body over TLS is not hashed again), render, PUT of the variant, base64 answer. " +
        "The GETs are the production ones: the original's intermediate and the original read at once; the original read only as far " +
        "as its DC scans for a progressive one at 1/8 (the 300x200 Elephants case includes that prefix read), and not read on once a " +
        "stored intermediate stands in for it. Every miss is a first miss of its original: the intermediate is deleted before each " +
        "one (outside the measurement), so a miss of an original that gets one (the Elephants ones but the 300x200 progressive, which " +
        "its DC scans serve) includes making and storing it; the variant-set section measures the later misses. " +
        "CPU is the whole process's (user + system, every thread), medians over the timed misses after warm-up ones. Each workload " +
        "runs in two halves (every workload, then every workload again; each half its own process and its own Pillow run): the " +
        "medians here are over both, the goal table compares the halves. **sharp's floor**: after each miss, in the same process, " +
        'the original already in memory through one sharp pipeline (`sharp(buffer).resize(w, h, { fit: "cover" })` and the same ' +
        "encoder options): decode at scale, resize and encode, nothing else.",
      "The split is read from outside the bundle: **S3 GET** = from the call to sharp's first call (key, plan, both GETs, body; " +
        "with a stored intermediate, that first call checks its header); " +
        "**decode + render + encode** = to the last sharp `toBuffer`; **S3 PUT** = to the variant PUT's response (node:http diagnostics channel); " +
        "**answer** = to the handler's answer (the PUT answer's status, base64, headers). libvips decodes, resizes and encodes " +
        "in one pass, so **encode alone** is measured apart: the output's pixels encoded again with the same options.",
      "**Pillow (thumbor's engine)**: `bench/pillow-anchor.py` in the same run: Pillow 12.3 doing what thumbor 7.8's engine " +
        "does for the same URL (lazy open, `draft`, the centred crop to the target's aspect ratio, LANCZOS resize, save with thumbor's " +
        "defaults), CPU per request, the median of three loops (a median like ours). " +
        "A thumbor server costs more than this (its HTTP and Python around it). Ratios come from one run: absolute numbers move with " +
        `the machine and its load.`,
      `![CPU per miss, edge-resizer vs Pillow](${CHART_PATH})`,
    ],
    tables: [],
    notes: [
      "What limits a miss (measured on 2 Dec 2026 with sharp and Pillow alone, apart from this table): **decode**. For RainDrops " +
        "(1920 → 800, a factor of 2.4) sharp alone would decode all 1920x1200 pixels: it picks libjpeg's 1/2 shrink-on-load, then " +
        "lowers it to none whenever the factor's integer part equals the shrink (sharp's src/pipeline.cc, \"known libjpeg rounding " +
        'errors": factors from 2 to 3, 4 to 5 and 8 to 9) and has no option to ask for it. The render asks libvips itself ' +
        "(handlers/render/draft.ts: the original in a temporary file opened as `file.jpg[shrink=2]`) and decodes 960x600 as Pillow's " +
        "`draft` does: about 3 ms less per RainDrops miss, and a file within 0.1 % of Pillow's. TwoWings (3.2) and the Elephants " +
        "(7.05) get 1/2 and 1/4 from sharp itself. Entropy decoding dominates anyway (at 1/8 scale RainDrops still costs sharp " +
        "13.6 ms), so no decoder setting halves a miss against Pillow, which uses the same libjpeg-turbo. " +
        "**encode**: WebP effort 2 (half the CPU of effort 4; sizes in " +
        "the first table); progressive JPEG as thumbor writes it (PROGRESSIVE_JPEG) costs 6.4 ms in sharp against Pillow's 4.5 ms " +
        "for 800x500, where a baseline JPEG with optimised Huffman tables would cost 3.6 ms for a file 1 % larger but change how " +
        "browsers draw it. **Outside the render**: origin-response signs and sends its two requests itself (handlers/s3/: SigV4 " +
        "over node:http, keep-alive) instead of through the AWS SDK, whose GET cost about three times a bare node:http GET of the " +
        "same bytes and whose PUT four times. What remains grows with the original's bytes: receiving it (TLS decryption, the socket's reads, one copy into a " +
        "buffer of the announced length that is kept across warm misses, so its pages are not faulted in again) is the S3 GET " +
        "column above. Without the SDK the bundle is 64 KB instead of " +
        "636 KB and its module load (sharp included) about 38 ms instead of 94 ms (measured apart against the bundle of commit " +
        "08058b8, which carried the SDK): a cold start's share, in the last table.",
    ],
  };
  if (!existsSync(PHOTOS_DIR)) {
    section.notes!.push(`SKIPPED: ${PHOTOS_DIR} not found (set BENCH_PHOTOS_DIR).`);
    return { section, budgets: missBudgets([], "photos not found") };
  }
  const { results, pillowNote, cold } = await measureWorkloads(ctx);
  const measurements = missMeasurements(results, pillowNote);
  section.tables.push(comparisonTable(results), phaseTable(results));
  if (cold) section.tables.push(coldStartTable(cold));
  if (pillowNote) section.notes!.push(pillowNote);
  const concurrency = results.find((r) => r.own)?.own?.sharpConcurrency;
  if (concurrency !== undefined) section.notes!.push(`sharp.concurrency() in the miss's process: ${concurrency}.`);
  for (const r of results) if (r.error) section.notes!.push(`FAILED: ${r.workload.label}: ${r.error}`);
  const chart = join(PROJECT_ROOT, CHART_PATH);
  mkdirSync(dirname(chart), { recursive: true });
  writeFileSync(chart, missChartSvg(results, { date: new Date().toISOString().slice(0, 10) }));
  return { section, budgets: missBudgets(results, pillowNote), measurements };
}
