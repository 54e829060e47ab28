/**
 * blur on a real photo against an independent reference of thumbor's algorithm
 * (tests/helpers/reference.ts), plus a check that the picture changed in the expected direction
 * (detail: tests/helpers/effect-checks.ts).
 *
 * Thresholds: sharp's convolution rounds where thumbor truncates toward zero, so every pass can be
 * one level off (48.1 dB if every sample were). blur has two passes, so two levels and 45 dB.
 */
import test from "ava";
import sharp from "sharp";
import { EXACT_BLUR_BUDGET } from "../../../handlers/core/plan-limits.js";
import { blur, blurKernel } from "../../../handlers/render/effects/blur.js";
import { detail } from "../../helpers/effect-checks.js";
import { decode, photo, runEffect } from "../../helpers/effect-harness.js";
import { assertClose, psnr } from "../../helpers/psnr.js";
import * as ref from "../../helpers/reference.js";

for (const [radius, sigma] of [
  [3, 0],
  [8, 0],
  [5, 1.5],
] as const) {
  const label = sigma === 0 ? `blur(${radius})` : `blur(${radius},${sigma})`;
  test(`${label} matches thumbor's truncated Gaussian, rows then columns`, async (t) => {
    const input = await photo();
    const got = await runEffect(blur, input, sigma === 0 ? [radius] : [radius, sigma]);
    assertClose(t, got, ref.refBlur(input, radius, sigma === 0 ? radius : sigma), 2, 45);
    t.true(detail(got) < detail(input) * 0.6, `detail ${detail(got)} vs ${detail(input)}`);
    t.true(psnr(got.data, input.data) < 35);
  });
}

test("past the work budget, blur keeps thumbor's spread with libvips' approximate Gaussian", async (t) => {
  // 1200x750 with blur(40): 81 taps x 900k px is over EXACT_BLUR_BUDGET, so the fast path runs.
  const small = await photo();
  const input = await decode(
    await sharp(Buffer.from(small.data), { raw: { width: small.width, height: small.height, channels: 3 } })
      .resize(1200, 750)
      .png()
      .toBuffer(),
  );
  t.true(81 * input.width * input.height > EXACT_BLUR_BUDGET);
  const got = await runEffect(blur, input, [40]);
  const db = psnr(got.data, ref.refBlur(input, 40, 40));
  t.log(`PSNR against thumbor's exact blur(40): ${db.toFixed(1)} dB`);
  t.true(db >= 30, `PSNR ${db} dB`);
  t.true(detail(got) < detail(input) * 0.3);
});

test("blur caps the radius at 150", async (t) => {
  const input = await photo();
  const capped = await runEffect(blur, input, [400]);
  const at150 = await runEffect(blur, input, [150]);
  t.deepEqual(capped.data, at150.data);
});

test("blur's kernel is cut at one sigma by default and sums to 1", (t) => {
  const k = blurKernel(4, 4);
  t.is(k.length, 9);
  t.true(Math.abs(k.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  t.true(Math.abs(k[0] / k[4] - Math.exp(-0.5)) < 1e-12);
});
