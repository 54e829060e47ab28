/**
 * Neighbourhood filters (blur, convolution, sharpen) on a real photo against independent
 * references of thumbor's algorithms (tests/helpers/reference.ts), plus a check that the
 * picture changed in the expected direction (blur loses detail, sharpen adds it).
 *
 * Thresholds: sharp's convolution rounds where thumbor truncates toward zero, so every pass can
 * be one level off (48.1 dB if every sample were); blur has two passes, so two levels and 45 dB.
 * sharpen is reimplemented in float32 against a float64 reference: one level, 50 dB.
 */
import test from "ava";
import { EXACT_BLUR_BUDGET } from "../../../handlers/core/plan-limits.js";
import { blur, blurKernel } from "../../../handlers/render/effects/blur.js";
import { convolution, thumborKernel } from "../../../handlers/render/effects/convolution.js";
import { sharpen } from "../../../handlers/render/effects/sharpen.js";
import sharp from "sharp";
import { decode, photo, runEffect, type Pixels } from "../../helpers/effect-harness.js";
import { assertClose, psnr } from "../../helpers/psnr.js";
import * as ref from "../../helpers/reference.js";

/** Mean absolute difference between horizontally adjacent samples: a measure of fine detail. */
function detail(p: Pixels): number {
  let sum = 0;
  for (let y = 0; y < p.height; y++)
    for (let x = 1; x < p.width; x++)
      for (let c = 0; c < 3; c++) {
        sum += Math.abs(p.data[(y * p.width + x) * p.channels + c] - p.data[(y * p.width + x - 1) * p.channels + c]);
      }
  return sum / (p.height * (p.width - 1) * 3);
}

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

test("convolution(1;2;1;2;4;2;1;2;1,3) (thumbor's documented blur) matches thumbor", async (t) => {
  const input = await photo();
  const got = await runEffect(convolution, input, ["1;2;1;2;4;2;1;2;1", 3]);
  assertClose(
    t,
    got,
    ref.refConvolve(
      input,
      [1, 2, 1, 2, 4, 2, 1, 2, 1].map((v) => v / 16),
      3,
    ),
    1,
    48,
  );
  t.true(detail(got) < detail(input));
});

test("convolution with an edge kernel and normalize=false matches thumbor (negative sums clamp to 0)", async (t) => {
  const input = await photo();
  const kernel = [-1, -1, -1, -1, 8, -1, -1, -1, -1];
  const got = await runEffect(convolution, input, [kernel.join(";"), 3, false]);
  assertClose(t, got, ref.refConvolve(input, kernel, 3), 1, 48);
  t.true(psnr(got.data, input.data) < 15, "an edge map is far from the photo");
});

test("convolution with a one-column kernel (5 rows) matches thumbor", async (t) => {
  const input = await photo();
  const got = await runEffect(convolution, input, ["1;1;1;1;1", 1]);
  assertClose(t, got, ref.refConvolve(input, [0.2, 0.2, 0.2, 0.2, 0.2], 1), 1, 48);
  // A vertical box blur: detail across rows drops clearly more than detail along them.
  const rotated = (p: Pixels) => ref.refRotateCcw(p, 1);
  const vertical = detail(rotated(got)) / detail(rotated(input));
  const horizontal = detail(got) / detail(input);
  t.true(vertical < 0.75 && vertical < horizontal - 0.1, `vertical ${vertical}, horizontal ${horizontal}`);
});

test("convolution refuses kernels thumbor cannot apply (even rows or columns)", (t) => {
  t.throws(() => thumborKernel("1;2;3;4", 2, true), { message: /odd number of rows and of columns/ });
  t.throws(() => thumborKernel("1;2;3;4;5;6", 3, true), { message: /odd number of rows and of columns/ });
  t.throws(() => thumborKernel("1;2;3", 2, true), { message: /odd number of rows and of columns/ });
  t.deepEqual(thumborKernel("1;-1;1", 3, true), [1, -1, 1]);
  t.deepEqual(thumborKernel("0;0;0", 3, true), [0, 0, 0]); // a zero sum is left as it is
});

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
