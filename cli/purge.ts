/**
 * `edge-resizer purge <original key or prefix>...`: the purge the deployed function runs on a
 * change, by hand. Against the real bucket and distribution (`--bucket`, `--distribution`,
 * `--region`, or the names in `pulumi stack output --json` piped in), or against a running local
 * edge (`--local <url>`: its embedded store and its cache). A key ending in "/" is a prefix of
 * originals ("" would be every one: give "/" for that).
 *
 * Exit status, as the audit's: 0 purged (or, with --dry-run, planned), 1 the purge failed part
 * way (S3 or CloudFront refused; what was done is reported), 2 it could not run (usage).
 */
import { parseCommandArgs } from "./args.js";
import { CloudFrontClient } from "@aws-sdk/client-cloudfront";
import { S3Client } from "@aws-sdk/client-s3";
import { DEFAULT_SETTINGS, loadSettingsFile, SettingsError, type Settings } from "../handlers/core/settings.js";
import { cloudFrontInvalidator } from "../handlers/purge/cloudfront-invalidator.js";
import { planPurge, purgeTargetOf, type PurgeTarget } from "../handlers/purge/plan.js";
import { runPurge, type PurgeReport } from "../handlers/purge/purger.js";
import { s3VariantBucket } from "../handlers/purge/s3-variant-bucket.js";
import { createProgressBar, renderBar, type ProgressUnit } from "./progress.js";

export const PURGE_USAGE =
  "usage: edge-resizer purge <key|prefix/>... [--bucket b --distribution id --region r | --local url] [--dry-run] [--settings f]";

export const PURGE_HELP = `${PURGE_USAGE}

Deletes every stored variant of the given originals (a key ending in "/" names every original
under that prefix; "/" alone, all of them) and invalidates CloudFront's copies, coalesced as the
deployed purge does (past 15 prefixes, one invalidation of the whole variant prefix).

  --bucket, --distribution, --region   the deployed bucket and distribution; without them the
                                       names are read from \`pulumi stack output --json\` on stdin
  --local <url>                        a running local edge (npm start): its store and its cache
  --dry-run                            list what would be deleted and invalidated, change nothing
  --settings <file>                    the deployed settings.json (for its variantPrefix)

Exit status: 0 purged, 1 failed part way, 2 error.
`;

export class PurgeUsageError extends Error {}

/** A purge bar counts variant prefixes; a handful finishes too fast to be worth one. */
const PREFIXES: ProgressUnit = { minTotal: 20, render: (done, total) => `${renderBar(done, total)}  ${done} / ${total} originals` };

interface PurgeCommand {
  targets: PurgeTarget[];
  dryRun: boolean;
  settings: Settings;
  where: { kind: "aws"; bucket?: string; distribution?: string; region?: string } | { kind: "local"; url: string };
}

export function parsePurgeCommandLine(argv: string[]): PurgeCommand | "help" {
  const parsed = parseCommandArgs(
    argv,
    {
      bucket: { type: "string" },
      distribution: { type: "string" },
      region: { type: "string" },
      local: { type: "string" },
      "dry-run": { type: "boolean" },
      settings: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    (message) => new PurgeUsageError(message),
  );
  const { values, positionals } = parsed;
  if (values.help) return "help";
  if (positionals.length === 0) throw new PurgeUsageError("purge needs at least one original key or prefix");
  if (values.local !== undefined && (values.bucket || values.distribution))
    throw new PurgeUsageError("--local purges the local edge: drop --bucket and --distribution");
  let settings: Settings = DEFAULT_SETTINGS;
  if (values.settings !== undefined) {
    try {
      settings = loadSettingsFile(values.settings);
    } catch (err) {
      if (err instanceof SettingsError) throw new PurgeUsageError(err.message);
      throw err;
    }
  }
  const targets = positionals.map((p) => purgeTargetOf(p === "/" ? "" : p.replace(/^\//, "")));
  const where =
    values.local !== undefined
      ? { kind: "local" as const, url: values.local.replace(/\/+$/, "") }
      : { kind: "aws" as const, bucket: values.bucket, distribution: values.distribution, region: values.region };
  return { targets, dryRun: values["dry-run"] ?? false, settings, where };
}

/** Bucket and distribution from `pulumi stack output --json` (this project's output names). */
export function namesFromStackOutput(text: string): { bucket?: string; distribution?: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new PurgeUsageError("stdin is not the JSON of `pulumi stack output --json`");
  }
  const outputs = doc as { bucketName?: unknown; distributionId?: unknown };
  return {
    bucket: typeof outputs?.bucketName === "string" ? outputs.bucketName : undefined,
    distribution: typeof outputs?.distributionId === "string" ? outputs.distributionId : undefined,
  };
}

/** Runs the command; returns the exit status. `readStdin` is only called when names are missing. */
export async function runPurgeCommand(
  argv: string[],
  io: { out: NodeJS.WritableStream; err: NodeJS.WritableStream & { isTTY?: boolean }; readStdin: () => Promise<string> },
): Promise<number> {
  const command = parsePurgeCommandLine(argv);
  if (command === "help") {
    io.out.write(PURGE_HELP);
    return 0;
  }
  let report: PurgeReport;
  try {
    report = command.where.kind === "local" ? await purgeLocal(command, command.where.url) : await purgeAws(command, io);
  } catch (err) {
    if (err instanceof PurgeUsageError) throw err;
    io.err.write(`edge-resizer: purge failed: ${(err as Error).name}: ${(err as Error).message}\n`);
    return 1;
  }
  const verb = command.dryRun ? "would delete" : "deleted";
  for (const key of report.deleted) io.out.write(`${verb} ${key}\n`);
  io.out.write(
    `${command.dryRun ? "dry run: " : ""}${report.deleted.length} variant(s) ${command.dryRun ? "would be deleted" : "deleted"}; ` +
      `${report.invalidated.length ? `invalidate${command.dryRun ? "" : "d"} ${report.invalidated.join(" ")}` : "nothing to invalidate"}\n`,
  );
  return 0;
}

async function purgeAws(command: PurgeCommand, io: Parameters<typeof runPurgeCommand>[1]): Promise<PurgeReport> {
  const where = command.where as Extract<PurgeCommand["where"], { kind: "aws" }>;
  let { bucket, distribution } = where;
  if (!bucket || !distribution) {
    const fromStack = namesFromStackOutput(await io.readStdin());
    bucket ??= fromStack.bucket;
    distribution ??= fromStack.distribution;
  }
  if (!bucket || !distribution)
    throw new PurgeUsageError("name the bucket and distribution (--bucket, --distribution) or pipe in `pulumi stack output --json`");
  const region = where.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  const s3 = new S3Client(region ? { region } : {});
  const cloudFront = new CloudFrontClient({ region: "us-east-1" });
  const plan = planPurge(command.targets, command.settings);
  const progress = createProgressBar(io.err, plan.variantPrefixes.length, Date.now, PREFIXES);
  try {
    return await runPurge(
      plan,
      { bucket: s3VariantBucket(s3, bucket), invalidator: cloudFrontInvalidator(cloudFront, distribution) },
      command.settings,
      {
        mode: "all",
        dryRun: command.dryRun,
        onPrefixDone: (done) => progress.update(done),
      },
    );
  } finally {
    progress.done();
    s3.destroy();
    cloudFront.destroy();
  }
}

/** The local edge runs the same purge itself (POST /_edge/purge): its store and its cache. */
async function purgeLocal(command: PurgeCommand, url: string): Promise<PurgeReport> {
  const targets = command.targets.map((t) => (t.kind === "original" ? t.key : t.prefix));
  let res: Response;
  try {
    res = await fetch(`${url}/_edge/purge`, { method: "POST", body: JSON.stringify({ targets, dryRun: command.dryRun }) });
  } catch (err) {
    throw new PurgeUsageError(
      `no local edge answers at ${url} (${((err as Error).cause as Error | undefined)?.message ?? (err as Error).message}); start it with npm start`,
    );
  }
  const body = (await res.json()) as PurgeReport & { error?: string };
  if (!res.ok) throw new Error(body.error ?? `local edge answered ${res.status}`);
  return body;
}
