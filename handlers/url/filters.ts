/**
 * thumbor's filter-list grammar (`thumbor/filters/__init__.py`): from the decoded `filters:`
 * segment to canonical FilterCalls in URL order. Grammar only: what a filter does is the
 * pipeline's business (handlers/render/effects/), and `format`/`quality` become plan fields in
 * request-plan.ts.
 *
 * thumbor's rules, reproduced:
 * - the list is split on "):" and ")" is put back on every piece but the last, so colons inside
 *   arguments survive (`f(aa:aa)`);
 * - the filter name is the text before the first "("; unknown names are skipped silently;
 * - each filter compiles `name\((?:\s*(P1)\s*)(?:,\s*(P2)\s*)?...\)` from its parameter types
 *   (a parameter is optional when the Python method has a default) and applies it with
 *   `re.match`, i.e. anchored at the start only;
 * - when the arguments do not match, the filter is skipped silently; empty captures are dropped.
 * With `strict`, the two silent skips become RequestError(400) instead, and trailing text after
 * the closing parenthesis (which `re.match` ignores) is refused too.
 *
 * Canonical arguments (so that equivalent URLs share one variant key): numbers are JS numbers
 * (-0 is 0), booleans are booleans, strings are as given with thumbor's single quotes removed;
 * colours are lower-cased; format names are lower-cased with jpg spelled jpeg (an unknown format,
 * which thumbor turns into None, drops the filter); trailing arguments equal to their default are
 * dropped.
 *
 * Deliberate differences from Python's `re` (documented, all stricter):
 * - `\d` and `\w` are ASCII here; Python also matches other scripts' digits and letters;
 * - integers beyond 2^53 - 1 cannot be represented exactly, so they count as not matching.
 *
 * Every regular expression is compiled once, at module load (or when a custom grammar is built).
 */
import { clipText, RequestError } from "../core/errors.js";
import { withDefaults, type ParamType } from "../core/filter-params.js";
import { THUMBOR_FILTERS, type FilterSyntax } from "../core/filter-registry.js";
import type { FilterArg, FilterCall } from "../core/plan.js";

export type { FilterArg, FilterCall };

// Python's `\s` on str patterns (str.isspace()), spelled out: JS's `\s` differs (it has U+FEFF
// but not U+001C..U+001F or U+0085).
const PY_SPACE = "[\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
const PY_SPACE_AT_ENDS = new RegExp(`^${PY_SPACE}|${PY_SPACE}$`);

interface CompiledFilter {
  readonly def: FilterSyntax;
  /** `name\(...\)` anchored at the start only (thumbor's re.match). */
  readonly regex: RegExp;
}

export interface FilterGrammar {
  readonly filters: ReadonlyMap<string, CompiledFilter>;
}

function pyRegex(source: string): string {
  // Python's "." (anything but "\n") is not JS's "." (which also refuses "\r", U+2028, U+2029).
  return source.replace(/(^|[^\\])\./g, "$1[^\\n]");
}

function compileOne(d: FilterSyntax): CompiledFilter {
  const parts = d.params.map((param, i) => {
    const comma = i > 0 ? "," : "";
    const optional = param.default !== undefined ? "?" : "";
    return `(?:${comma}${PY_SPACE}*(${pyRegex(param.type.regex)})${PY_SPACE}*)${optional}`;
  });
  const body = `${d.name}\\(${parts.join("")}\\)`;
  return { def: d, regex: new RegExp(`^${body}`) };
}

/** Compiles a set of filter definitions (thumbor's FiltersFactory + BaseFilter.compile_regex). */
export function compileFilterGrammar(definitions: readonly FilterSyntax[]): FilterGrammar {
  return { filters: new Map(definitions.map((d) => [d.name, compileOne(d)])) };
}

/** The grammar of THUMBOR_FILTERS, compiled once. */
export const THUMBOR_FILTER_GRAMMAR: FilterGrammar = compileFilterGrammar(Object.values(THUMBOR_FILTERS));

export interface ParseFilterOptions {
  /** Refuse unknown filters and filters with invalid arguments (400) instead of skipping them. */
  strict: boolean;
}

const MAX_REASON_TEXT = 80;

/** Parses a decoded `filters:` list with thumbor's built-in filters. */
export function parseFilterList(raw: string, options: ParseFilterOptions): FilterCall[] {
  return parseFilterListWith(THUMBOR_FILTER_GRAMMAR, raw, options);
}

/** Parses a decoded `filters:` list with the given grammar (tests use thumbor's test filters). */
export function parseFilterListWith(grammar: FilterGrammar, raw: string, options: ParseFilterOptions): FilterCall[] {
  const calls: FilterCall[] = [];
  if (raw === "") return calls;
  const pieces = raw.split("):");
  const last = pieces.length - 1;
  for (let i = 0; i <= last; i++) {
    const piece = i === last ? pieces[i]! : `${pieces[i]!})`;
    const name = piece.split("(", 1)[0]!;
    const compiled = grammar.filters.get(name);
    if (compiled === undefined) {
      if (options.strict) throw new RequestError(400, `unknown filter: ${clipText(name, MAX_REASON_TEXT)}`);
      continue;
    }
    const args = matchArgs(compiled, piece, options.strict);
    if (args === undefined) {
      if (options.strict) throw new RequestError(400, `invalid arguments for filter ${clipText(piece, MAX_REASON_TEXT)}`);
      continue;
    }
    calls.push({ name, args });
  }
  return calls;
}

/**
 * thumbor's BaseFilter.__init__: re.match, then the parsed non-empty captures. `wholePiece`
 * (strict mode) also refuses text after the match; it does not change how the match is made.
 */
function matchArgs(compiled: CompiledFilter, piece: string, wholePiece: boolean): FilterArg[] | undefined {
  const m = compiled.regex.exec(piece);
  if (m === null || (wholePiece && m[0].length !== piece.length)) return undefined;
  const params = compiled.def.params;
  const args: FilterArg[] = [];
  for (let g = 1; g < m.length; g++) {
    const text = m[g];
    if (text === undefined || text === "") continue; // thumbor: `if param`
    const value = params[g - 1]!.type.parse(text);
    if (value === undefined) return undefined;
    args.push(value);
  }
  // Trailing arguments equal to their default say nothing: drop them (one spelling per call).
  while (args.length > 0) {
    const d = params[args.length - 1]?.default;
    if (d === undefined || args[args.length - 1] !== d) break;
    args.pop();
  }
  return args;
}

/** The arguments thumbor passes to the filter method: the call's, then the remaining defaults. */
export function filterArgsWithDefaults(call: FilterCall, grammar: FilterGrammar = THUMBOR_FILTER_GRAMMAR): FilterArg[] {
  return withDefaults(grammar.filters.get(call.name)?.def.params ?? [], call.args);
}

/**
 * thumbor syntax for a call, `name(a,b)`, such that parseFilterList gives the call back.
 * String arguments are written in single quotes when they must be (a comma, a parenthesis,
 * spaces at either end, or a leading quote). Throws (a programming error) for a call that
 * thumbor's grammar cannot express.
 */
export function formatFilterCall(call: FilterCall, grammar: FilterGrammar = THUMBOR_FILTER_GRAMMAR): string {
  const compiled = grammar.filters.get(call.name);
  const params = compiled?.def.params ?? [];
  const text = `${call.name}(${call.args.map((a, i) => formatArg(a, params[i]?.type)).join(",")})`;
  if (compiled !== undefined) {
    // Read it back exactly as parseFilterList would: one piece of the list, then the regex.
    const back = text.slice(0, -1).includes("):") ? undefined : matchArgs(compiled, text, true);
    if (back === undefined || back.length !== call.args.length || back.some((b, i) => !Object.is(b, call.args[i]))) {
      throw new Error(`formatFilterCall: ${clipText(text, MAX_REASON_TEXT)} does not read back as the same call`);
    }
  }
  return text;
}

function formatArg(a: FilterArg, type: ParamType | undefined): string {
  if (typeof a === "boolean") return a ? "true" : "false";
  if (typeof a === "number") return plainNumber(a);
  const mustQuote = a === "" || a.includes(",") || a.includes(")") || a.startsWith("'") || PY_SPACE_AT_ENDS.test(a);
  return mustQuote && (type === undefined || type.quotable) ? `'${a}'` : a;
}

/** A number in plain decimal notation (thumbor's number regexes have no exponent). */
function plainNumber(n: number): string {
  const s = String(n === 0 ? 0 : n);
  const e = s.indexOf("e");
  if (e < 0) return s;
  const negative = s.startsWith("-");
  const mantissa = s.slice(negative ? 1 : 0, e);
  const exponent = Number(s.slice(e + 1));
  const dot = mantissa.indexOf(".");
  const digits = dot < 0 ? mantissa : mantissa.slice(0, dot) + mantissa.slice(dot + 1);
  const point = (dot < 0 ? mantissa.length : dot) + exponent;
  const body =
    point <= 0
      ? `0.${"0".repeat(-point)}${digits}`
      : point >= digits.length
        ? digits + "0".repeat(point - digits.length)
        : `${digits.slice(0, point)}.${digits.slice(point)}`;
  return (negative ? "-" : "") + body;
}
