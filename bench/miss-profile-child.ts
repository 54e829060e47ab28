/**
 * One workload of the per-miss profile, in a child process of its own: the BUILT origin-response
 * bundle (`dist/origin-response/index.js`, the code Lambda runs, its own S3 client and the
 * linux-x64 sharp beside it) answers S3 403s for a new variant, against an S3 server that runs
 * in the parent process. The bundle's own `handler` is called, as Lambda calls it; its S3 client
 * is aimed at that server by the AWS SDK's standard `AWS_ENDPOINT_URL_S3` variable, which it honours.
 *
 * CPU is whole-process (user + system, every thread: libvips runs on libuv's threads), read at
 * phase boundaries that the child observes from outside the bundle, without touching its code:
 *   start → sharp's first call (a header)                       = S3 GET (key, plan, GETs, body)
 *   → the last `toBuffer` resolved                              = render (decode, resize, encode)
 *   → the variant PUT's answer (node:http diagnostics channel)  = S3 PUT
 * A miss whose plan may use an intermediate sends its GET and the original's at once; when one is
 * stored, sharp's first call is the check of its header, and the original's read has stopped by
 * then (its record, from its headers, was enough), so the S3 GET phase is both GETs either way.
 *   → the handler's answer                                      = answer (status check, base64, object)
 * Encode alone is measured apart on the output's pixels (the render's libvips pipeline decodes,
 * resizes and encodes in one pass, so it has no boundary to read).
 */
import { subscribe } from "node:diagnostics_channel";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { ClientRequest } from "node:http";
import { createRequire } from "node:module";
import { performance, PerformanceObserver } from "node:perf_hooks";
import type { CloudFrontResponseEvent, CloudFrontResultResponse } from "aws-lambda";
import type SharpModule from "sharp";
import { EMPTY_SHA256, encodeS3Path, signRequest } from "../handlers/s3/sigv4.js";
import { median } from "./stats.js";

export interface ProfileInput {
  /** Absolute path of the built dist/origin-response/index.js. */
  bundle: string;
  /** The origin-response event of one miss (a 403 for the variant key). */
  event: CloudFrontResponseEvent;
  warmups: number;
  runs: number;
  /** The encoder options of the variant, to time encode alone on the output's pixels. */
  encoder: { format: "jpeg" | "webp"; options: object };
  /**
   * sharp's floor, run after each miss in this process: the original (read from `file` into
   * memory once) decoded at scale, resized and encoded in one sharp pipeline with the encoder's
   * options, nothing else (no S3, no header step, no plan).
   */
  floor?: { file: string; width: number; height: number; fit: "fill" | "cover" };
  /**
   * The original's intermediate (bucket and key on the S3 server at AWS_ENDPOINT_URL_S3), deleted
   * before every miss outside its measurement, so that each miss is a first miss of its original:
   * it makes the intermediate where that pays, as a first miss in production does, instead of
   * rendering from the one the miss before stored (bench/intermediate.ts measures later misses).
   */
  forgetIntermediate?: { bucket: string; key: string };
}

export const PHASES = ["get", "render", "put", "answer"] as const;
export type Phase = (typeof PHASES)[number];
export const PHASE_LABELS: Record<Phase, string> = { get: "S3 GET", render: "decode + render + encode", put: "S3 PUT", answer: "answer" };

export interface MissSample {
  /** CPU ms per phase and in total (the total is the whole handler call). */
  cpu: Record<Phase | "total", number>;
  wallMs: number;
  /** Wall ms of V8's garbage collections during the miss. */
  gcMs: number;
  /** Wall ms of the S3 GET and PUT phases minus their CPU ms: the miss waiting on S3 (billed on Lambda too). */
  ioWaitMs: number;
}

export interface ProfileOutput {
  status: string;
  outputBytes: number;
  /** SHA-256 (hex) of the variant's bytes. */
  outputSha256: string;
  outputWidth: number;
  outputHeight: number;
  samples: MissSample[];
  /** CPU ms of the encoder alone on the output's pixels, per run. */
  encodeCpu: number[];
  /** CPU ms of sharp's floor (ProfileInput.floor) after each timed miss; empty without one. */
  floorCpu: number[];
  sharpConcurrency: number;
  /** RSS MiB after the runs (peak). */
  peakRssMiB: number;
}

export function phaseMedians(own: ProfileOutput): Record<Phase | "total", number> {
  const of = (k: Phase | "total") => median(own.samples.map((s) => s.cpu[k]));
  return { get: of("get"), render: of("render"), put: of("put"), answer: of("answer"), total: of("total") };
}

type Handler = (event: CloudFrontResponseEvent) => Promise<CloudFrontResultResponse>;

const cpuNow = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Phase boundaries of the miss in flight, in CPU ms of the process. */
class MissClock {
  marks = new Map<string, number>();
  /** The same boundaries by the wall clock (performance.now()). */
  wallMarks = new Map<string, number>();
  active = false;
  mark(name: string): void {
    if (!this.active) return;
    this.marks.set(name, cpuNow());
    this.wallMarks.set(name, performance.now());
  }
  markOnce(name: string): void {
    if (this.active && !this.marks.has(name)) this.mark(name);
  }
}

function instrumentSharp(sharp: typeof SharpModule, clock: MissClock): void {
  const proto = (sharp as unknown as { prototype: Record<string, (...args: unknown[]) => unknown> }).prototype;
  const metadata = proto.metadata!;
  proto.metadata = function (this: unknown, ...args: unknown[]) {
    clock.markOnce("firstSharp");
    return metadata.apply(this, args);
  };
  const toBuffer = proto.toBuffer!;
  proto.toBuffer = function (this: unknown, ...args: unknown[]) {
    clock.markOnce("firstSharp");
    const out = toBuffer.apply(this, args);
    if (out instanceof Promise) return out.then((v) => (clock.mark("lastSharp"), v));
    return out;
  };
}

function instrumentHttp(clock: MissClock): void {
  // The variant's PUT is the miss's last: a miss that makes an intermediate PUTs it during the render.
  subscribe("http.client.response.finish", (message) => {
    if ((message as { request: ClientRequest }).request.method === "PUT") clock.mark("putAnswered");
  });
}

/** Wall minus CPU of the S3 GET phase (start to sharp's first call) and the S3 PUT phase (last toBuffer to the PUT's answer). */
function ioWaitOf(clock: MissClock, start: { cpu: number; wall: number }, end: { cpu: number; wall: number }): number {
  const at = (name: string, fallback: { cpu: number; wall: number }) => ({
    cpu: clock.marks.get(name) ?? fallback.cpu,
    wall: clock.wallMarks.get(name) ?? fallback.wall,
  });
  const first = at("firstSharp", start);
  const last = at("lastSharp", first);
  const put = at("putAnswered", end);
  const wait = (from: { cpu: number; wall: number }, to: { cpu: number; wall: number }) =>
    Math.max(0, to.wall - from.wall - (to.cpu - from.cpu));
  return wait(start, first) + wait(last, put);
}

function phasesOf(marks: Map<string, number>, start: number, end: number): Record<Phase | "total", number> {
  const first = marks.get("firstSharp") ?? start;
  const last = marks.get("lastSharp") ?? first;
  const put = marks.get("putAnswered") ?? end;
  return { get: first - start, render: last - first, put: put - last, answer: end - put, total: end - start };
}

export async function profileMisses(input: ProfileInput): Promise<ProfileOutput> {
  const bundleRequire = createRequire(input.bundle);
  // The very module instance the bundle loads (sharp is external to it, beside it in node_modules).
  const sharp = bundleRequire("sharp") as typeof SharpModule;
  const clock = new MissClock();
  instrumentSharp(sharp, clock);
  instrumentHttp(clock);
  let gcMs = 0;
  new PerformanceObserver((list) => {
    if (clock.active) for (const e of list.getEntries()) gcMs += e.duration;
  }).observe({ entryTypes: ["gc"] });
  const { handler } = bundleRequire(input.bundle) as { handler: Handler };

  const miss = async (): Promise<{ answer: CloudFrontResultResponse; sample: MissSample }> => {
    if (input.forgetIntermediate) await forget(input.forgetIntermediate);
    const event = structuredClone(input.event);
    clock.marks.clear();
    clock.wallMarks.clear();
    gcMs = 0;
    clock.active = true;
    const t0 = performance.now();
    const start = cpuNow();
    const answer = await handler(event);
    const end = cpuNow();
    const t1 = performance.now();
    clock.active = false;
    const ioWaitMs = ioWaitOf(clock, { cpu: start, wall: t0 }, { cpu: end, wall: t1 });
    // GC entries are delivered asynchronously: let them arrive before reading the sum.
    await new Promise((r) => setImmediate(r));
    return { answer, sample: { cpu: phasesOf(clock.marks, start, end), wallMs: t1 - t0, gcMs, ioWaitMs } };
  };

  let last = await miss();
  for (let i = 1; i < input.warmups; i++) last = await miss();
  if (last.answer.status !== "200") throw new Error(`origin-response answered ${last.answer.status}: ${last.answer.body ?? ""}`);
  const floor = input.floor ? floorRun(sharp, input.floor, input.encoder) : null;
  if (floor) await floor();
  const samples: MissSample[] = [];
  const floorCpu: number[] = [];
  for (let i = 0; i < input.runs; i++) {
    const r = await miss();
    if (r.answer.status !== "200") throw new Error(`run ${i} answered ${r.answer.status}`);
    samples.push(r.sample);
    // Right after the miss, so both see the same machine state.
    if (floor) floorCpu.push(await floor());
  }
  const output = Buffer.from(last.answer.body ?? "", "base64");
  const encodeCpu = await timeEncode(sharp, output, input);
  const meta = await sharp(output).metadata();
  return {
    status: last.answer.status,
    outputBytes: output.byteLength,
    outputSha256: createHash("sha256").update(output).digest("hex"),
    outputWidth: meta.width,
    outputHeight: meta.height,
    samples,
    encodeCpu,
    floorCpu,
    sharpConcurrency: sharp.concurrency(),
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  };
}

/**
 * Deletes an object of the S3 server at AWS_ENDPOINT_URL_S3, signed with the handler's own
 * SigV4 code (the AWS SDK would add its modules to this process's RSS); a missing one is no error.
 */
async function forget({ bucket, key }: { bucket: string; key: string }): Promise<void> {
  const endpoint = new URL(process.env.AWS_ENDPOINT_URL_S3!);
  const path = encodeS3Path(`/${bucket}/${key}`);
  const headers = signRequest(
    { method: "DELETE", host: endpoint.host, path, headers: {}, payloadHash: EMPTY_SHA256 },
    { accessKeyId: process.env.AWS_ACCESS_KEY_ID!, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY! },
    process.env.AWS_REGION ?? "us-east-1",
    new Date(),
  );
  const answer = await fetch(new URL(path, endpoint), { method: "DELETE", headers });
  if (answer.status !== 204 && answer.status !== 404) throw new Error(`DELETE ${key} answered ${answer.status}`);
}

/** One run of sharp's floor; returns its CPU ms. */
function floorRun(sharp: typeof SharpModule, floor: NonNullable<ProfileInput["floor"]>, encoder: ProfileInput["encoder"]) {
  const original = readFileSync(floor.file);
  return async (): Promise<number> => {
    const c0 = cpuNow();
    await sharp(original).resize(floor.width, floor.height, { fit: floor.fit }).toFormat(encoder.format, encoder.options).toBuffer();
    return cpuNow() - c0;
  };
}

/** The encoder alone: the output's decoded pixels encoded again with the variant's options. */
async function timeEncode(sharp: typeof SharpModule, output: Buffer, input: ProfileInput): Promise<number[]> {
  const { data, info } = await sharp(output).raw().toBuffer({ resolveWithObject: true });
  const raw = { width: info.width, height: info.height, channels: info.channels };
  const encode = () => sharp(data, { raw }).toFormat(input.encoder.format, input.encoder.options).toBuffer();
  await encode();
  const times: number[] = [];
  for (let i = 0; i < input.runs; i++) {
    const c0 = cpuNow();
    await encode();
    times.push(cpuNow() - c0);
  }
  return times;
}

// Child-process entry: one JSON argument in, one JSON line out.
if (require.main === module) {
  const input = JSON.parse(process.argv[2] ?? "{}") as ProfileInput;
  profileMisses(input).then(
    (out) => process.stdout.write(`${JSON.stringify(out)}\n`),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
