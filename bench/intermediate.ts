/**
 * A page's set of variants of one original (VARIANT_WIDTHS x JPEG/WebP q80): total CPU made
 * directly from the original, against through an intermediate (core/intermediate.ts: made once
 * from the original, then every variant from it), sets interleaved in this process. The
 * intermediate is made for every photo here, where it pays or not, to show where it pays.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import { basePlan, type TransformPlan } from "../handlers/core/plan.js";
import { DEFAULT_SETTINGS as settings } from "../handlers/core/settings.js";
import { INTERMEDIATE_LONG_SIDE, intermediatePays } from "../handlers/core/intermediate.js";
import { encodeIntermediate, renderFromIntermediate } from "../handlers/render/intermediate.js";
import { renderVariant } from "../handlers/render/pipeline.js";
import { PHOTOS_DIR } from "./origin-response.js";
import { formatNumber, formatRatio, median, ratio } from "./stats.js";
import type { BenchContext, BenchResult } from "./types.js";

/** Widths a responsive page asks for (heights in proportion), all within the intermediate. */
export const VARIANT_WIDTHS = [160, 320, 480, 640, 800, 1024, 1280, 1920] as const;

const PHOTOS = ["Elephants_5640x3172.jpg", "Elephants_5640x3172_baseline.jpg", "TwoWings.jpg", "RainDrops.jpg"];

function variantSet(source: string): TransformPlan[] {
  return VARIANT_WIDTHS.flatMap((width) =>
    (["jpeg", "webp"] as const).map((format) => ({ ...basePlan(source, 80), width, height: 0, format })),
  );
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

/** The intermediate once, then the whole set from it; its size in bytes. */
async function throughIntermediate(original: Buffer, plans: TransformPlan[], source: { width: number; height: number }): Promise<number> {
  const intermediate = await encodeIntermediate(original, source, settings);
  const record = { sourceEtag: "bench", source, sourceProfile: false };
  for (const plan of plans) await renderFromIntermediate({ plan, settings }, intermediate, record);
  return intermediate.length;
}

export async function runIntermediateBench(ctx: BenchContext): Promise<BenchResult> {
  sharp.concurrency(1);
  sharp.cache(false);
  const runs = ctx.quick ? 1 : 3;
  const rows: string[][] = [];
  for (const name of PHOTOS) {
    const original = readFileSync(join(PHOTOS_DIR, name));
    const m = await sharp(original).metadata();
    const source = { width: m.width, height: m.height };
    const label = `${name} ${m.width}x${m.height} (${((m.width * m.height) / 1e6).toFixed(1)} MP, ${m.isProgressive ? "progressive" : "baseline"})`;
    if (Math.max(m.width, m.height) <= INTERMEDIATE_LONG_SIDE) {
      rows.push([label, "-", "-", "-", "-", "no (not larger than the intermediate)"]);
      continue;
    }
    const plans = variantSet(`bench/${name}`);
    const direct: number[] = [];
    const through: number[] = [];
    let bytes = 0;
    for (let i = 0; i < runs; i++) {
      direct.push(await cpuMs(() => directSet(original, plans)));
      through.push(await cpuMs(async () => (bytes = await throughIntermediate(original, plans, source))));
    }
    const pays = intermediatePays({ format: "jpeg", ...source, frames: 1, progressive: m.isProgressive, space: m.space });
    ctx.log(`  ${label}: direct ${formatNumber(median(direct))} ms, through the intermediate ${formatNumber(median(through))} ms`);
    rows.push([
      label,
      formatNumber(median(direct)),
      formatNumber(median(through)),
      formatRatio(ratio(median(direct), median(through))),
      `${(bytes / 1e6).toFixed(2)} MB`,
      pays ? "yes" : "no",
    ]);
  }
  return {
    section: {
      title: "a page's variant set: through an intermediate",
      text: [
        `${VARIANT_WIDTHS.length * 2} variants per original (widths ${VARIANT_WIDTHS.join(", ")}, JPEG and WebP q80), ${runs} set(s) each way, ` +
          "interleaved in one process (sharp.concurrency(1)); CPU ms is process.cpuUsage (user + system, every thread) around the whole set, median. " +
          `"through the intermediate" includes making it (${INTERMEDIATE_LONG_SIDE} px long side, JPEG q95 4:4:4) once from the original. ` +
          '"made in production" is intermediatePays for that original. S3 requests are not counted here.',
      ],
      tables: [
        {
          columns: ["original", "direct (CPU ms)", "through the intermediate (CPU ms)", "speed-up", "intermediate", "made in production"],
          rows,
        },
      ],
    },
    budgets: [],
  };
}
