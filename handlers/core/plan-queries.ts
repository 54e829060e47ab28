/**
 * Questions about a plan that several steps ask (which filters it carries). The names are the
 * registry's FilterNames, so tsc refuses a misspelt one. Pure.
 */
import type { FilterName } from "./filter-registry.js";
import type { FilterCall, TransformPlan } from "./plan.js";

/** Every call of a filter, in URL order. */
export function filterCalls(plan: Pick<TransformPlan, "filters">, name: FilterName): FilterCall[] {
  return plan.filters.filter((f) => f.name === name);
}

export function hasFilter(plan: Pick<TransformPlan, "filters">, name: FilterName): boolean {
  return plan.filters.some((f) => f.name === name);
}

/** Whether a call is of this filter. */
export function isCall(call: Pick<FilterCall, "name">, name: FilterName): boolean {
  return call.name === name;
}
