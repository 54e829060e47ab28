import test from "ava";
import { MAX_OPTION_SEGMENT_BYTES, parseVariantKey } from "../../handlers/core/variant-key.js";
import { DEFAULT_SETTINGS } from "../../handlers/core/settings.js";
import { COMBINATIONS, computeResults, readFixture } from "../helpers/variant-key-fixture.js";

const fixture = readFixture();

test("the fixture covers hundreds of URLs under every combination, keys and refusals both", (t) => {
  t.true(fixture.cases.length > 400);
  for (const c of fixture.cases) t.deepEqual(Object.keys(c.results).sort(), Object.keys(COMBINATIONS).sort(), c.url);
  const all = fixture.cases.flatMap((c) => Object.values(c.results));
  t.true(all.filter((r) => r.startsWith("variants/")).length > 900);
  t.true(all.some((r) => r.startsWith("400: ")));
});

/**
 * The one change since the recording is the portable keys: an `<options>.<ext>` longer than
 * MAX_OPTION_SEGMENT_BYTES is cut into "~"-marked segments. Such a key must be the recorded one
 * cut that way and nothing else; every other result must be exactly as recorded. (The entries of
 * `rotate(-450)`, a second spelling of `rotate(270)`, were updated to that key on purpose when
 * filter calls got one spelling each, core/filter-key-rules.ts.)
 */
function isPortableCutOf(now: string, before: string): boolean {
  const options = before.slice(before.lastIndexOf("/") + 1);
  if (!before.startsWith("variants/") || options.length <= MAX_OPTION_SEGMENT_BYTES) return false;
  const segments = now.split("/");
  return now.split("/~").join("") === before && segments.every((s) => s.length > 0 && Buffer.byteLength(s) <= MAX_OPTION_SEGMENT_BYTES);
}

test("every URL gives the same key (or the same refusal) as before the restructuring, long options cut portably", (t) => {
  const now = computeResults(fixture.cases.map((c) => c.url));
  let cut = 0;
  const changed = fixture.cases.flatMap((before, i) =>
    Object.entries(before.results).flatMap(([combination, was]) => {
      const is = now[i]!.results[combination]!;
      if (is === was) return [];
      if (isPortableCutOf(is, was)) return (cut++, []);
      return [{ url: before.url, combination, was, is }];
    }),
  );
  t.deepEqual(changed, []);
  t.true(cut > 0, "the fixture holds long option strings, so the cut is exercised");
});

test("every recorded key still decodes to a plan that spells it, except uncut long options (refused as not canonical)", (t) => {
  const keys = new Set(fixture.cases.flatMap((c) => Object.values(c.results)).filter((r) => r.startsWith("variants/")));
  for (const key of keys) {
    if (key.slice(key.lastIndexOf("/") + 1).length > MAX_OPTION_SEGMENT_BYTES) {
      t.throws(() => parseVariantKey(key, DEFAULT_SETTINGS), undefined, `uncut long options are not canonical any more: ${key}`);
    } else {
      t.notThrows(() => parseVariantKey(key, DEFAULT_SETTINGS), key);
    }
  }
});
