/**
 * `edge-resizer <command>`: the one command line of the migration kit. Each command has its own
 * module and its own `--help`; this module dispatches and is the program: loading it runs it
 * (bin/edge-resizer.cjs loads it through tsx in a clone, compiled in the package).
 *
 * The audit's exit status: 0 when every thumbor URL would be served (identically or
 * approximately), 1 when any would break (with --strict: or be only approximate), 2 when the
 * audit could not run (usage error, unreadable input or settings), always with a one-line
 * message on stderr.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseCommandArgs } from "./args.js";
import { DEFAULT_SETTINGS, SettingsError, type Settings } from "../handlers/core/settings.js";
import { auditExitCode, Auditor, formatReport, reportToJson } from "./audit.js";
import { openLines } from "./input.js";
import { createProgressBar } from "./progress.js";
import { runSign } from "./sign.js";
import { PURGE_USAGE, PurgeUsageError, runPurgeCommand } from "./purge.js";
import { runDeployerPolicy } from "./deployer-policy.js";
import { runMigrateConfig, type CommandIo } from "./migrate-config-command.js";
import { runSettingsCommand } from "./settings-command.js";
import { loadSettingsOrStack } from "./stack-file.js";

const USAGE = "usage: edge-resizer audit <file|-> [--json] [--settings <settings.json|stack config>] [--strict]";
const AUDIT_HELP = `${USAGE}

Reads thumbor URLs (one per line, absolute or paths) or access logs (nginx combined, CloudFront
standard, ALB; plain or gzipped) from <file>, or standard input for "-", and tells, for each
distinct thumbor URL, whether edge-resizer serves it identically, approximately (which features
differ) or not at all (why).

  --json               one JSON document: per-URL entries and totals
  --settings <file>    the settings you will deploy: a settings.json, a Pulumi.<stack>.yaml or
                       \`pulumi config --json --show-secrets\` output (default: the built-in
                       defaults); with the security key it checks signed URLs
  --strict             exit 1 when any URL is only approximate, not just when one breaks

Exit status: 0 all served, 1 some URL would break (or, with --strict, is approximate), 2 error.
`;

const TOP_USAGE = "usage: edge-resizer <command> [options]";

/** One line per command, in the order a migration uses them. */
const COMMANDS: Array<[string, string]> = [
  ["audit", "which thumbor URLs of a log or list the edge serves, approximates or breaks"],
  ["migrate-config", "a thumbor.conf or environment file → this stack's config, with a table of every key"],
  ["settings", "a stack's config → the settings.json its functions bake in"],
  ["verify", "the same URLs from the old thumbor and the new edge, compared (status, size, format, pixels)"],
  ["warm", "every variant of a list or log requested once per negotiated format, before DNS moves"],
  ["sign", "the signed thumbor URL of a path, checked against the edge"],
  ["purge", "delete and invalidate the variants of changed originals by hand"],
  ["deployer-policy", "the IAM policy the credentials running `pulumi up` need for this stack"],
];

function topHelp(): string {
  const width = Math.max(...COMMANDS.map(([name]) => name.length));
  return `${TOP_USAGE}   (edge-resizer <command> --help for its options)

${COMMANDS.map(([name, what]) => `  ${name.padEnd(width)}  ${what}`).join("\n")}

  --version  the version of edge-resizer
  --help     this help
`;
}

/** The package's version, from its package.json: one level above cli/ in a clone, two above lib/cli/ in the package. */
function version(): string {
  for (const dir of [join(__dirname, ".."), join(__dirname, "..", "..")]) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "edge-resizer" && pkg.version) return pkg.version;
    } catch {
      // not this folder: the compiled CLI lives one level deeper (lib/cli/)
    }
  }
  return "unknown";
}

/** The audit cannot run: bad arguments (`usage` set: the usage line is shown too) or unreadable input. */
class UsageError extends Error {
  constructor(
    message: string,
    readonly usage = true,
  ) {
    super(message);
  }
}

interface AuditOptions {
  file: string;
  json: boolean;
  strict: boolean;
  settingsPath: string | undefined;
}

type Command = { kind: "help" } | ({ kind: "audit" } & AuditOptions);

/** The audit's own arguments (after the word "audit"). */
function parseAuditLine(argv: string[]): Command {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      json: { type: "boolean" },
      strict: { type: "boolean" },
      settings: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    (message) => new UsageError(message),
  );
  if (values.help) return { kind: "help" };
  const rest = positionals;
  if (rest.length === 0) throw new UsageError("audit needs a file to read");
  if (rest.length > 1) throw new UsageError(`audit reads one file, got ${rest.length}: ${rest.join(" ")}`);
  return { kind: "audit", file: rest[0]!, json: values.json ?? false, strict: values.strict ?? false, settingsPath: values.settings };
}

async function runAudit(options: AuditOptions): Promise<number> {
  let settings: Settings = DEFAULT_SETTINGS;
  if (options.settingsPath !== undefined) {
    try {
      settings = await loadSettingsOrStack(options.settingsPath);
    } catch (err) {
      if (err instanceof SettingsError) throw new UsageError(err.message, false);
      throw err;
    }
  }
  let source;
  try {
    source = await openLines(options.file);
  } catch (err) {
    throw new UsageError(`cannot read ${options.file}: ${describeIoError(err)}`, false);
  }
  const auditor = new Auditor(settings);
  const progress = createProgressBar(process.stderr, source.size);
  let n = 0;
  try {
    for await (const line of source.lines) {
      auditor.addLine(line);
      if (++n % 4096 === 0) progress.update(source.bytesRead());
    }
  } catch (err) {
    progress.done();
    throw new UsageError(`cannot read ${options.file}${source.gzipped ? " (gzip)" : ""}: ${describeIoError(err)}`, false);
  }
  progress.done();
  const report = auditor.report();
  process.stdout.write(options.json ? `${JSON.stringify(reportToJson(report), null, 2)}\n` : formatReport(report));
  return auditExitCode(report, options.strict);
}

/** All of standard input (for `pulumi stack output --json | edge-resizer purge ...`); empty on a terminal. */
async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return "";
  let text = "";
  for await (const chunk of process.stdin) text += chunk;
  return text;
}

function describeIoError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === "ENOENT") return "no such file";
  if (e.code === "EISDIR") return "is a directory";
  if (e.code === "EACCES") return "permission denied";
  return e.message ?? String(err);
}

const io: CommandIo = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t), readStdin };

/** Each command's runner; its --help is its own. */
const RUNNERS: Record<string, (argv: string[]) => Promise<number>> = {
  audit: runAuditCommand,
  "migrate-config": (argv) => runMigrateConfig(argv, io),
  settings: (argv) => runSettingsCommand(argv, io),
  // Loaded on use (require: tsx's hook maps .js to .ts for it, not for import()): verify decodes
  // images with sharp, which the other commands never load.
  verify: (argv) => (require("./verify.js") as typeof import("./verify.js")).runVerify(argv, { ...io, progress: process.stderr }),
  warm: (argv) => (require("./warm.js") as typeof import("./warm.js")).runWarm(argv, { ...io, progress: process.stderr }),
  sign: (argv) => runSign(argv, { env: process.env, stdout: io.stdout, stderr: io.stderr }),
  purge: runPurge,
  "deployer-policy": async (argv) => runDeployerPolicy(argv, io),
};
async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    process.stderr.write(`edge-resizer: missing command (${TOP_USAGE}; edge-resizer --help lists the commands)\n`);
    return 2;
  }
  if (first === "--help" || first === "-h") {
    process.stdout.write(topHelp());
    return 0;
  }
  if (first === "--version" || first === "-v") {
    process.stdout.write(`edge-resizer ${version()}\n`);
    return 0;
  }
  // `edge-resizer help <command>` is `edge-resizer <command> --help`.
  if (first === "help" && rest[0] !== undefined) return main([rest[0], "--help"]);
  if (first === "help") return main(["--help"]);
  const runner = Object.hasOwn(RUNNERS, first) ? RUNNERS[first] : undefined;
  return runner ? runner(rest) : unknownCommand(first);
}

function unknownCommand(name: string): number {
  process.stderr.write(`edge-resizer: unknown command "${name}" (${TOP_USAGE}; commands: ${COMMANDS.map(([n]) => n).join(", ")})\n`);
  return 2;
}

async function runAuditCommand(argv: string[]): Promise<number> {
  try {
    const command = parseAuditLine(argv);
    if (command.kind === "help") {
      process.stdout.write(AUDIT_HELP);
      return 0;
    }
    return await runAudit(command);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`edge-resizer: ${err.message}${err.usage ? ` (${USAGE})` : ""}\n`);
      return 2;
    }
    throw err;
  }
}

async function runPurge(argv: string[]): Promise<number> {
  try {
    return await runPurgeCommand(argv, { out: process.stdout, err: process.stderr, readStdin });
  } catch (err) {
    if (err instanceof PurgeUsageError) {
      process.stderr.write(`edge-resizer: ${err.message} (${PURGE_USAGE})\n`);
      return 2;
    }
    throw err;
  }
}

let finished = false;
// Safety net: if a stream never ends, the event loop drains and Node would exit 0 with no report.
process.once("beforeExit", () => {
  if (finished) return;
  process.stderr.write("edge-resizer: internal error: the input stopped without ending\n");
  process.exitCode = 2;
});
main(process.argv.slice(2)).then(
  (code) => {
    finished = true;
    // exitCode, not exit(): a large report written to a pipe must be flushed first.
    process.exitCode = code;
  },
  (err: unknown) => {
    finished = true;
    process.stderr.write(`edge-resizer: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  },
);
