/**
 * Colour (point) filters: each effect runs on a real photo and is compared with a reference
 * rendering of thumbor's per-pixel formula (tests/helpers/reference.ts), plus a check that the
 * picture did change.
 *
 * Thresholds: an error of one level on every sample is 48.1 dB, so "≥ 48 dB and never more
 * than one level off" is what sharp's rounding (where thumbor truncates) can cost; exact
 * reimplementations must match exactly. "Changed" means below 35 dB against the input: a
 * visible change (JPEG at quality 75 is typically 35–40 dB from its source).
 */
import test from "ava";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { brightness } from "../../../handlers/render/effects/brightness.js";
import { colorize } from "../../../handlers/render/effects/colorize.js";
import { contrast } from "../../../handlers/render/effects/contrast.js";
import { curve, curveTable, parseCurve } from "../../../handlers/render/effects/curve.js";
import { equalize } from "../../../handlers/render/effects/equalize.js";
import { GlibcRandom, noise } from "../../../handlers/render/effects/noise.js";
import { rgb } from "../../../handlers/render/effects/rgb.js";
import { saturation } from "../../../handlers/render/effects/saturation.js";
import { FIXTURES, photo, runEffect, type Pixels } from "../../helpers/effect-harness.js";
import { assertClose, psnr } from "../../helpers/psnr.js";
import * as ref from "../../helpers/reference.js";

const CHANGED_BELOW_DB = 35;

function assertChanged(t: import("ava").ExecutionContext, got: Pixels, input: Pixels) {
  const db = psnr(got.data, input.data);
  t.true(db < CHANGED_BELOW_DB, `only ${db.toFixed(1)} dB from the input: the effect did not visibly change the photo`);
}

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

const GLIBC = JSON.parse(readFileSync(join(FIXTURES, "glibc-rand-vectors.json"), "utf8")) as {
  indices: number[];
  sequences: Record<string, number[]>;
};

test("GlibcRandom reproduces glibc's rand() for every recorded seed", (t) => {
  for (const [seed, values] of Object.entries(GLIBC.sequences)) {
    const rand = new GlibcRandom(Number(seed));
    const seq = Array.from({ length: 400 }, () => rand.next());
    t.deepEqual(
      GLIBC.indices.map((i) => seq[i]),
      values,
      `seed ${seed}`,
    );
  }
});

test("noise(40, 7) is thumbor's per-pixel offset from glibc's rand() seeded with 7", async (t) => {
  const input = await photo();
  const got = await runEffect(noise, input, [40, 7]);
  const rand = new GlibcRandom(7);
  assertClose(
    t,
    got,
    ref.refNoise(input, 40, () => rand.next()),
    0,
    Infinity,
  );
  // Noise of ±20 levels: visibly different, yet the same picture.
  const db = psnr(got.data, input.data);
  t.true(db < CHANGED_BELOW_DB && db > 20, `${db} dB`);
});

test("noise is deterministic for a seed and differs between seeds", async (t) => {
  const input = await photo();
  const a = await runEffect(noise, input, [30, 5]);
  const b = await runEffect(noise, input, [30, 5]);
  const c = await runEffect(noise, input, [30, 6]);
  t.deepEqual(a.data, b.data);
  t.notDeepEqual(a.data, c.data);
});

test("noise without a seed starts from glibc's initial state (that of srand(1))", async (t) => {
  const input = await photo();
  t.deepEqual((await runEffect(noise, input, [25])).data, (await runEffect(noise, input, [25, 1])).data);
});
