/**
 * Configuration schemas: each configuration value declared once, as an entry saying its type,
 * default, bounds and any check beyond those; the entry's doc comment is its doc line (Markdown,
 * one line: the docs tables' and Pulumi.yaml's description), read from the source by the
 * generator, so it costs the bundles nothing and shows where the entry is used. The handler settings
 * (settings-schema.ts) and the component's infrastructure arguments (components/infra-schema.ts)
 * are both schemas; their TypeScript types, defaults, validators, stack-config keys, Pulumi.yaml's
 * config block and the docs tables all derive from the entries (scripts/generate-config.ts writes
 * the generated files; a test regenerates and compares them).
 */
import type { ValueChecks } from "./value-checks.js";

/** What an entry's `check` may use: the other entries' values (already of their types) and how to refuse. */
export interface EntryCheckContext {
  /** The entry's path in messages (`thumbor.securityKey`, `maxWidth`). */
  path: string;
  /** Another entry's value, by name (names are unique across groups); undefined when it has none. */
  get(name: string): unknown;
  /** Throws `<where>: <path> must be <want>, got <value>`. */
  fail(path: string, want: string, got: unknown): never;
  /** Throws `<where>: <message>`, for a rule across entries. */
  refuse(message: string): never;
}

interface Common<V> {
  /** The group the entry lives in (settings.json's `thumbor` object); absent = top level. */
  group?: "thumbor";
  /** What the type check's message says the value must be, where the type's own words would mislead. */
  want?: string;
  /** A check beyond the type and bounds; runs once every entry has its type, only on a value that is there. */
  check?: (value: V, ctx: EntryCheckContext) => void;
  /** Read from stack config as a secret, and never shown in an error message. */
  secret?: true;
}

/** An entry; one without `default` is optional (absent, or "" in stack config, means not set). */
export type SchemaEntry =
  | (Common<boolean> & { type: "boolean"; default?: boolean })
  | (Common<number> & { type: "integer"; min: number; max: number; default?: number })
  | (Common<number> & { type: "number"; min: number; below: number; default?: number })
  | (Common<string> & { type: "string"; allowEmpty?: true; default?: string })
  | (Common<readonly string[]> & { type: "string[]"; default?: readonly string[] })
  | (Common<string> & { type: "enum"; values: readonly string[]; default?: string });

export type Schema = Readonly<Record<string, SchemaEntry>>;

/** The value type an entry declares. */
export type EntryValue<E> = E extends { type: "boolean" }
  ? boolean
  : E extends { type: "integer" | "number" }
    ? number
    : E extends { type: "string" }
      ? string
      : E extends { type: "string[]" }
        ? string[]
        : E extends { type: "enum"; values: readonly (infer V)[] }
          ? V
          : never;

type WithDefault<S> = { [K in keyof S]: S[K] extends { default: unknown } ? K : never }[keyof S];

/** Every value of a flat schema, optional (as arguments are given). */
export type ArgsOf<S> = { -readonly [K in keyof S]?: EntryValue<S[K]> };
/** Every value of a flat schema after defaults: those with a default are always there. */
export type ResolvedOf<S> = { -readonly [K in WithDefault<S>]: EntryValue<S[K]> } & {
  -readonly [K in Exclude<keyof S, WithDefault<S>>]?: EntryValue<S[K]>;
};
/** The entries of one group (`undefined`: the top level), as the values they declare. */
export type GroupOf<S, G> = {
  -readonly [K in keyof S as S[K] extends { group: infer EG } ? (EG extends G ? K : never) : G extends undefined ? K : never]: EntryValue<
    S[K]
  >;
};

/** A copy of a default (lists are copied, so a caller never mutates the schema's). */
function copied(value: unknown): unknown {
  return Array.isArray(value) ? [...value] : value;
}

/** The defaults of every entry that has one, by name. */
export function defaultsOf(schema: Schema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, entry] of Object.entries(schema)) if (entry.default !== undefined) out[name] = copied(entry.default);
  return out;
}

/** How readBySchema finds and names the values. */
export interface SchemaReading {
  /** The value given for an entry; undefined = not given (its default applies). */
  given(name: string, entry: SchemaEntry): unknown;
  /** The entry's path in messages. */
  pathOf(name: string, entry: SchemaEntry): string;
  checks: ValueChecks;
  refuse(message: string): never;
}

/**
 * Every entry's value (given, else its default), checked for its type and bounds first, then by
 * the entries' own checks, in the schema's order; the first wrong value throws. Returns the values
 * by name; an optional entry that was not given is absent.
 */
export function readBySchema(schema: Schema, reading: SchemaReading): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [name, entry] of Object.entries(schema)) {
    const given = reading.given(name, entry);
    const v = given === undefined ? copied(entry.default) : given;
    if (v !== undefined) values[name] = typed(entry, reading.pathOf(name, entry), v, reading.checks);
  }
  for (const [name, entry] of Object.entries(schema)) {
    if (!entry.check || values[name] === undefined) continue;
    const ctx: EntryCheckContext = {
      path: reading.pathOf(name, entry),
      get: (other) => values[other],
      fail: reading.checks.fail,
      refuse: reading.refuse,
    };
    (entry.check as (value: unknown, ctx: EntryCheckContext) => void)(values[name], ctx);
  }
  return values;
}

function typed(entry: SchemaEntry, path: string, v: unknown, checks: ValueChecks): unknown {
  const want = (fallback: () => unknown): unknown => (entry.want === undefined ? fallback() : checks.fail(path, entry.want, v));
  switch (entry.type) {
    case "boolean":
      return typeof v === "boolean" ? v : want(() => checks.boolean(path, v));
    case "integer":
      return Number.isInteger(v) && (v as number) >= entry.min && (v as number) <= entry.max
        ? v
        : want(() => checks.integer(path, v, entry.min, entry.max));
    case "number":
      return typeof v === "number" && v >= entry.min && v < entry.below
        ? v
        : checks.fail(path, entry.want ?? `a number from ${entry.min} to below ${entry.below}`, v);
    case "string":
      return typeof v === "string" && (entry.allowEmpty || v !== "") ? v : want(() => checks.string(path, v, entry.allowEmpty ?? false));
    case "string[]":
      return Array.isArray(v) && v.every((s) => typeof s === "string") ? [...v] : want(() => checks.stringList(path, v));
    case "enum":
      return entry.values.includes(v as string) ? v : want(() => checks.oneOf(path, v, entry.values));
  }
}
