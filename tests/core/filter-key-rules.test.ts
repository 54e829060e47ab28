/**
 * The key rules (core/filter-key-rules.ts) against thumbor's arithmetic, written out here: a
 * spelling may only merge calls whose thumbor maths give the same result, and spelling a
 * spelled call again changes nothing (parseVariantKey relies on that).
 */
import test from "ava";
import {
  CONTRAST_SATURATED_FACTOR,
  contrastArgs,
  MAX_AGE_STEPS,
  maxAgeArgs,
  rotateArgs,
  shortestFloat32,
} from "../../handlers/core/filter-key-rules.js";
import { THUMBOR_FILTERS } from "../../handlers/core/filter-registry.js";
import { canonicalFilters, type FilterCall } from "../../handlers/core/plan.js";

/** thumbor's _contrast.c on one channel value, with the clamp. */
function thumborContrast(pct: number, c: number): number {
  const d = Math.trunc(((pct + 100) * (pct + 100)) / 100);
  return Math.min(255, Math.max(0, Math.trunc((d * (c - 128)) / 100) + 128));
}

const CHANNEL_VALUES = Array.from({ length: 256 }, (_, c) => c);

test("contrast: every pct from -3000 to 3000 maps to a pct with the same output for all 256 channel values", (t) => {
  let merged = 0;
  for (let pct = -3000; pct <= 3000; pct++) {
    const spelled = contrastArgs([pct]);
    const to = spelled === null ? 0 : (spelled[0] as number);
    if (to !== pct) merged++;
    const same = CHANNEL_VALUES.every((c) => thumborContrast(pct, c) === thumborContrast(to, c));
    if (!same) t.fail(`contrast(${pct}) spelled contrast(${to}) changes the output`);
    t.deepEqual(contrastArgs([to]) ?? [0], [to], `contrast(${to}) is its own spelling`);
  }
  t.true(merged > 4000);
  t.is(contrastArgs([0]), null);
  t.is(contrastArgs([-200]), null);
});

test("contrast: the saturation bound is tight: the pct just under it is still a different picture", (t) => {
  const top = contrastArgs([100000])![0] as number;
  t.true(Math.trunc(((top + 100) * (top + 100)) / 100) >= CONTRAST_SATURATED_FACTOR);
  t.false(CHANNEL_VALUES.every((c) => thumborContrast(top - 1, c) === thumborContrast(top, c)));
});

test("rotate: thumbor's `value % 90 == 0` then `value % 360` (Python modulo)", (t) => {
  const pyMod = (a: number, n: number) => ((a % n) + n) % n;
  for (let deg = -1080; deg <= 1080; deg++) {
    const spelled = rotateArgs([deg]);
    const acts = pyMod(deg, 90) === 0 && pyMod(deg, 360) !== 0;
    t.deepEqual(spelled, acts ? [pyMod(deg, 360)] : null, `rotate(${deg})`);
  }
});

test("max_age: rounded down to the ladder, capped at a year, and a ladder step is its own spelling", (t) => {
  for (const step of MAX_AGE_STEPS) t.deepEqual(maxAgeArgs([step]), [step]);
  t.deepEqual(maxAgeArgs([10 ** 12]), [365 * 86400]);
  for (let n = 0; n < 200000; n += 997) {
    const [to] = maxAgeArgs([n]) as [number];
    t.true(to <= n && MAX_AGE_STEPS.includes(to), `max_age(${n}) → ${to}`);
  }
});

test("saturation: the spelling is the shortest decimal with the same float32", (t) => {
  for (const x of [1.5, 0.1, 2.000000001, -3.3333333, 123.456]) {
    const s = shortestFloat32(Math.fround(x));
    t.is(Math.fround(s), Math.fround(x));
    t.true(String(s).length <= 10);
  }
});

test("canonicalFilters: spelling a spelled list again changes nothing (a sample of every rule)", (t) => {
  const calls: FilterCall[] = [
    { name: "rotate", args: [-450] },
    { name: "brightness", args: [300] },
    { name: "contrast", args: [-95] },
    { name: "rgb", args: [200, 0, -7] },
    { name: "blur", args: [300, -300] },
    { name: "noise", args: [5, 2 ** 32 + 7] },
    { name: "saturation", args: [0.30000001] },
    { name: "round_corner", args: ["4", 300, 1, 2] },
    { name: "watermark", args: ["w.png", "0", "0", 250] },
    { name: "grayscale", args: [] },
    { name: "grayscale", args: [] },
    { name: "strip_exif", args: [] },
    { name: "max_age", args: [5] },
    { name: "strip_exif", args: [] },
    { name: "max_age", args: [100000] },
  ];
  const once = canonicalFilters(calls);
  t.deepEqual(canonicalFilters(once), once);
  t.deepEqual(once, [
    { name: "rotate", args: [270] },
    { name: "brightness", args: [100] },
    { name: "contrast", args: [-100] },
    { name: "rgb", args: [100, 0, -7] },
    { name: "blur", args: [150, 300] },
    { name: "noise", args: [5, 7] },
    { name: "saturation", args: [0.3] },
    { name: "round_corner", args: ["4", 44, 1, 2] },
    { name: "watermark", args: ["w.png", "0", "0", 100] },
    { name: "grayscale", args: [] },
    { name: "strip_exif", args: [] },
    { name: "max_age", args: [86400] },
  ]);
});

test("every registry entry carries a frozen key rule; filters without one keep every call as given", (t) => {
  for (const d of Object.values(THUMBOR_FILTERS)) t.true(Object.isFrozen(d.key), d.name);
  const plain: FilterCall[] = [
    { name: "equalize", args: [] },
    { name: "equalize", args: [] },
    { name: "focal", args: ["1x1:2x2"] },
    { name: "focal", args: ["1x1:2x2"] },
  ];
  t.deepEqual(canonicalFilters(plain), plain);
});
