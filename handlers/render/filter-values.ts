/** Lenient readers of the arguments of the filters the pipeline itself handles. */
import type { FilterArg } from "../core/plan.js";

export function asBoolean(arg: FilterArg | undefined, fallback: boolean): boolean {
  if (arg === undefined) return fallback;
  if (typeof arg === "boolean") return arg;
  if (typeof arg === "number") return arg !== 0;
  return !/^(false|0|no|off)$/i.test(arg.trim());
}

export function asNumber(arg: FilterArg | undefined): number | null {
  if (arg === undefined || typeof arg === "boolean") return null;
  const n = Number(arg);
  return Number.isFinite(n) ? n : null;
}
