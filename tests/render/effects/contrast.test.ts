/**
 * contrast: the effect on a real photo compared with a reference rendering of thumbor's per-pixel
 * formula (tests/helpers/reference.ts), plus a check that the picture did change (thresholds:
 * tests/helpers/effect-checks.ts).
 */
import test from "ava";
import { contrast } from "../../../handlers/render/effects/contrast.js";
import { assertChanged } from "../../helpers/effect-checks.js";
import { photo, runEffect } from "../../helpers/effect-harness.js";
import { assertClose } from "../../helpers/psnr.js";
import * as ref from "../../helpers/reference.js";

for (const amount of [50, -40, 13]) {
  test(`contrast(${amount}) matches thumbor within one level`, async (t) => {
    const input = await photo();
    const got = await runEffect(contrast, input, [amount]);
    assertClose(t, got, ref.refContrast(input, amount), 1, 48);
    if (Math.abs(amount) >= 40) assertChanged(t, got, input);
  });
}

test("contrast(-100) makes every channel mid-grey (128)", async (t) => {
  const got = await runEffect(contrast, await photo(), [-100]);
  t.true(got.data.every((v) => v === 128));
});
