/**
 * Reading filter arguments. They arrive parsed and canonical (plan.ts `FilterArg`) in thumbor's
 * order; optional trailing ones may be absent and then take thumbor's default, which only the
 * registry (core/filter-registry.ts) declares. The readers
 * accept the spellings a canonical argument can have (a number or a numeric string, a boolean
 * or `1`/`0`) and refuse anything else with a 400 naming the filter.
 */
import { RequestError } from "../../core/errors.js";
import { argsWithDefaults, type FilterName } from "../../core/filter-registry.js";
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

/**
 * The argument at `index`, or the registry's default for it when it is absent (`blank` also
 * counts as absent: the numeric and boolean readers take an empty text as none). A filter's
 * defaults live only in the registry: these readers take no fallback of their own.
 */
function given(filter: FilterName, args: readonly FilterArg[], index: number, blank: boolean): FilterArg | undefined {
  const v = args[index];
  return v === undefined || (blank && v === "") ? argsWithDefaults(filter, args.slice(0, index))[index] : v;
}

export function numberArg(filter: FilterName, args: readonly FilterArg[], index: number): number {
  const v = given(filter, args, index, true);
  if (v === undefined) return missing(filter, index);
  const n = numberOf(v);
  if (n === undefined) throw new RequestError(400, `${filter}: argument ${index + 1} must be a number`);
  return n;
}

export function integerArg(filter: FilterName, args: readonly FilterArg[], index: number): number {
  const n = numberArg(filter, args, index);
  if (!Number.isInteger(n)) throw new RequestError(400, `${filter}: argument ${index + 1} must be an integer`);
  return n;
}

/** thumbor's Boolean: `True`, `true`, `1` are true; `False`, `false`, `0` are false. */
export function booleanArg(filter: FilterName, args: readonly FilterArg[], index: number): boolean {
  const v = given(filter, args, index, true);
  if (v === undefined) return missing(filter, index);
  const b = booleanOf(v);
  if (b === undefined) throw new RequestError(400, `${filter}: argument ${index + 1} must be true or false`);
  return b;
}

export function stringArg(filter: FilterName, args: readonly FilterArg[], index: number): string {
  const v = given(filter, args, index, false);
  if (v === undefined) return missing(filter, index);
  if (typeof v === "boolean") return v ? "True" : "False";
  // -0 survives as a number only in memory; thumbor tells "-0" (from the far edge) from "0".
  if (typeof v === "number") return Object.is(v, -0) ? "-0" : String(v);
  return v;
}

/** The argument at `index` as given, or the registry's default; undefined when neither. */
export function argOrDefault(filter: FilterName, args: readonly FilterArg[], index: number): FilterArg | undefined {
  return given(filter, args, index, false);
}

/**
 * Lenient readers for the arguments the pipeline reads itself (autojpg, max_age, max_bytes): an
 * argument that is absent or not a spelling of its type counts as absent, so the filter takes
 * the registry's default or does nothing.
 */
export function lenientBooleanArg(filter: FilterName, args: readonly FilterArg[], index: number): boolean {
  const v = args[index];
  const b = v === undefined ? undefined : booleanOf(v);
  if (b !== undefined) return b;
  const fallback = argsWithDefaults(filter, args.slice(0, index))[index];
  if (typeof fallback !== "boolean") throw new Error(`${filter}: argument ${index + 1} has no boolean default in the registry`);
  return fallback;
}

export function asNumber(arg: FilterArg | undefined): number | null {
  return (arg === undefined ? undefined : numberOf(arg)) ?? null;
}
