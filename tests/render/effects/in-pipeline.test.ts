/**
 * The effects inside the real pipeline (renderVariant): filters apply after the resize, in URL
 * order, and two filters of the same sharp operation kind both apply (each effect materialises,
 * so a second rotate or convolve does not replace the first). Outputs are PNG, so the
 * comparison with the references is exact where the effect is exact.
 */
import test from "ava";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { renderVariant } from "../../../handlers/render/pipeline.js";
import type { FilterCall } from "../../../handlers/core/plan.js";
import { FIXTURES, decode, type Pixels } from "../../helpers/effect-harness.js";
import { plan, settings } from "../../helpers/images.js";
import * as ref from "../../helpers/reference.js";

const ORIGINAL = readFileSync(join(FIXTURES, "images", "raindrops-480.jpg"));
const MARK = readFileSync(join(FIXTURES, "images", "thumbor-watermark.png"));

async function render(filters: FilterCall[], loadObject?: (key: string) => Promise<Buffer | null>): Promise<Pixels> {
  const out = await renderVariant({
    plan: plan({ width: 240, height: 150, format: "png", filters }),
    original: ORIGINAL,
    settings,
    loadObject,
  });
  return decode(out.body);
}

test("rotate(90) then brightness(20) run after the resize, in URL order", async (t) => {
  const resized = await render([]);
  t.deepEqual([resized.width, resized.height], [240, 150]);
  const got = await render([
    { name: "rotate", args: [90] },
    { name: "brightness", args: [20] },
  ]);
  const rotated = ref.refRotateCcw(resized, 1);
  t.deepEqual([got.width, got.height], [150, 240]);
  t.deepEqual(got.data, Buffer.from(ref.refBrightness(rotated, 20)));
});

test("two rotate(90) filters make a half turn (the second does not replace the first)", async (t) => {
  const resized = await render([]);
  const got = await render([
    { name: "rotate", args: [90] },
    { name: "rotate", args: [90] },
  ]);
  t.deepEqual(got.data, Buffer.from(ref.refRotateCcw(resized, 2).data));
});

test("watermark reads its image through the pipeline's loadObject and lands at thumbor's position", async (t) => {
  const resized = await render([]);
  const asked: string[] = [];
  const got = await render(
    [{ name: "watermark", args: ["logo.png", "-10", "-10", 0] }],
    async (key) => (asked.push(key), key === "logo.png" ? MARK : null),
  );
  t.deepEqual(asked, ["logo.png"]);
  // 240×150, 30×30 watermark 10 px from the right and bottom edges → changed pixels only in [200,230)×[110,140).
  let outside = 0,
    inside = 0;
  for (let y = 0; y < 150; y++)
    for (let x = 0; x < 240; x++) {
      const i = (y * 240 + x) * 3;
      const differs = got.data[i] !== resized.data[i] || got.data[i + 1] !== resized.data[i + 1] || got.data[i + 2] !== resized.data[i + 2];
      if (!differs) continue;
      if (x >= 200 && x < 230 && y >= 110 && y < 140) inside++;
      else outside++;
    }
  t.is(outside, 0);
  t.true(inside > 100, `${inside} pixels changed under the watermark`);
});

test("a missing watermark fails the render with a 400", async (t) => {
  const err = await t.throwsAsync(render([{ name: "watermark", args: ["nope.png", "0", "0", 0] }], async () => null));
  t.is((err as { status?: number }).status, 400);
  t.is((err as { reason?: string }).reason, "watermark image not found: nope.png");
});
