import test from "ava";
import { GOALS, evaluateGoals } from "../../bench/goals.js";
import { variantSetMeasurements, worstPsnrDelta } from "../../bench/intermediate.js";
import { pillowSetArgs } from "../../bench/pillow.js";

test("the worst PSNR delta is the most negative change over the set", (t) => {
  const delta = worstPsnrDelta([
    { today: 40, candidate: 40.5 },
    { today: 38, candidate: 37.25 },
    { today: 35, candidate: 34.5 },
  ]);
  t.is(delta, -0.75);
});

test("a variant equal to the reference both ways counts as no change, not NaN", (t) => {
  t.is(worstPsnrDelta([{ today: Infinity, candidate: Infinity }]), 0);
  t.is(worstPsnrDelta([{ today: Infinity, candidate: 50 }]), -Infinity);
});

test("an empty set has no worst delta", (t) => {
  t.throws(() => worstPsnrDelta([]));
});

test("a photo's set gives both goal cases, the stored-intermediate one as -cached", (t) => {
  const m = variantSetMeasurements("elephants-progressive", {
    throughCpuMs: 3000,
    cachedCpuMs: 1200,
    psnrDeltaDb: -0.2,
    pillowCpuMs: 8000,
  });
  t.deepEqual(m, {
    "variant-set/elephants-progressive": { cpuMs: 3000, pillowCpuMs: 8000, psnrDeltaDb: -0.2 },
    "variant-set/elephants-progressive-cached": { cpuMs: 1200, pillowCpuMs: 8000, psnrDeltaDb: -0.2 },
  });
});

test("the variant-set goals read what the bench gives: MET, NOT MET on the ratio or on the PSNR, SKIPPED without Pillow", (t) => {
  const measurements = {
    ...variantSetMeasurements("elephants-progressive", { throughCpuMs: 3000, cachedCpuMs: 1200, psnrDeltaDb: -0.2, pillowCpuMs: 8000 }),
    ...variantSetMeasurements("elephants-baseline", { throughCpuMs: 3000, cachedCpuMs: 1000, psnrDeltaDb: -1.5, pillowCpuMs: 5000 }),
  };
  const verdicts = Object.fromEntries(
    evaluateGoals(measurements)
      .filter((r) => r.goal.caseName.startsWith("variant-set/"))
      .map((r) => [r.goal.caseName, r.verdict]),
  );
  t.deepEqual(verdicts, {
    "variant-set/elephants-progressive": "MET",
    "variant-set/elephants-progressive-cached": "MET",
    "variant-set/elephants-baseline": "NOT MET",
    "variant-set/elephants-baseline-cached": "NOT MET",
  });
  const skipped = variantSetMeasurements("elephants-progressive", {
    throughCpuMs: 1,
    cachedCpuMs: 1,
    psnrDeltaDb: 0,
    pillowSkip: "no Pillow",
  });
  const r = evaluateGoals(skipped, GOALS).find((g) => g.goal.caseName === "variant-set/elephants-progressive-cached")!;
  t.is(r.verdict, "SKIPPED");
  t.is(r.reason, "no Pillow");
});

test("the Pillow anchor is asked for every size in every format in one call", (t) => {
  t.deepEqual(
    pillowSetArgs(
      ["jpeg", "webp"],
      [
        { width: 160, height: 90 },
        { width: 320, height: 180 },
      ],
    ),
    ["jpeg,webp", "160x90,320x180"],
  );
  t.throws(() => pillowSetArgs([], [{ width: 1, height: 1 }]));
  t.throws(() => pillowSetArgs(["jpeg"], []));
});
