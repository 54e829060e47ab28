/**
 * curve: the effect on a real photo compared with a reference rendering of thumbor's per-pixel
 * formula (tests/helpers/reference.ts), plus a check that the picture did change (thresholds:
 * tests/helpers/effect-checks.ts).
 */
import test from "ava";
import { curve, curveTable, parseCurve } from "../../../handlers/render/effects/curve.js";
import { assertChanged } from "../../helpers/effect-checks.js";
import { photo, runEffect } from "../../helpers/effect-harness.js";
import { assertClose } from "../../helpers/psnr.js";
import * as ref from "../../helpers/reference.js";

const CURVE_ALL = "[(0,0),(64,40),(128,128),(192,210),(255,255)]";
const CURVE_R = "[(0,20),(128,150),(255,240)]";
const CURVE_G = "[(0,0),(255,255)]";
const CURVE_B = "[(30,0),(100,90),(200,230),(240,255)]";

test("curve(...) maps each channel through its spline, then through the all-channels spline", async (t) => {
  const input = await photo();
  const got = await runEffect(curve, input, [CURVE_ALL, CURVE_R, CURVE_G, CURVE_B]);
  const pts = (s: string) => parseCurve(s) as [number, number][];
  assertClose(t, got, ref.refCurve(input, pts(CURVE_ALL), [pts(CURVE_R), pts(CURVE_G), pts(CURVE_B)]), 0, Infinity);
  assertChanged(t, got, input);
});

test("curve tables pass through their points and hold the end values outside them", (t) => {
  const table = curveTable(parseCurve(CURVE_B));
  t.is(table[10], 0); // below the first x: the first y
  t.is(table[100], 90);
  t.is(table[200], 230);
  t.is(table[250], 255); // from the last x on: the last y
});

test("curve refuses a malformed point list", async (t) => {
  const err = await t.throwsAsync(runEffect(curve, await photo(), ["[(1,2)", CURVE_G, CURVE_G, CURVE_G]));
  t.regex(err!.message, /curve: .* is not a list of \(x,y\) points/);
});
