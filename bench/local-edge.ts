/**
 * The local edge under load (autocannon's programmatic API, in this process; the edge runs in
 * a child, bench/local-edge-server.ts): cache hits per second, and the latency of real misses
 * (every request a new variant) with 1, 4 and 16 concurrent clients.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import autocannon from "autocannon";
import sharp from "sharp";
import { PROJECT_ROOT } from "./child.js";
import { PHOTOS_DIR } from "./origin-response.js";
import type { Section, Table } from "./report.js";
import { formatNumber, formatRatio, median, percentile, ratio, summarize } from "./stats.js";
import type { BenchContext, BenchResult } from "./types.js";

const ACCEPT = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";
const HIT_PATH = "/original.jpg?d=300x200";

interface EdgeChild {
  process: ChildProcess;
  edgeUrl: string;
  staticUrl: string;
  hitBytes: number;
}

async function startEdgeChild(originals: string, dataDir: string): Promise<EdgeChild> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(__dirname, "local-edge-server.ts"), JSON.stringify({ originals, dataDir, hitPath: HIT_PATH, accept: ACCEPT })],
    {
      cwd: PROJECT_ROOT,
      stdio: ["pipe", "pipe", "pipe"],
    },
  );
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolveLine, reject) => {
    lines.once("line", resolveLine);
    child.once("exit", (code) =>
      reject(new Error(`the local edge exited (${code}) before it was ready: ${stderr.trim().split("\n").slice(0, 5).join(" / ")}`)),
    );
  });
  const info = JSON.parse(first) as Omit<EdgeChild, "process">;
  return { process: child, ...info };
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null) return done();
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(timer);
      done();
    });
    child.stdin!.end();
  });
}

/** autocannon with its event emitter (the callback form; the promise form has no events). */
function cannon(options: autocannon.Options, listen: (instance: autocannon.Instance) => void): Promise<autocannon.Result> {
  return new Promise((done, fail) => {
    const instance = autocannon(options, (err, result) => (err ? fail(err) : done(result)));
    listen(instance);
  });
}

interface HitRun {
  perSecond: number[];
  latencies: number[];
  non2xx: number;
  errors: number;
}

async function hammer(url: string, connections: number, seconds: number): Promise<HitRun> {
  const perSecond: number[] = [];
  const latencies: number[] = [];
  const result = await cannon({ url: `${url}${HIT_PATH}`, connections, duration: seconds, headers: { accept: ACCEPT } }, (instance) => {
    // The typings omit tick's argument: { counter } = responses in the last second.
    (instance as unknown as NodeJS.EventEmitter).on("tick", (t: { counter: number }) => perSecond.push(t.counter));
    instance.on("response", (_client, _status, _bytes, ms) => latencies.push(ms));
  });
  // autocannon ticks once more as it stops, counting a fraction of a second (often 0): whole seconds only.
  return { perSecond: perSecond.slice(0, seconds), latencies, non2xx: result.non2xx, errors: result.errors };
}

interface MissRun {
  latencies: number[];
  misses: number;
  other: string[];
  seconds: number;
}

/** `amount` requests over `connections` clients, each for a width no request has asked before. */
async function misses(url: string, connections: number, amount: number, nextWidth: () => number): Promise<MissRun> {
  const latencies: number[] = [];
  const other: string[] = [];
  let count = 0;
  const started = performance.now();
  await cannon(
    {
      url,
      connections,
      amount,
      timeout: 60,
      headers: { accept: ACCEPT },
      requests: [
        {
          method: "GET",
          setupRequest: (req) => ({ ...req, path: `/original.jpg?d=${nextWidth()}x0` }),
          onResponse: (status, _body, _context, headers) => {
            const xCache = String(headers?.["x-cache"] ?? "");
            if (status === 200 && xCache.startsWith("Miss")) count++;
            else if (other.length < 5) other.push(`${status} ${xCache}`);
          },
        },
      ],
    },
    (instance) => instance.on("response", (_client, _status, _bytes, ms) => latencies.push(ms)),
  );
  return { latencies, misses: count, other, seconds: (performance.now() - started) / 1000 };
}

export async function runLocalEdgeBench(ctx: BenchContext): Promise<BenchResult> {
  const notes: string[] = [];
  const tables: Table[] = [];
  // The original every request resizes: the 2.3 MP photo when the shared fixtures are there.
  const shared = join(PHOTOS_DIR, "RainDrops.jpg");
  const source = existsSync(shared) ? shared : join(PROJECT_ROOT, "local", "samples", "rain-drops.jpg");
  if (source !== shared) notes.push(`${shared} not found: the misses resize local/samples/rain-drops.jpg (1200x750) instead.`);
  const work = mkdtempSync(join(tmpdir(), "edge-resizer-bench-edge-"));
  const originals = join(work, "originals");
  mkdirSync(originals);
  copyFileSync(source, join(originals, "original.jpg"));
  const meta = await sharp(source).metadata();

  const hitSeconds = ctx.quick ? 3 : 8;
  const hitConnections = 10;
  const missPlan: [number, number][] = ctx.quick
    ? [
        [1, 4],
        [4, 8],
        [16, 16],
      ]
    : [
        [1, 12],
        [4, 24],
        [16, 48],
      ];
  let width = 400;
  const nextWidth = () => width++;

  const edge = await startEdgeChild(originals, join(work, "s3"));
  let hits: HitRun;
  let bare: HitRun;
  const missRuns: [number, MissRun][] = [];
  try {
    await hammer(edge.edgeUrl, hitConnections, 1); // warm-up
    hits = await hammer(edge.edgeUrl, hitConnections, hitSeconds);
    bare = await hammer(edge.staticUrl, hitConnections, hitSeconds);
    ctx.log(`  local edge: ${formatNumber(median(hits.perSecond))} hits/s (bare Node HTTP: ${formatNumber(median(bare.perSecond))}/s)`);
    for (const [connections, amount] of missPlan) {
      const run = await misses(edge.edgeUrl, connections, amount, nextWidth);
      missRuns.push([connections, run]);
      ctx.log(
        `  local edge misses, ${connections} client(s): median ${formatNumber(median(run.latencies))} ms over ${run.latencies.length}`,
      );
      if (run.misses !== amount)
        notes.push(
          `${connections} client(s): ${amount - run.misses} of ${amount} answers were not fresh misses (${run.other.join(", ")}).`,
        );
    }
  } finally {
    await stopChild(edge.process);
    rmSync(work, { recursive: true, force: true });
  }

  // Baseline for a miss: bare sharp making one such variant from the same bytes, here.
  const bytes = readFileSync(source);
  const bareMs: number[] = [];
  for (let i = 0; i < 6; i++) {
    const t0 = performance.now();
    await sharp(bytes).resize(450).webp({ quality: 80, effort: 4 }).toBuffer();
    if (i > 0) bareMs.push(performance.now() - t0);
  }
  const bareMiss = median(bareMs);

  const hitRate = summarize(hits.perSecond);
  const bareRate = summarize(bare.perSecond);
  tables.push({
    columns: [
      "cache hits",
      "requests/s median",
      "requests/s, slowest 5 % of seconds",
      "latency ms median / p95",
      "ratio to baseline (rate)",
      "non-2xx / errors",
    ],
    rows: [
      [
        "baseline: bare Node HTTP server, same bytes",
        formatNumber(bareRate.median),
        formatNumber(percentile(bare.perSecond, 5)),
        `${formatNumber(median(bare.latencies))} / ${formatNumber(percentile(bare.latencies, 95))}`,
        "1.00x",
        `${bare.non2xx} / ${bare.errors}`,
      ],
      [
        `local edge, \`${HIT_PATH}\` (viewer-request + cache)`,
        formatNumber(hitRate.median),
        formatNumber(percentile(hits.perSecond, 5)),
        `${formatNumber(median(hits.latencies))} / ${formatNumber(percentile(hits.latencies, 95))}`,
        formatRatio(ratio(hitRate.median, bareRate.median)),
        `${hits.non2xx} / ${hits.errors}`,
      ],
    ],
  });
  tables.push({
    columns: ["misses", "requests", "latency ms median", "latency ms p95", "misses/s", "ratio to bare sharp (median)"],
    rows: [
      [
        "baseline: bare sharp, one variant in this process",
        String(bareMs.length),
        formatNumber(bareMiss),
        formatNumber(percentile(bareMs, 95)),
        formatNumber(1000 / bareMiss),
        "1.00x",
      ],
      ...missRuns.map(([c, r]) => [
        `${c} concurrent client${c > 1 ? "s" : ""}`,
        String(r.latencies.length),
        formatNumber(median(r.latencies)),
        formatNumber(percentile(r.latencies, 95)),
        formatNumber(r.latencies.length / r.seconds),
        formatRatio(ratio(median(r.latencies), bareMiss)),
      ]),
    ],
  });

  const section: Section = {
    title: "local edge under load",
    text: [
      "`startLocalEdge` (the real handlers behind the CloudFront-like cache, embedded s3rver) runs in a child process; autocannon's " +
        `programmatic API drives it from the suite's process, on the same machine, so client and server share the cores.`,
      `**Hits**: \`${HIT_PATH}\` (Accept of a browser, so a WebP variant), made once, then ${hitConnections} connections for ${hitSeconds} s; ` +
        "requests per second are autocannon's per-second counts. Baseline: a bare Node HTTP server in the same child answering the same bytes.",
      `**Misses**: every request asks \`/original.jpg?d=<W>x0\` with a width no request asked before (W from 400 up), so each is a ` +
        `real miss: viewer-request, S3 404, origin-response (S3 GET of the ${meta.width}x${meta.height} original, resize to WebP, S3 PUT). ` +
        "Baseline: bare sharp resizing the same bytes to 450 px WebP in the suite's process.",
    ],
    tables,
    notes,
  };
  return { section, budgets: [] };
}
