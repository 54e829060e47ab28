/**
 * saturation: the effect on a real photo compared with a reference rendering of thumbor's per-pixel
 * formula (tests/helpers/reference.ts), plus a check that the picture did change (thresholds:
 * tests/helpers/effect-checks.ts).
 */
import test from "ava";
import { saturation } from "../../../handlers/render/effects/saturation.js";
import { assertChanged } from "../../helpers/effect-checks.js";
import { photo, runEffect } from "../../helpers/effect-harness.js";
import { assertClose } from "../../helpers/psnr.js";
import * as ref from "../../helpers/reference.js";

for (const change of [2, 0, 0.5, 10]) {
  test(`saturation(${change}) is thumbor's luminance-anchored factor`, async (t) => {
    const input = await photo();
    const got = await runEffect(saturation, input, [change]);
    // float32 (thumbor, and the effect) against double (reference): rounding flips a truncation now and then.
    assertClose(t, got, ref.refSaturation(input, change), 1, 55);
    if (change !== 0.5) assertChanged(t, got, input);
  });
}

test("saturation(0) makes the photo grey (R = G = B)", async (t) => {
  const got = await runEffect(saturation, await photo(), [0]);
  let grey = 0;
  for (let i = 0; i < got.data.length; i += 3) if (got.data[i] === got.data[i + 1] && got.data[i + 1] === got.data[i + 2]) grey++;
  t.is(grey, got.width * got.height);
});
