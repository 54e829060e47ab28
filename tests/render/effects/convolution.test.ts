/**
 * convolution on a real photo against an independent reference of thumbor's algorithm
 * (tests/helpers/reference.ts), plus a check that the picture changed in the expected direction
 * (detail: tests/helpers/effect-checks.ts).
 *
 * Thresholds: sharp's convolution rounds where thumbor truncates toward zero, so every pass can be
 * one level off (48.1 dB if every sample were).
 */
import test from "ava";
import { convolution, thumborKernel } from "../../../handlers/render/effects/convolution.js";
import { detail } from "../../helpers/effect-checks.js";
import { photo, runEffect, type Pixels } from "../../helpers/effect-harness.js";
import { assertClose, psnr } from "../../helpers/psnr.js";
import * as ref from "../../helpers/reference.js";

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
