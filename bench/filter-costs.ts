/**
 * `npx tsx bench/filter-costs.ts [side]`: each effect filter's cost in ms per megapixel on this
 * machine (the `renderCost` of its registry entry, core/filter-registry.ts), and the base steps'
 * costs the render budget (core/render-budget.ts) counts. A side×side photo-like JPEG is rendered
 * at its own size with and without the filter; the difference over the megapixels is its cost
 * (the least CPU time of a few runs, so other load on the machine inflates it the least).
 */
import sharp from "sharp";
import { basePlan, type TransformPlan } from "../handlers/core/plan.js";
import { DEFAULT_SETTINGS } from "../handlers/core/settings.js";
import { parseFilterList } from "../handlers/url/filters.js";
import { renderVariant } from "../handlers/render/pipeline.js";
import { secondImages } from "./second-images.js";

const side = Number(process.argv[2] ?? 1500);
const megapixels = (side * side) / 1e6;

/** Each effect with the arguments that cost it the most (blur's radius is capped by EXACT_BLUR_BUDGET). */
const FILTERS = [
  "blur(20)",
  "blur(150)",
  "sharpen(100,100,true)",
  "convolution(1;2;1;2;4;2;1;2;1,3,false)",
  "background_color(ff0000)",
  "brightness(40)",
  "colorize(10,20,30,ff0000)",
  "contrast(40)",
  "curve([(0,0),(128,200),(255,255)],[(0,0),(255,255)],[(0,0),(255,255)],[(0,0),(255,255)])",
  "equalize()",
  "fill(blur)",
  "fill(red)",
  "frame(frame.png)",
  "grayscale()",
  "noise(100)",
  "proportion(0.9)",
  "rgb(10,20,30)",
  "rotate(90)",
  "round_corner(50,255,255,255)",
  "saturation(1.5)",
  "watermark(mark.png,10,10,50)",
];

async function photo(): Promise<Buffer> {
  const noise = Buffer.alloc(side * side * 3);
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
  return sharp(noise, { raw: { width: side, height: side, channels: 3 } })
    .blur(2)
    .jpeg({ quality: 85 })
    .toBuffer();
}

/** The least CPU time (user + system, libvips' threads included) of a few runs: other processes' load counts the least. */
async function bestOf(runs: number, work: () => Promise<unknown>): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const before = process.cpuUsage();
    await work();
    const used = process.cpuUsage(before);
    best = Math.min(best, (used.user + used.system) / 1000);
  }
  return best;
}

async function main(): Promise<void> {
  const original = await photo();
  const objects = await secondImages({ markSide: 200, centre: "opaque" });
  const settings = DEFAULT_SETTINGS;
  const loadObject = async (key: string) => objects[key] ?? null;
  const plan = (filters: string, format: TransformPlan["format"] = "jpeg"): TransformPlan => ({
    ...basePlan("photo.jpg", 80),
    width: side,
    height: side,
    format,
    filters: filters ? parseFilterList(filters, { strict: true }) : [],
  });
  const render = (p: TransformPlan) => renderVariant({ plan: p, original, settings, loadObject });
  const base = await bestOf(5, () => render(plan("")));
  console.log(`${side}x${side} (${megapixels.toFixed(2)} MP) JPEG decode + encode: ${(base / megapixels).toFixed(0)} ms/MP`);
  for (const format of ["webp", "png", "gif", "avif"] as const) {
    const ms = await bestOf(2, () => render(plan("", format)));
    console.log(`  encode ${format}: ${((ms - base) / megapixels).toFixed(0)} ms/MP more than JPEG`);
  }
  // max_bytes(1) never fits: every attempt of thumbor's quality search is made (9 from quality 100).
  for (const format of ["jpeg", "webp"] as const) {
    const plain = await bestOf(2, () => render({ ...plan("", format), quality: 100 }));
    const ms = await bestOf(2, () => render({ ...plan("max_bytes(1)", format), quality: 100 }));
    console.log(
      `  ${format} quality 100: ${(plain / megapixels).toFixed(0)} ms/MP; with max_bytes(1): ${((ms - plain) / megapixels).toFixed(0)} ms/MP more`,
    );
  }
  for (const filter of FILTERS) {
    const ms = await bestOf(3, () => render(plan(filter)));
    console.log(`  ${filter}: ${((ms - base) / megapixels).toFixed(0)} ms/MP`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
