/** Questions about a plan that several render steps ask (which filters it carries). Pure. */
import type { FilterCall, TransformPlan } from "./plan.js";

/** Every call of a filter, in URL order. */
export function filterCalls(plan: TransformPlan, name: string): FilterCall[] {
  return plan.filters.filter((f) => f.name === name);
}

export function hasFilter(plan: TransformPlan, name: string): boolean {
  return plan.filters.some((f) => f.name === name);
}
