/**
 * colorize: the effect on a real photo compared with a reference rendering of thumbor's per-pixel
 * formula (tests/helpers/reference.ts), plus a check that the picture did change (thresholds:
 * tests/helpers/effect-checks.ts).
 */
import test from "ava";
import { colorize } from "../../../handlers/render/effects/colorize.js";
import { assertChanged } from "../../helpers/effect-checks.js";
import { photo, runEffect } from "../../helpers/effect-harness.js";
import { assertClose } from "../../helpers/psnr.js";
import * as ref from "../../helpers/reference.js";

for (const [pcts, fill] of [
  [[50, 20, 80], "ff8000"],
  [[100, 100, 100], "336699"],
  [[10, 0, 30], "000000"],
] as const) {
  test(`colorize(${pcts.join(",")},${fill}) matches thumbor within one level`, async (t) => {
    const input = await photo();
    const fillRgb = [0, 2, 4].map((i) => parseInt(fill.slice(i, i + 2), 16));
    const got = await runEffect(colorize, input, [...pcts, fill]);
    assertClose(t, got, ref.refColorize(input, [...pcts], fillRgb), 1, 48);
    assertChanged(t, got, input);
  });
}

test("colorize refuses a fill that is not rrggbb", async (t) => {
  const err = await t.throwsAsync(runEffect(colorize, await photo(), [10, 10, 10, "fff"]));
  t.regex(err!.message, /colorize: the fill colour must be 6 hex digits/);
});
