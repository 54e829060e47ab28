/**
 * `edge-resizer audit <file> [--json] [--settings settings.json] [--strict]`: the command line
 * of the migration audit (cli/audit.ts). This module is the program: loading it runs it
 * (bin/edge-resizer.cjs loads it through tsx).
 *
 * Exit status: 0 when every thumbor URL would be served (identically or approximately), 1 when
 * any would break (with --strict: or be only approximate), 2 when the audit could not run
 * (usage error, unreadable input or settings), always with a one-line message on stderr.
 */
import { parseCommandArgs } from "./args.js";
import { DEFAULT_SETTINGS, loadSettingsFile, SettingsError, type Settings } from "../handlers/core/settings.js";
import { auditExitCode, Auditor, formatReport, reportToJson } from "./audit.js";
import { openLines } from "./input.js";
import { createProgressBar } from "./progress.js";
import { runSign } from "./sign.js";
import { PURGE_USAGE, PurgeUsageError, runPurgeCommand } from "./purge.js";
import { runDeployerPolicy } from "./deployer-policy.js";

const USAGE = "usage: edge-resizer audit <file|-> [--json] [--settings settings.json] [--strict]";
const HELP = `${USAGE}

Reads thumbor URLs (one per line, absolute or paths) or access logs (nginx combined, CloudFront
standard, ALB; plain or gzipped) from <file>, or standard input for "-", and tells, for each
distinct thumbor URL, whether edge-resizer serves it identically, approximately (which features
differ) or not at all (why).

  --json               one JSON document: per-URL entries and totals
  --settings <file>    the settings.json you will deploy (default: the built-in defaults);
                       give it thumbor.securityKey to check signed URLs
  --strict             exit 1 when any URL is only approximate, not just when one breaks

Exit status: 0 all served, 1 some URL would break (or, with --strict, is approximate), 2 error.

edge-resizer sign <thumbor path> [--key-file <file>] [--settings settings.json] [--base-url <url>]
  prints the signed URL; the key comes from $EDGE_RESIZER_SECURITY_KEY or --key-file (cli/sign.ts)
edge-resizer purge --help: delete and invalidate the variants of changed originals by hand.
edge-resizer deployer-policy [--stack Pulumi.<stack>.yaml] [...]: the IAM policy \`pulumi up\` needs (cli/deployer-policy.ts)
`;

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

function parseCommandLine(argv: string[]): Command {
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
  const [command, ...rest] = positionals;
  if (command === undefined) throw new UsageError("missing command");
  if (command !== "audit") throw new UsageError(`unknown command "${command}"`);
  if (rest.length === 0) throw new UsageError("audit needs a file to read");
  if (rest.length > 1) throw new UsageError(`audit reads one file, got ${rest.length}: ${rest.join(" ")}`);
  return { kind: "audit", file: rest[0]!, json: values.json ?? false, strict: values.strict ?? false, settingsPath: values.settings };
}

async function runAudit(options: AuditOptions): Promise<number> {
  let settings: Settings = DEFAULT_SETTINGS;
  if (options.settingsPath !== undefined) {
    try {
      settings = loadSettingsFile(options.settingsPath);
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

async function main(argv: string[]): Promise<number> {
  if (argv[0] === "sign")
    return runSign(argv.slice(1), { env: process.env, stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) });
  if (argv[0] === "deployer-policy")
    return runDeployerPolicy(argv.slice(1), { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) });
  try {
    if (argv[0] === "purge") return await runPurgeCommand(argv.slice(1), { out: process.stdout, err: process.stderr, readStdin });
    const command = parseCommandLine(argv);
    if (command.kind === "help") {
      process.stdout.write(HELP);
      return 0;
    }
    return await runAudit(command);
  } catch (err) {
    if (err instanceof PurgeUsageError) {
      process.stderr.write(`edge-resizer: ${err.message} (${PURGE_USAGE})\n`);
      return 2;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`edge-resizer: ${err.message}${err.usage ? ` (${USAGE})` : ""}\n`);
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
