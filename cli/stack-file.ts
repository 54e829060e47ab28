/**
 * A Pulumi stack's config → the settings.json its functions bake in, through the component's own
 * mapping (components/stack-config.ts), never a second one: the values are handed to Pulumi's
 * config as the Pulumi CLI would hand them to the program, and the component's reader does the rest.
 *
 * Two spellings of a stack's config are read: `pulumi config --json --show-secrets` (each key's
 * `value` as a string, `objectValue` for lists) and a stack file (`Pulumi.<stack>.yaml`, whose
 * `config:` holds plain values; encrypted `secure:` values cannot be read here). This is the one
 * reader of stack files: the settings commands and deployer-policy (which also takes Pulumi.yaml's
 * declared defaults, as the Pulumi CLI does) both read through it.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { imageResizerArgsFromConfig } from "../components/stack-config.js";
import { SettingsError, validateSettings, type Settings } from "../handlers/core/settings.js";

/** js-yaml, loaded only when a YAML file is read; its types are not installed, hence the shape here. */
export function yamlParser(): { load(text: string): unknown } {
  return require("js-yaml") as { load(text: string): unknown };
}

/** The project's config namespace (Pulumi.yaml `name`). */
export const PROJECT = "edge-resizer";

/** `namespace:key` → the value as the Pulumi CLI hands it to a program (a string; lists as JSON). */
export type StackValues = Record<string, string>;

/** True when a settings path names a stack's config rather than a settings.json. */
export function looksLikeStackConfig(path: string, text: string): boolean {
  if (/\.ya?ml$/i.test(path)) return true;
  try {
    const doc = JSON.parse(text) as unknown;
    return isObject(doc) && Object.keys(doc).some((k) => k.includes(":"));
  } catch {
    return false;
  }
}

/**
 * What a reader does with an encrypted (`secure:`) value, which only the Pulumi CLI can decrypt:
 * refuse the file (the settings need every value), or leave the key out (deployer-policy reads
 * no secret).
 */
export type EncryptedValues = "refuse" | "omit";

/** Reads either spelling of a stack's config; `origin` names it in errors. */
export function parseStackConfig(text: string, origin: string, encrypted: EncryptedValues = "refuse"): StackValues {
  const trimmed = text.trimStart();
  if (trimmed.startsWith("{")) return fromPulumiJson(text, origin);
  const doc = loadYaml(text, origin);
  if (!isObject(doc) || !isObject(doc.config ?? {})) throw new SettingsError(`${origin}: expected a stack file with a "config:" map`);
  const out: StackValues = {};
  for (const [key, value] of Object.entries((doc.config ?? {}) as Record<string, unknown>)) {
    if (isObject(value) && "secure" in value) {
      if (encrypted === "omit") continue;
      throw new SettingsError(
        `${origin}: ${key} is encrypted; give \`pulumi config --json --show-secrets\` instead (e.g. on standard input with "-")`,
      );
    }
    out[key] = cliValue(value);
  }
  return out;
}

/** Pulumi.yaml's declared defaults, keyed `<project name>:<key>` as a stack's values are. */
export function projectDefaults(text: string, origin: string): StackValues {
  const doc = loadYaml(text, origin);
  if (!isObject(doc) || typeof doc.name !== "string" || !isObject(doc.config ?? {}))
    throw new SettingsError(`${origin}: expected a Pulumi project file with a "name:" and a "config:" map`);
  const out: StackValues = {};
  for (const [key, declared] of Object.entries((doc.config ?? {}) as Record<string, unknown>))
    if (isObject(declared) && declared.default !== undefined) out[`${doc.name}:${key}`] = cliValue(declared.default);
  return out;
}

/**
 * A stack file as the Pulumi CLI hands it to the program: the defaults Pulumi.yaml (beside it)
 * declares, overlaid by the stack's own values.
 */
export function readStackFile(path: string, encrypted: EncryptedValues): StackValues {
  const projectFile = join(dirname(path), "Pulumi.yaml");
  return { ...projectDefaults(readText(projectFile), projectFile), ...parseStackConfig(readText(path), path, encrypted) };
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new SettingsError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

function loadYaml(text: string, origin: string): unknown {
  try {
    return yamlParser().load(text);
  } catch (err) {
    throw new SettingsError(`${origin} is not valid YAML: ${(err as Error).message.split("\n")[0]}`);
  }
}

/** A value as the Pulumi CLI hands it to a program: strings as they are, anything else as JSON. */
function cliValue(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function fromPulumiJson(text: string, origin: string): StackValues {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new SettingsError(`${origin} is not valid JSON (the parser's excerpt is not shown: it may quote a secret)`);
  }
  if (!isObject(doc)) throw new SettingsError(`${origin}: expected the object \`pulumi config --json\` prints`);
  const out: StackValues = {};
  for (const [key, entry] of Object.entries(doc)) {
    if (!isObject(entry)) throw new SettingsError(`${origin}: ${key} is not an entry of \`pulumi config --json\``);
    if (entry.secret === true && entry.value === undefined) {
      throw new SettingsError(`${origin}: ${key} is a secret whose value is not shown: run \`pulumi config --json --show-secrets\``);
    }
    out[key] = cliValue(entry.objectValue !== undefined ? entry.objectValue : entry.value);
  }
  return out;
}

/** The settings a stack's functions bake in: the component's reader, then the handlers' validator. */
export async function settingsFromStack(values: StackValues, origin: string): Promise<Settings> {
  pulumi.runtime.setAllConfig(values, []);
  let args;
  try {
    args = imageResizerArgsFromConfig(new pulumi.Config(PROJECT));
  } catch (err) {
    throw new SettingsError(`${origin}: ${(err as Error).message}`);
  }
  const settings = (args.settings ?? {}) as Record<string, unknown>;
  const thumbor = (settings.thumbor ?? {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(thumbor)) thumbor[k] = await plainValue(v);
  return validateSettings({ ...settings, ...(settings.thumbor ? { thumbor } : {}) }, origin);
}

/** A secret config value is an Output; outside a deployment it resolves at once. */
function plainValue(value: unknown): Promise<unknown> {
  if (!pulumi.Output.isInstance(value)) return Promise.resolve(value);
  return new Promise((resolve) => (value as pulumi.Output<unknown>).apply((v) => resolve(v)));
}

/** A settings.json or a stack's config (either spelling), from a file: the settings either way. */
export async function loadSettingsOrStack(path: string): Promise<Settings> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new SettingsError(`cannot read settings file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (looksLikeStackConfig(path, text)) return settingsFromStack(parseStackConfig(text, path), path);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new SettingsError(`settings file ${path} is not valid JSON (the parser's excerpt is not shown: it may quote a secret)`);
  }
  return validateSettings(doc, path);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
