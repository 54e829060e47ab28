/**
 * Stack config → ImageResizerArgs. One config key per setting: every leaf of `Settings` has a key
 * of the same name (`edge-resizer:sizes`, `edge-resizer:maxWidth`, ...; the thumbor group's leaves
 * keep their own names: `allowUnsafe`, `securityKey`, ...), plus the infrastructure keys. Pulumi.yaml
 * declares every key with its default; an unknown key in the project's namespace is an error, so a
 * typo never silently becomes a default.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Schema, SchemaEntry } from "../handlers/core/schema.js";
import { SETTINGS_SCHEMA, type Settings, type SettingsSchema, type ThumborSettings } from "../handlers/core/settings.js";
import type { ImageResizerArgs, ImageResizerSettings } from "./image-resizer.js";
import { INFRA_SCHEMA } from "./infra-schema.js";

type ConfigKind = "string" | "integer" | "number" | "boolean" | "string[]";

interface SettingKey {
  /** Where the value goes in Settings. */
  path: readonly [keyof Omit<Settings, "thumbor">] | readonly ["thumbor", keyof ThumborSettings];
  kind: ConfigKind;
  /** Read with getSecret: the value is baked into the functions and kept encrypted in state. */
  secret?: true;
}

/** What a stack-config key of an entry reads (an enum is a string checked by the schema). */
export function configKindOf(entry: SchemaEntry): ConfigKind {
  return entry.type === "enum" ? "string" : entry.type;
}

/** Config key → Settings path: every handler setting of SETTINGS_SCHEMA but those baked from an infrastructure key. */
export const SETTINGS_CONFIG_KEYS: Readonly<Record<string, SettingKey>> = Object.freeze(
  Object.fromEntries(
    Object.entries(SETTINGS_SCHEMA as SettingsSchema)
      .filter(([, entry]) => !("bakedFromInfra" in entry))
      .map(([name, entry]) => [
        name,
        { path: entry.group ? [entry.group, name] : [name], kind: configKindOf(entry), ...(entry.secret ? { secret: true } : {}) },
      ]),
  ),
) as unknown as Readonly<Record<string, SettingKey>>;

/** Config keys of the infrastructure (INFRA_SCHEMA: ImageResizerArgs other than settings). */
export const INFRA_CONFIG_KEYS: Readonly<Record<string, ConfigKind>> = Object.freeze(
  Object.fromEntries(Object.entries(INFRA_SCHEMA as Schema).map(([name, entry]) => [name, configKindOf(entry)])),
);

/** Reads the project's stack config into the arguments of one ImageResizer. */
export function imageResizerArgsFromConfig(config: pulumi.Config = new pulumi.Config()): ImageResizerArgs {
  rejectUnknownKeys(config.name);
  const settings: Record<string, unknown> = {};
  const thumbor: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(SETTINGS_CONFIG_KEYS)) {
    const value = spec.secret ? readSecret(config, key, spec.kind) : read(config, key, spec.kind);
    if (value === undefined) continue;
    if (spec.path.length === 2) thumbor[spec.path[1]] = value;
    else settings[spec.path[0]] = value;
  }
  if (Object.keys(thumbor).length > 0) settings.thumbor = thumbor;

  const infra: Record<string, unknown> = {};
  for (const [key, kind] of Object.entries(INFRA_CONFIG_KEYS)) {
    const value = read(config, key, kind);
    // Pulumi.yaml declares optional names with default "" (a key without a default is required).
    if (value !== undefined && value !== "") infra[key] = value;
  }
  // The values' types are checked by resolveImageResizerArgs and validateSettings, naming the key.
  return { ...(infra as Omit<ImageResizerArgs, "settings">), settings: settings as ImageResizerSettings };
}

function read(config: pulumi.Config, key: string, kind: ConfigKind): unknown {
  switch (kind) {
    case "string":
      return config.get(key);
    case "integer":
    case "number":
      return config.getNumber(key);
    case "boolean":
      return config.getBoolean(key);
    case "string[]":
      return stringList(config, key, config.getObject<unknown>(key));
  }
}

/**
 * Secrets come back as secret Outputs, whose emptiness could only be checked at deployment. An
 * unset or empty key hides nothing, so it is passed plain: `allowUnsafe: false` without a key
 * then fails at construction (during preview) rather than half-way through `pulumi up`.
 */
function readSecret(config: pulumi.Config, key: string, kind: ConfigKind): unknown {
  const raw = pulumi.runtime.getConfig(`${config.name}:${key}`);
  if (raw === undefined) return undefined;
  if (kind === "string") return raw === "" ? "" : config.getSecret(key);
  const plain = stringList(config, key, parseJson(config, key, raw));
  return plain?.length === 0 ? [] : config.getSecretObject<string[]>(key);
}

function parseJson(config: pulumi.Config, key: string, raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw new Error(`stack config ${config.name}:${key} must be a JSON list of strings, got ${JSON.stringify(raw)}`);
  }
}

function stringList(config: pulumi.Config, key: string, value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
    throw new Error(`stack config ${config.name}:${key} must be a list of strings (e.g. ["320x0","640x0"]), got ${JSON.stringify(value)}`);
  }
  return value;
}

/** A config key in our namespace that nothing reads is a typo: fail with the known keys. */
function rejectUnknownKeys(namespace: string): void {
  const known = new Set([...Object.keys(SETTINGS_CONFIG_KEYS), ...Object.keys(INFRA_CONFIG_KEYS)]);
  for (const fullKey of Object.keys(pulumi.runtime.allConfig())) {
    const [ns, key] = splitKey(fullKey);
    if (ns === namespace && !known.has(key)) {
      throw new Error(`stack config ${fullKey} is not a known key; known keys: ${[...known].join(", ")}`);
    }
  }
}

function splitKey(fullKey: string): [string, string] {
  const at = fullKey.indexOf(":");
  // The runtime may spell keys `ns:config:key` (older form) as well as `ns:key`.
  const ns = fullKey.slice(0, at);
  const rest = fullKey.slice(at + 1);
  return [ns, rest.startsWith("config:") ? rest.slice("config:".length) : rest];
}
