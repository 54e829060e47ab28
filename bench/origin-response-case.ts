/**
 * One origin-response benchmark case, run in a child process of its own (bench/origin-response.ts
 * bundles this file with esbuild and runs it with plain `node`, as Lambda runs the bundle), so
 * that `process.resourceUsage().maxRSS` is the peak of this case alone.
 *
 * In order: a memory phase of 8 misses through the real handler against the embedded S3 (a warm
 * Lambda; the peak RSS is read right after it, before the baseline allocates anything), then a
 * timing phase of `runs` misses, each followed by bare sharp resizing the same original to the
 * same pixels and format.
 *
 * The handler's own work is what is left of a miss once the S3 calls (and the reading of a GET's
 * body) are taken out, both by the clock and in CPU time: see timedS3.
 */
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import sharp from "sharp";
import type { CloudFrontRequest, CloudFrontResultResponse } from "aws-lambda";
import { createOriginResponseHandler } from "../handlers/origin-response.js";
import { createViewerRequestHandler } from "../handlers/viewer-request.js";
import { DEFAULT_SETTINGS, type Settings } from "../handlers/core/settings.js";
import { LOCAL_REGION, createHandlerS3Client } from "../local/s3.js";
import type { S3HttpClient } from "../handlers/s3/client.js";
import { originResponseEvent, viewerRequestEvent, type Distribution } from "../local/events.js";
import { VIEWER_URL_HEADER } from "../handlers/cloudfront/plumbing.js";
import { uriToKey } from "../handlers/core/variant-key.js";
import { stillEncoderOptions } from "../handlers/render/encode.js";

export type BenchFormat = "jpeg" | "webp" | "avif";

export interface CaseInput {
  endpoint: string;
  bucket: string;
  /** Key of the original in the bucket. */
  key: string;
  /** The same original on disk, for the bare-sharp baseline. */
  file: string;
  width: number;
  format: BenchFormat;
  runs: number;
  /** Override sharp's libvips thread count (experiments); default: whatever the pipeline leaves. */
  concurrency?: number;
}

export interface CaseOutput {
  variantKey: string;
  status: string;
  outputWidth: number;
  outputHeight: number;
  outputBytes: number;
  /** ms per miss, end to end (event in → answer out). */
  endToEnd: number[];
  /** ms per miss spent waiting on S3 (GET with body, PUT). */
  s3: number[];
  /** ms per miss of the handler's own work by the clock: endToEnd − s3. */
  own: number[];
  /** CPU ms (user + system, all threads of the process) per miss outside S3 calls: the handler's own work. */
  ownCpu: number[];
  /** CPU ms per miss inside S3 calls (sending, receiving, signing). */
  s3Cpu: number[];
  /** ms per bare-sharp resize (decode, resize, encode of the same buffer). */
  baseline: number[];
  /** CPU ms per bare-sharp resize. */
  baselineCpu: number[];
  /** MiB: peak RSS after the memory phase's misses (before any baseline run). */
  peakRssMiB: number;
  /** MiB: RSS once everything is loaded, before the first miss. */
  idleRssMiB: number;
  sharpConcurrency: number;
}

/** Misses of the memory phase, before the timed ones (V8 compiles the handler's code meanwhile). */
const MEMORY_PHASE_MISSES = 8;

const distribution: Distribution = { domainName: "bench.cloudfront.net", distributionId: "BENCH", bucket: "", region: LOCAL_REGION };
const CHROME_ACCEPT = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";

/**
 * Wraps the handlers' S3 client so the wall time spent on S3 is added to `clock.ms` and the CPU
 * time of the process meanwhile (HTTP, signing, receiving the body) to `clock.cpuMs`. The client
 * reads a GET's whole body before it returns; misses run one at a time and no sharp work is in
 * flight meanwhile, so that CPU is S3's share.
 */
function timedS3(client: S3HttpClient, clock: { ms: number; cpuMs: number }): S3HttpClient {
  const timed = async <T>(call: () => Promise<T>): Promise<T> => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    try {
      return await call();
    } finally {
      clock.ms += performance.now() - t0;
      clock.cpuMs += cpuMs(process.cpuUsage(c0));
    }
  };
  const get = client.get.bind(client);
  const put = client.put.bind(client);
  client.get = (...args) => timed(() => get(...args));
  client.put = (...args) => timed(() => put(...args));
  return client;
}

/** Bare sharp: the same resize and encoder settings as handlers/render/encode.ts, nothing else. */
function bareSharp(original: Buffer, width: number, height: number, format: BenchFormat): Promise<Buffer> {
  const image = sharp(original).resize(width, height, { fit: "fill" });
  switch (format) {
    case "jpeg":
      return image.jpeg(stillEncoderOptions("jpeg", 80)).toBuffer();
    case "webp":
      return image.webp(stillEncoderOptions("webp", 80)).toBuffer();
    case "avif":
      return image.avif({ quality: 80, effort: 0 }).toBuffer();
  }
}

function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000;
}

const isResponse = (r: CloudFrontRequest | CloudFrontResultResponse): r is CloudFrontResultResponse => "status" in r;

export async function runCase(input: CaseInput): Promise<CaseOutput> {
  if (input.concurrency !== undefined) sharp.concurrency(input.concurrency);
  // Every timed miss renders from the original, as bare sharp does: with intermediates on, the
  // repeated misses of a large photo would render from the intermediate the first one stored
  // (bench/intermediate.ts measures that path).
  const settings: Settings = { ...DEFAULT_SETTINGS, intermediate: "off" };
  const clock = { ms: 0, cpuMs: 0 };
  const client = timedS3(createHandlerS3Client(input.endpoint), clock);
  const dist = { ...distribution, bucket: input.bucket };
  const viewer = createViewerRequestHandler(settings);
  const origin = createOriginResponseHandler(settings, { s3Client: () => client });

  // The URI CloudFront would ask S3 for: the viewer-request handler's rewrite of a thumbor URL.
  const url = `/unsafe/${input.width}x0/filters:format(${input.format})/${input.key}`;
  const rewritten = await viewer(
    viewerRequestEvent(
      { method: "GET", url, rawHeaders: ["Host", dist.domainName, "Accept", CHROME_ACCEPT], clientIp: "203.0.113.9" },
      dist,
      "bench",
    ),
  );
  if (isResponse(rewritten)) throw new Error(`viewer-request refused ${url}: ${rewritten.status} ${rewritten.body ?? ""}`);
  const missEvent = () =>
    originResponseEvent(rewritten, { status: 403, statusDescription: "Forbidden", headers: {} }, dist, "bench", [VIEWER_URL_HEADER]);

  const miss = async () => {
    clock.ms = 0;
    clock.cpuMs = 0;
    const event = missEvent();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const answer = await origin(event);
    const total = performance.now() - t0;
    const cpu = cpuMs(process.cpuUsage(c0));
    return { answer, total, s3: clock.ms, cpu: cpu - clock.cpuMs, s3Cpu: clock.cpuMs };
  };

  const idleRssMiB = process.memoryUsage.rss() / (1024 * 1024);
  // Memory phase: a warm Lambda's steady state (V8 has compiled the handler, the
  // allocator has seen several images); the peak RSS is read before the baseline allocates anything.
  for (let i = 1; i < MEMORY_PHASE_MISSES; i++) await miss();
  const warm = await miss();
  if (warm.answer.status !== "200" && warm.answer.status !== "302") {
    throw new Error(`origin-response answered ${warm.answer.status}: ${warm.answer.body ?? ""}`);
  }
  const peakRssMiB = process.resourceUsage().maxRSS / 1024;

  // What was stored under the key (the same bytes as answered, or the target of the 302).
  const { body } = await client.get(input.bucket, uriToKey(rewritten.uri));
  const meta = await sharp(body).metadata();
  if (meta.format !== (input.format === "avif" ? "heif" : input.format)) {
    throw new Error(`origin-response stored ${meta.format}, expected ${input.format}`);
  }
  const outputWidth = meta.width;
  const outputHeight = meta.height;

  // Timing phase: each miss followed by bare sharp on the same pixels, so both see the same
  // machine state (encoders' times drift in streaks of several runs, AVIF's most).
  const original = readFileSync(input.file);
  await bareSharp(original, outputWidth, outputHeight, input.format);
  const endToEnd: number[] = [];
  const s3: number[] = [];
  const own: number[] = [];
  const ownCpu: number[] = [];
  const s3Cpu: number[] = [];
  const baseline: number[] = [];
  const baselineCpu: number[] = [];
  for (let i = 0; i < input.runs; i++) {
    const r = await miss();
    if (r.answer.status !== warm.answer.status) throw new Error(`run ${i} answered ${r.answer.status}`);
    endToEnd.push(r.total);
    s3.push(r.s3);
    own.push(r.total - r.s3);
    ownCpu.push(r.cpu);
    s3Cpu.push(r.s3Cpu);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await bareSharp(original, outputWidth, outputHeight, input.format);
    baseline.push(performance.now() - t0);
    baselineCpu.push(cpuMs(process.cpuUsage(c0)));
  }
  client.destroy();
  return {
    variantKey: rewritten.uri,
    status: warm.answer.status,
    outputWidth,
    outputHeight,
    outputBytes: body.byteLength,
    endToEnd,
    s3,
    own,
    ownCpu,
    s3Cpu,
    baseline,
    baselineCpu,
    peakRssMiB,
    idleRssMiB,
    sharpConcurrency: sharp.concurrency(),
  };
}

// Child-process entry: one JSON argument in, one JSON line out.
if (require.main === module) {
  const input = JSON.parse(process.argv[2] ?? "{}") as CaseInput;
  runCase(input).then(
    (out) => {
      process.stdout.write(`${JSON.stringify(out)}\n`);
    },
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
