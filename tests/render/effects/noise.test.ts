/**
 * noise: glibc's rand() reproduced, then the effect on a real photo compared with a reference
 * rendering of thumbor's per-pixel formula (tests/helpers/reference.ts), plus a check that the
 * picture did change (thresholds: tests/helpers/effect-checks.ts).
 */
import test from "ava";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { GlibcRandom, noise } from "../../../handlers/render/effects/noise.js";
import { CHANGED_BELOW_DB } from "../../helpers/effect-checks.js";
import { FIXTURES, photo, runEffect } from "../../helpers/effect-harness.js";
import { assertClose, psnr } from "../../helpers/psnr.js";
import * as ref from "../../helpers/reference.js";

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
