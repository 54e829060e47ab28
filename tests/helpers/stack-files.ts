/**
 * The project's Pulumi.yaml and Pulumi.prod.yaml, and the config a Pulumi CLI would hand the
 * program from them (for tests that run the program or the component under mocks).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

// js-yaml is what @pulumi/pulumi itself depends on; it has no bundled types, hence the shape here.
export const yaml: { load(text: string): unknown } = require("js-yaml");

const ROOT = join(__dirname, "..", "..");
export type Declared = { type: string; items?: { type: string }; default?: unknown; description?: string; secret?: boolean };
export const project = yaml.load(readFileSync(join(ROOT, "Pulumi.yaml"), "utf8")) as {
  name: string;
  main?: string;
  config: Record<string, Declared>;
};
export const prodStack = yaml.load(readFileSync(join(ROOT, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, unknown> };

/** Config keys the program reads as secrets. */
export const SECRET_KEYS = ["edge-resizer:securityKey", "edge-resizer:retiredSecurityKeys"];

/** Config as the CLI hands it to the program: project defaults, overlaid by the stack file, values as strings. */
export function programConfig(stackValues: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  const put = (key: string, value: unknown) => {
    out[key] = typeof value === "string" ? value : JSON.stringify(value);
  };
  for (const [key, declared] of Object.entries(project.config))
    if (declared.default !== undefined) put(`${project.name}:${key}`, declared.default);
  for (const [key, value] of Object.entries(stackValues)) put(key, value);
  return out;
}
