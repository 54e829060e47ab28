/**
 * Reading filter arguments. They arrive parsed and canonical (plan.ts `FilterArg`) in thumbor's
 * order; optional trailing ones may be absent and then take thumbor's default. The readers
 * accept the spellings a canonical argument can have (a number or a numeric string, a boolean
 * or `1`/`0`) and refuse anything else with a 400 naming the filter.
 */
import { RequestError } from "../../core/errors.js";
import type { FilterArg } from "../../core/plan.js";

/** A number, or a numeric string, as a finite number; anything else is undefined. */
function numberOf(v: FilterArg): number | undefined {
  const n = typeof v === "number" ? v : typeof v === "string" && /^\s*-?(?:\d+\.?\d*|\.\d+)\s*$/.test(v) ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

/** thumbor's Boolean spellings (`True`, `true`, `1` / `False`, `false`, `0`); anything else is undefined. */
function booleanOf(v: FilterArg): boolean | undefined {
  if (v === true || v === 1 || v === "true" || v === "True" || v === "1") return true;
  if (v === false || v === 0 || v === "false" || v === "False" || v === "0") return false;
  return undefined;
}

function missing(filter: string, index: number): never {
  throw new RequestError(400, `${filter}: argument ${index + 1} is missing`);
}

export function numberArg(filter: string, args: FilterArg[], index: number, fallback?: number): number {
  const v = args[index];
  if (v === undefined || v === "") return fallback ?? missing(filter, index);
  const n = numberOf(v);
  if (n === undefined) throw new RequestError(400, `${filter}: argument ${index + 1} must be a number`);
  return n;
}

export function integerArg(filter: string, args: FilterArg[], index: number, fallback?: number): number {
  const n = numberArg(filter, args, index, fallback);
  if (!Number.isInteger(n)) throw new RequestError(400, `${filter}: argument ${index + 1} must be an integer`);
  return n;
}

/** thumbor's Boolean: `True`, `true`, `1` are true; `False`, `false`, `0` are false. */
export function booleanArg(filter: string, args: FilterArg[], index: number, fallback?: boolean): boolean {
  const v = args[index];
  if (v === undefined || v === "") return fallback ?? missing(filter, index);
  const b = booleanOf(v);
  if (b === undefined) throw new RequestError(400, `${filter}: argument ${index + 1} must be true or false`);
  return b;
}

export function stringArg(filter: string, args: FilterArg[], index: number, fallback?: string): string {
  const v = args[index];
  if (v === undefined) return fallback ?? missing(filter, index);
  if (typeof v === "boolean") return v ? "True" : "False";
  // -0 survives as a number only in memory; thumbor tells "-0" (from the far edge) from "0".
  if (typeof v === "number") return Object.is(v, -0) ? "-0" : String(v);
  return v;
}

/**
 * Lenient readers for the arguments the pipeline reads itself (autojpg, fill's second, max_age,
 * max_bytes, proportion): an argument that is absent or not a spelling of its type counts as
 * absent, so the filter falls back to its default or does nothing.
 */
export function asBoolean(arg: FilterArg | undefined, fallback: boolean): boolean {
  return (arg === undefined ? undefined : booleanOf(arg)) ?? fallback;
}

export function asNumber(arg: FilterArg | undefined): number | null {
  return (arg === undefined ? undefined : numberOf(arg)) ?? null;
}
