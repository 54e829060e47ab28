/**
 * rgb: the effect on a real photo compared with a reference rendering of thumbor's per-pixel
 * formula (tests/helpers/reference.ts), plus a check that the picture did change (thresholds:
 * tests/helpers/effect-checks.ts).
 */
import test from "ava";
import { rgb } from "../../../handlers/render/effects/rgb.js";
import { assertChanged } from "../../helpers/effect-checks.js";
import { photo, runEffect } from "../../helpers/effect-harness.js";
import { assertClose } from "../../helpers/psnr.js";
import * as ref from "../../helpers/reference.js";

test("rgb(20,-10,35) shifts each channel by its own offset, exactly", async (t) => {
  const input = await photo();
  const got = await runEffect(rgb, input, [20, -10, 35]);
  assertClose(t, got, ref.refRgb(input, 20, -10, 35), 0, Infinity);
  assertChanged(t, got, input);
});

test("rgb keeps an alpha channel as it is", async (t) => {
  const rgba = { data: new Uint8Array([10, 20, 30, 77, 200, 210, 220, 0]), width: 2, height: 1, channels: 4 };
  const got = await runEffect(rgb, rgba, [10, 10, 10]);
  t.deepEqual([...got.data], [35, 45, 55, 77, 225, 235, 245, 0]);
});
