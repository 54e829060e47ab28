/**
 * The cheapest miss: a progressive JPEG decoded at 1/8 from its DC-only bytes
 * (handlers/render/jpeg/dc-only.ts) against the whole file, in this process, runs interleaved.
 * Each run decodes, resizes and encodes one variant as the render does (sharp's own 1/8
 * shrink-on-load, or the draft's temporary file at `[shrink=8]` for a factor from 8 to 9); the
 * DC-only runs include reading the markers and rewriting the file. Both must give the same bytes.
 */
import { randomUUID } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { basePlan, type TransformPlan } from "../handlers/core/plan.js";
import { DEFAULT_SETTINGS as settings } from "../handlers/core/settings.js";
import { decodeOriginal } from "../handlers/render/decode.js";
import { encodeVariant, stillEncoderOptions } from "../handlers/render/encode.js";
import { dcOnlyJpeg } from "../handlers/render/jpeg/dc-only.js";
import { openRenderContext } from "../handlers/render/context.js";
import { renderVariant } from "../handlers/render/pipeline.js";
import { applyGeometry, planGeometry } from "../handlers/render/transform.js";
import { PHOTOS_DIR } from "./origin-response.js";
import { formatNumber, formatRatio, median, ratio } from "./stats.js";
import type { BenchContext, BenchResult } from "./types.js";

interface DecodeCase {
  label: string;
  original: () => Promise<Buffer>;
  width: number;
  height: number;
  /** Through the draft's temporary file at `[shrink=8]` (a factor from 8 to 9) rather than sharp's own shrink-on-load. */
  viaFile: boolean;
}

const elephants = async () => readFileSync(join(PHOTOS_DIR, "Elephants_5640x3172.jpg"));
/** RainDrops re-encoded as sharp writes a progressive JPEG (4:2:0, so its chroma scans stay whole). */
const raindropsProgressive = async () => sharp(join(PHOTOS_DIR, "RainDrops.jpg")).jpeg({ quality: 90, progressive: true }).toBuffer();

const CASES: DecodeCase[] = [
  {
    label: "Elephants 5640x3172 progressive (4:2:2) → 300x200 (sharp's 1/8)",
    original: elephants,
    width: 300,
    height: 200,
    viaFile: false,
  },
  {
    label: "Elephants 5640x3172 progressive → 663x373 (8.5x: the file at shrink=8)",
    original: elephants,
    width: 663,
    height: 373,
    viaFile: true,
  },
  {
    label: "RainDrops 1920x1200 as a generated progressive (4:2:0) → 200x125 (sharp's 1/8)",
    original: raindropsProgressive,
    width: 200,
    height: 125,
    viaFile: false,
  },
];

/** One variant from `bytes`, as the render makes it; returns the CPU ms (every thread of this process) and the encoded bytes. */
async function render(bytes: Buffer, c: DecodeCase, dcOnly: boolean): Promise<{ cpuMs: number; data: Buffer }> {
  const start = process.cpuUsage();
  const input = dcOnly ? dcOnlyJpeg(bytes) : bytes;
  if (!input) throw new Error(`${c.label}: not rewritten`);
  const file = c.viaFile ? join(tmpdir(), `dc-only-bench-${randomUUID()}.jpg`) : null;
  if (file) writeFileSync(file, input);
  try {
    const image = sharp(file ? `${file}[shrink=8]` : input, { failOn: "none", autoOrient: true });
    const data = await image.resize(c.width, c.height, { fit: "fill" }).jpeg(stillEncoderOptions("jpeg", 80)).toBuffer();
    const used = process.cpuUsage(start);
    return { cpuMs: (used.user + used.system) / 1000, data };
  } finally {
    if (file) rmSync(file, { force: true });
  }
}

/** The whole render of a plan without filters from the whole file, step by step, without the draft step (what renderVariant did for factors of 9 and more). */
export async function wholeFileRender(plan: TransformPlan, original: Buffer): Promise<Buffer> {
  const render = await openRenderContext({ plan, original, settings });
  const decoded = await decodeOriginal(render);
  const image = await applyGeometry(render, decoded, planGeometry(render, decoded));
  return (await encodeVariant(render, { image, background: null })).data;
}

async function cpuMs(work: () => Promise<Buffer>): Promise<{ cpuMs: number; data: Buffer }> {
  const start = process.cpuUsage();
  const data = await work();
  const used = process.cpuUsage(start);
  return { cpuMs: (used.user + used.system) / 1000, data };
}

/** renderVariant's whole render of Elephants → 300x200 (thumbor's crop to 3:2, then the resize), against the same steps from the whole file. */
async function renderVariantRow(runs: number, ctx: BenchContext): Promise<string[]> {
  const original = await elephants();
  const plan = { ...basePlan("bench/elephants", 80), width: 300, height: 200, format: "jpeg" as const };
  const whole: number[] = [];
  const dc: number[] = [];
  for (let i = 0; i < runs; i++) {
    const a = await cpuMs(() => wholeFileRender(plan, original));
    const b = await cpuMs(async () => (await renderVariant({ plan, original, settings })).body);
    if (!a.data.equals(b.data)) throw new Error("renderVariant: the DC-only decode gave other bytes");
    whole.push(a.cpuMs);
    dc.push(b.cpuMs);
  }
  const label = "renderVariant: Elephants → 300x200 (crop to 3:2 after the resize), the whole render";
  ctx.log(`  ${label}: whole ${formatNumber(median(whole))} ms, DC-only ${formatNumber(median(dc))} ms`);
  return [label, "3.8 %", formatNumber(median(whole)), formatNumber(median(dc)), formatRatio(ratio(median(dc), median(whole)))];
}

export async function runDcOnlyDecodeBench(ctx: BenchContext): Promise<BenchResult> {
  sharp.concurrency(1);
  sharp.cache(false);
  const runs = ctx.quick ? 3 : 9;
  const rows: string[][] = [];
  for (const c of CASES) {
    const original = await c.original();
    const whole: number[] = [];
    const dc: number[] = [];
    for (let i = 0; i < runs; i++) {
      const a = await render(original, c, false);
      const b = await render(original, c, true);
      if (!a.data.equals(b.data)) throw new Error(`${c.label}: the DC-only decode gave other bytes`);
      whole.push(a.cpuMs);
      dc.push(b.cpuMs);
    }
    const kept = dcOnlyJpeg(original)!.length / original.length;
    ctx.log(`  ${c.label}: whole ${formatNumber(median(whole))} ms, DC-only ${formatNumber(median(dc))} ms`);
    rows.push([
      c.label,
      `${(kept * 100).toFixed(1)} %`,
      formatNumber(median(whole)),
      formatNumber(median(dc)),
      formatRatio(ratio(median(dc), median(whole))),
    ]);
  }
  rows.push(await renderVariantRow(runs, ctx));
  return {
    section: {
      title: "progressive JPEGs at 1/8: the DC-only decode",
      text: [
        `Each case ${runs} times, whole file and DC-only interleaved in one process (sharp.concurrency(1)); CPU ms is process.cpuUsage ` +
          "(user + system, every thread) around one decode, resize and JPEG encode, median; the DC-only runs include reading the markers " +
          "and rewriting the file (and writing the temporary file where the case goes through one): a baseline file of the DC coefficients " +
          "where every component is decoded from DC alone (handlers/render/jpeg/dc-baseline.ts), else the progressive file with its AC scans emptied. The last row is the whole render " +
          "(header, decode, geometry, encode): renderVariant against the same steps without its draft step. Every run checks that both give the same bytes.",
      ],
      tables: [{ columns: ["case", "bytes kept", "whole file (CPU ms)", "DC-only (CPU ms)", "ratio"], rows }],
    },
    budgets: [],
  };
}
