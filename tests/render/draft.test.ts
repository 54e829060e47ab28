/**
 * The smaller JPEG decode (handlers/render/draft.ts): where sharp would take one shrink-on-load
 * step less than the factor allows (its guard for factors from 2 to 3, 4 to 5 and 8 to 9), the
 * render decodes at that fraction itself, as Pillow's `draft` does for thumbor. A progressive
 * original decoded at 1/8 (by sharp or by the draft) is decoded from its DC scans alone.
 */
import test from "ava";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import sharp from "sharp";
import type { TransformPlan } from "../../handlers/core/plan.js";
import { decodeOptions, decodeOriginal } from "../../handlers/render/decode.js";
import { draftDecode, draftScale, sharpJpegScale } from "../../handlers/render/draft.js";
import { encodeVariant, stillEncoderOptions } from "../../handlers/render/encode.js";
import { openRenderContext } from "../../handlers/render/context.js";
import { renderVariant } from "../../handlers/render/pipeline.js";
import { applyGeometry, planGeometry } from "../../handlers/render/transform.js";
import { fixture, plan, settings } from "../helpers/images.js";
import { progressiveJpeg, withRestartInterval } from "../helpers/jpeg.js";

/** This process's temporary originals (other test files render in other processes meanwhile). */
const leftovers = () => readdirSync(tmpdir()).filter((f) => f.startsWith(`edge-resizer-${process.pid}-`));

test("the scale is asked for exactly where sharp takes one step less: factors 2-3, 4-5 and 8-9", (t) => {
  const size = { width: 4000, height: 3000 };
  const at = (factor: number) => draftScale(size, { width: Math.floor(4000 / factor), height: Math.floor(3000 / factor) });
  t.is(at(1.5), null, "no shrink at all");
  t.is(at(2), 2);
  t.is(at(2.4), 2);
  t.is(at(2.99), 2);
  t.is(at(3.2), null, "sharp decodes at 1/2 itself");
  t.is(at(4), 4);
  t.is(at(4.9), 4);
  t.is(at(6), null, "sharp decodes at 1/4 itself");
  t.is(at(8.5), 8);
  t.is(at(12), null, "sharp decodes at 1/8 itself");
  // The non-proportional case: the smaller factor decides.
  t.is(draftScale(size, { width: 1000, height: 1400 }), 2);
  // Rounded down, 1/2 of 1001 px would be 500 px, short of a 501 px target: no draft.
  t.is(draftScale({ width: 1001, height: 1001 }, { width: 501, height: 400 }), null);
});

test("RainDrops at 2.4x: decoded at 1/2 as Pillow's draft does, the same pixels as libvips' own shrink=2 load", async (t) => {
  const original = fixture("raindrops-480.jpg"); // 480x300 → 200x125
  const out = await renderVariant({ plan: plan({ width: 200, height: 125, format: "jpeg" }), original, settings });
  t.deepEqual([out.width, out.height], [200, 125]);
  // Independent references: libvips told to load at 1/2 and told nothing.
  const file = join(tmpdir(), "draft-reference.jpg");
  writeFileSync(file, original);
  t.teardown(() => rmSync(file, { force: true }));
  const encode = stillEncoderOptions("jpeg", 80);
  const half = await sharp(`${file}[shrink=2]`).resize(200, 125, { fit: "fill" }).jpeg(encode).toBuffer();
  const full = await sharp(original).resize(200, 125, { fit: "fill" }).jpeg(encode).toBuffer();
  t.false(half.equals(full), "the two decodes really differ");
  t.true(out.body.equals(half), "the render decoded at 1/2");
  t.deepEqual(leftovers(), [], "the temporary original is gone");
});

test("a crop cut before the resize, or a factor sharp handles, keeps the in-memory decode", async (t) => {
  const original = fixture("raindrops-480.jpg");
  const full = (w: number, h: number) => sharp(original).resize(w, h, { fit: "fill" }).jpeg(stillEncoderOptions("jpeg", 80)).toBuffer();
  const sharpOwn = await renderVariant({ plan: plan({ width: 150, height: 0, format: "jpeg" }), original, settings }); // 3.2x
  t.true(sharpOwn.body.equals(await full(150, 94)));
  const cropped = await renderVariant({
    plan: plan({ crop: { left: 0, top: 0, right: 480, bottom: 300 }, width: 200, height: 125, format: "jpeg" }),
    original,
    settings,
  });
  const cropFirst = await sharp(original)
    .extract({ left: 0, top: 0, width: 480, height: 300 })
    .resize(200, 125, { fit: "fill" })
    .jpeg(stillEncoderOptions("jpeg", 80))
    .toBuffer();
  t.true(cropped.body.equals(cropFirst), "cut first, then resized from the full decode");
  t.deepEqual(leftovers(), []);
});

test("sharp's own scale: the largest of 8, 4, 2 the factor reaches, one step less when its integer part equals it", (t) => {
  const size = { width: 4000, height: 3000 };
  const at = (factor: number) => sharpJpegScale(size, { width: Math.floor(4000 / factor), height: Math.floor(3000 / factor) });
  t.deepEqual([1.5, 2, 2.4, 3.2, 4.9, 6, 8.5, 9.1, 20].map(at), [1, 1, 1, 2, 2, 4, 4, 8, 8]);
});

/**
 * The render of a plan without filters before the DC-only decode, step by step as renderVariant
 * makes it, always from the whole original: libvips' own shrink-on-load, or the draft's file at
 * `[shrink=N]` where sharp takes one step less. What the DC-only decode must equal byte for byte.
 */
async function wholeFileRender(p: TransformPlan, original: Buffer): Promise<Buffer> {
  const render = await openRenderContext({ plan: p, original, settings });
  const { frames } = render;
  const decoded = await decodeOriginal(render);
  const ops = planGeometry(render, decoded);
  const scale = ops.resize ? draftScale(decoded.size, ops.resize) : null;
  const file = join(tmpdir(), `draft-reference-${process.pid}-${p.width}x${p.height}.jpg`);
  if (scale) writeFileSync(file, original);
  try {
    const source = scale ? { ...decoded, image: sharp(`${file}[shrink=${scale}]`, decodeOptions(settings, frames)) } : decoded;
    const image = await applyGeometry(render, source, ops);
    return (await encodeVariant(render, { image, background: null })).data;
  } finally {
    rmSync(file, { force: true });
  }
}

/** How many bytes the draft decodes from (sharp's size of an input buffer, or its temporary file's), or null without a draft. */
async function draftInputBytes(p: TransformPlan, original: Buffer): Promise<number | null> {
  const render = await openRenderContext({ plan: p, original, settings });
  const decoded = await decodeOriginal(render);
  const draft = await draftDecode(render, decoded, planGeometry(render, decoded));
  if (!draft) return null;
  try {
    const [file] = leftovers();
    return file ? statSync(join(tmpdir(), file)).size : ((await draft.image.metadata()).size ?? null);
  } finally {
    await draft.release();
  }
}

const progressiveOriginals: [string, () => Promise<Buffer>][] = [
  ["4:2:0", () => progressiveJpeg(901, 601, { chromaSubsampling: "4:2:0" })],
  ["4:4:4", () => progressiveJpeg(803, 597, { chromaSubsampling: "4:4:4" })],
  ["greyscale", () => progressiveJpeg(777, 555, {}, true)],
  ["optimiseScans", () => progressiveJpeg(850, 640, { optimiseScans: true })],
];
// Factor 8.5 (the file, at shrink=8), 12 and 25 (sharp's own 1/8), and a crop to a square (the
// scale-first path). Serial tests: the others check that no temporary file is left meanwhile.
const targets = (w: number, h: number) => [
  { width: Math.floor(w / 8.5), height: 0 },
  { width: Math.floor(w / 12), height: 0 },
  { width: 0, height: Math.floor(h / 25) },
  { width: 40, height: 40 },
  { width: Math.floor(w / 12), height: 0, flipHorizontal: true, flipVertical: true },
];

for (const [name, make] of progressiveOriginals) {
  test.serial(`progressive ${name} at 1/8: decoded from its DC scans, the same bytes as today's whole-file decode`, async (t) => {
    const original = await make();
    const { width, height } = (await sharp(original).metadata()) as { width: number; height: number };
    for (const target of targets(width, height)) {
      const p = plan({ ...target, format: "jpeg" });
      const out = await renderVariant({ plan: p, original, settings });
      t.true(out.body.equals(await wholeFileRender(p, original)), `${name} → ${out.width}x${out.height}`);
      const input = await draftInputBytes(p, original);
      t.true(
        input !== null && input < original.length,
        `${name} → ${out.width}x${out.height}: decoded from ${input} of ${original.length} bytes`,
      );
    }
    t.deepEqual(leftovers(), []);
  });
}

test.serial("Elephants 18 MP progressive → 300x200: decoded in memory from under 5 % of its bytes, the same bytes as today", async (t) => {
  const original = readFileSync(join(__dirname, "..", "..", "bench", "photos", "Elephants_5640x3172.jpg"));
  const p = plan({ width: 300, height: 200, format: "jpeg" });
  const out = await renderVariant({ plan: p, original, settings });
  t.true(out.body.equals(await wholeFileRender(p, original)));
  const input = await draftInputBytes(p, original);
  t.true(input !== null && input < original.length * 0.05, `${input} bytes`);
});

test.serial(
  "an EXIF-oriented original: DC-only, but the whole file where sharp orients it before a crop after the resize; today's bytes",
  async (t) => {
    // sharp gives up its own shrink-on-load for an oriented image it cuts from after the resize.
    const original = await sharp(await progressiveJpeg(640, 880))
      .withMetadata({ orientation: 6 })
      .jpeg({ progressive: true })
      .toBuffer();
    const decodedFrom: (number | null)[] = [];
    for (const target of targets(880, 640)) {
      const p = plan({ ...target, format: "jpeg" });
      const out = await renderVariant({ plan: p, original, settings });
      t.true(out.body.equals(await wholeFileRender(p, original)), `→ ${out.width}x${out.height}`);
      decodedFrom.push(await draftInputBytes(p, original));
    }
    t.true(
      [0, 1, 4].every((i) => decodedFrom[i] !== null && decodedFrom[i]! < original.length),
      `8.5x, 12x, 12x flipped: DC-only (${decodedFrom.join(", ")} of ${original.length} bytes)`,
    );
    // The square, and 25x (the rounded 34 px width leaves an auto-crop of 871 of 880 px): cut after the resize.
    t.deepEqual([decodedFrom[2], decodedFrom[3]], [null, null], "a crop after the resize: the whole file");
  },
);

test.serial("no DC-only decode where it would not be exact: above 1/8, baseline, restart markers, truncated", async (t) => {
  const progressive = await progressiveJpeg(800, 600);
  t.is(
    await draftInputBytes(plan({ width: 130, height: 0, format: "jpeg" }), progressive),
    null,
    "6.2x: sharp decodes at 1/4 from the whole file",
  );
  const baseline = await sharp(progressive).jpeg({ progressive: false }).toBuffer();
  t.is(await draftInputBytes(plan({ width: 60, height: 0, format: "jpeg" }), baseline), null, "baseline at 13x: sharp's own decode");
  // Restart markers: the DC-only rewrite steps aside and the draft at 8.5x reads the whole original.
  const restarts = withRestartInterval(progressive);
  t.is(await draftInputBytes(plan({ width: 94, height: 0, format: "jpeg" }), restarts), restarts.length);
  const truncated = progressive.subarray(0, Math.floor(progressive.length * 0.8));
  const p = plan({ width: 60, height: 0, format: "jpeg" });
  t.is(await draftInputBytes(p, truncated), null, "truncated: the reader is unsure");
  const out = await renderVariant({ plan: p, original: truncated, settings });
  t.true(out.body.equals(await wholeFileRender(p, truncated)), "rendered as today: what is there");
});
