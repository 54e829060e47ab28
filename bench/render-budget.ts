/**
 * The costliest render the render budget admits (core/render-budget.ts), on the largest original
 * the defaults allow (maxInputPixels: a 8660x8660 JPEG), timed once: how far under the render
 * deadline (origin-response.ts) and Lambda@Edge's 30 s it ends on this machine, and how close the
 * estimate is to what it cost. The plan is built greedily: a 4096x4096 WebP output (the largest),
 * then the costliest effect that still fits the budget, again and again, checked as
 * origin-response checks (the plan limits on the key, the budget with the original's header).
 *
 * `npm run bench -- --only budget`, or alone: `npx tsx bench/render-budget.ts`.
 */
import sharp from "sharp";
import { renderDeadlineMs } from "../handlers/origin-response.js";
import { checkPlanLimits } from "../handlers/core/plan-limits.js";
import { basePlan, type TransformPlan } from "../handlers/core/plan.js";
import { RENDER_BUDGET_MS, checkRenderBudget, estimateRenderCost, type RenderFacts } from "../handlers/core/render-budget.js";
import { DEFAULT_SETTINGS } from "../handlers/core/settings.js";
import { TRIGGER_LIMITS } from "../handlers/cloudfront/edge-rules.js";
import { renderVariant } from "../handlers/render/pipeline.js";
import { parseFilterList } from "../handlers/url/filters.js";
import type { Section } from "./report.js";
import type { BenchContext, BenchResult } from "./types.js";
import { secondImages } from "./second-images.js";

const RENDER_DEADLINE_MS = renderDeadlineMs(DEFAULT_SETTINGS);
const SIDE = Math.floor(Math.sqrt(DEFAULT_SETTINGS.maxInputPixels));
/** Effects with their costliest arguments (bench/filter-costs.ts), the candidates of the greedy plan. */
const CANDIDATES = [
  "sharpen(100,100,true)",
  "blur(20)",
  "fill(blur)",
  "frame(frame.png)",
  "watermark(mark.png,10,10,50)",
  "saturation(1.5)",
  "noise(100)",
  "equalize()",
];

/** The largest allowed original: smooth noise (photo-like detail) upscaled to SIDE x SIDE, JPEG. */
async function largestOriginal(): Promise<Buffer> {
  const small = 1024;
  const noise = Buffer.alloc(small * small * 3);
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
  const seed = await sharp(noise, { raw: { width: small, height: small, channels: 3 } })
    .blur(1.5)
    .png()
    .toBuffer();
  return sharp(seed, { limitInputPixels: false }).resize(SIDE, SIDE, { kernel: "cubic" }).jpeg({ quality: 85 }).toBuffer();
}

function admitted(plan: TransformPlan, facts: RenderFacts): boolean {
  try {
    checkPlanLimits(plan, DEFAULT_SETTINGS);
    checkRenderBudget(plan, DEFAULT_SETTINGS, facts);
    return true;
  } catch {
    return false;
  }
}

const total = (plan: TransformPlan, facts: RenderFacts) =>
  estimateRenderCost(plan, DEFAULT_SETTINGS, facts).reduce((sum, item) => sum + item.ms, 0);

/** The greedy plan: the costliest admitted effect appended while any still fits. */
export function costliestAdmittedPlan(facts: RenderFacts): TransformPlan {
  const plan: TransformPlan = { ...basePlan("largest.jpg", DEFAULT_SETTINGS.defaultQuality), width: 4096, height: 4096, format: "webp" };
  for (;;) {
    const options = CANDIDATES.map((f) => ({ ...plan, filters: [...plan.filters, ...parseFilterList(f, { strict: true })] }))
      .filter((p) => admitted(p, facts))
      .sort((a, b) => total(b, facts) - total(a, facts));
    if (options.length === 0) return plan;
    plan.filters = options[0].filters;
  }
}

export async function runRenderBudgetBench(ctx: BenchContext): Promise<BenchResult> {
  ctx.log(`  making a ${SIDE}x${SIDE} JPEG…`);
  const original = await largestOriginal();
  const objects = await secondImages({ markSide: 400, centre: "transparent" });
  const facts: RenderFacts = { source: { width: SIDE, height: SIDE, format: "jpeg" }, frames: 1, format: "webp" };
  const plan = costliestAdmittedPlan(facts);
  const estimate = Math.round(total(plan, facts));
  const filters = plan.filters.map((f) => `${f.name}(${f.args.join(",")})`).join(":");
  ctx.log(`  rendering 4096x4096 webp with ${filters} (estimate ${estimate} ms)…`);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const rendered = await renderVariant({ plan, original, settings: DEFAULT_SETTINGS, loadObject: async (key) => objects[key] ?? null });
  const wallMs = Math.round(performance.now() - started);
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMs = Math.round((cpu.user + cpu.system) / 1000);
  const timeoutMs = TRIGGER_LIMITS.value["origin-response"].maxTimeoutSeconds * 1000;
  const section: Section = {
    title: "Render budget: the costliest admitted render",
    text: [
      `The largest allowed original (${SIDE}x${SIDE} JPEG, ${(original.length / 1e6).toFixed(1)} MB, maxInputPixels), rendered once to ` +
        `4096x4096 WebP with the costliest filters the budget (${RENDER_BUDGET_MS} ms estimated) admits, chosen greedily. ` +
        `The render deadline is ${RENDER_DEADLINE_MS} ms; Lambda@Edge stops origin-response at ${timeoutMs} ms.`,
    ],
    tables: [
      {
        columns: ["filters", "estimate ms", "wall ms", "CPU ms", "under the deadline", "under 30 s", "output"],
        rows: [
          [
            filters,
            String(estimate),
            String(wallMs),
            String(cpuMs),
            `${RENDER_DEADLINE_MS - wallMs} ms`,
            `${timeoutMs - wallMs} ms`,
            `${rendered.width}x${rendered.height} ${rendered.format}, ${(rendered.body.length / 1e6).toFixed(1)} MB`,
          ],
        ],
      },
    ],
  };
  return {
    section,
    budgets: [
      {
        name: "costliest admitted render",
        measure: "wall ms of one render (S3 excluded), against the render deadline",
        comparison: "<",
        limit: RENDER_DEADLINE_MS,
        unit: "ms",
        value: wallMs,
      },
    ],
  };
}

if (require.main === module) {
  runRenderBudgetBench({ quick: false, log: (line) => console.log(line) })
    .then(({ section }) => {
      console.log(section.text.join("\n"));
      const [table] = section.tables;
      for (const row of table.rows) console.log(table.columns.map((c, i) => `${c}: ${row[i]}`).join("\n"));
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    });
}
