/**
 * IMPLEMENTED_FILTERS (what the viewer side accepts) and what the pipeline can run must be the
 * same set: a listed filter nobody runs would be a 400 after a key was made; a filter someone
 * runs but nobody lists would never be reachable.
 */
import test from "ava";
import { POST_FILTER_EFFECTS } from "../handlers/render/effects/index.js";
import { IMPLEMENTED_FILTERS } from "../handlers/url/filter-support.js";
import { PIPELINE_FILTERS, renderVariant } from "../handlers/render/pipeline.js";
import { plan, quadrantImage, settings } from "./helpers/images.js";

test("every implemented filter is handled by the pipeline or registered as an effect", (t) => {
  for (const name of IMPLEMENTED_FILTERS) {
    t.true(PIPELINE_FILTERS.has(name) || Object.hasOwn(POST_FILTER_EFFECTS, name), `${name} is listed but nothing runs it`);
  }
});

test("every filter the pipeline or the effects run is listed in IMPLEMENTED_FILTERS", (t) => {
  for (const name of [...PIPELINE_FILTERS, ...Object.keys(POST_FILTER_EFFECTS)]) {
    t.true(IMPLEMENTED_FILTERS.has(name), `${name} runs but is not listed`);
  }
});

test("the pipeline and the effects never both claim a filter", (t) => {
  t.deepEqual(Object.keys(POST_FILTER_EFFECTS).filter((name) => PIPELINE_FILTERS.has(name)), []);
});

test("a post filter found nowhere answers 400 \"filter not supported\"", async (t) => {
  const err = await t.throwsAsync(renderVariant({ plan: plan({ format: "png", filters: [{ name: "no_such_filter", args: [] }] }), original: await quadrantImage(20, 10), settings }));
  t.is((err as any).status, 400);
  t.is((err as any).reason, "filter not supported: no_such_filter");
});

test("names inherited from Object.prototype are not effects", async (t) => {
  for (const name of ["constructor", "toString", "__proto__"]) {
    const err = await t.throwsAsync(renderVariant({ plan: plan({ format: "png", filters: [{ name, args: [] }] }), original: await quadrantImage(20, 10), settings }));
    t.is((err as any).reason, `filter not supported: ${name}`);
  }
});
