/**
 * `--only prefix`: the Elephants → 300x200 miss with origin-response's prefix read (renderOriginal
 * stops the GET where the DC scans end, render/jpeg/prefix.ts) against the whole GET it made
 * before, runs interleaved against the embedded S3 behind its signature check; and what a render
 * that needs the whole file after all pays for the second request (an EXIF-oriented progressive
 * original cut after the resize: the prefix, then the rest by range). Wall ms and CPU ms
 * (process.cpuUsage: this process, which also runs the embedded S3, so its sending is counted too).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { renderOriginal } from "../handlers/origin-response.js";
import { basePlan, type TransformPlan } from "../handlers/core/plan.js";
import { DEFAULT_SETTINGS as settings } from "../handlers/core/settings.js";
import { renderVariant } from "../handlers/render/pipeline.js";
import { S3HttpClient, type GetOptions, type S3Answer } from "../handlers/s3/client.js";
import { s3ObjectStore } from "../handlers/s3/store.js";
import { LOCAL_REGION, S3RVER_CREDENTIALS, createS3Client, startEmbeddedS3 } from "../local/s3.js";
import { PHOTOS_DIR } from "./origin-response.js";
import { formatNumber, formatRatio, median, ratio } from "./stats.js";
import type { BenchContext, BenchResult } from "./types.js";

const BUCKET = "originals";

class CountingClient extends S3HttpClient {
  requests = 0;
  bytes = 0;
  override async get(bucket: string, key: string, options: GetOptions = {}): Promise<S3Answer> {
    const answer = await super.get(bucket, key, options);
    this.requests++;
    this.bytes += answer.body.byteLength;
    return answer;
  }
}

interface Sample {
  wallMs: number;
  cpuMs: number;
  requests: number;
  bytes: number;
  body: Buffer;
}

/** One miss: the GET(s) and the render, as origin-response makes them, with or without the prefix read. */
async function miss(client: CountingClient, plan: TransformPlan, prefixRead: boolean): Promise<Sample> {
  client.requests = 0;
  client.bytes = 0;
  const store = s3ObjectStore(client);
  const wall = performance.now();
  const cpu = process.cpuUsage();
  let body: Buffer;
  if (prefixRead) {
    body = (await renderOriginal(store, BUCKET, plan, (original, dcPrefix) => renderVariant({ plan, original, settings, dcPrefix })))
      .rendered.body;
  } else {
    const original = await store.get(BUCKET, plan.source);
    body = (await renderVariant({ plan, original: original!.body, settings })).body;
  }
  const used = process.cpuUsage(cpu);
  return {
    wallMs: performance.now() - wall,
    cpuMs: (used.user + used.system) / 1000,
    requests: client.requests,
    bytes: client.bytes,
    body,
  };
}

/** Interleaved runs of both ways; each pair must give the same bytes. */
async function compare(client: CountingClient, plan: TransformPlan, runs: number): Promise<{ whole: Sample[]; prefix: Sample[] }> {
  const whole: Sample[] = [];
  const prefix: Sample[] = [];
  for (let i = 0; i < runs; i++) {
    const a = await miss(client, plan, false);
    const b = await miss(client, plan, true);
    if (!a.body.equals(b.body)) throw new Error(`${plan.source}: the prefix read gave other bytes`);
    whole.push(a);
    prefix.push(b);
  }
  return { whole, prefix };
}

const med = (samples: Sample[], field: "wallMs" | "cpuMs") => median(samples.map((s) => s[field]));

function row(label: string, way: string, samples: Sample[], baseline: Sample[]): string[] {
  return [
    label,
    way,
    String(samples[0]!.requests),
    `${(samples[0]!.bytes / 1e6).toFixed(2)} MB`,
    formatNumber(med(samples, "wallMs")),
    formatNumber(med(samples, "cpuMs")),
    formatRatio(ratio(med(samples, "cpuMs"), med(baseline, "cpuMs"))),
  ];
}

export async function runPrefixReadBench(ctx: BenchContext): Promise<BenchResult> {
  sharp.concurrency(1);
  sharp.cache(false);
  const runs = ctx.quick ? 3 : 9;
  const dir = mkdtempSync(join(tmpdir(), "prefix-bench-"));
  const s3 = await startEmbeddedS3(dir, BUCKET);
  const sdk = createS3Client({ endpoint: s3.endpoint, region: LOCAL_REGION, credentials: S3RVER_CREDENTIALS });
  const client = new CountingClient({ region: LOCAL_REGION, endpoint: s3.endpoint, credentials: S3RVER_CREDENTIALS });
  try {
    const put = (key: string, body: Buffer) =>
      sdk.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ContentType: "image/jpeg" }));
    await put("images/elephants.jpg", readFileSync(join(PHOTOS_DIR, "Elephants_5640x3172.jpg")));
    const oriented = await sharp(join(PHOTOS_DIR, "Elephants_5640x3172.jpg"))
      .withMetadata({ orientation: 6 })
      .jpeg({ quality: 90, progressive: true, chromaSubsampling: "4:4:4" })
      .toBuffer();
    await put("images/elephants-oriented.jpg", oriented);
    const plan = (source: string, width: number, height: number): TransformPlan => ({
      ...basePlan(source, 80),
      width,
      height,
      format: "jpeg",
    });
    const elephants = await compare(client, plan("images/elephants.jpg", 300, 200), runs);
    // 300x300 of a 4:3 picture: an auto-crop, which an EXIF-oriented original makes after a full-size decode.
    const fallback = await compare(client, plan("images/elephants-oriented.jpg", 300, 300), runs);
    const e = { whole: elephants.whole, prefix: elephants.prefix };
    ctx.log(
      `  Elephants → 300x200: whole ${formatNumber(med(e.whole, "wallMs"))} ms wall / ${formatNumber(med(e.whole, "cpuMs"))} ms CPU, ` +
        `prefix ${formatNumber(med(e.prefix, "wallMs"))} / ${formatNumber(med(e.prefix, "cpuMs"))}`,
    );
    ctx.log(
      `  oriented → 300x300 (needs the whole): one GET ${formatNumber(med(fallback.whole, "wallMs"))} ms wall / ${formatNumber(med(fallback.whole, "cpuMs"))} ms CPU, ` +
        `prefix then rest ${formatNumber(med(fallback.prefix, "wallMs"))} / ${formatNumber(med(fallback.prefix, "cpuMs"))}`,
    );
    return {
      section: {
        title: "origin-response's prefix read of progressive JPEGs",
        text: [
          `Each case ${runs} times, both ways interleaved in one process against the embedded S3 (s3rver behind the signature check, ` +
            "on loopback: no network latency, and its own sending is in the CPU figure); median of the whole miss (GET and render, no PUT). " +
            "Every pair checks that both give the same bytes. The second case is the price of a render that needs the whole file after " +
            "the read stopped: a second request for the rest, by range, and a render begun twice.",
        ],
        tables: [
          {
            columns: ["case", "read", "GETs", "bytes read", "wall ms", "CPU ms", "CPU ratio"],
            rows: [
              row("Elephants 5640x3172 → 300x200", "whole GET", e.whole, e.whole),
              row("Elephants 5640x3172 → 300x200", "prefix", e.prefix, e.whole),
              row("Elephants oriented (EXIF 6) → 300x300", "whole GET", fallback.whole, fallback.whole),
              row("Elephants oriented (EXIF 6) → 300x300", "prefix, then the rest", fallback.prefix, fallback.whole),
            ],
          },
        ],
      },
      budgets: [],
    };
  } finally {
    client.destroy();
    sdk.destroy();
    await s3.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
