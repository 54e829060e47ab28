/**
 * sharpen on a real photo against an independent reference of thumbor's algorithm
 * (tests/helpers/reference.ts), plus a check that the picture changed in the expected direction
 * (detail: tests/helpers/effect-checks.ts).
 *
 * Thresholds: sharpen is reimplemented in float32 against a float64 reference: one level, 50 dB.
 */
import test from "ava";
import { sharpen } from "../../../handlers/render/effects/sharpen.js";
import { detail } from "../../helpers/effect-checks.js";
import { photo, runEffect } from "../../helpers/effect-harness.js";
import { assertClose, psnr } from "../../helpers/psnr.js";
import * as ref from "../../helpers/reference.js";

for (const [amount, radius] of [
  [2, 0.5],
  [1.5, 2],
  [4, 1],
] as const) {
  test(`sharpen(${amount},${radius},false) matches thumbor's wavelet sharpen`, async (t) => {
    const input = await photo();
    const got = await runEffect(sharpen, input, [amount, radius, false]);
    assertClose(t, got, ref.refSharpen(input, amount, radius), 1, 50);
    t.true(detail(got) > detail(input) * 1.2, `detail ${detail(got)} vs ${detail(input)}`);
    t.true(psnr(got.data, input.data) < 35);
  });
}

test("sharpen(2,0.5,true) sharpens only the luma: chroma stays close, detail grows", async (t) => {
  const input = await photo();
  const lumaOnly = await runEffect(sharpen, input, [2, 0.5, true]);
  const all = await runEffect(sharpen, input, [2, 0.5, false]);
  t.true(detail(lumaOnly) > detail(input) * 1.2);
  // Sharpening Y alone and converting back is close to, but not the same as, sharpening R, G, B.
  const db = psnr(lumaOnly.data, all.data);
  t.true(db > 30 && db < Infinity, `${db} dB`);
});

test("sharpen needs all three arguments, as in thumbor", async (t) => {
  const err = await t.throwsAsync(runEffect(sharpen, await photo(), [2, 1]));
  t.regex(err!.message, /sharpen: argument 3 is missing/);
});
