/**
 * `npm run generate:config [-- --check]`: writes what the configuration schemas imply into the
 * files a user reads: Pulumi.yaml's `config:` block (every stack-config key with its type, default
 * and description), the README's settings table and docs/deploy.md's infrastructure table, each
 * between its markers. `--check` writes nothing and fails when a file differs (the test
 * tests/scripts/generate-config.test.ts does the same). The doc lines are the schema entries' doc
 * comments, read from the source.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { INFRA_SCHEMA } from "../components/infra-schema.js";
import { configKindOf } from "../components/stack-config.js";
import type { Schema, SchemaEntry } from "../handlers/core/schema.js";
import { SETTINGS_SCHEMA, type SettingsSchema } from "../handlers/core/settings.js";

const ROOT = join(__dirname, "..");

/** A schema with the doc line of each entry. */
export interface DocumentedSchema<S extends Schema = Schema> {
  schema: S;
  docs: Readonly<Record<string, string>>;
}

/** The doc comment of each entry of the object literal passed to the call that initialises `exportName`. */
export function docLinesOf(source: string, exportName: string): Record<string, string> {
  const file = ts.createSourceFile("schema.ts", source, ts.ScriptTarget.Latest, true);
  const docs: Record<string, string> = {};
  const visit = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) && node.name.getText(file) === exportName && node.initializer) {
      const init = node.initializer;
      const literal = ts.isCallExpression(init) ? init.arguments[0] : init;
      if (literal && ts.isObjectLiteralExpression(literal))
        for (const property of literal.properties) {
          const comment = ts.getJSDocCommentsAndTags(property)[0];
          const text = comment && ts.isJSDoc(comment) ? ts.getTextOfJSDocComment(comment.comment) : undefined;
          if (property.name && text) docs[property.name.getText(file)] = text.replace(/\s+/g, " ").trim();
        }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return docs;
}

/** An entry's doc line; a missing one is an error, so no key reaches the docs undescribed. */
function docOf(documented: DocumentedSchema, name: string): string {
  const doc = documented.docs[name];
  if (!doc) throw new Error(`schema entry "${name}" has no doc comment`);
  return doc;
}

const PULUMI_TYPES = { string: "string", integer: "integer", number: "string", boolean: "boolean", "string[]": "array" } as const;

/** How Pulumi.yaml writes a default: numbers of kind "number" as strings (Pulumi config has no number type); optional names as "". */
function pulumiDefault(entry: SchemaEntry): unknown {
  if (entry.default === undefined) return "";
  return entry.type === "number" ? String(entry.default) : entry.default;
}

function yamlValue(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(yamlValue).join(", ")}]`;
  return JSON.stringify(value);
}

function pulumiKey(name: string, entry: SchemaEntry, description: string): string[] {
  const type = PULUMI_TYPES[configKindOf(entry)];
  return [
    `  ${name}:`,
    `    type: ${type}`,
    ...(type === "array" ? ["    items:", "      type: string"] : []),
    `    description: ${JSON.stringify(description)}`,
    `    default: ${yamlValue(pulumiDefault(entry))}`,
  ];
}

/** Pulumi.yaml's `config:` block: the handler settings (but those baked from infrastructure), then the infrastructure. */
export function pulumiConfigBlock(settings: DocumentedSchema<SettingsSchema>, infra: DocumentedSchema): string {
  const lines = [
    "config:",
    "  # ---- Handler settings (baked into settings.json inside each function that reads them) ----",
    ...Object.entries(settings.schema)
      .filter(([, entry]) => !entry.bakedFromInfra)
      .flatMap(([name, entry]) => pulumiKey(name, entry, `${entry.group ? `(${entry.group}.${name}) ` : ""}${docOf(settings, name)}`)),
    "",
    "  # ---- Infrastructure ----",
    ...Object.entries(infra.schema).flatMap(([name, entry]) => pulumiKey(name, entry, docOf(infra, name))),
  ];
  return `${lines.join("\n")}\n`;
}

function markdownDefault(entry: SchemaEntry): string {
  return entry.default === undefined ? "—" : `\`${JSON.stringify(entry.default)}\``;
}

/** The README's settings table: one row per handler setting, `thumbor.` before the group's keys. */
export function settingsTable(settings: DocumentedSchema<SettingsSchema>): string {
  const rows = Object.entries(settings.schema).map(
    ([name, entry]) => `| \`${entry.group ? `${entry.group}.` : ""}${name}\` | ${markdownDefault(entry)} | ${docOf(settings, name)} |`,
  );
  return ["| key | default | meaning |", "|---|---|---|", ...rows].join("\n");
}

/** docs/deploy.md's table of the infrastructure keys. */
export function infraTable(infra: DocumentedSchema): string {
  const rows = Object.entries(infra.schema).map(([name, entry]) => `| \`${name}\` | ${markdownDefault(entry)} | ${docOf(infra, name)} |`);
  return ["| key | default | what it does |", "|---|---|---|", ...rows].join("\n");
}

/** `text` with what lies between the markers of `name` replaced by `generated`. */
export function replaceBetweenMarkers(text: string, name: string, generated: string): string {
  const begin = `<!-- generated by npm run generate:config: ${name} -->`;
  const end = `<!-- end of generated ${name} -->`;
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`markers of "${name}" not found (${begin} ... ${end})`);
  return `${text.slice(0, from + begin.length)}\n${generated}\n${text.slice(to)}`;
}

/** Pulumi.yaml with its `config:` block (the rest of the file) generated. */
export function withConfigBlock(pulumiYaml: string, block: string): string {
  const at = pulumiYaml.search(/^config:$/m);
  if (at < 0) throw new Error("Pulumi.yaml has no `config:` line");
  return pulumiYaml.slice(0, at) + block;
}

/** The two schemas of this project with their doc lines. */
export function projectSchemas(): { settings: DocumentedSchema<SettingsSchema>; infra: DocumentedSchema } {
  const read = (path: string, exportName: string) => docLinesOf(readFileSync(join(ROOT, path), "utf8"), exportName);
  return {
    settings: { schema: SETTINGS_SCHEMA, docs: read("handlers/core/settings-schema.ts", "SETTINGS_SCHEMA") },
    infra: { schema: INFRA_SCHEMA, docs: read("components/infra-schema.ts", "INFRA_SCHEMA") },
  };
}

/** Every generated file: its path and the content it should have. */
export function generatedFiles(): { path: string; content: string }[] {
  const { settings, infra } = projectSchemas();
  const file = (path: string) => readFileSync(join(ROOT, path), "utf8");
  return [
    { path: "Pulumi.yaml", content: withConfigBlock(file("Pulumi.yaml"), pulumiConfigBlock(settings, infra)) },
    { path: "README.md", content: replaceBetweenMarkers(file("README.md"), "settings", settingsTable(settings)) },
    { path: "docs/deploy.md", content: replaceBetweenMarkers(file("docs/deploy.md"), "infrastructure keys", infraTable(infra)) },
  ];
}

function main(): void {
  const check = process.argv.includes("--check");
  const stale = generatedFiles().filter(({ path, content }) => readFileSync(join(ROOT, path), "utf8") !== content);
  if (check) {
    for (const { path } of stale) console.error(`${path} is not what the schemas generate: run npm run generate:config`);
    process.exitCode = stale.length > 0 ? 1 : 0;
    return;
  }
  for (const { path, content } of stale) writeFileSync(join(ROOT, path), content);
  console.log(stale.length > 0 ? `wrote ${stale.map((f) => f.path).join(", ")}` : "every generated file is up to date");
}

if (require.main === module) main();
