/**
 * Checks of configuration values with precise messages, all in one shape:
 * `<where>: <path> must be <what it must be>, got <the value>` (as sharp's invalidParameterError).
 * The settings document (settings.ts) and the Pulumi component's own arguments
 * (components/image-resizer.ts) are both checked with these, so their messages read alike.
 */

export interface ValueCheckOptions {
  /** The error to throw (settings throw SettingsError). */
  error?: (message: string) => Error;
  /** How a wrong value is shown (settings hide security keys); JSON by default. */
  show?: (path: string, got: unknown) => string;
}

export interface ValueChecks {
  fail(path: string, want: string, got: unknown): never;
  integer(path: string, v: unknown, min: number, max: number): number;
  boolean(path: string, v: unknown): boolean;
  /** A string; an empty one only when `allowEmpty`. */
  string(path: string, v: unknown, allowEmpty: boolean): string;
  stringList(path: string, v: unknown): string[];
  /** A string matching `pattern`; `want` says in words what that is. */
  matching(path: string, v: unknown, pattern: RegExp, want: string): string;
  oneOf<T extends string>(path: string, v: unknown, choices: readonly T[]): T;
}

export function valueChecks(where: string, options: ValueCheckOptions = {}): ValueChecks {
  const error = options.error ?? ((message: string) => new Error(message));
  const show = options.show ?? ((_path: string, got: unknown) => JSON.stringify(got));
  const fail = (path: string, want: string, got: unknown): never => {
    throw error(`${where}: ${path} must be ${want}, got ${show(path, got)}`);
  };
  return {
    fail,
    integer: (path, v, min, max) =>
      Number.isInteger(v) && (v as number) >= min && (v as number) <= max
        ? (v as number)
        : fail(path, `an integer from ${min} to ${max}`, v),
    boolean: (path, v) => (typeof v === "boolean" ? v : fail(path, "true or false", v)),
    string: (path, v, allowEmpty) =>
      typeof v === "string" && (allowEmpty || v.length > 0) ? v : fail(path, allowEmpty ? "a string" : "a non-empty string", v),
    stringList: (path, v) =>
      Array.isArray(v) && v.every((s) => typeof s === "string") ? [...(v as string[])] : fail(path, "an array of strings", v),
    matching: (path, v, pattern, want) => (typeof v === "string" && pattern.test(v) ? v : fail(path, want, v)),
    oneOf: <T extends string>(path: string, v: unknown, choices: readonly T[]): T =>
      (choices as readonly unknown[]).includes(v) ? (v as T) : fail(path, `one of ${choices.map((c) => JSON.stringify(c)).join(", ")}`, v),
  };
}
