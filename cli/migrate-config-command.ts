/**
 * `edge-resizer migrate-config <thumbor.conf | env file | -> [--format commands|yaml|json]`:
 * prints the stack config on standard output (to run, to paste into Pulumi.<stack>.yaml, or to
 * pipe into `edge-resizer settings -`) and, on standard error, the table of every key it read.
 *
 * Before printing, the config goes through the component's own reader (cli/stack-file.ts), so
 * what is printed is a config the component accepts.
 *
 * Exit status: 0 printed, 2 usage error or a file that cannot be read or parsed.
 */
import { readFileSync } from "node:fs";
import { parseCommandArgs } from "./args.js";
import { migrateThumborConf, type KeyReport, type Migration } from "./migrate-config.js";
import { PROJECT, settingsFromStack, type StackValues } from "./stack-file.js";
import { ConfError, confValues, readThumborConf } from "./thumbor-conf.js";
import { SettingsError } from "../handlers/core/settings.js";

export const MIGRATE_USAGE = "usage: edge-resizer migrate-config <thumbor.conf|env file|-> [--format commands|yaml|json]";
export const MIGRATE_HELP = `${MIGRATE_USAGE}

Reads a thumbor.conf (Python assignments) or an environment file (KEY=value, as thumbor's docker
images take it), "-" for standard input, and prints this project's stack config:

  --format commands   pulumi config set commands, secrets with --secret (the default)
  --format yaml       the config: map of a Pulumi.<stack>.yaml (secrets left as a comment:
                      a stack file holds them encrypted, set them with pulumi config set --secret)
  --format json       the shape of \`pulumi config --json\`, for \`edge-resizer settings -\`

Standard error gets a table of every key read: carried over, already our default, or no
equivalent, each with what it changes. Loader settings of thumbor-aws (AWS_LOADER_BUCKET_NAME,
AWS_LOADER_ROOT_PATH) and tc_aws (TC_AWS_LOADER_BUCKET, TC_AWS_LOADER_ROOT_PATH) become
existingBucketName and pathPrefix.
`;

const FORMATS = ["commands", "yaml", "json"] as const;
type Format = (typeof FORMATS)[number];

export interface CommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readStdin: () => Promise<string>;
}

class MigrateError extends Error {
  constructor(
    message: string,
    readonly usage = false,
  ) {
    super(message);
  }
}

export async function runMigrateConfig(argv: string[], io: CommandIo): Promise<number> {
  try {
    const { values, positionals } = parseCommandArgs(
      argv,
      { format: { type: "string" }, help: { type: "boolean", short: "h" } },
      (m) => new MigrateError(m, true),
    );
    if (values.help) {
      io.stdout(MIGRATE_HELP);
      return 0;
    }
    if (positionals.length !== 1) throw new MigrateError(`migrate-config reads one file, got ${positionals.length}`, true);
    const format = (values.format ?? "commands") as Format;
    if (!FORMATS.includes(format)) throw new MigrateError(`--format must be one of ${FORMATS.join(", ")}, got "${format}"`, true);
    const file = positionals[0]!;
    const text = file === "-" ? await io.readStdin() : readFile(file);
    const migration = migrateThumborConf(confValues(readThumborConf(text)));
    // The component's own reader must accept it: a wrong mapping fails here, not at `pulumi up`.
    await settingsFromStack(toStackValues(migration), "the migrated config");
    io.stdout(formatConfig(migration, format));
    io.stderr(formatTable(migration.report));
    return 0;
  } catch (err) {
    if (err instanceof MigrateError || err instanceof ConfError || err instanceof SettingsError) {
      const usage = err instanceof MigrateError && err.usage ? ` (${MIGRATE_USAGE})` : "";
      io.stderr(`edge-resizer migrate-config: ${err.message}${usage}\n`);
      return 2;
    }
    throw err;
  }
}

function readFile(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw new MigrateError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/** The migration as the Pulumi CLI would hand it to the program. */
export function toStackValues(m: Migration): StackValues {
  const out: StackValues = {};
  for (const [key, value] of Object.entries(m.config)) out[`${PROJECT}:${key}`] = typeof value === "string" ? value : JSON.stringify(value);
  return out;
}

export function formatConfig(m: Migration, format: Format): string {
  const entries = Object.entries(m.config);
  if (format === "json") {
    const doc: Record<string, unknown> = {};
    for (const [key, value] of entries) {
      const text = typeof value === "string" ? value : JSON.stringify(value);
      doc[`${PROJECT}:${key}`] = { value: text, secret: m.secrets.has(key), ...(Array.isArray(value) ? { objectValue: value } : {}) };
    }
    return `${JSON.stringify(doc, null, 2)}\n`;
  }
  if (format === "yaml") {
    const lines = ["config:"];
    for (const [key, value] of entries) {
      if (m.secrets.has(key)) lines.push(`  # ${PROJECT}:${key}: a secret; set it with \`pulumi config set --secret ${PROJECT}:${key}\``);
      else if (Array.isArray(value)) lines.push(`  ${PROJECT}:${key}:`, ...value.map((v) => `    - ${JSON.stringify(v)}`));
      else lines.push(`  ${PROJECT}:${key}: ${typeof value === "string" ? JSON.stringify(value) : String(value)}`);
    }
    return `${lines.join("\n")}\n`;
  }
  const lines: string[] = [];
  for (const [key, value] of entries) {
    const name = `${PROJECT}:${key}`;
    if (Array.isArray(value))
      value.forEach((v, i) => lines.push(`pulumi config set --path ${shellQuote(`${name}[${i}]`)} ${shellQuote(v)}`));
    else lines.push(`pulumi config set ${m.secrets.has(key) ? "--secret " : ""}${name} ${shellQuote(String(value))}`);
  }
  return lines.length === 0 ? "# nothing to set: every key is already our default or has no equivalent\n" : `${lines.join("\n")}\n`;
}

const VERDICT_TEXT: Record<KeyReport["verdict"], string> = { carried: "carried over", default: "our default", none: "no equivalent" };

export function formatTable(report: KeyReport[]): string {
  const rows = report.map((r) => [r.key, VERDICT_TEXT[r.verdict], r.stackKeys.join(", ") || "-", r.note]);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length), ["thumbor key", "verdict", "stack key"][i]!.length));
  const line = (cells: string[]) => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c)).join("  ");
  const counts = (["carried", "default", "none"] as const).map((v) => `${report.filter((r) => r.verdict === v).length} ${VERDICT_TEXT[v]}`);
  return `${[line(["thumbor key", "verdict", "stack key", "what it means"]), ...rows.map(line)].join("\n")}\n${counts.join(", ")}\n`;
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_.,:/@%+=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
