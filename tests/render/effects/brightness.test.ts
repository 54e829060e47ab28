/**
 * brightness: the effect on a real photo compared with a reference rendering of thumbor's per-pixel
 * formula (tests/helpers/reference.ts), plus a check that the picture did change (thresholds:
 * tests/helpers/effect-checks.ts).
 */
import test from "ava";
import { brightness } from "../../../handlers/render/effects/brightness.js";
import { assertChanged } from "../../helpers/effect-checks.js";
import { photo, runEffect } from "../../helpers/effect-harness.js";
import { assertClose } from "../../helpers/psnr.js";
import * as ref from "../../helpers/reference.js";

for (const amount of [40, -30, 7, 100]) {
  test(`brightness(${amount}) is thumbor's integer offset, exactly`, async (t) => {
    const input = await photo();
    const got = await runEffect(brightness, input, [amount]);
    assertClose(t, got, ref.refBrightness(input, amount), 0, Infinity);
    if (Math.abs(amount) >= 30) assertChanged(t, got, input);
  });
}

test("brightness(0) leaves the photo as it is", async (t) => {
  const input = await photo();
  t.deepEqual((await runEffect(brightness, input, [0])).data, Buffer.from(input.data));
});
