import test from "ava";
import { parseVariantKey } from "../handlers/core/variant-key.js";
import { DEFAULT_SETTINGS } from "../handlers/core/settings.js";
import { COMBINATIONS, computeResults, readFixture } from "./helpers/variant-key-fixture.js";

const fixture = readFixture();

test("the fixture covers hundreds of URLs under every combination, keys and refusals both", (t) => {
  t.true(fixture.cases.length > 400);
  for (const c of fixture.cases) t.deepEqual(Object.keys(c.results).sort(), Object.keys(COMBINATIONS).sort(), c.url);
  const all = fixture.cases.flatMap((c) => Object.values(c.results));
  t.true(all.filter((r) => r.startsWith("variants/")).length > 900);
  t.true(all.some((r) => r.startsWith("400: ")));
});

test("every URL gives the same key (or the same refusal) as before the restructuring", (t) => {
  const now = computeResults(fixture.cases.map((c) => c.url));
  const changed = fixture.cases
    .map((before, i) => ({ url: before.url, before: before.results, now: now[i]!.results }))
    .filter((c) => JSON.stringify(c.now) !== JSON.stringify(c.before));
  t.deepEqual(changed, []);
});

test("every recorded key still decodes to a plan that spells the same key", (t) => {
  const keys = new Set(fixture.cases.flatMap((c) => Object.values(c.results)).filter((r) => r.startsWith("variants/")));
  for (const key of keys) t.notThrows(() => parseVariantKey(key, DEFAULT_SETTINGS), key);
});
