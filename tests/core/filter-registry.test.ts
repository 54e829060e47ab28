/**
 * The filter registry (core/filter-registry.ts) is the one list of thumbor filters; the sets the
 * viewer side, the limits, the render and the audit use are views of it.
 */
import test from "ava";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import {
  COSTLY_FILTERS,
  EFFECT_FILTERS,
  FILTERS_WITH_IMAGES,
  filterDefinition,
  IMPLEMENTED_FILTERS,
  PLANNER_FILTERS,
  THUMBOR_FILTERS,
  type FilterHandler,
} from "../../handlers/core/filter-registry.js";

const definitions = Object.values(THUMBOR_FILTERS);
const where = (handler: string) =>
  definitions
    .filter((d) => d.handledBy === handler)
    .map((d) => d.name)
    .sort();

test("each registry key is its entry's name, and the registry is frozen", (t) => {
  for (const [key, d] of Object.entries(THUMBOR_FILTERS)) t.is(d.name, key);
  t.true(Object.isFrozen(THUMBOR_FILTERS));
  for (const d of definitions) t.true(Object.isFrozen(d) && Object.isFrozen(d.params), d.name);
});

test("the planner, the render and the refusal split the filters without overlap", (t) => {
  const planner = where("planner");
  const rendered = [...where("geometry"), ...where("encoder"), ...where("effect"), ...where("none")].sort();
  const unsupported = where("unsupported");
  t.deepEqual([...PLANNER_FILTERS].sort(), planner);
  t.deepEqual([...IMPLEMENTED_FILTERS].sort(), rendered);
  t.deepEqual([...EFFECT_FILTERS].sort(), where("effect"));
  t.is(planner.length + rendered.length + unsupported.length, definitions.length);
  t.deepEqual(
    planner.filter((n) => IMPLEMENTED_FILTERS.has(n)),
    [],
  );
  t.deepEqual(planner, ["extract_focal", "format", "gifv", "quality"]);
  t.deepEqual(unsupported, ["red_eye"]);
  t.deepEqual(where("none"), ["strip_exif"]);
});

test("an unsupported filter says why; no other filter carries a reason", (t) => {
  for (const d of definitions) {
    if (d.handledBy === "unsupported") t.true((d.unsupportedReason ?? "").length > 20, d.name);
    else t.is(d.unsupportedReason, undefined, d.name);
  }
});

test("costly filters and filters that read another image are the registry's flags", (t) => {
  t.deepEqual([...COSTLY_FILTERS], ["blur", "sharpen", "convolution"]);
  t.deepEqual([...FILTERS_WITH_IMAGES].sort(), ["frame", "watermark"]);
  for (const name of [...COSTLY_FILTERS, ...FILTERS_WITH_IMAGES]) t.is(filterDefinition(name)?.handledBy, "effect", name);
});

test("filterDefinition knows only registry names, never Object.prototype members", (t) => {
  t.is(filterDefinition("blur")?.name, "blur");
  for (const name of ["constructor", "toString", "__proto__", "hasOwnProperty", "no_such_filter"])
    t.is(filterDefinition(name), undefined, name);
});

test("a filter no code acts on says what holds without it; no other filter carries such a note", (t) => {
  for (const d of definitions) {
    if (d.handledBy === "none") t.true((d.inherent ?? "").length > 20, d.name);
    else t.is(d.inherent, undefined, d.name);
  }
});

const ROOT = join(__dirname, "..", "..");
const HANDLERS = join(ROOT, "handlers");

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

/** Which files of handlers/ ask a plan about each filter (plan-queries.ts: filterCalls, hasFilter, isCall). */
function filterReferences(): Map<string, Set<string>> {
  const refs = new Map<string, Set<string>>();
  for (const path of tsFiles(HANDLERS)) {
    const file = relative(ROOT, path);
    for (const m of readFileSync(path, "utf8").matchAll(/\b(?:filterCalls|hasFilter|isCall)\([^()]*(?:\([^()]*\)[^()]*)*,\s*"(\w+)"\)/g)) {
      if (!refs.has(m[1]!)) refs.set(m[1]!, new Set());
      refs.get(m[1]!)!.add(file);
    }
  }
  return refs;
}

/** Where the code of each kind of handler lives (the registry's FilterHandler). */
const ACTS_IN: Partial<Record<FilterHandler, (file: string) => boolean>> = {
  planner: (file) => file === "handlers/url/request-plan.ts",
  geometry: (file) => file === "handlers/render/geometry.ts",
  encoder: (file) => /^handlers\/render\/[^/]+\.ts$/.test(file),
};

test("each planner, geometry and encoder filter is asked about where the registry says it acts", (t) => {
  const refs = filterReferences();
  t.true(refs.size > 10, "the scan finds the plan queries");
  for (const d of definitions) {
    const inRoom = ACTS_IN[d.handledBy];
    if (!inRoom) continue;
    const files = [...(refs.get(d.name) ?? [])];
    t.true(files.some(inRoom), `${d.name} (${d.handledBy}) is asked about in ${files.join(", ") || "no file"}`);
  }
});

test('filters handled by "none" or refused are asked about nowhere: no code pretends to act on them', (t) => {
  const refs = filterReferences();
  for (const d of definitions.filter((d) => d.handledBy === "none" || d.handledBy === "unsupported"))
    t.deepEqual([...(refs.get(d.name) ?? [])], [], d.name);
});

const NAME_COMPARED = new RegExp(`\\.name\\s*[!=]==?\\s*["'\`](?:${Object.keys(THUMBOR_FILTERS).join("|")})["'\`]`);

test("code names a filter through the plan queries, never by comparing a call's name with a string", (t) => {
  const offenders = ["handlers", "cli"].flatMap((dir) =>
    tsFiles(join(ROOT, dir)).flatMap((path) =>
      readFileSync(path, "utf8")
        .split("\n")
        .flatMap((line, i) => (NAME_COMPARED.test(line) ? [`${relative(ROOT, path)}:${i + 1}: ${line.trim()}`] : [])),
    ),
  );
  t.deepEqual(offenders, []);
  t.true(NAME_COMPARED.test(`if (call.name === "gifv") {`), "the scan sees such a comparison");
});
