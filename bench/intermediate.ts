/**
 * A page's set of variants of one original (VARIANT_WIDTHS x JPEG/WebP q80): total CPU made
 * directly from the original, against through an intermediate (core/intermediate.ts: made once
 * from the original, then every variant from it, as a page's first set is made in production),
 * against from an intermediate already stored (a later set), sets interleaved in this process.
 * The intermediate is made for every photo here, where it pays or not, to show where it pays.
 * Beside them: Pillow's total for the same set (pillow-anchor.py, one request per variant) and the
 * intermediate's cost in quality, each variant's PSNR against a float-Lanczos reduction of the
 * full-size original (float-lanczos.ts) through the intermediate minus that of the direct render.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import { basePlan, type TransformPlan } from "../handlers/core/plan.js";
import { DEFAULT_SETTINGS as settings } from "../handlers/core/settings.js";
import { INTERMEDIATE_LONG_SIDE, intermediatePays, type IntermediateRecord } from "../handlers/core/intermediate.js";
import { encodeIntermediate, renderFromIntermediate } from "../handlers/render/intermediate.js";
import { renderVariant } from "../handlers/render/pipeline.js";
import { PHOTOS_DIR } from "./origin-response.js";
import { psnr } from "../tests/helpers/psnr.js";
import { floatLanczos, type Pixels } from "./float-lanczos.js";
import { findPillowPython, pillowSkipNote, runPillowSet, type Size } from "./pillow.js";
import { formatNumber, formatRatio, median, ratio } from "./stats.js";
import type { BenchContext, BenchResult, Measurements } from "./types.js";

/** Widths a responsive page asks for (heights in proportion), all within the intermediate. */
export const VARIANT_WIDTHS = [160, 320, 480, 640, 800, 1024, 1280, 1920] as const;

const FORMATS = ["jpeg", "webp"] as const;

/** The photos; `caseId` names the goal table's cases `variant-set/<caseId>[-cached]` (bench/types.ts). */
const PHOTOS: { file: string; caseId?: string }[] = [
  { file: "Elephants_5640x3172.jpg", caseId: "elephants-progressive" },
  { file: "Elephants_5640x3172_baseline.jpg", caseId: "elephants-baseline" },
  { file: "TwoWings.jpg" },
  { file: "RainDrops.jpg" },
];

function variantSet(source: string): TransformPlan[] {
  return VARIANT_WIDTHS.flatMap((width) => FORMATS.map((format) => ({ ...basePlan(source, 80), width, height: 0, format })));
}

/** The set's worst PSNR change (dB) from today's render to the intermediate's, each against the same reference; both equal to it counts as no change. */
export function worstPsnrDelta(pairs: readonly { today: number; candidate: number }[]): number {
  if (pairs.length === 0) throw new Error("worstPsnrDelta: no variants");
  return Math.min(...pairs.map(({ today, candidate }) => (today === candidate ? 0 : candidate - today)));
}

/** One photo's numbers as the goal table's cases: the first set (making the intermediate) and a set from a stored one. */
export function variantSetMeasurements(
  caseId: string,
  m: { throughCpuMs: number; cachedCpuMs: number; psnrDeltaDb: number; pillowCpuMs?: number; pillowSkip?: string },
): Measurements {
  const pillow = m.pillowCpuMs !== undefined ? { pillowCpuMs: m.pillowCpuMs } : { pillowSkip: m.pillowSkip ?? "Pillow anchor not run" };
  return {
    [`variant-set/${caseId}`]: { cpuMs: m.throughCpuMs, ...pillow, psnrDeltaDb: m.psnrDeltaDb },
    [`variant-set/${caseId}-cached`]: { cpuMs: m.cachedCpuMs, ...pillow, psnrDeltaDb: m.psnrDeltaDb },
  };
}

async function decodeRgb(image: Buffer): Promise<Pixels> {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/**
 * Each variant rendered both ways (untimed) and compared with the float-Lanczos reduction of the
 * full-size original to its size: the worst PSNR delta, and the variants' sizes (for Pillow).
 */
async function setQuality(
  original: Buffer,
  plans: TransformPlan[],
  intermediate: Buffer,
  record: IntermediateRecord,
): Promise<{ psnrDeltaDb: number; sizes: Size[] }> {
  const full = await decodeRgb(original);
  const references = new Map<string, Uint8Array>();
  const pairs: { today: number; candidate: number }[] = [];
  const sizes: Size[] = [];
  for (const plan of plans) {
    const today = await decodeRgb((await renderVariant({ plan, original, settings })).body);
    const candidate = await decodeRgb((await renderFromIntermediate({ plan, settings }, intermediate, record)).body);
    if (candidate.width !== today.width || candidate.height !== today.height)
      throw new Error(`${plan.width}px: the intermediate's variant has another size`);
    const size = `${today.width}x${today.height}`;
    if (!references.has(size)) {
      references.set(size, floatLanczos(full, today.width, today.height).data);
      sizes.push({ width: today.width, height: today.height });
    }
    const reference = references.get(size)!;
    pairs.push({ today: psnr(reference, today.data), candidate: psnr(reference, candidate.data) });
  }
  return { psnrDeltaDb: worstPsnrDelta(pairs), sizes };
}

async function cpuMs(work: () => Promise<unknown>): Promise<number> {
  const start = process.cpuUsage();
  await work();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

/** The whole set from the original, one render per variant. */
async function directSet(original: Buffer, plans: TransformPlan[]): Promise<void> {
  for (const plan of plans) await renderVariant({ plan, original, settings });
}

/** The intermediate once, then the whole set from it. */
async function throughIntermediate(original: Buffer, plans: TransformPlan[], record: IntermediateRecord): Promise<void> {
  await fromIntermediate(await encodeIntermediate(original, record.source, settings), plans, record);
}

/** The whole set from an intermediate already made. */
async function fromIntermediate(intermediate: Buffer, plans: TransformPlan[], record: IntermediateRecord): Promise<void> {
  for (const plan of plans) await renderFromIntermediate({ plan, settings }, intermediate, record);
}

export async function runIntermediateBench(ctx: BenchContext): Promise<BenchResult> {
  sharp.concurrency(1);
  sharp.cache(false);
  const runs = ctx.quick ? 1 : 5;
  const python = findPillowPython();
  const pillowSkip = pillowSkipNote(python);
  if (pillowSkip) ctx.log(`  ${pillowSkip}`);
  const rows: string[][] = [];
  const measurements: Measurements = {};
  for (const { file, caseId } of PHOTOS) {
    const original = readFileSync(join(PHOTOS_DIR, file));
    const m = await sharp(original).metadata();
    const source = { width: m.width, height: m.height };
    const label = `${file} ${m.width}x${m.height} (${((m.width * m.height) / 1e6).toFixed(1)} MP, ${m.isProgressive ? "progressive" : "baseline"})`;
    if (Math.max(m.width, m.height) <= INTERMEDIATE_LONG_SIDE) {
      rows.push([label, "-", "-", "-", "-", "-", "-", "-", "no (not larger than the intermediate)"]);
      continue;
    }
    const plans = variantSet(`bench/${file}`);
    const record: IntermediateRecord = { sourceEtag: "bench", source, sourceProfile: false };
    const intermediate = await encodeIntermediate(original, source, settings);
    const direct: number[] = [];
    const through: number[] = [];
    const cached: number[] = [];
    for (let i = 0; i < runs; i++) {
      direct.push(await cpuMs(() => directSet(original, plans)));
      through.push(await cpuMs(() => throughIntermediate(original, plans, record)));
      cached.push(await cpuMs(() => fromIntermediate(intermediate, plans, record)));
    }
    const quality = await setQuality(original, plans, intermediate, record);
    let pillow: { pillowCpuMs?: number; pillowSkip?: string } = { pillowSkip: pillowSkip ?? undefined };
    if (python && !pillowSkip) {
      try {
        pillow = { pillowCpuMs: (await runPillowSet(python, join(PHOTOS_DIR, file), FORMATS, quality.sizes, 1)).cpuMs };
      } catch (err) {
        pillow = { pillowSkip: err instanceof Error ? err.message : String(err) };
      }
    }
    const [d, t, c] = [median(direct), median(through), median(cached)];
    if (caseId)
      Object.assign(
        measurements,
        variantSetMeasurements(caseId, { throughCpuMs: t, cachedCpuMs: c, psnrDeltaDb: quality.psnrDeltaDb, ...pillow }),
      );
    const pays = intermediatePays({ format: "jpeg", ...source, frames: 1, progressive: m.isProgressive, space: m.space });
    const pillowText = pillow.pillowCpuMs === undefined ? "skipped" : formatNumber(pillow.pillowCpuMs);
    ctx.log(
      `  ${label}: direct ${formatNumber(d)} ms, through the intermediate ${formatNumber(t)} ms, from a stored one ${formatNumber(c)} ms, ` +
        `Pillow ${pillowText} ms, worst PSNR delta ${quality.psnrDeltaDb.toFixed(2)} dB`,
    );
    rows.push([
      label,
      formatNumber(d),
      formatNumber(t),
      formatNumber(c),
      formatRatio(ratio(d, t)),
      pillowText,
      quality.psnrDeltaDb.toFixed(2),
      `${(intermediate.length / 1e6).toFixed(2)} MB`,
      pays ? "yes" : "no",
    ]);
  }
  return {
    section: {
      title: "a page's variant set: through an intermediate",
      text: [
        `${VARIANT_WIDTHS.length * 2} variants per original (widths ${VARIANT_WIDTHS.join(", ")}, JPEG and WebP q80), ${runs} set(s) each way, ` +
          "interleaved in one process (sharp.concurrency(1)); CPU ms is process.cpuUsage (user + system, every thread) around the whole set, median. " +
          `"through the intermediate" includes making it (${INTERMEDIATE_LONG_SIDE} px long side, JPEG q95 4:4:4) once from the original, ` +
          'as a page\'s first set does in production; "from a stored one" is a later set, the intermediate already made. ' +
          "**Pillow**: bench/pillow-anchor.py making the same sizes and formats, one request each from the original (median of 3 sets, after the timed sets" +
          `${pillowSkip ? `; ${pillowSkip}` : ""}). **worst PSNR delta**: over the set, the PSNR of the variant through the intermediate minus that of the direct one, both ` +
          "against a float Lanczos-3 reduction of the full-size original to the variant's size (bench/float-lanczos.ts); negative is further from it. " +
          '"made in production" is intermediatePays for that original. S3 requests are not counted here.',
      ],
      tables: [
        {
          columns: [
            "original",
            "direct (CPU ms)",
            "through the intermediate (CPU ms)",
            "from a stored one (CPU ms)",
            "speed-up",
            "Pillow (CPU ms)",
            "worst PSNR delta (dB)",
            "intermediate",
            "made in production",
          ],
          rows,
        },
      ],
    },
    budgets: [],
    measurements,
  };
}
