/**
 * origin-response benchmark: a real miss (S3 GET from the embedded s3rver, render, S3 PUT,
 * base64 answer) for every photo × width × format, each case in a child process of its own
 * (bench/origin-response-case.ts) for an honest peak RSS, against bare sharp doing the same
 * resize of the same buffer in that same process.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { LOCAL_REGION, S3RVER_CREDENTIALS, createS3Client, startEmbeddedS3 } from "../local/s3.js";
import { loopbackTls } from "../local/signature-check.js";
import { PROJECT_ROOT, bundleChild, childJson, runNode } from "./child.js";
import type { BenchFormat, CaseInput, CaseOutput } from "./origin-response-case.js";
import type { Section } from "./report.js";
import { formatNumber, formatRatio, median, ratio, summarize, type Budget } from "./stats.js";
import type { BenchContext, BenchResult } from "./types.js";

/** The benchmark photos, committed in `bench/photos/` (or the folder `BENCH_PHOTOS_DIR` names). */
export const PHOTOS_DIR = process.env.BENCH_PHOTOS_DIR ? resolve(process.env.BENCH_PHOTOS_DIR) : resolve(PROJECT_ROOT, "bench", "photos");

export interface Photo {
  file: string;
  label: string;
  megapixels: number;
}

export const PHOTOS: Photo[] = [
  { file: "RainDrops.jpg", label: "RainDrops 1920x1200 (2.3 MP)", megapixels: 2.3 },
  { file: "TwoWings.jpg", label: "TwoWings 2560x1600 (4.1 MP)", megapixels: 4.1 },
  { file: "Elephants_5640x3172.jpg", label: "Elephants 5640x3172 (17.9 MP) progressive", megapixels: 17.9 },
  { file: "Elephants_5640x3172_baseline.jpg", label: "Elephants 5640x3172 (17.9 MP) baseline", megapixels: 17.9 },
];
export const WIDTHS = [320, 800, 1600];
export const FORMATS: BenchFormat[] = ["jpeg", "webp", "avif"];

const BUCKET = "bench";

export interface CaseResult {
  photo: Photo;
  width: number;
  format: BenchFormat;
  output?: CaseOutput;
  error?: string;
}

function runsFor(photo: Photo, quick: boolean): number {
  if (quick) return photo.megapixels > 10 ? 1 : 3;
  return photo.megapixels > 10 ? 5 : 31;
}

export async function runOriginResponseBench(ctx: BenchContext): Promise<BenchResult> {
  const section: Section = {
    title: "origin-response: a miss, end to end",
    text: [
      "Each case is one child process running the esbuild bundle of bench/origin-response-case.ts with plain `node` " +
        "(the handler, its S3 client and sharp, as in the Lambda bundle). Memory phase: 8 misses through `createOriginResponseHandler` " +
        "against the embedded s3rver over HTTPS, as origin-response reaches AWS's S3 (GET of the original, render, PUT of the variant, base64 answer), then **peak RSS** = " +
        "`process.resourceUsage().maxRSS` (it includes Node, the handler and sharp: what the Lambda's memory must hold). Timing phase: " +
        `${runsFor(PHOTOS[0]!, ctx.quick)} misses per case up to 4 MP (${runsFor(PHOTOS[2]!, ctx.quick)} for the 18 MP photos), ` +
        "each followed by bare sharp (`sharp(buffer).resize(w, h).<format>(same encoder options)`) on the same buffer in the same " +
        "process, so that both see the same machine state.",
      "**own work** is the handler's CPU time per miss (user + system, every thread of the process) outside its S3 calls: the " +
        "S3 client's `get` and `put` are wrapped, and the CPU spent inside them (a GET returns once the whole body is read) is " +
        "S3's share, shown apart as **S3 CPU** (HTTP, TLS, signing, receiving the body; the store's check of the body against its ETag's MD5 is skipped over TLS, whose records already authenticate every byte, as in production); misses run one at a time and no sharp work is in flight meanwhile. CPU time " +
        "is not inflated when other processes share the machine. **own (clock)** is the wall-clock end-to-end time minus the wall " +
        "time of those same S3 spans. The ratio is own work / bare sharp, both CPU medians.",
    ],
    tables: [],
    notes: [],
  };
  const budgets: Budget[] = [];

  if (!existsSync(PHOTOS_DIR)) {
    const why = `${PHOTOS_DIR} not found`;
    ctx.log(`origin-response: SKIPPED, ${why}`);
    section.notes!.push(`SKIPPED: ${why}; every origin-response case and budget is skipped.`);
    budgets.push(...originBudgets([], why));
    return { section, budgets };
  }
  const photos = PHOTOS.filter((p) => {
    if (existsSync(join(PHOTOS_DIR, p.file))) return true;
    ctx.log(`origin-response: ${p.file} missing in ${PHOTOS_DIR}, its cases are skipped`);
    section.notes!.push(`SKIPPED: ${p.file} is missing in ${PHOTOS_DIR}.`);
    return false;
  });
  const widths = ctx.quick ? [800] : WIDTHS;

  const script = await bundleChild(join(__dirname, "origin-response-case.ts"), "origin-response-case");
  const dataDir = mkdtempSync(join(tmpdir(), "edge-resizer-bench-s3-"));
  // Over HTTPS, as origin-response reaches AWS's S3: a GET pays TLS's decryption, not the MD5 check.
  const tls = loopbackTls();
  const s3 = await startEmbeddedS3(dataDir, BUCKET, { tls });
  const results: CaseResult[] = [];
  try {
    const client = createS3Client({ endpoint: s3.endpoint, region: LOCAL_REGION, credentials: S3RVER_CREDENTIALS, ca: tls.cert });
    for (const photo of photos) {
      await client.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: `photos/${photo.file}`,
          Body: readFileSync(join(PHOTOS_DIR, photo.file)),
          ContentType: "image/jpeg",
        }),
      );
    }
    client.destroy();
    for (const photo of photos) {
      for (const width of widths) {
        for (const format of FORMATS) {
          const input: CaseInput = {
            endpoint: s3.endpoint,
            bucket: BUCKET,
            key: `photos/${photo.file}`,
            file: join(PHOTOS_DIR, photo.file),
            width,
            format,
            runs: runsFor(photo, ctx.quick),
          };
          const result: CaseResult = { photo, width, format };
          try {
            result.output = childJson<CaseOutput>(
              await runNode(script, [JSON.stringify(input)], { env: { ...process.env, NODE_EXTRA_CA_CERTS: tls.certFile } }),
              `case ${photo.file} ${width} ${format}`,
            );
            const o = result.output;
            ctx.log(
              `  ${photo.file} → ${width} ${format}: own ${formatNumber(median(o.ownCpu))} ms CPU, bare sharp ${formatNumber(median(o.baselineCpu))} ms, ` +
                `end-to-end ${formatNumber(median(o.endToEnd))} ms, peak RSS ${o.peakRssMiB.toFixed(0)} MiB`,
            );
          } catch (err) {
            result.error = err instanceof Error ? err.message : String(err);
            ctx.log(`  ${photo.file} → ${width} ${format}: FAILED ${result.error}`);
            section.notes!.push(`FAILED: ${photo.file} → ${width} ${format}: ${result.error}`);
          }
          results.push(result);
        }
      }
    }
  } finally {
    await s3.close();
    rmSync(dataDir, { recursive: true, force: true });
  }

  section.tables.push(caseTable(results));
  section.tables.push(memoryTable(results));
  const concurrency = results.find((r) => r.output)?.output?.sharpConcurrency;
  if (concurrency !== undefined)
    section.notes!.push(`sharp.concurrency() in the handler's process: ${concurrency} libvips thread(s) per image.`);
  budgets.push(...originBudgets(results));
  return { section, budgets };
}

function caseTable(results: CaseResult[]) {
  const rows = results.map((r) => {
    const head = [r.photo.label, String(r.width), r.format];
    const o = r.output;
    if (!o) return [...head, "failed", "", "", "", "", "", "", "", "", ""];
    const own = summarize(o.ownCpu);
    const bare = summarize(o.baselineCpu);
    const e2e = summarize(o.endToEnd);
    return [
      ...head,
      `${o.outputWidth}x${o.outputHeight}, ${(o.outputBytes / 1024).toFixed(0)} KiB${o.status === "302" ? " (302)" : ""}`,
      `${formatNumber(own.median)} / ${formatNumber(own.p95)}`,
      `${formatNumber(bare.median)} / ${formatNumber(bare.p95)}`,
      formatRatio(ratio(own.median, bare.median)),
      formatNumber(median(o.own)),
      formatRatio(ratio(median(o.own), median(o.baseline))),
      `${formatNumber(e2e.median)} / ${formatNumber(e2e.p95)}`,
      `${formatNumber(median(o.s3))} / ${formatNumber(median(o.s3Cpu))}`,
      o.peakRssMiB.toFixed(0),
    ];
  });
  return {
    columns: [
      "photo",
      "width",
      "format",
      "output",
      "own work CPU ms median / p95",
      "bare sharp CPU ms median / p95",
      "ratio (CPU)",
      "own (clock) ms median",
      "ratio (clock)",
      "end-to-end ms median / p95",
      "S3 wall / CPU ms median",
      "peak RSS MiB",
    ],
    rows,
  };
}

/** Per photo: the largest peak RSS over its widths and formats (what docs/memory.md is built from). */
function memoryTable(results: CaseResult[]) {
  const byPhoto = new Map<string, { photo: Photo; peak: number; idle: number; worst: string }>();
  for (const r of results) {
    if (!r.output) continue;
    const cur = byPhoto.get(r.photo.file);
    if (!cur || r.output.peakRssMiB > cur.peak) {
      byPhoto.set(r.photo.file, { photo: r.photo, peak: r.output.peakRssMiB, idle: r.output.idleRssMiB, worst: `${r.width} ${r.format}` });
    }
  }
  return {
    columns: ["photo", "largest peak RSS MiB (case)", "RSS before the first miss MiB"],
    rows: [...byPhoto.values()].map((v) => [v.photo.label, `${v.peak.toFixed(0)} (${v.worst})`, v.idle.toFixed(0)]),
  };
}

/** The origin-response budgets; with `skip`, all of them skipped for that reason. */
export function originBudgets(results: CaseResult[], skip?: string): Budget[] {
  const ok = results.filter((r): r is CaseResult & { output: CaseOutput } => r.output !== undefined);
  const none = (why: string) => skip ?? why;

  // Own work vs bare sharp: the worst case decides.
  let worst: { value: number; what: string } | null = null;
  for (const r of ok) {
    const q = ratio(median(r.output.ownCpu), median(r.output.baselineCpu));
    if (q !== null && (!worst || q > worst.value)) worst = { value: q, what: `${r.photo.file} → ${r.width} ${r.format}` };
  }
  const budgets: Budget[] = [
    {
      name: "origin-response own work vs bare sharp",
      measure: worst ? `worst case of ${ok.length}: ${worst.what}, CPU medians` : "CPU medians",
      comparison: "<=",
      limit: 1.15,
      unit: "x",
      value: worst?.value ?? null,
      skipReason: none("no case completed"),
    },
  ];

  for (const file of ["Elephants_5640x3172.jpg", "Elephants_5640x3172_baseline.jpg"]) {
    const r = ok.find((c) => c.photo.file === file && c.width === 800 && c.format === "webp");
    budgets.push({
      name: `peak RSS, 18 MP ${file.includes("baseline") ? "baseline" : "progressive"} JPEG → 800 px WebP`,
      measure: "maxRSS of the case's process",
      comparison: "<",
      limit: 400,
      unit: "MiB",
      value: r ? r.output.peakRssMiB : null,
      skipReason: none(`case ${file} → 800 webp did not run`),
    });
  }

  let worstAvif: { value: number; what: string } | null = null;
  for (const a of ok.filter((c) => c.format === "avif")) {
    const w = ok.find((c) => c.format === "webp" && c.photo.file === a.photo.file && c.width === a.width);
    if (!w) continue;
    const q = ratio(median(a.output.ownCpu), median(w.output.ownCpu));
    if (q !== null && (!worstAvif || q > worstAvif.value)) worstAvif = { value: q, what: `${a.photo.file} → ${a.width}` };
  }
  budgets.push({
    name: "AVIF vs WebP, same case",
    measure: worstAvif ? `worst case: ${worstAvif.what}, own work CPU medians` : "own work CPU medians",
    comparison: "<=",
    limit: 2,
    unit: "x",
    value: worstAvif?.value ?? null,
    skipReason: none("no AVIF/WebP pair completed"),
  });
  return budgets;
}
