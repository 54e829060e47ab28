/**
 * docs/thumbor-compatibility.md must stay true: every thumbor filter has a row, each row's status
 * follows from what the code implements (IMPLEMENTED_FILTERS, plus PLANNER_FILTERS, which the
 * planner turns into plan fields or other plan parts) and from the one table of approximations the audit uses
 * (cli/approximations.ts), whose reasons the doc repeats word for word. An effect whose own doc
 * comment calls it approximate must be in that table too.
 */
import test from "ava";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { APPROXIMATE_FEATURES } from "../../cli/approximations.js";
import { IMPLEMENTED_FILTERS, PLANNER_FILTERS, THUMBOR_FILTERS } from "../../handlers/core/filter-registry.js";

const ROOT = join(__dirname, "..", "..");
const DOC = readFileSync(join(ROOT, "docs", "thumbor-compatibility.md"), "utf8");
const STATUSES = new Set(["identical", "approximate", "not supported"]);

interface Row {
  /** The first `code` span of the first cell: the element, filter or feature name. */
  name: string;
  status: string;
  difference: string;
}

/** The rows of the markdown table that follows the heading `## <title>`. */
function tableAfter(heading: string): Row[] {
  const start = DOC.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`docs/thumbor-compatibility.md has no "## ${heading}" section`);
  const end = DOC.indexOf("\n## ", start + 1);
  const section = DOC.slice(start, end < 0 ? undefined : end);
  const lines = section.split("\n").filter((l) => l.startsWith("|"));
  const header = cells(lines[0]!);
  const statusAt = header.findIndex((h) => h.toLowerCase() === "status");
  const diffAt = header.findIndex((h) => h.toLowerCase().startsWith("difference"));
  if (statusAt < 0 || diffAt < 0) throw new Error(`"## ${heading}" table needs "status" and "difference" columns`);
  return lines.slice(2).map((line) => {
    const c = cells(line);
    const name = /`([^`]+)`/.exec(c[0]!)?.[1];
    if (name === undefined) throw new Error(`row without a \`name\` in its first cell: ${line}`);
    return { name, status: c[statusAt]!.replace(/\*/g, "").trim(), difference: c[diffAt]!.trim() };
  });
}

/** Cells of one table line; `\|` inside a cell is a literal pipe. */
function cells(line: string): string[] {
  return line
    .replace(/^\|/, "")
    .replace(/\|\s*$/, "")
    .split(/(?<!\\)\|/)
    .map((c) => c.trim().replace(/\\\|/g, "|"));
}

const featureByName = new Map(APPROXIMATE_FEATURES.map((f) => [f.feature, f]));

test("every table row has a known status", (t) => {
  for (const heading of ["URL grammar", "Filters", "Approximations the audit reports"]) {
    for (const row of tableAfter(heading)) t.true(STATUSES.has(row.status), `${heading} / ${row.name}: "${row.status}"`);
  }
});

test("every thumbor filter has exactly one row in the filters table", (t) => {
  const names = tableAfter("Filters").map((r) => r.name.replace(/\(.*$/, ""));
  const plain = tableAfter("Filters")
    .filter((r) => !r.name.includes("("))
    .map((r) => r.name);
  for (const filter of Object.keys(THUMBOR_FILTERS)) {
    t.is(plain.filter((n) => n === filter).length, 1, `filter ${filter}`);
  }
  for (const n of names) t.true(n in THUMBOR_FILTERS, `the filters table names ${n}, which is not a thumbor filter`);
});

test("filter statuses agree with IMPLEMENTED_FILTERS and the approximations table", (t) => {
  for (const row of tableAfter("Filters")) {
    const filter = row.name.replace(/\(.*$/, "");
    const supported = IMPLEMENTED_FILTERS.has(filter) || PLANNER_FILTERS.has(filter);
    const expected = !supported ? "not supported" : featureByName.has(row.name) ? "approximate" : "identical";
    t.is(row.status, expected, `filters table: ${row.name}`);
  }
});

test("grammar rows named after an approximate feature say approximate; the others do not", (t) => {
  for (const row of tableAfter("URL grammar")) {
    if (featureByName.has(row.name)) t.is(row.status, "approximate", `URL grammar: ${row.name}`);
    else t.not(row.status, "approximate", `URL grammar: ${row.name} is approximate but not in cli/approximations.ts`);
  }
});

test("the approximations section lists exactly the audit's features, with their reasons word for word", (t) => {
  const rows = tableAfter("Approximations the audit reports");
  t.deepEqual(rows.map((r) => r.name).sort(), APPROXIMATE_FEATURES.map((f) => f.feature).sort());
  for (const row of rows) {
    t.is(row.status, "approximate", row.name);
    t.is(row.difference, featureByName.get(row.name)!.reason, `reason of ${row.name}`);
  }
});

test("every approximate feature that is a filter variant names a thumbor filter", (t) => {
  for (const f of APPROXIMATE_FEATURES) {
    const base = f.feature.replace(/\(.*$/, "");
    if (f.feature.includes("(")) t.true(base in THUMBOR_FILTERS, f.feature);
  }
});

test("an effect whose doc comment calls it approximate is in the approximations table", (t) => {
  const dir = join(ROOT, "handlers", "render", "effects");
  let checked = 0;
  for (const file of readdirSync(dir)) {
    const filter = file.replace(/\.ts$/, "").replace(/-/g, "_");
    if (!(filter in THUMBOR_FILTERS)) continue; // helpers (args, raw, kernel, index)
    const comment = /\/\*\*([\s\S]*?)\*\//.exec(readFileSync(join(dir, file), "utf8"))?.[1] ?? "";
    checked++;
    // The feature may be the filter itself or one case of it (`blur(large)`).
    const listed = APPROXIMATE_FEATURES.some((f) => f.feature.replace(/\(.*$/, "") === filter);
    if (/\bapproximat/i.test(comment)) t.true(listed, `effects/${file} says approximate`);
  }
  t.true(checked > 0);
});
