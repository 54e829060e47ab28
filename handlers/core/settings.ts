/**
 * Settings: the one JSON document that configures both Lambda@Edge functions.
 *
 * Lambda@Edge has no environment variables, so the build writes `settings.json` beside each
 * bundle and the handlers read it once at cold start. A missing or invalid file is a start-up
 * error with a precise message; nothing falls back silently to a default.
 */
import { readFileSync } from "node:fs";
import { defaultsOf, readBySchema, type GroupOf, type SchemaEntry } from "./schema.js";
import {
  CMYK_CONVERSIONS,
  INTERMEDIATE_MODES,
  SETTINGS_SCHEMA,
  SMART_CROP_MODES,
  type SettingEntry,
  type SettingReader,
} from "./settings-schema.js";
import { valueChecks } from "./value-checks.js";

export { CMYK_CONVERSIONS, INTERMEDIATE_MODES, SETTINGS_SCHEMA, SMART_CROP_MODES, parseSizeEntry } from "./settings-schema.js";

export type SmartCropMode = (typeof SMART_CROP_MODES)[number];
export type CmykConversion = (typeof CMYK_CONVERSIONS)[number];
export type IntermediateMode = (typeof INTERMEDIATE_MODES)[number];

/** A schema of handler settings: SETTINGS_SCHEMA, or (in tests) one with more entries. */
export type SettingsSchema = Readonly<Record<string, SettingEntry>>;
/** The settings document a schema describes: its top-level entries, and the `thumbor` group as an object. */
export type SettingsOf<S> = GroupOf<S, undefined> & { thumbor: GroupOf<S, "thumbor"> };

type Schema = typeof SETTINGS_SCHEMA;
/** The `thumbor` object of the settings (SETTINGS_SCHEMA's entries of that group). */
export interface ThumborSettings extends GroupOf<Schema, "thumbor"> {}
/** The settings document (SETTINGS_SCHEMA's entries; each one's doc line is there). */
export interface Settings extends GroupOf<Schema, undefined> {
  thumbor: ThumborSettings;
}

/** The settings every absent key takes. */
export function defaultSettingsOf<S extends SettingsSchema>(schema: S): SettingsOf<S> {
  const defaults = defaultsOf(schema);
  const top: Record<string, unknown> = {};
  const thumbor: Record<string, unknown> = {};
  for (const [name, entry] of Object.entries(schema)) (entry.group ? thumbor : top)[name] = defaults[name];
  return Object.freeze({ ...top, thumbor: Object.freeze(thumbor) }) as SettingsOf<S>;
}

export const DEFAULT_SETTINGS: Settings = defaultSettingsOf(SETTINGS_SCHEMA) as Settings;

export class SettingsError extends Error {
  override name = "SettingsError";
}

/**
 * The validator of a settings schema. Keys that are absent take their default (so a minimal `{}`
 * is valid); keys that are present must be right, and unknown keys are errors (a typo must not
 * silently become a default).
 */
export function settingsValidator<S extends SettingsSchema>(schema: S): (input: unknown, origin?: string) => SettingsOf<S> {
  const names = (group: "thumbor" | undefined) => new Set(Object.keys(schema).filter((name) => schema[name]!.group === group));
  const topLevel = names(undefined);
  const thumborNames = names("thumbor");
  return (input, origin = "settings") => {
    const checks = valueChecks(origin, { error: (message) => new SettingsError(message), show: shownValue });
    if (!isObject(input)) checks.fail("the document", "a JSON object", input);
    const doc = input as Record<string, unknown>;
    rejectUnknownKeys(doc, new Set([...topLevel, "thumbor", "$schema"]), "", origin);
    const given = "thumbor" in doc ? doc.thumbor : {};
    if (!isObject(given)) checks.fail("thumbor", "an object", given);
    const thumbor = given as Record<string, unknown>;
    rejectUnknownKeys(thumbor, thumborNames, "thumbor.", origin);
    const values = readBySchema(schema, {
      given: (name, entry) => givenIn(entry.group ? thumbor : doc, name),
      pathOf: (name, entry: SchemaEntry) => (entry.group ? `${entry.group}.${name}` : name),
      checks,
      refuse: (message) => {
        throw new SettingsError(`${origin}: ${message}`);
      },
    });
    const out: Record<string, unknown> = { thumbor: {} };
    for (const name of Object.keys(schema)) {
      if (schema[name]!.group) (out.thumbor as Record<string, unknown>)[name] = values[name];
      else out[name] = values[name];
    }
    return out as SettingsOf<S>;
  };
}

/** Validates a parsed settings document against SETTINGS_SCHEMA (settingsValidator). */
export const validateSettings: (input: unknown, origin?: string) => Settings = settingsValidator(SETTINGS_SCHEMA);

/**
 * The settings document one function is given: the settings its code reads (each entry's
 * `readBy`), every other one at its default. origin-response never checks a signature, so it is
 * never given the signing keys: its code package holds no key that could sign a URL.
 */
export function settingsFor(reader: SettingReader, settings: Settings): Settings {
  const doc: Record<string, unknown> = {};
  const thumbor: Record<string, unknown> = {};
  const given = settings as unknown as Record<string, unknown>;
  const givenThumbor = settings.thumbor as unknown as Record<string, unknown>;
  for (const [name, entry] of Object.entries(SETTINGS_SCHEMA) as [string, SettingEntry][]) {
    if (!entry.readBy.includes(reader)) continue;
    if (entry.group) thumbor[name] = givenThumbor[name];
    else doc[name] = given[name];
  }
  return validateSettings({ ...doc, thumbor }, `settings for ${reader}`);
}

/** The text of a settings.json: the document as the build and the component write it. */
export function settingsFileText(settings: Settings): string {
  return `${JSON.stringify(settings, null, 2)}\n`;
}

function givenIn(doc: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(doc, name) ? doc[name] : undefined;
}

function rejectUnknownKeys(doc: Record<string, unknown>, known: ReadonlySet<string>, prefix: string, origin: string): void {
  for (const k of Object.keys(doc)) if (!known.has(k)) throw new SettingsError(`${origin}: unknown key "${prefix}${k}"`);
}

/** Reads and validates a settings file; throws a SettingsError naming the file for any problem. */
export function loadSettingsFile(path: string): Settings {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new SettingsError(`cannot read settings file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    // V8's "Unexpected token" messages quote the text around the error, which may be the key.
    const message = (err as Error).message;
    const safe = /is not valid JSON$/.test(message)
      ? "unexpected token (the parser's excerpt is not shown: it may quote a secret)"
      : message;
    throw new SettingsError(`settings file ${path} is not valid JSON: ${safe}`);
  }
  return validateSettings(doc, path);
}

/**
 * How a wrong value is shown in an error. Security keys, and the whole document (which holds
 * them), are described by type only: these messages end up in build output and CloudWatch logs.
 */
function shownValue(path: string, got: unknown): string {
  if (path === "the document" || /securitykey/i.test(path)) {
    return `${Array.isArray(got) ? "an array" : got === null ? "null" : `a ${typeof got}`} (value not shown: it may be a secret)`;
  }
  return JSON.stringify(got);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
