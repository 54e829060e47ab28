/**
 * The docs state only what is true: a Cache-Control value they name is the default the code uses
 * (or is offered as the reader's own choice), and every file they cite is in the repository.
 */
import test from "ava";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { DEFAULT_SETTINGS } from "../../handlers/core/settings.js";

const ROOT = join(__dirname, "..", "..");
const DOCS = [
  "README.md",
  "SECURITY.md",
  "DEVELOPERS.md",
  ...readdirSync(join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];
const text = (doc: string) => readFileSync(join(ROOT, doc), "utf8");

/** Every `...max-age=...` code span, with the 60 characters before it. */
function cacheControlSpans(doc: string): Array<{ value: string; before: string }> {
  const t = text(doc);
  return [...t.matchAll(/`(?:Cache-Control: )?([^`]*max-age=[^`]*)`/g)].map((m) => ({
    value: m[1]!.replace(/^"|"$/g, ""),
    before: t.slice(Math.max(0, m.index - 60), m.index),
  }));
}

/** A value the doc offers as a choice ("may set ...", a placeholder N), not as what the code does. */
const OFFERED = /may set|e\.g\.|for example|set it to/i;

test("every Cache-Control value the docs name is a default of the code, or offered as a choice", (t) => {
  const defaults = new Set([DEFAULT_SETTINGS.cacheControl, DEFAULT_SETTINGS.errorCacheControl, DEFAULT_SETTINGS.budgetErrorCacheControl]);
  let checked = 0;
  for (const doc of DOCS) {
    for (const span of cacheControlSpans(doc)) {
      checked++;
      if (defaults.has(span.value) || /=N\b/.test(span.value) || OFFERED.test(span.before)) continue;
      t.fail(`${doc} names Cache-Control "${span.value}", which is not a default (${[...defaults].join(" / ")})`);
    }
  }
  t.true(checked >= 5, `the scan found the docs' Cache-Control values (${checked})`);
});

test("the check catches the old compatibility page's claim", (t) => {
  const old = "Variants are stored once in S3 and cached for a year\n  (`public, max-age=31536000, immutable`) unless";
  const m = /`([^`]*max-age=[^`]*)`/.exec(old)!;
  t.false(DEFAULT_SETTINGS.cacheControl === m[1] || OFFERED.test(old.slice(0, m.index)));
});

test("no doc cites a file outside the repository, and relative paths they name exist", (t) => {
  for (const doc of DOCS) {
    const t0 = text(doc);
    t.false(/\/work\/|\.\.\/shared/.test(t0), `${doc} cites a path outside the repository`);
    // A relative path to a file (`../x/y.md`, not the elided `.../120x80,...` of a key).
    for (const m of t0.matchAll(/(?<![.\w])(?:\.\.\/)+[\w./-]*\.[a-z]{1,5}\b/g)) {
      const target = resolve(ROOT, doc, "..", m[0]);
      const inside = !relative(ROOT, target).startsWith("..");
      t.true(inside && existsSync(target), `${doc} names ${m[0]}, which is not in the repository`);
    }
  }
});
