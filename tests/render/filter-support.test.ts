/**
 * The filter registry (core/filter-registry.ts) says where each filter is handled; the render
 * must agree: every filter a plan may carry runs somewhere, nothing runs that the registry does
 * not list, and every effect has exactly one runner.
 */
import test from "ava";
import { EFFECT_FILTERS, IMPLEMENTED_FILTERS } from "../../handlers/core/filter-registry.js";
import { POST_FILTER_EFFECTS } from "../../handlers/render/effects/index.js";
import { PIPELINE_FILTERS, renderVariant } from "../../handlers/render/pipeline.js";
import { plan, quadrantImage, settings } from "../helpers/images.js";

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
  t.deepEqual(
    Object.keys(POST_FILTER_EFFECTS).filter((name) => PIPELINE_FILTERS.has(name)),
    [],
  );
});

test("every registry effect has its effects/ module: the pipeline runs no pixel filter of its own", (t) => {
  const withoutModule = [...EFFECT_FILTERS].filter((name) => !Object.hasOwn(POST_FILTER_EFFECTS, name));
  t.deepEqual(withoutModule, []);
});

test('a post filter found nowhere answers 400 "filter not supported"', async (t) => {
  const err = await t.throwsAsync(
    renderVariant({
      plan: plan({ format: "png", filters: [{ name: "no_such_filter", args: [] }] }),
      original: await quadrantImage(20, 10),
      settings,
    }),
  );
  t.is((err as any).status, 400);
  t.is((err as any).reason, "filter not supported: no_such_filter");
});

test("names inherited from Object.prototype are not effects", async (t) => {
  for (const name of ["constructor", "toString", "__proto__"]) {
    const err = await t.throwsAsync(
      renderVariant({ plan: plan({ format: "png", filters: [{ name, args: [] }] }), original: await quadrantImage(20, 10), settings }),
    );
    t.is((err as any).reason, `filter not supported: ${name}`);
  }
});
