/**
 * `npm run upload -- <folder> [--bucket b] [--endpoint url] [--prefix p]`
 *
 * Uploads a folder of originals (recursively) into the bucket, skipping files already there
 * with the same size and MD5. Where to:
 *   --endpoint (or S3_ENDPOINT) given  → that S3-compatible server; --bucket (or S3_BUCKET) required
 *   only --bucket (or S3_BUCKET)       → that bucket on AWS S3 (standard AWS credentials, AWS_REGION)
 *   neither                            → the local edge's embedded S3 in .data/s3/ (npm start may run meanwhile)
 * The variant prefix (from RESIZER_SETTINGS or the defaults) is never written to.
 */
import { parseArgs } from "node:util";
import { relative } from "node:path";
import { DEFAULT_SETTINGS, loadSettingsFile, SettingsError, type Settings } from "../handlers/core/settings.js";
import {
  LOCAL_REGION,
  S3RVER_CREDENTIALS,
  S3UnreachableError,
  createS3Client,
  describeS3Error,
  ensureBucket,
  runningEmbeddedS3,
  startEmbeddedS3,
  type S3Target,
} from "./s3.js";
import { DEFAULT_DATA_DIR, LOCAL_BUCKET, REPO_ROOT } from "./locations.js";
import { UploadError, uploadFolder, type UploadProgress, type UploadResult } from "./upload-folder.js";

// Node 20 is this project's runtime (DEVELOPERS.md); the SDK's multi-line notice about Node 22
// would bury the one-line messages of this command.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const USAGE = "usage: npm run upload -- <folder> [--bucket b] [--endpoint url] [--prefix p]";

class UsageError extends Error {}

/** A redrawn bar on a terminal; on a pipe or in CI a plain counter line every tenth of the way. */
export function progressReporter(stream: NodeJS.WriteStream): { update(p: UploadProgress): void; finish(): void } {
  let lastStep = -1;
  return {
    update(p) {
      if (stream.isTTY) {
        const width = 30;
        const filled = p.total === 0 ? width : Math.round((p.done / p.total) * width);
        stream.write(
          `\r\x1b[K[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${p.done}/${p.total} files, ${p.uploaded} uploaded, ${p.unchanged} unchanged, ${megabytes(p.bytes)}`,
        );
        return;
      }
      const step = p.total === 0 ? 10 : Math.floor((p.done / p.total) * 10);
      if (step !== lastStep && (p.done > 0 || p.total === 0)) {
        lastStep = step;
        stream.write(`${p.done}/${p.total} files (${p.uploaded} uploaded, ${p.unchanged} unchanged)\n`);
      }
    },
    finish() {
      if (stream.isTTY) stream.write("\n");
    },
  };
}

function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

async function main(): Promise<number> {
  const parsed = parseCommandLine();
  if (parsed.values.help) {
    console.log(USAGE);
    return 0;
  }
  if (parsed.positionals.length !== 1) throw new UsageError(USAGE);
  const folder = parsed.positionals[0]!;
  const settings = process.env.RESIZER_SETTINGS ? loadSettingsFile(process.env.RESIZER_SETTINGS) : DEFAULT_SETTINGS;
  const { target, where, closeEmbedded } = await openDestination(parsed.values.endpoint, parsed.values.bucket);
  try {
    return await uploadTo(target, where, folder, parsed.values.prefix, settings);
  } finally {
    target.client.destroy();
    await closeEmbedded?.();
  }
}

/** The command line; a malformed one is a UsageError, so the message ends with the usage. */
function parseCommandLine() {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        bucket: { type: "string" },
        endpoint: { type: "string" },
        prefix: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${USAGE}`);
  }
}

/** Where the files go, as the header comment lists; `where` names it for the first output line. */
interface Destination {
  target: S3Target;
  where: string;
  /** Stops the embedded S3 this command started itself, if it did. */
  closeEmbedded?: () => Promise<void>;
}

async function openDestination(endpointOption: string | undefined, bucketOption: string | undefined): Promise<Destination> {
  const endpoint = endpointOption ?? (process.env.S3_ENDPOINT || undefined);
  const bucket = bucketOption ?? (process.env.S3_BUCKET || undefined);
  if (endpoint && !bucket) throw new UsageError(`--endpoint ${endpoint} needs --bucket (or S3_BUCKET)`);
  return bucket ? namedBucket(bucket, endpoint) : await embeddedBucket();
}

function namedBucket(bucket: string, endpoint: string | undefined): Destination {
  const region = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || LOCAL_REGION;
  return {
    target: { client: createS3Client({ endpoint, region }), bucket, region, endpoint },
    where: `s3://${bucket} at ${endpoint ?? `AWS S3 (${region})`}`,
  };
}

async function embeddedBucket(): Promise<Destination> {
  // Through a running local edge's own S3 when there is one, so it sees the changes and purges.
  const running = await runningEmbeddedS3(DEFAULT_DATA_DIR, LOCAL_BUCKET);
  const embedded = running ? undefined : await startEmbeddedS3(DEFAULT_DATA_DIR, LOCAL_BUCKET);
  const embeddedEndpoint = running ?? embedded!.endpoint;
  return {
    target: {
      client: createS3Client({ endpoint: embeddedEndpoint, region: LOCAL_REGION, credentials: S3RVER_CREDENTIALS }),
      bucket: LOCAL_BUCKET,
      region: LOCAL_REGION,
      endpoint: embeddedEndpoint,
    },
    where: `the local edge's embedded S3 (${relative(REPO_ROOT, DEFAULT_DATA_DIR)}/${running ? `, through the running edge at ${running}` : ""})`,
    closeEmbedded: embedded?.close,
  };
}

/** Uploads the folder and reports it; the exit code is 1 when some files were refused. */
async function uploadTo(target: S3Target, where: string, folder: string, prefix: string | undefined, settings: Settings): Promise<number> {
  await ensureBucket(target);
  console.log(`uploading ${folder} to ${where}${prefix ? ` under "${prefix}"` : ""}`);
  const result = await uploadWithProgress(target, folder, prefix, settings.variantPrefix);
  console.log(`done: ${result.uploaded} uploaded (${megabytes(result.bytes)}), ${result.unchanged} unchanged, ${result.total} files`);
  if (result.refused.length > 0) {
    console.error(
      `${result.refused.length} files not uploaded: their keys fall under the variant prefix "${settings.variantPrefix}/", where only the resizer writes (first: ${result.refused[0]})`,
    );
    return 1;
  }
  return 0;
}

/** The upload with a progress report on stdout, finished even when the upload fails so the error starts a line of its own. */
async function uploadWithProgress(
  target: S3Target,
  folder: string,
  prefix: string | undefined,
  variantPrefix: string,
): Promise<UploadResult> {
  const progress = progressReporter(process.stdout);
  return uploadFolder({
    client: target.client,
    bucket: target.bucket,
    folder,
    prefix,
    variantPrefix,
    onProgress: (p) => progress.update(p),
  }).finally(() => progress.finish());
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      const known =
        err instanceof UsageError || err instanceof UploadError || err instanceof SettingsError || err instanceof S3UnreachableError;
      console.error(known ? (err as Error).message : `upload failed: ${describeS3Error(err)}`);
      process.exit(1);
    },
  );
}
