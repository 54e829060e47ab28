/**
 * A render far over the render budget (12 × fill(blur) on 4093x4096), as the budget tests and
 * the settings-readers test ask for it: in a thumbor URL, and as a plan whose key a forger would
 * send to origin-response past viewer-request.
 */
import { basePlan, type TransformPlan } from "../../handlers/core/plan.js";

/** Twelve `fill(blur)` filters, as a thumbor URL's filter list spells them. */
export const OVER_BUDGET_FILTERS = Array(12).fill("fill(blur)").join(":");

/** The same render as a plan of `source` (WebP out). */
export function overBudgetPlan(source: string): TransformPlan {
  return {
    ...basePlan(source, 80),
    width: 4093,
    height: 4096,
    format: "webp",
    filters: Array.from({ length: 12 }, () => ({ name: "fill", args: ["blur"] })),
  };
}
