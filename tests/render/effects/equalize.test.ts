/**
 * equalize: the effect on a real photo compared with a reference rendering of thumbor's per-pixel
 * formula (tests/helpers/reference.ts), plus a check that the picture did change (thresholds:
 * tests/helpers/effect-checks.ts).
 */
import test from "ava";
import { equalize } from "../../../handlers/render/effects/equalize.js";
import { assertChanged } from "../../helpers/effect-checks.js";
import { photo, runEffect } from "../../helpers/effect-harness.js";
import { assertClose } from "../../helpers/psnr.js";
import * as ref from "../../helpers/reference.js";

test("equalize() matches thumbor's histogram equalisation exactly", async (t) => {
  const input = await photo();
  const got = await runEffect(equalize, input, []);
  assertClose(t, got, ref.refEqualize(input), 0, Infinity);
  assertChanged(t, got, input);
  // Equalised channels span the whole range.
  t.is(
    got.data.reduce((m, v) => Math.max(m, v), 0),
    255,
  );
});

test("equalize() reproduces thumbor's shared cdfMin scan on a channel that starts brighter", async (t) => {
  // Red starts at 0, green at 50: thumbor's scan stops at level 0, so green keeps cdfMin = 0.
  const data = new Uint8Array([0, 50, 10, 100, 150, 20, 200, 250, 30, 255, 250, 40]);
  const input = { data, width: 4, height: 1, channels: 3 };
  const got = await runEffect(equalize, input, []);
  t.deepEqual(got.data, Buffer.from(ref.refEqualize(input)));
  t.is(got.data[1], Math.trunc((1 / 4) * 255)); // green's darkest level maps to 63, not 0
});
