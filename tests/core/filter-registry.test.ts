/**
 * The filter registry (core/filter-registry.ts) is the one list of thumbor filters; the sets the
 * viewer side, the limits, the render and the audit use are views of it.
 */
import test from "ava";
import {
  COSTLY_FILTERS,
  EFFECT_FILTERS,
  FILTERS_WITH_IMAGES,
  filterDefinition,
  IMPLEMENTED_FILTERS,
  PLANNER_FILTERS,
  THUMBOR_FILTERS,
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
  const rendered = [...where("geometry"), ...where("encoder"), ...where("effect")].sort();
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
